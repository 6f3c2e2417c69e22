#pragma once
// ferry's one ring: a bounded single-producer single-consumer queue of trivially copyable items (buffer
// descriptors between stages, commands from the control plane), lock-free and wait-free on both sides.
//
// Shape (Firedancer's): footprint() and align() say what memory it needs, construct() places it there, and nothing
// is allocated after that. footprint() returns 0 for a capacity it cannot take, so a bad configuration is refused
// before anything runs.
//
// Layout: the read-only fields, the producer's line (tail and its cached copy of head), and the consumer's line
// (head and its cached copy of tail) each sit on their own cache line with a guard line between, so that the
// adjacent-line prefetcher does not pull a neighbour's line into a false-sharing pair. Each side re-reads the other's
// index only when its cached copy says the ring looks full (producer) or empty (consumer): in steady state a burst
// costs one shared-line read per side.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>

#include "ferry/platform/cpu.hpp"

namespace ferry::dp {

template <class T>
class spsc_ring {
  static_assert(std::is_trivially_copyable_v<T>, "ring items are copied as bytes: descriptors, not objects");
  static_assert(alignof(T) <= platform::cache_line, "slots start on a cache-line boundary");
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "the ring relies on lock-free 32-bit atomics");

 public:
  using value_type = T;

  // Largest capacity: indices are free-running 32-bit counters compared by unsigned difference, which is exact
  // while capacity <= 2^31.
  static constexpr std::uint32_t max_capacity = 1u << 31;

  static constexpr std::size_t align() noexcept { return std::max(platform::cache_line, alignof(T)); }

  // Bytes needed for a ring of `capacity` items. capacity: a power of two in [2, max_capacity]; anything else,
  // or a ring larger than this target can address, gives 0.
  static constexpr std::size_t footprint(std::uint32_t capacity) noexcept {
    if (capacity < 2 || capacity > max_capacity || (capacity & (capacity - 1)) != 0) return 0;
    const std::uint64_t bytes = sizeof(spsc_ring) + std::uint64_t{capacity} * sizeof(T);
    const std::uint64_t rounded = (bytes + align() - 1) / align() * align();
    if (rounded > std::numeric_limits<std::size_t>::max() / 2) return 0;
    return static_cast<std::size_t>(rounded);
  }

  // Places an empty ring in `memory`. memory: footprint(capacity) bytes aligned to align(), owned by the caller
  // for the ring's lifetime. Returns nullptr when footprint(capacity) is 0 or memory is misaligned.
  static spsc_ring* construct(void* memory, std::uint32_t capacity) noexcept {
    if (memory == nullptr || footprint(capacity) == 0) return nullptr;
    if (reinterpret_cast<std::uintptr_t>(memory) % align() != 0) return nullptr;
    return new (memory) spsc_ring(capacity);
  }

  spsc_ring(const spsc_ring&) = delete;
  spsc_ring& operator=(const spsc_ring&) = delete;

  // Producer only. Appends up to n items from `items`, in order; returns how many went in (0 when full).
  std::uint32_t push(const T* items, std::uint32_t n) noexcept {
    const std::uint32_t tail = _producer.tail.load(std::memory_order_relaxed);  // only this thread writes tail
    std::uint32_t free_slots = _capacity - (tail - _producer.head_cache);
    if (free_slots < n) {
      // A0: pairs with R1 in pop(): the consumer has finished reading the slots it released before head moved,
      // so overwriting them now cannot race with that read.
      _producer.head_cache = _consumer.head.load(std::memory_order_acquire);
      free_slots = _capacity - (tail - _producer.head_cache);
      n = std::min(n, free_slots);
      if (n == 0) return 0;
    }
    copy_in(tail & _mask, items, n);
    // R0: publishes the slots written above; pairs with A1 in pop().
    _producer.tail.store(tail + n, std::memory_order_release);
    return n;
  }

  // Consumer only. Removes up to n items into `out`, oldest first; returns how many came out (0 when empty).
  std::uint32_t pop(T* out, std::uint32_t n) noexcept {
    const std::uint32_t head = _consumer.head.load(std::memory_order_relaxed);  // only this thread writes head
    std::uint32_t ready = _consumer.tail_cache - head;
    if (ready < n) {
      // A1: pairs with R0 in push(): sees every slot written before tail moved.
      _consumer.tail_cache = _producer.tail.load(std::memory_order_acquire);
      ready = _consumer.tail_cache - head;
      n = std::min(n, ready);
      if (n == 0) return 0;
    }
    copy_out(head & _mask, out, n);
    // R1: releases the slots read above back to the producer; pairs with A0 in push().
    _consumer.head.store(head + n, std::memory_order_release);
    return n;
  }

