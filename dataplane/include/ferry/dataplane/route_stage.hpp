#pragma once
// The route stage of a staged pipeline: matches each verified message against the routes, gathers the messages
// of a burst into frames per next hop (tx_batch), sends them through its tx port, then gives each datagram's buffer
// back to its io stage once its last message is done.

#include <cstdint>
#include <span>
#include <vector>

#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/message_desc.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/dataplane/stage.hpp"
#include "ferry/dataplane/tx_batch.hpp"

namespace ferry::dp {

class route_stage final : public stage {
 public:
  // inputs: one ring per verify stage, this stage consuming. returns: one ring per io stage (indexed by a
  // descriptor's owner), this stage producing. Routes each burst under the policy current when it was popped;
  // slot: this stage's slot in the route tallies; ns_per_tick: the cycle clock's period, for the latency
  // histogram. Everything must outlive the stage. Allocates here, never afterwards.
  route_stage(std::uint32_t burst, std::vector<spsc_ring<message_desc>*> inputs,
              std::vector<spsc_ring<packet_buffer*>*> returns, tx_port& tx, const policy_store& policies,
              std::uint32_t slot, double ns_per_tick, std::size_t max_frame_bytes, stage_counters& counters);

  std::uint32_t poll_once() noexcept override;

 private:
  void flush(counter_values& tally) noexcept;
  void unref(const message_desc& d) noexcept;

  std::uint32_t _burst;
  std::vector<spsc_ring<message_desc>*> _inputs;
  std::vector<spsc_ring<packet_buffer*>*> _returns;
  tx_port& _tx_port;
  const policy_store& _policies;
  std::uint32_t _stage;
  double _ns_per_tick;
  stage_counters& _counters;
  tx_batch _tx;
  std::vector<message_desc> _batch;
  std::vector<message_desc> _held;  // messages in _tx: their buffers go back after the flush
};

}  // namespace ferry::dp
