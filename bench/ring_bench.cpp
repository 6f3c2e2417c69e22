// ferry's SPSC ring against its floor, DPDK's rte_ring in single-producer/single-consumer mode, and against
// moodycamel's ConcurrentQueue and ReaderWriterQueue, all in one binary and one run so that the figures can be read
// as ratios on a noisy machine.
//
// Every queue carries 8-byte items (void*, as rte_ring does) and holds 1024 of them. Two modes:
//   same_thread/<queue>/<burst>   one thread pushes a burst then pops it: the cost of the calls themselves, with
//                                 every line in the local cache.
//   two_threads/<queue>/<burst>   a producer and a consumer pinned to two CPUs move transfer_items items in bursts:
//                                 the cost including cache-line transfers between cores. Manual time, from the
//                                 start signal to the consumer's last item.
// Counters: ns_per_item (steady clock) and ticks_per_item (platform::cycle_ticks, the TSC on x86-64).
//
// rte_ring is driven without the EAL: rte_ring_get_memsize() + our own memory + rte_ring_init(). Nothing in the
// SP/SC enqueue and dequeue paths needs the EAL (no lcore ids, no memzones, no tailq). It is called through the
// _burst variants, whose semantics (take what fits, return how many) are those of spsc_ring's push and pop; the
// benchmark never asks for more than fits in same_thread mode, where burst and bulk do the same work.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// At -O2 GCC 12 reports -Wnull-dereference inside the consumer token's walk of the producer list, which it cannot
// prove non-empty; the header is not ours to fix, and the warning must not hide ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <concurrentqueue/concurrentqueue.h>
#pragma GCC diagnostic pop

#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/platform/clock.hpp"
#include "ferry/platform/cpu.hpp"
#include "ferry/platform/region.hpp"
#include "ferry/platform/thread.hpp"

#if defined(FERRY_HAVE_DPDK)
#include <rte_ring.h>
#endif
#if defined(FERRY_HAVE_READERWRITERQUEUE)
#include <readerwriterqueue/readerwriterqueue.h>
#endif

namespace {

using namespace ferry;

constexpr std::uint32_t ring_capacity = 1024;
constexpr std::uint32_t max_burst = 32;
constexpr std::uint64_t transfer_items = 10'000'000;
// A two-thread transfer that has not finished by then is stuck (a queue that lost an item): report, don't hang.
constexpr auto transfer_time_limit = std::chrono::seconds(20);

// Each adapter owns one queue of ring_capacity void* items and exposes burst calls with spsc_ring's semantics:
// push(items, n) and pop(out, n) return how many went. `error` is non-empty when the queue could not be made.

struct ferry_queue {
  static constexpr const char* name = "ferry";

  ferry_queue() {
    auto created = dp::placed<dp::spsc_ring<void*>>::create("ferry ring", platform::page_size::normal, ring_capacity);
    if (created) {
      ring.emplace(std::move(*created));
    } else {
      error = created.err().message();
    }
  }

  std::uint32_t push(void* const* items, std::uint32_t n) noexcept { return (*ring)->push(items, n); }
  std::uint32_t pop(void** out, std::uint32_t n) noexcept { return (*ring)->pop(out, n); }

  std::optional<dp::placed<dp::spsc_ring<void*>>> ring;
  std::string error;
};

#if defined(FERRY_HAVE_DPDK)
struct rte_ring_queue {
  static constexpr const char* name = "rte_ring";

  rte_ring_queue() {
    // RING_F_EXACT_SZ: without it a ring of count 1024 holds only 1023; with it the slot array is the next power of
    // two above count, as rte_ring_create() would size it.
    constexpr unsigned flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
    const ssize_t bytes = rte_ring_get_memsize(rte_align32pow2(ring_capacity + 1));
    if (bytes <= 0) {
      error = "rte_ring_get_memsize refused the size";
      return;
    }
    auto mapped = platform::region::map(static_cast<std::size_t>(bytes));
    if (!mapped) {
      error = mapped.err().message();
      return;
    }
    memory = std::move(*mapped);
    ring = static_cast<rte_ring*>(memory.data());
    if (const int rc = rte_ring_init(ring, "ferry-bench", ring_capacity, flags); rc != 0) {
      error = "rte_ring_init failed: " + std::to_string(rc);
    } else if (rte_ring_get_capacity(ring) != ring_capacity) {
      error = "rte_ring capacity is " + std::to_string(rte_ring_get_capacity(ring));
    }
  }

  std::uint32_t push(void* const* items, std::uint32_t n) noexcept {
    return rte_ring_sp_enqueue_burst(ring, items, n, nullptr);
  }
  std::uint32_t pop(void** out, std::uint32_t n) noexcept { return rte_ring_sc_dequeue_burst(ring, out, n, nullptr); }

