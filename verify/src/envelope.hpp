#pragma once
// ferry's envelope for a protocol message that travels with its proof (Hyperlane's ISM metadata, LayerZero's DVN
// attestation): inner_length u16 | inner | proof (the rest). Private to verify/.

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/message_kind.hpp"

namespace ferry::verify::envelope {

inline constexpr std::size_t length_size = 2;

struct parts {
  std::span<const std::byte> inner;
  std::span<const std::byte> proof;
};

// Splits an envelope, checking the inner length against the bytes.
inline parse_status split(std::span<const std::byte> bytes, parts& out) noexcept {
  if (bytes.size() < length_size) return parse_status::truncated;
  const std::size_t length = platform::load_be16(bytes.data());
  if (length > bytes.size() - length_size) return parse_status::bad_length;
  out = {bytes.subspan(length_size, length), bytes.subspan(length_size + length)};
  return parse_status::ok;
}

// Where the inner message goes in `out` after its length is written, or nullptr when the inner message is over
// 65535 bytes or the whole envelope does not fit. The caller writes the inner message there, the proof after it.
inline std::byte* begin(std::span<std::byte> out, std::size_t inner_size, std::size_t proof_size) noexcept {
  if (inner_size > 0xffff || out.size() < length_size + inner_size + proof_size) return nullptr;
  platform::store_be16(out.data(), static_cast<std::uint16_t>(inner_size));
  return out.data() + length_size;
}

}  // namespace ferry::verify::envelope
