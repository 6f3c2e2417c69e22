#pragma once
// The run-to-completion pipeline: one stage that receives a burst, parses each frame, verifies and routes each
// message and sends the burst's frames, then returns the buffers, before it looks at the next burst: the layout for
// one core. Every message received is counted as forwarded or as a drop with its reason (see counters.hpp).

#include <atomic>
#include <cstdint>
#include <span>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/route_table.hpp"
#include "ferry/dataplane/stage.hpp"
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
  // Everything passed by reference must outlive the pipeline. hops are indexed by the rules' hop fields; pool must
  // hold at least options.burst buffers. Every message of a verified kind is checked against `keys` before it is
  // routed, unless it comes in a frame marked verified upstream from one of `trusted`. Allocates here (the
  // verified-digest cache too), never afterwards.
  pipeline(const pipeline_options& options, rx_port& rx, tx_port& tx, buffer_pool& pool, const route_table& routes,
           std::span<const endpoint> hops, const verify::key_sets& keys, const trusted_upstreams& trusted,
           stage_counters& counters);

  // One burst: receive, parse, route, send, release. Returns the datagrams received (0: nothing was waiting).
  std::uint32_t poll_once() noexcept override;
  rx_port* receives_from() noexcept override { return &_rx; }

 private:
  void handle(const packet_buffer& datagram, std::uint64_t now, counter_values& tally) noexcept;

  pipeline_options _options;
  rx_port& _rx;
  tx_port& _tx_port;
  buffer_pool& _pool;
  const route_table& _routes;
  const trusted_upstreams& _trusted;
  stage_counters& _counters;
  verify::verified_cache _cache;
  verify::verifier _verifier;
  tx_batch _tx;
};

}  // namespace ferry::dp
