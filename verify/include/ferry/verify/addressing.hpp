#pragma once
// Where a message comes from and where it is going, read from the message itself (the signed fields, not a
// claim in ferry's envelope), so that routes match what will be verified.

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/message_kind.hpp"

namespace ferry::verify {

struct addressing {
  std::uint32_t source;       // Wormhole emitter chain, Hyperlane origin domain, LayerZero source eid, opaque
                              // and quorum source
  std::uint32_t destination;  // the destination the message names; 0 for Wormhole, whose VAAs name none
  const std::byte* emitter;   // 32 bytes inside the body: Wormhole emitter address, Hyperlane or LayerZero sender;
                              // nullptr for opaque and quorum messages, which name none
};

// Parses just enough of a message body of `kind` to know its addressing. Checks every length it relies on;
// reads nothing outside `body`.
parse_status read_addressing(message_kind kind, std::span<const std::byte> body, addressing& out) noexcept;

}  // namespace ferry::verify
