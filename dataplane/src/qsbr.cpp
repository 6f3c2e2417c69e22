#include "ferry/dataplane/qsbr.hpp"

#include <algorithm>
#include <cstdlib>

namespace ferry::dp {

qsbr::qsbr(std::uint32_t readers)
    : _count(std::clamp<std::uint32_t>(readers, 1, max_readers)), _slots(std::make_unique<slot[]>(_count)) {}

void qsbr::online(std::uint32_t r) noexcept {
  // Sequentially consistent with passed(): either the writer's look at this slot comes after this store (and it
  // waits for this reader's next quiescent point), or this reader's next snapshot load comes after the writer's
  // unpublishing (and so reads the new one).
  _slots[r].seen.store(_epoch.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
  // A1b: a read-modify-write of the epoch where a seq_cst fence would do (GCC refuses fences under -fsanitize=thread,
  // and TSan does not model them). Either it reads start_grace()'s increment R1 (then it synchronizes with it, and
  // the snapshot loads that follow see what was unpublished before), or it comes before R1 in the epoch's order
  // (then the store above precedes the writer's A2 in the single total order, and the writer waits for us).
  (void)_epoch.fetch_add(0, std::memory_order_seq_cst);
}

std::uint64_t qsbr::start_grace() noexcept {
  // R1: pairs with A1 in quiescent(); seq_cst also orders it after the caller's unpublishing store.
  return _epoch.fetch_add(1, std::memory_order_seq_cst) + 1;
}

bool qsbr::passed(std::uint64_t token) const noexcept {
  for (std::uint32_t r = 0; r < _count; ++r) {
    // A2: pairs with R2 in quiescent() and offline().
    const std::uint64_t seen = _slots[r].seen.load(std::memory_order_seq_cst);
    if (seen != offline_mark && seen < token) return false;
  }
  return true;
}

}  // namespace ferry::dp