  platform::region memory;  // page-aligned, so the cache-line alignment rte_ring asks for holds
  rte_ring* ring = nullptr;
  std::string error;
};
#endif

// try_enqueue_bulk never allocates, which keeps the queue at its preallocated 1024 slots (32 blocks of 32) like
// the rings; it is all-or-nothing, so push returns n or 0. Tokens are made here and then each used by one thread.
struct concurrentqueue_queue {
  static constexpr const char* name = "concurrentqueue";

  std::uint32_t push(void* const* items, std::uint32_t n) noexcept {
    return queue.try_enqueue_bulk(producer, items, n) ? n : 0;
  }
  std::uint32_t pop(void** out, std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>(queue.try_dequeue_bulk(consumer, out, n));
  }

  moodycamel::ConcurrentQueue<void*> queue{ring_capacity};
  moodycamel::ProducerToken producer{queue};
  moodycamel::ConsumerToken consumer{queue};
  std::string error;
};

#if defined(FERRY_HAVE_READERWRITERQUEUE)
// Single items only: it has no burst calls, so it is measured at burst 1 (a loop here would be the same calls).
struct readerwriterqueue_queue {
  static constexpr const char* name = "readerwriterqueue";

  std::uint32_t push(void* const* items, std::uint32_t n) noexcept {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!queue.try_enqueue(items[i])) return i;
    }
    return n;
  }
  std::uint32_t pop(void** out, std::uint32_t n) noexcept {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!queue.try_dequeue(out[i])) return i;
    }
    return n;
  }

  moodycamel::ReaderWriterQueue<void*> queue{ring_capacity};
  std::string error;
};
#endif

// Payload pointers are never dereferenced: distinct non-null values are all a queue needs.
void* item_value(std::uint64_t sequence) noexcept {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(sequence));
}

void set_per_item_counters(benchmark::State& state, double ns, double ticks, std::uint64_t items) {
  if (items == 0) return;
  const auto count = static_cast<double>(items);
  state.counters["ns_per_item"] = benchmark::Counter(ns / count);
  state.counters["ticks_per_item"] = benchmark::Counter(ticks / count);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
}

template <class Queue>
void same_thread(benchmark::State& state) {
  const auto burst = static_cast<std::uint32_t>(state.range(0));
  Queue queue;
  if (!queue.error.empty()) {
    state.SkipWithError(queue.error.c_str());
    return;
  }
  void* items[max_burst];
  void* out[max_burst] = {};
  for (std::uint32_t i = 0; i < max_burst; ++i) items[i] = item_value(i + 1);
  void** items_at = items;
  void** out_at = out;

  std::uint64_t pushed = 0;
  std::uint64_t popped = 0;
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t started_ticks = platform::cycle_ticks();
  for (auto _ : state) {
    benchmark::DoNotOptimize(items_at);  // the items may have changed: reload them each time
    pushed += queue.push(items_at, burst);
    popped += queue.pop(out_at, burst);
    benchmark::DoNotOptimize(out_at);  // and what came out is used
    benchmark::ClobberMemory();
  }
  const std::uint64_t ticks = platform::cycle_ticks() - started_ticks;
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - started;

  const std::uint64_t expected = static_cast<std::uint64_t>(state.iterations()) * burst;
  if (pushed != expected || popped != expected) {
    state.SkipWithError("a queue lost or refused items in same-thread mode");
    return;
  }
  set_per_item_counters(state, elapsed.count(), static_cast<double>(ticks), popped);
}

struct transfer_outcome {
  double ns = 0;
  std::uint64_t ticks = 0;
  std::string error;
};

