#pragma once
// ferry's envelope for payloads it routes but does not verify (a trusted local producer, a test):
//
//   source u32 | destination u32 | payload (rest, may be empty)

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/message_kind.hpp"

namespace ferry::verify::opaque {

inline constexpr std::size_t header_size = 8;

struct envelope_view {
  std::uint32_t source = 0;
  std::uint32_t destination = 0;
  std::span<const std::byte> payload;
};

parse_status parse_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept;

// Returns the bytes written, or 0 when out is too small.
std::size_t encode_envelope(std::uint32_t source, std::uint32_t destination, std::span<const std::byte> payload,
                            std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::opaque
