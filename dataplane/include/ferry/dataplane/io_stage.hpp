#pragma once
// The io stage of a staged pipeline: receives a burst from its rx port into its own buffer pool, parses each frame,
// does the cheap per-message checks (kind, flags, addressing), and hands each message's descriptor to the verify
// stage its bytes hash to. A full ring never holds up receiving: the message is dropped as queue_full. Buffers come
// back from the route stages over return rings once every message in them is done.

#include <cstdint>
#include <span>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/counters.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/dataplane/message_desc.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/dataplane/stage.hpp"

namespace ferry::dp {

class io_stage final : public stage {
 public:
  // index: this stage's number, written into descriptors as their owner. to_verify: one ring per verify stage, this
  // stage producing. returns: one ring per route stage, this stage consuming, each able to hold every buffer of
  // `pool` (so that a route stage never finds it full). slot: this stage's slot in the peer tallies. `receiving`
  // turns receiving off for a draining stop. Everything must outlive the stage. Allocates here, never afterwards.
  io_stage(std::uint8_t index, std::uint32_t burst, rx_port& rx, buffer_pool& pool,
           std::vector<spsc_ring<message_desc>*> to_verify, std::vector<spsc_ring<packet_buffer*>*> returns,
           const policy_store& policies, std::uint32_t slot, stage_counters& counters,
           const std::atomic<bool>& receiving);

  std::uint32_t poll_once() noexcept override;
  rx_port* receives_from() noexcept override { return &_rx; }

 private:
  void take(const policy& rules, std::uint64_t now_ns, std::uint64_t now_s, packet_buffer& datagram,
            counter_values& tally) noexcept;
  void flush(std::uint32_t shard, counter_values& tally) noexcept;
  void unref(packet_buffer* buffer) noexcept;

  std::uint8_t _index;
  std::uint32_t _burst;
  rx_port& _rx;
  buffer_pool& _pool;
  std::vector<spsc_ring<message_desc>*> _to_verify;
  std::vector<spsc_ring<packet_buffer*>*> _returns;
  const policy_store& _policies;
  std::uint32_t _stage;
  stage_counters& _counters;
  const std::atomic<bool>& _receiving;
  std::vector<message_desc> _datagram;             // the messages of the datagram being taken apart
  std::vector<std::vector<message_desc>> _staged;  // per verify stage: descriptors waiting for one push
};

}  // namespace ferry::dp
