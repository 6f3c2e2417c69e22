#include "ferry/dataplane/route_stage.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "decide.hpp"
#include "ferry/platform/clock.hpp"
#include "ferry/verify/message_kind.hpp"

namespace ferry::dp {

route_stage::route_stage(std::uint32_t burst, std::vector<spsc_ring<message_desc>*> inputs,
                         std::vector<spsc_ring<packet_buffer*>*> returns, tx_port& tx, const policy_store& policies,
                         std::uint32_t slot, double ns_per_tick, std::size_t max_frame_bytes,
                         stage_counters& counters)
    : _burst(std::max<std::uint32_t>(burst, 1)), _inputs(std::move(inputs)), _returns(std::move(returns)),
      _tx_port(tx), _policies(policies), _stage(slot), _ns_per_tick(ns_per_tick), _counters(counters),
      _tx(max_frame_bytes), _batch(_burst) {
  _held.reserve(static_cast<std::size_t>(tx_batch::max_frames) * tx_batch::max_parts);
}

void route_stage::unref(const message_desc& d) noexcept {
  // R2: pairs with the A2 of whoever drops the last reference: this stage's reads of the buffer come first.
  if (d.buffer->references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // A return ring holds every buffer of its io stage's pool, so it cannot be full: if it is, the accounting of
  // buffers is broken, and going on would lose one for good.
  if (!_returns[d.owner]->push(d.buffer)) std::abort();
}

void route_stage::flush(counter_values& tally) noexcept {
  _tx.flush(_tx_port, tally);  // before the buffers go back: the frames point into them
  if (!_held.empty()) {
    const std::uint64_t sent_at = platform::cycle_ticks();
    for (const message_desc& d : _held) {
      const auto ns = static_cast<std::uint64_t>(static_cast<double>(sent_at - d.buffer->rx_ticks) * _ns_per_tick);
      tally.latency[latency_bucket(ns)] += 1;
      tally.latency_sum_ns += ns;
      unref(d);
    }
  }
  _held.clear();
}

std::uint32_t route_stage::poll_once() noexcept {
  counter_values tally;
  std::uint32_t work = 0;
  const policy* in_use = nullptr;  // the snapshot the frames in _tx were built under
  std::uint64_t now_ns = 0;
  std::uint64_t now_s = 0;
  for (spsc_ring<message_desc>* ring : _inputs) {
    const std::uint32_t k = ring->pop(_batch.data(), _burst);
    if (k == 0) continue;
    if (now_ns == 0) {
      now_ns = platform::portable::monotonic_ns();
      now_s = static_cast<std::uint64_t>(std::time(nullptr));
    }
    tally.ring_high_water = std::max<std::uint64_t>(tally.ring_high_water, k + ring->known_waiting());
    work += k;
    // Loaded after the pop, so at least as new as the one their verify stage used; frames built under an older
    // one go out first, since hop indices belong to a snapshot. Held until the thread's next quiescent point.
    const policy& rules = *_policies.current();
    if (&rules != in_use) {
      flush(tally);
      _tx.use(rules.hops);
      in_use = &rules;
    }
    for (std::uint32_t i = 0; i < k; ++i) {
      const message_desc& d = _batch[i];
      if ((d.flags & desc_flag::dropped) != 0) {  // counted by its verify stage
        unref(d);
        continue;
      }
      tally.rx += 1;
      const std::span<const std::byte> encoded = d.encoded();
      const auto add = [&](std::uint32_t hop, bool copy) {
        if (!_tx.add(hop, encoded, copy)) {
          flush(tally);
          _tx.add(hop, encoded, copy);  // an empty batch always has room
        }
      };
      const bool routed = route_message(rules, _stage, static_cast<verify::message_kind>(d.kind), d.source,
                                        d.destination, encoded, now_ns, now_s, tally, add);
      if (routed) {
        _held.push_back(d);
      } else {
        unref(d);
      }
    }
  }
  flush(tally);
  if (work != 0) {
    tally.busy_polls = 1;
  } else {
    tally.idle_polls = 1;
  }
  _counters.publish(tally);
  return work;
}

}  // namespace ferry::dp
