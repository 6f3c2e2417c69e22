#pragma once
// Hyperlane v3 messages (hyperlane-monorepo solidity/contracts/libs/Message.sol), and ferry's envelope that
// carries one with its ISM metadata:
//
//   message:  version u8 (=3) | nonce u32 | origin u32 | sender b32 | destination u32 | recipient b32 | body
//   envelope: message_length u16 | message | ism_metadata (rest)

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/message_kind.hpp"

namespace ferry::verify::hyperlane {

inline constexpr std::uint8_t message_version = 3;
inline constexpr std::size_t message_header_size = 77;

class message_view {
 public:
  message_view() = default;

  std::span<const std::byte> bytes() const noexcept { return {_data, _size}; }  // what the id is taken over
  std::uint32_t nonce() const noexcept;
  std::uint32_t origin() const noexcept;
  std::span<const std::byte, 32> sender() const noexcept;
  std::uint32_t destination() const noexcept;
  std::span<const std::byte, 32> recipient() const noexcept;
  std::span<const std::byte> body() const noexcept;

 private:
  friend parse_status parse_message(std::span<const std::byte>, message_view&) noexcept;
  const std::byte* _data = nullptr;
  std::size_t _size = 0;
};

parse_status parse_message(std::span<const std::byte> bytes, message_view& out) noexcept;

struct envelope_view {
  message_view message;
  std::span<const std::byte> metadata;
};

parse_status parse_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept;

struct message_fields {
  std::uint32_t nonce = 0;
  std::uint32_t origin = 0;
  std::array<std::byte, 32> sender{};
  std::uint32_t destination = 0;
  std::array<std::byte, 32> recipient{};
  std::span<const std::byte> body;
};

std::size_t encoded_envelope_size(const message_fields& message, std::span<const std::byte> metadata) noexcept;

// Writes an envelope (message and metadata) into `out`; returns the bytes written, or 0 when out is too small or
// the message is longer than 65535 bytes.
std::size_t encode_envelope(const message_fields& message, std::span<const std::byte> metadata,
                            std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::hyperlane
