#pragma once
// Wormhole VAA v1 (wormhole-foundation/wormhole sdk/vaa/structs.go): zero-copy view and encoder.
//
//   header: version u8 (=1) | guardian_set_index u32 | num_signatures u8
//           | num_signatures x ( guardian_index u8 | r[32] | s[32] | v u8 )
//   body:   timestamp u32 | nonce u32 | emitter_chain u16 | emitter_address[32]
//           | sequence u64 | consistency_level u8 | payload (rest)

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/message_kind.hpp"

namespace ferry::verify::wormhole {

inline constexpr std::uint8_t vaa_version = 1;
inline constexpr std::size_t header_size = 6;
inline constexpr std::size_t signature_size = 66;  // guardian index + r, s, v
inline constexpr std::size_t body_fixed_size = 51;
inline constexpr std::size_t min_vaa_size = header_size + body_fixed_size;

struct signature_view {
  std::uint8_t guardian_index;
  std::span<const std::byte, 65> rsv;  // r[32] | s[32] | v
};

// A VAA whose lengths have been checked by parse_vaa(); the accessors read in place and cannot go out of bounds.
class vaa_view {
 public:
  vaa_view() = default;

  std::uint32_t guardian_set_index() const noexcept;
  std::uint8_t signature_count() const noexcept;
  signature_view signature(std::uint8_t i) const noexcept;  // i < signature_count()

  std::span<const std::byte> body() const noexcept;  // what the digest is taken over
  std::uint32_t timestamp() const noexcept;
  std::uint32_t nonce() const noexcept;
  std::uint16_t emitter_chain() const noexcept;
  std::span<const std::byte, 32> emitter_address() const noexcept;
  std::uint64_t sequence() const noexcept;
  std::uint8_t consistency_level() const noexcept;
  std::span<const std::byte> payload() const noexcept;

 private:
  friend parse_status parse_vaa(std::span<const std::byte>, vaa_view&) noexcept;
  const std::byte* _data = nullptr;
  std::size_t _size = 0;
  std::size_t _body_offset = 0;
};

// Checks version and every length; fills `out` only when ok.
parse_status parse_vaa(std::span<const std::byte> bytes, vaa_view& out) noexcept;

struct signature_fields {
  std::uint8_t guardian_index;
  std::array<std::byte, 65> rsv;
};

struct vaa_fields {
  std::uint32_t guardian_set_index = 0;
  std::span<const signature_fields> signatures;  // at most 255
  std::uint32_t timestamp = 0;
  std::uint32_t nonce = 0;
  std::uint16_t emitter_chain = 0;
  std::array<std::byte, 32> emitter_address{};
  std::uint64_t sequence = 0;
  std::uint8_t consistency_level = 0;
  std::span<const std::byte> payload;
};

std::size_t encoded_size(const vaa_fields& vaa) noexcept;

// Writes the VAA into `out`; returns the bytes written, or 0 when out is too small or there are over 255 signatures.
std::size_t encode_vaa(const vaa_fields& vaa, std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::wormhole