// Moves transfer_items items from a producer pinned on producer_cpu to a consumer pinned on consumer_cpu, in bursts
// of `burst`, and times it from the start signal to the consumer's last item.
template <class Queue>
transfer_outcome transfer(Queue& queue, std::uint32_t burst, unsigned producer_cpu, unsigned consumer_cpu) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};  // set by a side that gave up, so that the other does not wait for it
  const auto deadline = std::chrono::steady_clock::now() + transfer_time_limit;
  transfer_outcome outcome;
  std::string producer_error;

  // Checked only every 64 Ki empty spins: a clock read per spin would slow the spin, not the queue.
  auto still_waiting = [&](std::uint32_t& spins) noexcept {
    platform::cpu_relax();
    if ((++spins & 0xffff) != 0) return true;
    if (stop.load(std::memory_order_relaxed)) return false;
    if (std::chrono::steady_clock::now() < deadline) return true;
    stop.store(true, std::memory_order_relaxed);
    return false;
  };

  std::thread producer([&] {
    if (auto pinned = platform::pin_current_thread(producer_cpu); !pinned) producer_error = pinned.err().message();
    ready.fetch_add(1, std::memory_order_acq_rel);
    while (!go.load(std::memory_order_acquire)) platform::cpu_relax();
    void* batch[max_burst];
    std::uint32_t spins = 0;
    for (std::uint64_t next = 1; next <= transfer_items;) {
      const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>(burst, transfer_items - next + 1));
      for (std::uint32_t i = 0; i < want; ++i) batch[i] = item_value(next + i);
      for (std::uint32_t sent = 0; sent < want;) {
        const std::uint32_t went = queue.push(batch + sent, want - sent);
        sent += went;
        if (went == 0 && !still_waiting(spins)) return;
      }
      next += want;
    }
  });

  std::thread consumer([&] {
    if (auto pinned = platform::pin_current_thread(consumer_cpu); !pinned) outcome.error = pinned.err().message();
    ready.fetch_add(1, std::memory_order_acq_rel);
    while (!go.load(std::memory_order_acquire)) platform::cpu_relax();
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t started_ticks = platform::cycle_ticks();
    void* batch[max_burst];
    std::uint64_t received = 0;
    std::uint64_t sum = 0;  // every item is used, and the sum proves each arrived once
    std::uint32_t spins = 0;
    while (received < transfer_items) {
      const std::uint32_t came = queue.pop(batch, burst);
      if (came == 0) {
        if (!still_waiting(spins)) break;
        continue;
      }
      for (std::uint32_t i = 0; i < came; ++i) sum += reinterpret_cast<std::uintptr_t>(batch[i]);
      received += came;
    }
    outcome.ticks = platform::cycle_ticks() - started_ticks;
    outcome.ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count();
    const std::uint64_t want_sum = transfer_items * (transfer_items + 1) / 2;
    if (received != transfer_items || sum != want_sum) {
      outcome.error = "received " + std::to_string(received) + " of " + std::to_string(transfer_items) +
                      (sum != want_sum ? " (wrong items)" : "") + " before the time limit";
    }
  });

  while (ready.load(std::memory_order_acquire) < 2) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  producer.join();
  consumer.join();
  if (outcome.error.empty() && !producer_error.empty()) outcome.error = producer_error;
  return outcome;
}

template <class Queue>
void two_threads(benchmark::State& state) {
  const auto burst = static_cast<std::uint32_t>(state.range(0));
  const std::vector<unsigned> cpus = platform::allowed_cpus();
  if (cpus.size() < 2) {
    state.SkipWithError("needs two allowed CPUs for a pinned producer and consumer");
    return;
  }
  Queue queue;
  if (!queue.error.empty()) {
    state.SkipWithError(queue.error.c_str());
    return;
  }
  double ns = 0;
  std::uint64_t ticks = 0;
  std::uint64_t items = 0;
  for (auto _ : state) {
    const transfer_outcome outcome = transfer(queue, burst, cpus[0], cpus[1]);
    if (!outcome.error.empty()) {
      state.SkipWithError(outcome.error.c_str());
      break;
    }
    state.SetIterationTime(outcome.ns * 1e-9);
    ns += outcome.ns;
    ticks += outcome.ticks;
    items += transfer_items;
  }
  if (state.error_occurred()) return;
  set_per_item_counters(state, ns, static_cast<double>(ticks), items);
}

// Names are <mode>/<queue>/<burst>, the burst appended by Google Benchmark from the argument.
template <class Queue>
void register_same_thread(std::initializer_list<std::int64_t> bursts) {
  auto* registered =
      benchmark::RegisterBenchmark((std::string("same_thread/") + Queue::name).c_str(), same_thread<Queue>);
  for (const std::int64_t burst : bursts) registered->Arg(burst);
}

template <class Queue>
void register_two_threads(std::initializer_list<std::int64_t> bursts) {
  auto* registered =
      benchmark::RegisterBenchmark((std::string("two_threads/") + Queue::name).c_str(), two_threads<Queue>);
  for (const std::int64_t burst : bursts) registered->Arg(burst);
  registered->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
#if !defined(FERRY_HAVE_DPDK)
  std::fprintf(stderr, "ferry-ring-bench: built without DPDK, so there is no rte_ring floor to compare with\n");
#endif
  register_same_thread<ferry_queue>({1, max_burst});
#if defined(FERRY_HAVE_DPDK)
  register_same_thread<rte_ring_queue>({1, max_burst});
#endif
  register_same_thread<concurrentqueue_queue>({1, max_burst});
#if defined(FERRY_HAVE_READERWRITERQUEUE)
  register_same_thread<readerwriterqueue_queue>({1});
#endif

  register_two_threads<ferry_queue>({1, max_burst});
#if defined(FERRY_HAVE_DPDK)
  register_two_threads<rte_ring_queue>({1, max_burst});
#endif
  register_two_threads<concurrentqueue_queue>({1, max_burst});
#if defined(FERRY_HAVE_READERWRITERQUEUE)
  register_two_threads<readerwriterqueue_queue>({1});
#endif

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
