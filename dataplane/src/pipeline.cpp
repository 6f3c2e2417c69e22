#include "ferry/dataplane/pipeline.hpp"

#include <algorithm>
#include <ctime>

#include "ferry/dataplane/frame.hpp"
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

pipeline::pipeline(const pipeline_options& options, rx_port& rx, tx_port& tx, buffer_pool& pool,
                   const route_table& routes, std::span<const endpoint> hops, const verify::key_sets& keys,
                   const trusted_upstreams& trusted, stage_counters& counters)
    : _options(options), _rx(rx), _tx_port(tx), _pool(pool), _routes(routes), _trusted(trusted),
      _counters(counters), _cache(options.verified_cache_entries), _verifier(keys, _cache),
      _tx(options.max_frame_bytes, hops) {
  _options.burst = std::clamp<std::uint32_t>(_options.burst, 1, rx_port::max_burst);
}

void pipeline::handle(const packet_buffer& datagram, std::uint64_t now, counter_values& tally) noexcept {
  take_apart(datagram, _trusted, tally, [&](const accepted_message& m) {
    if (!m.trusted && verify::is_verified_kind(m.kind)) {
      const verify::verdict v = _verifier.verify(m.kind, m.message.body, now);
      if (v != verify::verdict::valid) {
        tally.drop(drop_reason_for(v));
        return;
      }
    }
    const std::uint32_t rule = _routes.match(m.kind, m.where.source, m.where.destination);
    if (rule == route_table::no_route) {
      tally.drop(drop_reason::no_route);
      return;
    }
    const std::uint32_t hop = _routes.rule(rule).hop;
    if (!_tx.add(hop, m.message.encoded)) {
      _tx.flush(_tx_port, tally);
      _tx.add(hop, m.message.encoded);  // an empty batch always has room
    }
  });
}

std::uint32_t pipeline::poll_once() noexcept {
  packet_buffer* buffers[rx_port::max_burst];
  counter_values tally;
  const std::uint32_t got = _rx.receive(_pool, buffers, _options.burst);
  if (got == 0) {
    tally.idle_polls = 1;
  } else {
    tally.busy_polls = 1;
    // key set expiry is in chain time (unix seconds): one clock read a burst is plenty
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    for (std::uint32_t i = 0; i < got; ++i) handle(*buffers[i], now, tally);
    _tx.flush(_tx_port, tally);  // before the buffers go back: the frames point into them
    _pool.release(buffers, got);
  }
  tally.rx_lost = _rx.lost();
  tally.rx_ignored = _rx.ignored();
  _counters.publish(tally);
  return got;
}

}  // namespace ferry::dp
