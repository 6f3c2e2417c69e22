#pragma once
// Quiescent-state-based reclamation (QSBR), as liburcu's urcu-qsbr and DPDK's rte_rcu_qsbr do it: readers (the
// stage threads) announce, between bursts, that they hold no pointer into shared snapshots; a writer that has
// unpublished a snapshot frees it once every reader has announced so after the unpublishing. Readers pay one
// relaxed load and one release store per announcement, and nothing per read.
//
// A reader that goes to sleep marks itself offline first (it holds nothing while asleep, so a writer need not
// wait for it) and online when it wakes, before it reads a snapshot again.

#include <atomic>
#include <cstdint>
#include <memory>

#include "ferry/platform/cpu.hpp"

namespace ferry::dp {

class qsbr {
 public:
  static constexpr std::uint32_t max_readers = 256;

  // readers: reader slots, 1 to max_readers; each reader thread takes one (its index) and only it writes there.
  explicit qsbr(std::uint32_t readers);

  std::uint32_t readers() const noexcept { return _count; }

  // Reader `r`: it holds no snapshot pointer now. Cost: one load and one store, no fence.
  void quiescent(std::uint32_t r) noexcept {
    // A1: pairs with R1 in start_grace(): a reader that sees the new epoch sees the snapshots unpublished before it.
    const std::uint64_t now = _epoch.load(std::memory_order_acquire);
    // R2: pairs with A2 in passed(): everything this reader did with old snapshots happens before the writer frees.
    _slots[r].seen.store(now, std::memory_order_release);
  }
  // Reader `r` goes to sleep holding nothing: writers stop waiting for it.
  void offline(std::uint32_t r) noexcept { _slots[r].seen.store(offline_mark, std::memory_order_release); }
  // Reader `r` wakes: from here on writers wait for it again. Costs an atomic read-modify-write of the shared epoch
  // (a full barrier; once per sleep, not per burst).
  void online(std::uint32_t r) noexcept;

  // Writer, after unpublishing: a token that passed() accepts once every online reader has been quiescent since.
  std::uint64_t start_grace() noexcept;
  // Whether every reader has been quiescent or offline since the grace period of `token` started.
  bool passed(std::uint64_t token) const noexcept;

 private:
  static constexpr std::uint64_t offline_mark = ~std::uint64_t{0};

  struct alignas(platform::cache_line) slot {
    std::atomic<std::uint64_t> seen{offline_mark};
  };
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "qsbr relies on lock-free 64-bit atomics");

  alignas(platform::cache_line) std::atomic<std::uint64_t> _epoch{1};
  std::uint32_t _count;
  std::unique_ptr<slot[]> _slots;
};

}  // namespace ferry::dp
