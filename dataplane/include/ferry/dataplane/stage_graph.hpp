#pragma once
// The data path as configured: stages, the rings between them and the pinned threads that poll them.
//
// Run to completion: one stage (pipeline.hpp) does everything on one core. Staged: io stages (one per rx port)
// shard messages by their bytes over verify stages, which hand them to route stages, which send and give the
// buffers back:
//
//   io[i] --ring--> verify[j]   (I x V rings, descriptors)      verify[j] --ring--> route[k]   (V x R rings)
//   route[k] --ring--> io[i]    (R x I return rings, buffers)
//
// Every ring has one producer and one consumer. Stages placed on the same core share one thread, polled in turn.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/message_desc.hpp"
#include "ferry/dataplane/pipeline.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/dataplane/stage.hpp"
#include "ferry/platform/result.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::dp {

enum class poll_mode : std::uint8_t {
  busy,      // poll without pause: lowest latency, a core at 100% per thread
  adaptive,  // poll while there is work; after a stretch of empty polls, sleep briefly (see stage_graph.cpp)
};

enum class layout_mode : std::uint8_t { run_to_completion, staged };

struct stage_layout {
  layout_mode mode = layout_mode::run_to_completion;
  std::uint32_t io = 1;      // staged: io stages, one rx port each (1 to 64)
  std::uint32_t verify = 1;  // staged: verify stages (1 to 64)
  std::uint32_t route = 1;   // staged: route stages, one tx port each (1 to 64)
  // One entry per stage, in the order io..., verify..., route... (run to completion: one). A core, or nothing for
  // an unpinned thread of its own. Stages given the same core share its thread. Empty: every stage unpinned.
  std::vector<std::optional<unsigned>> cpus;

  std::uint32_t stage_count() const noexcept { return mode == layout_mode::staged ? io + verify + route : 1; }
};

// The layout that fits the cores this process may use (ascending, not empty): one core runs to completion on it;
// two or three put the io and route stages together on the first and a verify stage on each other; four or more
// give the io stage and the route stage a core each and the rest to verify stages.
stage_layout default_layout(std::span<const unsigned> cpus);

// Buffers of one io stage that the stages after it can hold at once in a staged layout: its rings to the verify
// stages and the verify stages' rings to the route stages full of its descriptors (one buffer each at worst, a
// datagram of one message), and what the verify and route stages have in hand (a burst from each input, and one
// being sent). Each io stage's pool has these on top of graph_options::buffers, so that when verification falls
// behind the io stage still has buffers to receive into and drops the excess as queue_full (counted) rather than
// leaving the kernel to drop it, honest peers' datagrams with the rest. 0 to run to completion; at most
// buffer_pool::max_count.
std::uint32_t buffers_held_downstream(const stage_layout& layout, std::uint32_t ring_size, std::uint32_t burst);

struct graph_options {
  stage_layout layout;
  pipeline_options pipeline;  // burst, frame size and cache size, for every layout
  poll_mode mode = poll_mode::adaptive;
  std::uint32_t idle_polls_before_sleep = 1024;  // adaptive: empty polls before a thread sleeps
  std::uint32_t ring_size = 1024;                // descriptors per ring between stages (a power of two)
  std::uint32_t buffers = 1024;                  // receive buffers per io stage, beyond buffers_held_downstream()
  std::uint32_t buffer_size = 2048;              // bytes per receive buffer
};

struct stage_info {
  std::string name;  // rtc, io0, verify0, route0, ...
  std::optional<unsigned> cpu;
};

class stage_graph {
 public:
  // Builds pools, rings and stages, then starts the threads, each pinned (when its layout says so) before it
  // reports ready. `backend` must have layout.io rx ports and layout.route tx ports (one of each to run to
  // completion); `policies` must have a qsbr reader slot per stage (each thread takes the slot of its index and
  // passes a quiescent point after every round of polls); stage s writes tally slot s of the policies' route and
  // peer states, which must have layout.stage_count() slots. `events` (may be null) hears of verified guardian set
  // upgrades. Everything passed must outlive the graph. The error names what failed.
  static platform::result<std::unique_ptr<stage_graph>> start(const graph_options& options, io_backend& backend,
                                                              policy_store& policies, control_events* events);

  stage_graph(const stage_graph&) = delete;
  stage_graph& operator=(const stage_graph&) = delete;
  ~stage_graph();

  // Stops receiving, lets what is in flight finish (up to half a second), then stops every thread and waits for
  // them: afterwards the counters add up exactly. Safe to call more than once.
  void stop() noexcept;

  std::size_t stage_count() const noexcept { return _info.size(); }
  std::size_t thread_count() const noexcept { return _threads.size(); }
  const stage_info& info(std::size_t stage) const noexcept { return _info[stage]; }
  counter_values counters(std::size_t stage) const noexcept { return _counters[stage]->read(); }
  // Descriptors waiting in the stage's input rings now (0 for a stage fed by a port): the rings' occupancy.
  std::uint64_t ring_waiting(std::size_t stage) const noexcept;
  // The whole path: rx of the io (or rtc) stages, forwarded of the route (or rtc) stages, every stage's drops.
  counter_values totals() const noexcept;
  const stage_layout& layout() const noexcept { return _layout; }
  bool huge_pages() const noexcept;

 private:
  stage_graph() = default;
  bool rings_empty() const noexcept;

  stage_layout _layout;
  std::vector<stage_info> _info;
  std::vector<std::unique_ptr<stage_counters>> _counters;
  std::vector<placed<buffer_pool>> _pools;
  std::vector<placed<spsc_ring<message_desc>>> _desc_rings;
  std::vector<std::vector<const spsc_ring<message_desc>*>> _inputs;  // per stage: the rings it consumes
  std::vector<placed<spsc_ring<packet_buffer*>>> _return_rings;
  std::vector<std::unique_ptr<stage>> _stages;
  std::atomic<bool> _receiving{true};
  std::atomic<bool> _stop{false};
  policy_store* _policies = nullptr;
  std::vector<std::thread> _threads;
};

}  // namespace ferry::dp
