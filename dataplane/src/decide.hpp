#pragma once
// The decisions on one message that the run-to-completion stage and the staged pipeline's stages share: the
// verify step (verdict, outcomes by kind, the route's breaker told, guardian set upgrades reported) and the route
// step (match, action, breaker, route limit, hops). Each runs under one policy snapshot for a whole burst.

#include <cstdint>
#include <span>

#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/pipeline.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/verify/addressing.hpp"
#include "ferry/verify/channel.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::dp {

// The rule that routes a message, reading its emitter from the body only when some rule needs one.
inline std::uint32_t match_route(const policy& rules, verify::message_kind kind, std::uint32_t source,
                                 std::uint32_t destination, std::span<const std::byte> body) noexcept {
  const std::byte* emitter = nullptr;
  if (rules.routes.uses_emitters()) {
    verify::addressing where{};
    if (verify::read_addressing(kind, body, where) == verify::parse_status::ok) emitter = where.emitter;
  }
  return rules.routes.match(kind, source, destination, emitter);
}

// Verifies one message that is not trusted and of a verified kind. Returns the verdict; counts it by kind; tells
// the route the message would take how verification went (its breaker judges the failure ratio); reports a valid
// guardian set upgrade when the policy asks for it.
inline verify::verdict verify_message(verify::verifier& verifier, const policy& rules, std::uint32_t stage,
                                      verify::message_kind kind, std::uint32_t source, std::uint32_t destination,
                                      std::span<const std::byte> body, std::uint64_t now_s, std::uint64_t now_ns,
                                      control_events* events, counter_values& tally) noexcept {
  const verify::verdict v = verifier.verify(kind, body, now_s);
  tally.verdict(kind, v);
  if (v == verify::verdict::duplicate) return v;  // its outcome was told when it was first verified
  const std::uint32_t rule = match_route(rules, kind, source, destination, body);
  if (rule != route_table::no_route) {
    route_state& route = *rules.actions[rule].state;
    const bool failed = v != verify::verdict::valid;
    route.circuit().verified(now_ns, failed);
    route_tally& counted = route.tally(stage);
    (failed ? counted.verify_failed : counted.verified).add(1);
  }
  if (v == verify::verdict::valid && kind == verify::message_kind::wormhole && rules.guardian_set_upgrades &&
      events != nullptr) {
    guardian_set_upgrade_event event;
    if (read_guardian_set_upgrade(*rules.keys, body, event)) events->guardian_set_upgraded(stage, event);
  }
  return v;
}

// Routes one message that may go on: calls add(hop, copy) for each hop it goes to and returns true, or counts
// the drop (no_route, route_drop, breaker_open, replay, rate_limited_route) and returns false. A numbered message
// (replay_windows.hpp) is refused as a replay before it takes a token of its route's bucket, and recorded as
// forwarded just before it goes, so that one refused for another reason may come again.
template <class Add>
bool route_message(const policy& rules, std::uint32_t stage, verify::message_kind kind, std::uint32_t source,
                   std::uint32_t destination, std::span<const std::byte> encoded, std::uint64_t now_ns,
                   std::uint64_t now_s, counter_values& tally, Add&& add) noexcept {
  const std::span<const std::byte> body = encoded.subspan(message_header_size);
  const std::uint32_t rule = match_route(rules, kind, source, destination, body);
  if (rule == route_table::no_route) {
    tally.drop(drop_reason::no_route);
    return false;
  }
  const route_entry& route = rules.actions[rule];
  route_tally& counted = route.state->tally(stage);
  counted.matched.add(1);
  if (route.verb == route_verb::drop) {
    tally.drop(drop_reason::route_drop);
    counted.dropped_by_action.add(1);
    return false;
  }
  if (!route.state->circuit().admit(now_ns)) {
    tally.drop(drop_reason::breaker_open);
    counted.breaker_open.add(1);
    return false;
  }
  verify::channel channel;
  const bool numbered = rules.replay != nullptr && verify::read_channel(kind, body, channel);
  if (numbered && rules.replay->seen(channel)) {
    tally.drop(drop_reason::replay);
    return false;
  }
  if (token_bucket* limit = route.state->limit(); limit != nullptr && !limit->take(now_ns)) {
    tally.drop(drop_reason::rate_limited_route);
    counted.rate_limited.add(1);
    return false;
  }
  if (numbered && !rules.replay->record(channel, now_s)) {  // another stage forwarded it since seen()
    tally.drop(drop_reason::replay);
    return false;
  }
  for_each_hop(rules, route, body, [&](std::uint32_t hop, bool first) { add(hop, !first); });
  counted.forwarded.add(1);
  return true;
}

}  // namespace ferry::dp
