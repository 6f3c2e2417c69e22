#include "ferry/dataplane/pipeline.hpp"

#include <algorithm>
#include <ctime>

#include "ferry/dataplane/frame.hpp"
#include "decide.hpp"
#include "ferry/platform/clock.hpp"
#include "take_apart.hpp"

namespace ferry::dp {

drop_reason drop_reason_for(verify::verdict v) noexcept {
  switch (v) {
    case verify::verdict::bad_signature: return drop_reason::bad_signature;
    case verify::verdict::no_quorum: return drop_reason::no_quorum;
    case verify::verdict::unknown_key_set: return drop_reason::unknown_key_set;
    case verify::verdict::expired_key_set: return drop_reason::expired_key_set;
    case verify::verdict::duplicate: return drop_reason::duplicate;
    case verify::verdict::valid:      // not a drop: a caller's mistake, counted where it cannot hide
    case verify::verdict::malformed: return drop_reason::malformed;
  }
  return drop_reason::malformed;
}

namespace {
const verify::key_sets no_keys;  // what the verifier points at until the first burst gives it a snapshot's
}

pipeline::pipeline(const pipeline_options& options, rx_port& rx, tx_port& tx, buffer_pool& pool,
                   const policy_store& policies, std::uint32_t slot, control_events* events, double ns_per_tick,
                   stage_counters& counters)
    : _options(options), _rx(rx), _tx_port(tx), _pool(pool), _policies(policies), _stage(slot), _events(events),
      _ns_per_tick(ns_per_tick), _counters(counters), _cache(options.verified_cache_entries),
      _verifier(no_keys, _cache), _tx(options.max_frame_bytes) {
  _options.burst = std::clamp<std::uint32_t>(_options.burst, 1, rx_port::max_burst);
}

std::uint32_t pipeline::handle(const policy& rules, packet_buffer& datagram, std::uint64_t now_s,
                               std::uint64_t now_ns, counter_values& tally) noexcept {
  std::uint32_t added = 0;
  take_apart(datagram, rules, _stage, now_ns, now_s, tally, [&](const accepted_message& m) {
    if (!m.trusted && verify::is_verified_kind(m.kind)) {
      const verify::verdict v = verify_message(_verifier, rules, _stage, m.kind, m.where.source,
                                               m.where.destination, m.message.body, now_s, now_ns, _events, tally);
      if (v != verify::verdict::valid) {
        tally.drop(drop_reason_for(v));
        return;
      }
    }
    const bool routed = route_message(rules, _stage, m.kind, m.where.source, m.where.destination,
                                      m.message.encoded, now_ns, now_s, tally, [&](std::uint32_t hop, bool copy) {
                                        if (!_tx.add(hop, m.message.encoded, copy)) {
                                          _tx.flush(_tx_port, tally);
                                          _tx.add(hop, m.message.encoded, copy);  // an empty batch has room
                                        }
                                      });
    added += routed ? 1 : 0;
  });
  return added;
}

std::uint32_t pipeline::poll_once() noexcept {
  packet_buffer* buffers[rx_port::max_burst];
  std::uint32_t added[rx_port::max_burst];
  counter_values tally;
  const std::uint32_t got = _rx.receive(_pool, buffers, _options.burst);
  if (got == 0) {
    tally.idle_polls = 1;
  } else {
    tally.busy_polls = 1;
    const policy& rules = *_policies.current();  // for the whole burst: until the thread's next quiescent point
    _verifier.use(*rules.keys);
    _tx.use(rules.hops);
    // key set expiry is in chain time (unix seconds): one clock read a burst is plenty
    const auto now_s = static_cast<std::uint64_t>(std::time(nullptr));
    const std::uint64_t now_ns = platform::portable::monotonic_ns();
    for (std::uint32_t i = 0; i < got; ++i) added[i] = handle(rules, *buffers[i], now_s, now_ns, tally);
    _tx.flush(_tx_port, tally);  // before the buffers go back: the frames point into them
    const std::uint64_t sent_at = platform::cycle_ticks();
    for (std::uint32_t i = 0; i < got; ++i) {
      if (added[i] == 0) continue;
      const auto ns = static_cast<std::uint64_t>(static_cast<double>(sent_at - buffers[i]->rx_ticks) * _ns_per_tick);
      tally.latency[latency_bucket(ns)] += added[i];
      tally.latency_sum_ns += ns * added[i];
    }
    _pool.release(buffers, got);
  }
  tally.rx_lost = _rx.lost();
  tally.rx_ignored = _rx.ignored();
  _counters.publish(tally);
  return got;
}

}  // namespace ferry::dp
