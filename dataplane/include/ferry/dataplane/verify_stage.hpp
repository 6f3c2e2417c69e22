#pragma once
// The verify stage of a staged pipeline: checks each message its io stages shard to it against the key sets, with
// its own verified-digest cache in front of the crypto (every copy of a message comes to the same verify stage,
// so a repeat is found a duplicate without any crypto). Descriptors go on to the route stage of their io stage,
// the dropped ones marked so (they only give their buffer back there). When a route stage's ring is full it holds
// what it has and takes nothing new: backpressure reaches the io stages, which drop as queue_full.

#include <cstdint>
#include <vector>

#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/message_desc.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/dataplane/stage.hpp"
#include "ferry/verify/verified_cache.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::dp {

class verify_stage final : public stage {
 public:
  // inputs: one ring per io stage, this stage consuming. outputs: one ring per route stage, this stage producing;
  // a descriptor goes to outputs[owner % outputs.size()]. Verifies against the key sets of the policy current
  // when each burst is popped; slot: this stage's slot in the route tallies; events: where verified guardian set upgrades are
  // reported (may be null). Allocates here (the cache too), never afterwards.
  verify_stage(std::uint32_t burst, std::vector<spsc_ring<message_desc>*> inputs,
               std::vector<spsc_ring<message_desc>*> outputs, const policy_store& policies, std::uint32_t slot,
               control_events* events, std::size_t cache_entries, stage_counters& counters);

  std::uint32_t poll_once() noexcept override;

  std::uint64_t cache_hits() const noexcept { return _verifier.cache_hits(); }
  std::uint64_t cache_misses() const noexcept { return _verifier.cache_misses(); }

 private:
  bool push_pending() noexcept;

  std::uint32_t _burst;
  std::vector<spsc_ring<message_desc>*> _inputs;
  std::vector<spsc_ring<message_desc>*> _outputs;
  const policy_store& _policies;
  std::uint32_t _stage;
  control_events* _events;
  verify::verified_cache _cache;
  verify::verifier _verifier;
  stage_counters& _counters;
  std::vector<message_desc> _batch;
  std::vector<std::vector<message_desc>> _pending;  // per output: descriptors its ring had no room for yet
  std::vector<std::uint32_t> _pending_from;         // per output: how many of _pending went already
  std::uint32_t _next_input = 0;
};

}  // namespace ferry::dp
