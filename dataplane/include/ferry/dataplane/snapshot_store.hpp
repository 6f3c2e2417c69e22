#pragma once
// An immutable snapshot that the control plane replaces while the data plane reads it without a lock: readers
// load the current pointer (one acquire load) and use it until their next quiescent point (qsbr.hpp); the writer
// publishes a new snapshot with one atomic exchange and frees the old one once every reader has passed a quiescent
// point since. At most max_retired old snapshots wait at once: a writer that would exceed it waits for the oldest
// grace period first, so the memory they hold stays bounded however fast changes come.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "ferry/dataplane/qsbr.hpp"

namespace ferry::dp {

template <class T>
class snapshot_store {
 public:
  static constexpr std::size_t max_retired = 8;

  // first: the snapshot served from the start (not null). readers: the qsbr reader slots (stage threads).
  snapshot_store(std::unique_ptr<const T> first, std::uint32_t readers)
      : _readers(readers), _current(first.release()) {}

  snapshot_store(const snapshot_store&) = delete;
  snapshot_store& operator=(const snapshot_store&) = delete;

  // Only once no reader runs any more.
  ~snapshot_store() {
    delete _current.load(std::memory_order_relaxed);
    for (auto& r : _retired) delete r.second;
  }

  // Reader: the snapshot to use until the reader's next quiescent point.
  const T* current() const noexcept {
    // A3: pairs with R3 in publish(): the snapshot's contents are seen as they were built.
    return _current.load(std::memory_order_acquire);
  }

  qsbr& readers() noexcept { return _readers; }

  // Writer (any thread; writers are serialized): makes `next` current, retires the old one and frees every retired
  // snapshot whose grace period has passed. Waits (sleeping) only when max_retired are already waiting.
  void publish(std::unique_ptr<const T> next) {
    {
      std::lock_guard<std::mutex> hold(_writer);
      // R3: pairs with A3 in current(); seq_cst orders it before start_grace()'s epoch increment.
      const T* old = _current.exchange(next.release(), std::memory_order_seq_cst);
      _retired.emplace_back(_readers.start_grace(), old);
      _published += 1;
      reclaim_locked();
    }
    // The wait takes the lock only to look, so that readers of retired() and published() never wait on it.
    for (;;) {
      {
        std::lock_guard<std::mutex> hold(_writer);
        reclaim_locked();
        if (_retired.size() <= max_retired) return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  // Writer: frees the retired snapshots whose grace period has passed (housekeeping calls it now and then).
  void reclaim() {
    std::lock_guard<std::mutex> hold(_writer);
    reclaim_locked();
  }

  // Writer: waits until every retired snapshot is freed, or `limit` passes. True when none is left.
  bool drain(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      {
        std::lock_guard<std::mutex> hold(_writer);
        reclaim_locked();
        if (_retired.empty()) return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  std::size_t retired() const {
    std::lock_guard<std::mutex> hold(_writer);
    return _retired.size();
  }
  std::uint64_t published() const {
    std::lock_guard<std::mutex> hold(_writer);
    return _published;
  }

 private:
  void reclaim_locked() {
    while (!_retired.empty() && _readers.passed(_retired.front().first)) {
      delete _retired.front().second;
      _retired.pop_front();
    }
  }

  qsbr _readers;
  std::atomic<const T*> _current;
  mutable std::mutex _writer;
  std::deque<std::pair<std::uint64_t, const T*>> _retired;  // grace token, snapshot; oldest first
  std::uint64_t _published = 1;
};

}  // namespace ferry::dp