  // Consumer only: items it already knows to be waiting (as of its last look at tail), without reading the
  // producer's line. After a pop, popped + known_waiting() is the backlog that pop saw: an occupancy gauge for free.
  std::uint32_t known_waiting() const noexcept {
    return _consumer.tail_cache - _consumer.head.load(std::memory_order_relaxed);
  }

  bool push(const T& item) noexcept { return push(&item, 1) == 1; }
  bool pop(T& item) noexcept { return pop(&item, 1) == 1; }

  std::uint32_t capacity() const noexcept { return _capacity; }

  // Items in the ring as seen from any thread: exact from either side when the other is idle, a snapshot
  // otherwise. For occupancy gauges, not for decisions.
  std::uint32_t size() const noexcept {
    const std::uint32_t head = _consumer.head.load(std::memory_order_acquire);
    const std::uint32_t tail = _producer.tail.load(std::memory_order_acquire);
    return std::min(tail - head, _capacity);
  }

 private:
  explicit spsc_ring(std::uint32_t capacity) noexcept : _capacity(capacity), _mask(capacity - 1) {}

  // Through void*: sizeof(spsc_ring) is a multiple of the cache line, which -Wcast-align cannot know.
  T* slots() noexcept { return static_cast<T*>(static_cast<void*>(reinterpret_cast<std::byte*>(this) + sizeof(spsc_ring))); }

  // Copies as at most two straight runs, before and after the wrap. Only a burst that straddles the end of the slots
  // has a second run, so it is kept off the straight-line path.
  void copy_in(std::uint32_t index, const T* items, std::uint32_t n) noexcept {
    T* const ring = slots();
    const std::uint32_t first = std::min(n, _capacity - index);
    copy_run(ring + index, items, first);
    if (first < n) [[unlikely]] {
      copy_run(ring, items + first, n - first);
    }
  }

  void copy_out(std::uint32_t index, T* out, std::uint32_t n) noexcept {
    const T* const ring = slots();
    const std::uint32_t first = std::min(n, _capacity - index);
    copy_run(out, ring + index, first);
    if (first < n) [[unlikely]] {
      copy_run(out + first, ring, n - first);
    }
  }

  // Four items per step as one fixed-size memcpy, which compiles to a few wide loads then stores (two 16-byte moves
  // for four pointers) at -O2 as at -O3, on x86-64 and aarch64 alike. A plain element loop indexed from the slot
  // number stayed one 8-byte move per item: the compiler cannot prove that the caller's array and the slots do not
  // overlap, nor that a 32-bit index does not wrap, so it neither vectorises nor merges the moves (rte_ring unrolls
  // its copy by four against the same problem, still with 8-byte moves). to and from never overlap: one is the
  // ring, the other the caller's array. See BENCHMARKS.md for the measurements.
  static void copy_run(T* to, const T* from, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) std::memcpy(to + i, from + i, 4 * sizeof(T));
    for (; i < n; ++i) to[i] = from[i];
  }

  struct alignas(platform::cache_line) guard_line {
    std::byte unused[platform::cache_line];
  };

  // Read-only after construction: shared by both sides without contention.
  alignas(platform::cache_line) const std::uint32_t _capacity;
  const std::uint32_t _mask;
  guard_line _guard_a;
  struct alignas(platform::cache_line) {
    std::atomic<std::uint32_t> tail{0};  // next slot to write; written by the producer only
    std::uint32_t head_cache = 0;        // producer's last view of consumer.head
  } _producer;
  guard_line _guard_b;
  struct alignas(platform::cache_line) {
    std::atomic<std::uint32_t> head{0};  // next slot to read; written by the consumer only
    std::uint32_t tail_cache = 0;        // consumer's last view of producer.tail
  } _consumer;
  guard_line _guard_c;
  // The slots follow the object, at sizeof(spsc_ring), which is a multiple of the cache line.
};

}  // namespace ferry::dp
