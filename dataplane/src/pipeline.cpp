#include "ferry/dataplane/pipeline.hpp"

#include <algorithm>
#include <ctime>

#include "ferry/dataplane/frame.hpp"
#include "ferry/platform/cpu.hpp"
#include "ferry/verify/addressing.hpp"

namespace ferry::dp {

drop_reason drop_reason_for(verify::verdict v) noexcept {
  switch (v) {
    case verify::verdict::bad_signature: return drop_reason::bad_signature;
    case verify::verdict::no_quorum: return drop_reason::no_quorum;
    case verify::verdict::unknown_key_set: return drop_reason::unknown_key_set;
    case verify::verdict::expired_key_set: return drop_reason::expired_key_set;
    case verify::verdict::valid:      // not a drop: a caller's mistake, counted where it cannot hide
    case verify::verdict::malformed: return drop_reason::malformed;
  }
  return drop_reason::malformed;
}

pipeline::pipeline(const pipeline_options& options, udp_socket& socket, buffer_pool& pool,
                   const route_table& routes, std::span<const endpoint> hops, const verify::key_sets& keys,
                   stage_counters& counters)
    : _options(options), _socket(socket), _pool(pool), _routes(routes), _counters(counters),
      _cache(options.verified_cache_entries), _verifier(keys, _cache), _tx(options.max_frame_bytes, hops) {
  _options.burst = std::clamp<std::uint32_t>(_options.burst, 1, udp_socket::max_burst);
}

void pipeline::handle(const packet_buffer& datagram, std::uint64_t now, counter_values& tally) noexcept {
  tally.rx_datagrams += 1;
  tally.rx_bytes += datagram.length;
  if ((datagram.flags & packet_flag::truncated) != 0) {
    tally.rx += 1;
    tally.drop(drop_reason::oversize);
    return;
  }
  frame_view frame;
  const frame_status status = parse_frame({datagram.data(), datagram.length}, frame);
  if (status != frame_status::ok) {
    tally.rx += 1;
    tally.drop(status == frame_status::unsupported_version ? drop_reason::unsupported_version
                                                           : drop_reason::malformed);
    return;
  }
  for (const message_ref message : frame) {
    tally.rx += 1;
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
    if (verify::is_verified_kind(*kind)) {
      const verify::verdict v = _verifier.verify(*kind, message.body, now);
      if (v != verify::verdict::valid) {
        tally.drop(drop_reason_for(v));
        continue;
      }
    }
    const std::uint32_t rule = _routes.match(*kind, where.source, where.destination);
    if (rule == route_table::no_route) {
      tally.drop(drop_reason::no_route);
      continue;
    }
    const std::uint32_t hop = _routes.rule(rule).hop;
    if (!_tx.add(hop, message.encoded)) {
      _tx.flush(_socket, tally);
      _tx.add(hop, message.encoded);  // an empty batch always has room
    }
  }
}

std::uint32_t pipeline::poll_once() noexcept {
  packet_buffer* buffers[udp_socket::max_burst];
  const std::uint32_t have = _pool.acquire(buffers, _options.burst);
  counter_values tally;
  const std::uint32_t got = _socket.receive(buffers, have, _pool.data_size(), &_kernel_drops);
  if (got == 0) {
    tally.idle_polls = 1;
  } else {
    tally.busy_polls = 1;
    // key set expiry is in chain time (unix seconds): one clock read a burst is plenty
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    for (std::uint32_t i = 0; i < got; ++i) handle(*buffers[i], now, tally);
    _tx.flush(_socket, tally);  // before the buffers go back: the frames point into them
    tally.kernel_rx_drops = _kernel_drops;
  }
  _pool.release(buffers, have);
  _counters.publish(tally);
  return got;
}

void pipeline::run(const std::atomic<bool>& stop) noexcept {
  std::uint32_t idle = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (poll_once() != 0) {
      idle = 0;
      continue;
    }
    if (_options.mode == poll_mode::adaptive && ++idle >= _options.idle_polls_before_sleep) {
      _socket.wait_readable(50);
      idle = 0;
    } else {
      platform::cpu_relax();
    }
  }
}

}  // namespace ferry::dp
