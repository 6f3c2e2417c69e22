#include "ferry/dataplane/verify_stage.hpp"

#include <algorithm>
#include <ctime>

#include "ferry/dataplane/frame.hpp"
#include "decide.hpp"
#include "ferry/dataplane/pipeline.hpp"
#include "ferry/platform/clock.hpp"

namespace ferry::dp {

namespace {
const verify::key_sets no_keys;  // what the verifier points at until the first burst gives it a snapshot's
}

verify_stage::verify_stage(std::uint32_t burst, std::vector<spsc_ring<message_desc>*> inputs,
                           std::vector<spsc_ring<message_desc>*> outputs, const policy_store& policies,
                           std::uint32_t slot, control_events* events, std::size_t cache_entries,
                           stage_counters& counters)
    : _burst(std::max<std::uint32_t>(burst, 1)), _inputs(std::move(inputs)), _outputs(std::move(outputs)),
      _policies(policies), _stage(slot), _events(events), _cache(cache_entries), _verifier(no_keys, _cache),
      _counters(counters), _batch(_burst),
      _pending(_outputs.size()), _pending_from(_outputs.size(), 0) {
  // One burst from every input can land on one output before it drains.
  for (auto& p : _pending) p.reserve(static_cast<std::size_t>(_burst) * _inputs.size());
}

bool verify_stage::push_pending() noexcept {
  bool drained = true;
  for (std::size_t o = 0; o < _outputs.size(); ++o) {
    std::vector<message_desc>& pending = _pending[o];
    std::uint32_t& from = _pending_from[o];
    if (from == pending.size()) continue;
    from += _outputs[o]->push(pending.data() + from, static_cast<std::uint32_t>(pending.size()) - from);
    if (from == pending.size()) {
      pending.clear();
      from = 0;
    } else {
      drained = false;
    }
  }
  return drained;
}

std::uint32_t verify_stage::poll_once() noexcept {
  counter_values tally;
  std::uint32_t work = 0;
  if (push_pending()) {
    // key set expiry is in chain time (unix seconds): one clock read a poll is plenty
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    const std::uint64_t now_ns = platform::portable::monotonic_ns();
    const auto inputs = static_cast<std::uint32_t>(_inputs.size());
    const auto outputs = static_cast<std::uint32_t>(_outputs.size());
    for (std::uint32_t step = 0; step < inputs; ++step) {
      spsc_ring<message_desc>& ring = *_inputs[(_next_input + step) % inputs];
      const std::uint32_t k = ring.pop(_batch.data(), _burst);
      if (k == 0) continue;
      tally.ring_high_water = std::max<std::uint64_t>(tally.ring_high_water, k + ring.known_waiting());
      // Loaded after the pop: at least as new as the snapshot the io stage took these messages in under (its push
      // happened after its load, and the pop sees the push), and held until the thread's next quiescent point.
      const policy& rules = *_policies.current();
      _verifier.use(*rules.keys);
      for (std::uint32_t i = 0; i < k; ++i) {
        message_desc& d = _batch[i];
        tally.rx += 1;
        const auto kind = static_cast<verify::message_kind>(d.kind);  // checked by the io stage
        if ((d.flags & desc_flag::trusted) == 0 && verify::is_verified_kind(kind)) {
          const verify::verdict v = verify_message(_verifier, rules, _stage, kind, d.source, d.destination,
                                                   d.encoded().subspan(message_header_size), now, now_ns, _events,
                                                   tally);
          if (v != verify::verdict::valid) {
            d.flags |= desc_flag::dropped;
            d.drop = drop_reason_for(v);
            tally.drop(d.drop);
          }
        }
        if ((d.flags & desc_flag::dropped) == 0) tally.forwarded += 1;
        _pending[d.owner % outputs].push_back(d);
      }
      work += k;
    }
    _next_input = (_next_input + 1) % inputs;
    push_pending();
  }
  if (work != 0) {
    tally.busy_polls = 1;
  } else {
    tally.idle_polls = 1;
  }
  _counters.publish(tally);
  return work;
}

}  // namespace ferry::dp
