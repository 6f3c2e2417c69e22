#pragma once
// LayerZero v2 packets (LayerZero-v2 protocol/contracts/messagelib/libs/PacketV1Codec.sol), and ferry's envelope
// that carries one with its DVN attestation:
//
//   packet:   version u8 (=1) | nonce u64 | src_eid u32 | sender b32 | dst_eid u32 | receiver b32 | guid b32
//             | message
//   envelope: packet_length u16 | packet | attestation (rest)

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/message_kind.hpp"

namespace ferry::verify::layerzero {

inline constexpr std::uint8_t packet_version = 1;
inline constexpr std::size_t packet_header_size = 81;  // the header DVNs attest: everything before the guid
inline constexpr std::size_t packet_fixed_size = 113;  // header and guid

class packet_view {
 public:
  packet_view() = default;

  std::span<const std::byte> bytes() const noexcept { return {_data, _size}; }
  std::span<const std::byte> header() const noexcept { return {_data, packet_header_size}; }
  std::span<const std::byte> payload() const noexcept;  // guid | message: what payloadHash is taken over
  std::uint64_t nonce() const noexcept;
  std::uint32_t src_eid() const noexcept;
  std::span<const std::byte, 32> sender() const noexcept;
  std::uint32_t dst_eid() const noexcept;
  std::span<const std::byte, 32> receiver() const noexcept;
  std::span<const std::byte, 32> guid() const noexcept;
  std::span<const std::byte> message() const noexcept;

 private:
  friend parse_status parse_packet(std::span<const std::byte>, packet_view&) noexcept;
  const std::byte* _data = nullptr;
  std::size_t _size = 0;
};

parse_status parse_packet(std::span<const std::byte> bytes, packet_view& out) noexcept;

struct envelope_view {
  packet_view packet;
  std::span<const std::byte> attestation;
};

parse_status parse_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept;

struct packet_fields {
  std::uint64_t nonce = 0;
  std::uint32_t src_eid = 0;
  std::array<std::byte, 32> sender{};
  std::uint32_t dst_eid = 0;
  std::array<std::byte, 32> receiver{};
  std::array<std::byte, 32> guid{};
  std::span<const std::byte> message;
};

std::size_t encoded_envelope_size(const packet_fields& packet, std::span<const std::byte> attestation) noexcept;

// Writes an envelope (packet and attestation) into `out`; returns the bytes written, or 0 when out is too small
// or the packet is longer than 65535 bytes.
std::size_t encode_envelope(const packet_fields& packet, std::span<const std::byte> attestation,
                            std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::layerzero
