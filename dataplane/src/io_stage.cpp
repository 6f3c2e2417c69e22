#include "ferry/dataplane/io_stage.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "ferry/dataplane/frame.hpp"
#include "ferry/platform/clock.hpp"
#include "take_apart.hpp"

namespace ferry::dp {

namespace {
constexpr std::uint32_t staged_capacity = 256;  // descriptors per verify stage before a push mid-burst
}

io_stage::io_stage(std::uint8_t index, std::uint32_t burst, rx_port& rx, buffer_pool& pool,
                   std::vector<spsc_ring<message_desc>*> to_verify, std::vector<spsc_ring<packet_buffer*>*> returns,
                   const policy_store& policies, std::uint32_t slot, stage_counters& counters,
                   const std::atomic<bool>& receiving)
    : _index(index), _burst(std::clamp<std::uint32_t>(burst, 1, rx_port::max_burst)), _rx(rx), _pool(pool),
      _to_verify(std::move(to_verify)), _returns(std::move(returns)), _policies(policies), _stage(slot), _counters(counters),
      _receiving(receiving),
      // the most messages a datagram can hold: a header, then 5 bytes a message at the least
      _datagram(pool.data_size() / (message_header_size + 1) + 1), _staged(_to_verify.size()) {
  for (auto& s : _staged) s.reserve(staged_capacity);
}

void io_stage::unref(packet_buffer* buffer) noexcept {
  // A2: pairs with the R2 of the other stages that dropped their references: their reads of the buffer are done.
  if (buffer->references.fetch_sub(1, std::memory_order_acq_rel) == 1) _pool.release(buffer);
}

void io_stage::flush(std::uint32_t shard, counter_values& tally) noexcept {
  std::vector<message_desc>& staged = _staged[shard];
  if (staged.empty()) return;
  const auto n = static_cast<std::uint32_t>(staged.size());
  const std::uint32_t pushed = _to_verify[shard]->push(staged.data(), n);
  tally.forwarded += pushed;
  for (std::uint32_t i = pushed; i < n; ++i) {
    tally.drop(drop_reason::queue_full);
    unref(staged[i].buffer);
  }
  staged.clear();
}

void io_stage::take(const policy& rules, std::uint64_t now_ns, std::uint64_t now_s, packet_buffer& datagram,
                    counter_values& tally) noexcept {
  std::uint32_t n = 0;
  const bool framed = take_apart(datagram, rules, _stage, now_ns, now_s, tally, [&](const accepted_message& m) {
    _datagram[n++] = {&datagram,
                      static_cast<std::uint32_t>(m.message.encoded.data() - datagram.data()),
                      static_cast<std::uint32_t>(m.message.encoded.size()),
                      m.where.source,
                      m.where.destination,
                      m.message.kind,
                      _index,
                      m.trusted ? desc_flag::trusted : std::uint8_t{0},
                      drop_reason::malformed};
  });
  if (!framed || n == 0) {
    _pool.release(&datagram);
    return;
  }
  // Set before any descriptor of it is pushed; the push's release publishes it with them.
  datagram.references.store(n, std::memory_order_relaxed);
  const auto shards = static_cast<std::uint32_t>(_to_verify.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    const message_desc& d = _datagram[i];
    const std::uint32_t shard = shard_of(d.encoded().subspan(message_header_size), shards);
    _staged[shard].push_back(d);
    if (_staged[shard].size() == staged_capacity) flush(shard, tally);
  }
}

std::uint32_t io_stage::poll_once() noexcept {
  std::uint32_t work = 0;
  packet_buffer* returned[64];
  for (spsc_ring<packet_buffer*>* ring : _returns) {
    while (const std::uint32_t k = ring->pop(returned, 64)) {
      _pool.release(returned, k);
      work += k;
    }
  }
  counter_values tally;
  std::uint32_t got = 0;
  if (_receiving.load(std::memory_order_relaxed)) {
    packet_buffer* buffers[rx_port::max_burst];
    got = _rx.receive(_pool, buffers, _burst);
    if (got != 0) {
      const policy& rules = *_policies.current();  // for the whole burst: until the thread's next quiescent point
      const std::uint64_t now_ns = platform::portable::monotonic_ns();
      const auto now_s = static_cast<std::uint64_t>(std::time(nullptr));
      for (std::uint32_t i = 0; i < got; ++i) take(rules, now_ns, now_s, *buffers[i], tally);
    }
    for (std::uint32_t s = 0; s < _staged.size(); ++s) flush(s, tally);
  }
  tally.rx_lost = _rx.lost();
  tally.rx_ignored = _rx.ignored();
  if (got != 0) {
    tally.busy_polls = 1;
  } else if (work == 0) {
    tally.idle_polls = 1;
  }
  _counters.publish(tally);
  return got + work;
}

}  // namespace ferry::dp
