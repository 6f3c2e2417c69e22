#pragma once
// The first steps of every data path, shared by the run-to-completion stage and the io stages: count the datagram
// in, reject it whole when it is not a frame, find its peer, check the frame's link tag when the peer has keys
// (before anything else is done with it; an encrypted frame is decrypted in its buffer), and give each message the
// peer's rate limit (before any crypto, so a flood costs little) and the cheap checks (a known kind, no reserved
// flags, addressing that reads), counting every message refused here under its reason.

#include <cstdint>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/verify/addressing.hpp"
#include "ferry/verify/message_kind.hpp"

namespace ferry::dp {

struct accepted_message {
  message_ref message;
  verify::message_kind kind;
  verify::addressing where;
  bool trusted;  // in an authenticated frame marked verified upstream by a peer whose trust policy honours the mark
};

// Calls take(const accepted_message&) for each message of `datagram` that passes, in order; every message received
// is counted in tally.rx (and in its peer's tally slot `stage`). now_ns: the monotonic clock, for the peer's
// bucket; now_s: unix seconds, for link keys' lives. Returns false when the datagram was rejected whole (nothing was
// taken).
template <class Take>
bool take_apart(packet_buffer& datagram, const policy& rules, std::uint32_t stage, std::uint64_t now_ns,
                std::uint64_t now_s, counter_values& tally, Take&& take) noexcept {
  tally.rx_datagrams += 1;
  tally.rx_bytes += datagram.length;
  if ((datagram.flags & packet_flag::truncated) != 0) {
    tally.rx += 1;
    tally.drop(drop_reason::oversize);
    return false;
  }
  frame_view frame;
  const frame_status status = parse_frame({datagram.data(), datagram.length}, frame);
  if (status != frame_status::ok) {
    tally.rx += 1;
    tally.drop(status == frame_status::unsupported_version ? drop_reason::unsupported_version
                                                           : drop_reason::malformed);
    return false;
  }
  const std::uint32_t peer = rules.peers.empty() ? peer_table::none : rules.peers.find(datagram.peer);
  const peer_entry* from = peer != peer_table::none ? &rules.peer_entries[peer] : nullptr;
  peer_tally* counted = from != nullptr ? &from->state->tally(stage) : nullptr;
  const bool authenticated = from != nullptr && !from->keys.empty();
  if (authenticated || frame.encrypted()) {
    // An encrypted frame from a sender without keys cannot be opened, so it is no more believable than a bad tag.
    const bool genuine = authenticated && (frame.encrypted()
                                               ? open(from->keys, {datagram.data(), datagram.length}, frame, now_s)
                                               : authentic(from->keys, frame, now_s));
    if (!genuine) {
      // Nothing in it can be believed, not even its message count: one message received, one dropped.
      tally.rx += 1;
      tally.drop(drop_reason::bad_mac);
      if (counted != nullptr) {
        counted->rx.add(1);
        counted->bad_mac.add(1);
      }
      return false;
    }
    if (parse_opened(frame) != frame_status::ok) {  // opened, but what the peer encrypted is not messages
      tally.rx += 1;
      tally.drop(drop_reason::malformed);
      return false;
    }
  }
  token_bucket* bucket = from != nullptr ? from->state->limit() : nullptr;
  const bool from_trusted =
      (frame.header().flags & frame_flag::verified_upstream) != 0 && authenticated && from->verified_upstream;
  for (const message_ref message : frame) {
    tally.rx += 1;
    if (counted != nullptr) counted->rx.add(1);
    if (bucket != nullptr && !bucket->take(now_ns)) {
      tally.drop(drop_reason::rate_limited_peer);
      counted->rate_limited.add(1);
      continue;
    }
    const auto kind = verify::kind_from_wire(message.kind);
    if (!kind) {
      tally.drop(drop_reason::unknown_kind);
      continue;
    }
    verify::addressing where{};
    if (message.flags != 0 || verify::read_addressing(*kind, message.body, where) != verify::parse_status::ok) {
      tally.drop(drop_reason::malformed);
      continue;
    }
    take(accepted_message{message, *kind, where, from_trusted});
  }
  return true;
}

}  // namespace ferry::dp
