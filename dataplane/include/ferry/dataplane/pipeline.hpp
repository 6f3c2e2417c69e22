#pragma once
// The run-to-completion pipeline: one thread receives a burst, parses each frame, verifies and routes each message
// and sends the burst's frames, then returns the buffers, before it looks at the next burst. Every message received
// is counted as forwarded or as a drop with its reason (see counters.hpp).

#include <atomic>
#include <cstdint>
#include <span>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/route_table.hpp"
#include "ferry/dataplane/tx_batch.hpp"
#include "ferry/dataplane/udp_socket.hpp"
#include "ferry/verify/verified_cache.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::dp {

enum class poll_mode : std::uint8_t {
  busy,      // poll without pause: lowest latency, one core at 100%
  adaptive,  // poll while there is traffic; after a stretch of empty polls, sleep in poll(2) until a datagram
};

struct pipeline_options {
  std::uint32_t burst = 32;              // datagrams per receive, 1 to udp_socket::max_burst
  std::uint32_t max_frame_bytes = 1472;  // largest outgoing frame (see tx_batch)
  poll_mode mode = poll_mode::adaptive;
  std::uint32_t idle_polls_before_sleep = 1024;  // adaptive: empty polls before sleeping
  std::size_t verified_cache_entries = 65536;     // messages remembered as verified (0: no cache)
};

// The drop reason for a verifier's verdict other than valid.
drop_reason drop_reason_for(verify::verdict v) noexcept;

class pipeline {
 public:
  // Everything passed by reference must outlive the pipeline. hops are indexed by the rules' hop fields; pool must
  // hold at least options.burst buffers. Every message of a verified kind is checked against `keys` before it is
  // routed. Allocates here (the verified-digest cache too), never afterwards.
  pipeline(const pipeline_options& options, udp_socket& socket, buffer_pool& pool, const route_table& routes,
           std::span<const endpoint> hops, const verify::key_sets& keys, stage_counters& counters);

  // One burst: receive, parse, route, send, release. Returns the datagrams received (0: nothing was waiting).
  std::uint32_t poll_once() noexcept;

  // Polls until `stop` is set. In adaptive mode it notices `stop` within about 50 ms while idle.
  void run(const std::atomic<bool>& stop) noexcept;

 private:
  void handle(const packet_buffer& datagram, std::uint64_t now, counter_values& tally) noexcept;

  pipeline_options _options;
  udp_socket& _socket;
  buffer_pool& _pool;
  const route_table& _routes;
  stage_counters& _counters;
  verify::verified_cache _cache;
  verify::verifier _verifier;
  tx_batch _tx;
  std::uint64_t _kernel_drops = 0;
};

}  // namespace ferry::dp
