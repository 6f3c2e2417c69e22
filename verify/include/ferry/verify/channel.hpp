#pragma once
// The channel in which a protocol numbers its messages, and the message's number in it: what a replay window is
// kept for (dataplane/replay_windows.hpp). Read from the signed fields of the message, never from ferry's envelope.
//
//   wormhole:  emitter_chain be16 | emitter_address[32]                                   sequence: VAA body's u64
//   hyperlane: origin domain be32 (the origin Mailbox numbers all its messages)            sequence: nonce (u32)
//   layerzero: src_eid be32 | sender[32] | dst_eid be32 | receiver[32] (the path)          sequence: nonce (u64)
//
// opaque and quorum messages are not numbered: they have no channel.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/message_kind.hpp"

namespace ferry::verify {

struct channel {
  static constexpr std::size_t max_id_size = 72;  // the LayerZero path, the longest identity

  message_kind kind{};
  std::uint8_t size = 0;                        // bytes of id in use (at most max_id_size)
  std::array<std::byte, max_id_size> id{};      // as above; the rest zero
  std::uint64_t sequence = 0;

  std::span<const std::byte> identity() const noexcept { return {id.data(), size}; }
};

// Fills `out` and returns true when `kind` numbers its messages and `body` (a message body as carried in a ferry
// frame: for hyperlane and layerzero, ferry's envelope `inner_length u16 | inner | proof`) parses; leaves `out`
// alone and returns false otherwise. Checks every length it relies on; reads nothing outside `body`.
bool read_channel(message_kind kind, std::span<const std::byte> body, channel& out) noexcept;

}  // namespace ferry::verify
