#pragma once
// The kinds of message a ferry frame carries, as numbered on the wire (docs/wire-format.md).

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::verify {

enum class message_kind : std::uint8_t {
  wormhole = 1,   // a Wormhole VAA v1
  hyperlane = 2,  // a Hyperlane v3 message with its ISM metadata
  layerzero = 3,  // a LayerZero v2 packet with its DVN attestation
  opaque = 4,     // ferry's envelope for payloads it routes without understanding: source, destination, payload
  quorum = 5,     // ferry's Ed25519 quorum-attested envelope: payload signed by a configured key set
};

inline constexpr std::uint8_t message_kind_count = 5;

// The kind for a wire value, or nothing for a value this version does not know.
std::optional<message_kind> kind_from_wire(std::uint8_t value) noexcept;

// The kind's name as used in configuration and output ("wormhole", "hyperlane", "layerzero", "opaque", "quorum").
std::string_view to_string(message_kind kind) noexcept;
std::optional<message_kind> kind_from_string(std::string_view name) noexcept;

// What a message parser says of its input. Anything but ok means the message is dropped as malformed.
enum class parse_status : std::uint8_t {
  ok,
  truncated,            // shorter than its fixed part, or than a length it declares
  unsupported_version,  // a version byte this parser does not read
  bad_length,           // an embedded length that disagrees with the bytes around it
};

std::string_view to_string(parse_status status) noexcept;

}  // namespace ferry::verify
