#include "ferry/verify/message_kind.hpp"

namespace ferry::verify {

std::optional<message_kind> kind_from_wire(std::uint8_t value) noexcept {
  if (value == 0 || value > message_kind_count) return std::nullopt;
  return static_cast<message_kind>(value);
}

std::string_view to_string(message_kind kind) noexcept {
  switch (kind) {
    case message_kind::wormhole: return "wormhole";
    case message_kind::hyperlane: return "hyperlane";
    case message_kind::layerzero: return "layerzero";
    case message_kind::opaque: return "opaque";
    case message_kind::quorum: return "quorum";
  }
  return "unknown";
}

std::optional<message_kind> kind_from_string(std::string_view name) noexcept {
  for (std::uint8_t value = 1; value <= message_kind_count; ++value) {
    const auto kind = static_cast<message_kind>(value);
    if (to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string_view to_string(parse_status status) noexcept {
  switch (status) {
    case parse_status::ok: return "ok";
    case parse_status::truncated: return "truncated";
    case parse_status::unsupported_version: return "unsupported version";
    case parse_status::bad_length: return "bad length";
  }
  return "unknown";
}

}  // namespace ferry::verify
