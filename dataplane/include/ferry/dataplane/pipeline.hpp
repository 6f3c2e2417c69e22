#pragma once
// The run-to-completion pipeline: one stage that receives a burst, parses each frame, verifies and routes each
// message and sends the burst's frames, then returns the buffers, before it looks at the next burst: the layout for
// one core. Every message received is counted as forwarded or as a drop with its reason (see counters.hpp). A
// burst is handled under one policy snapshot, loaded at its start.

#include <atomic>
#include <cstdint>
#include <span>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/stage.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/dataplane/tx_batch.hpp"
#include "ferry/verify/verified_cache.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::dp {

struct pipeline_options {
  std::uint32_t burst = 32;              // datagrams per receive, 1 to rx_port::max_burst
  std::uint32_t max_frame_bytes = 1472;  // largest outgoing frame (see tx_batch)
  std::size_t verified_cache_entries = 65536;  // messages remembered as verified (0: no cache)
};

// The drop reason for a verifier's verdict other than valid.
drop_reason drop_reason_for(verify::verdict v) noexcept;

class pipeline final : public stage {
 public:
  // Everything passed by reference must outlive the pipeline; pool must hold at least options.burst buffers.
  // slot: this stage's slot in the route and peer tallies. events: where verified guardian set upgrades are
  // reported (may be null). ns_per_tick: the cycle clock's period, for the latency histogram. Allocates here (the
  // verified-digest cache too), never afterwards.
  pipeline(const pipeline_options& options, rx_port& rx, tx_port& tx, buffer_pool& pool, const policy_store& policies,
           std::uint32_t slot, control_events* events, double ns_per_tick, stage_counters& counters);

  // One burst: receive, parse, verify, route, send, release. Returns the datagrams received (0: nothing waited).
  std::uint32_t poll_once() noexcept override;
  rx_port* receives_from() noexcept override { return &_rx; }

 private:
  // Takes one datagram apart; returns how many of its messages were added to the batch.
  std::uint32_t handle(const policy& rules, packet_buffer& datagram, std::uint64_t now_s,
                       std::uint64_t now_ns, counter_values& tally) noexcept;

  pipeline_options _options;
  rx_port& _rx;
  tx_port& _tx_port;
  buffer_pool& _pool;
  const policy_store& _policies;
  std::uint32_t _stage;
  control_events* _events;
  double _ns_per_tick;
  stage_counters& _counters;
  verify::verified_cache _cache;
  verify::verifier _verifier;
  tx_batch _tx;
};

}  // namespace ferry::dp
