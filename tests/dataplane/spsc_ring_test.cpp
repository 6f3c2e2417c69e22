#include "ferry/dataplane/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ferry/dataplane/placed.hpp"
#include "ferry/platform/cpu.hpp"
#include "ferry/platform/thread.hpp"

namespace ferry::dp {
namespace {

using u64_ring = spsc_ring<std::uint64_t>;

// Memory aligned to `alignment`, for placing rings by hand where placed<> would hide what is being tested.
struct aligned_memory {
  struct release {
    std::align_val_t alignment;
    void operator()(std::byte* p) const noexcept { ::operator delete(p, alignment); }
  };

  aligned_memory(std::size_t size, std::size_t alignment)
      : bytes(static_cast<std::byte*>(::operator new(size, std::align_val_t{alignment})),
              release{std::align_val_t{alignment}}) {}

  std::unique_ptr<std::byte, release> bytes;
};

placed<u64_ring> make_ring(std::uint32_t capacity) {
  auto ring = placed<u64_ring>::create("test ring", platform::page_size::normal, capacity);
  if (!ring) ADD_FAILURE() << ring.err().message();
  return std::move(ring).value();  // aborts on failure, after the message above
}

TEST(SpscRing, FootprintRefusesCapacitiesItCannotTake) {
  EXPECT_EQ(u64_ring::footprint(0), 0u);
  EXPECT_EQ(u64_ring::footprint(1), 0u);
  for (std::uint32_t not_power : {3u, 6u, 100u, 1000u, (1u << 20) + 1}) {
    EXPECT_EQ(u64_ring::footprint(not_power), 0u) << not_power;
  }
  EXPECT_EQ(u64_ring::footprint(u64_ring::max_capacity + 1), 0u);
  EXPECT_EQ(u64_ring::footprint(std::numeric_limits<std::uint32_t>::max()), 0u);
}

TEST(SpscRing, FootprintCoversHeaderAndSlotsForEveryPowerOfTwo) {
  for (std::uint32_t capacity = 2; capacity != 0 && capacity <= u64_ring::max_capacity; capacity <<= 1) {
    const std::size_t bytes = u64_ring::footprint(capacity);
    // Computed in 64 bits so that a footprint that wrapped around size_t shows up as too small.
    const std::uint64_t needed = sizeof(u64_ring) + std::uint64_t{capacity} * sizeof(std::uint64_t);
    if (needed > std::numeric_limits<std::size_t>::max() / 2) {  // a 32-bit target cannot hold it: refused
      EXPECT_EQ(bytes, 0u) << capacity;
      continue;
    }
    ASSERT_NE(bytes, 0u) << capacity;
    EXPECT_GE(std::uint64_t{bytes}, needed) << capacity;
    EXPECT_EQ(bytes % u64_ring::align(), 0u) << capacity;
  }
}

TEST(SpscRing, ConstructRefusesNullMisalignedMemoryAndBadCapacity) {
  constexpr std::uint32_t capacity = 8;
  const std::size_t bytes = u64_ring::footprint(capacity);
  aligned_memory memory(bytes + u64_ring::align(), u64_ring::align());
  std::byte* const base = memory.bytes.get();

  EXPECT_EQ(u64_ring::construct(nullptr, capacity), nullptr);
  EXPECT_EQ(u64_ring::construct(base + 1, capacity), nullptr);
  EXPECT_EQ(u64_ring::construct(base + alignof(std::uint64_t), capacity), nullptr);
  EXPECT_EQ(u64_ring::construct(base + u64_ring::align() / 2, capacity), nullptr);
  EXPECT_EQ(u64_ring::construct(base, 3), nullptr);

  u64_ring* const ring = u64_ring::construct(base, capacity);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(static_cast<void*>(ring), static_cast<void*>(base));
  EXPECT_EQ(ring->capacity(), capacity);
  EXPECT_EQ(ring->size(), 0u);
  ring->~spsc_ring();
}

TEST(SpscRing, PlacedRefusesBadCapacityWithItsName) {
  auto ring = placed<u64_ring>::create("commands ring", platform::page_size::normal, 5u);
  ASSERT_FALSE(ring);
  EXPECT_NE(ring.err().message().find("commands ring"), std::string::npos) << ring.err().message();
}

TEST(SpscRing, NewRingIsEmpty) {
  auto ring = make_ring(16);
  EXPECT_EQ(ring->capacity(), 16u);
  EXPECT_EQ(ring->size(), 0u);
  std::uint64_t out[4] = {};
  EXPECT_EQ(ring->pop(out, 4), 0u);
  std::uint64_t one = 0;
  EXPECT_FALSE(ring->pop(one));
}

TEST(SpscRing, FullRingRefusesPushAndPartialBurstTakesOnlyWhatFits) {
  constexpr std::uint32_t capacity = 8;
  auto ring = make_ring(capacity);
  std::uint64_t next = 0;
  for (std::uint32_t i = 0; i < capacity; ++i) ASSERT_TRUE(ring->push(next++)) << i;
  EXPECT_EQ(ring->size(), capacity);

  EXPECT_FALSE(ring->push(next));
  const std::uint64_t burst[5] = {100, 101, 102, 103, 104};
  EXPECT_EQ(ring->push(burst, 5), 0u);
  EXPECT_EQ(ring->size(), capacity);

  std::uint64_t out[capacity] = {};
  ASSERT_EQ(ring->pop(out, 3), 3u);
  EXPECT_EQ(out[0], 0u);
  EXPECT_EQ(out[1], 1u);
  EXPECT_EQ(out[2], 2u);

  // Three slots free: a burst of five puts in the first three, in order, and reports three.
  EXPECT_EQ(ring->push(burst, 5), 3u);
  EXPECT_EQ(ring->size(), capacity);
  EXPECT_EQ(ring->push(burst + 3, 2), 0u);

  // A pop asking for more than is there returns what is there.
  ASSERT_EQ(ring->pop(out, capacity), capacity);
  const std::uint64_t expected[capacity] = {3, 4, 5, 6, 7, 100, 101, 102};
  for (std::uint32_t i = 0; i < capacity; ++i) EXPECT_EQ(out[i], expected[i]) << i;
  EXPECT_EQ(ring->size(), 0u);
  EXPECT_EQ(ring->pop(out, 1), 0u);
}

TEST(SpscRing, PopBurstLargerThanContentsReturnsOnlyWhatIsThere) {
  auto ring = make_ring(32);
  const std::uint64_t in[5] = {10, 11, 12, 13, 14};
  ASSERT_EQ(ring->push(in, 5), 5u);
  std::uint64_t out[32] = {};
  ASSERT_EQ(ring->pop(out, 32), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], in[i]) << i;
  EXPECT_EQ(ring->pop(out, 32), 0u);
}

TEST(SpscRing, KeepsFifoOrderAcrossWrapAroundWithOddBursts) {
  constexpr std::uint32_t capacity = 16;
  auto ring = make_ring(capacity);
  // Odd burst sizes that share no factor with the capacity, so that bursts straddle the wrap point at every
  // offset; push and pop sizes differ so that the fill level keeps changing.
  constexpr std::array<std::uint32_t, 5> push_sizes = {1, 3, 5, 7, 11};
  constexpr std::array<std::uint32_t, 4> pop_sizes = {9, 5, 3, 13};
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  std::uint32_t wraps_seen = 0;
  std::uint64_t buffer[capacity] = {};

  for (std::uint32_t round = 0; round < 2000; ++round) {
    const std::uint32_t want_in = push_sizes[round % push_sizes.size()];
    for (std::uint32_t i = 0; i < want_in; ++i) buffer[i] = next_in + i;
    const std::uint32_t free_before = capacity - ring->size();
    const std::uint32_t went = ring->push(buffer, want_in);
    ASSERT_EQ(went, std::min(want_in, free_before)) << "round " << round;
    const std::uint64_t before = next_in;
    next_in += went;
    if (before / capacity != next_in / capacity) ++wraps_seen;
    ASSERT_EQ(ring->size(), next_in - next_out);

    const std::uint32_t want_out = pop_sizes[round % pop_sizes.size()];
    const std::uint32_t held = ring->size();
    const std::uint32_t came = ring->pop(buffer, want_out);
    ASSERT_EQ(came, std::min(want_out, held)) << "round " << round;
    for (std::uint32_t i = 0; i < came; ++i) ASSERT_EQ(buffer[i], next_out + i) << "round " << round << " item " << i;
    next_out += came;
    ASSERT_EQ(ring->size(), next_in - next_out);
  }
  EXPECT_GT(wraps_seen, 100u);  // the test is about the wrap: make sure it happened, many times
  EXPECT_GT(next_out, 10u * capacity);
}

TEST(SpscRing, SizeFollowsPushesAndPops) {
  auto ring = make_ring(4);
  EXPECT_EQ(ring->size(), 0u);
  ASSERT_TRUE(ring->push(std::uint64_t{1}));
  EXPECT_EQ(ring->size(), 1u);
  ASSERT_TRUE(ring->push(std::uint64_t{2}));
  ASSERT_TRUE(ring->push(std::uint64_t{3}));
  EXPECT_EQ(ring->size(), 3u);
  std::uint64_t out = 0;
  ASSERT_TRUE(ring->pop(out));
  EXPECT_EQ(out, 1u);
  EXPECT_EQ(ring->size(), 2u);
  ASSERT_TRUE(ring->push(std::uint64_t{4}));
  ASSERT_TRUE(ring->push(std::uint64_t{5}));
  EXPECT_EQ(ring->size(), 4u);
  EXPECT_FALSE(ring->push(std::uint64_t{6}));
  EXPECT_EQ(ring->size(), 4u);
}

// A 16-byte item, as a {pointer, length} descriptor would be.
struct descriptor {
  std::uint64_t address;
  std::uint32_t length;
  std::uint32_t flags;
};
static_assert(sizeof(descriptor) == 16);

TEST(SpscRing, CarriesSixteenByteItemsIntactAcrossTheWrap) {
  using ring_type = spsc_ring<descriptor>;
  constexpr std::uint32_t capacity = 8;
  auto created = placed<ring_type>::create("descriptor ring", platform::page_size::normal, capacity);
  ASSERT_TRUE(created) << created.err().message();
  ring_type& ring = **created;

  auto make = [](std::uint64_t i) {
    return descriptor{0x1000'0000'0000'0000ull + i * 64, static_cast<std::uint32_t>(i * 3 + 1),
                      static_cast<std::uint32_t>(~i)};
  };
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  descriptor buffer[5] = {};
  for (std::uint32_t round = 0; round < 200; ++round) {
    for (std::uint32_t i = 0; i < 5; ++i) buffer[i] = make(next_in + i);
    next_in += ring.push(buffer, 5);
    const std::uint32_t came = ring.pop(buffer, 3);
    for (std::uint32_t i = 0; i < came; ++i) {
      const descriptor want = make(next_out + i);
      ASSERT_EQ(buffer[i].address, want.address) << next_out + i;
      ASSERT_EQ(buffer[i].length, want.length) << next_out + i;
      ASSERT_EQ(buffer[i].flags, want.flags) << next_out + i;
    }
    next_out += came;
  }
  EXPECT_EQ(ring.size(), next_in - next_out);
  EXPECT_GT(next_out, 50u * capacity);

  descriptor one = make(12345);
  while (ring.size() < capacity) ASSERT_TRUE(ring.push(one));
  EXPECT_FALSE(ring.push(one));
}

// Two threads through a small ring: the ring wraps and fills all the time, so both the cached-index fast path and
// the re-read of the other side's index are exercised on every few bursts. Bounded in items and in time: a ring
// that loses a wake-up or an item fails by deadline instead of hanging the suite.
TEST(SpscRingStress, TwoThreadsDeliverEverySequenceNumberOnceInOrder) {
  constexpr std::uint32_t capacity = 64;
  constexpr std::uint32_t max_burst = 32;
  // Sized to take well under a second in a Debug build and a few seconds under TSan on a 2-core machine.
  constexpr std::uint64_t total = 10'000'000;
  constexpr auto time_limit = std::chrono::seconds(30);
  constexpr std::uint32_t seed = 20240611;

  auto ring = make_ring(capacity);
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  std::atomic<bool> stop{false};  // either side sets it on failure so that the other does not wait forever

  // Each side waits by spinning with a pause, yielding now and then in case both share one CPU, and checks the
  // deadline every so often (not on every spin: a clock read per spin would slow the spin more than the ring).
  auto wait_a_little = [&](std::uint32_t& spins) -> bool {
    ++spins;
    platform::cpu_relax();
    if (spins % 64 == 0) std::this_thread::yield();
    if (spins % 1024 == 0) {
      if (stop.load(std::memory_order_relaxed)) return false;
      if (std::chrono::steady_clock::now() > deadline) {
        stop.store(true, std::memory_order_relaxed);
        return false;
      }
    }
    return true;
  };

  const std::vector<unsigned> cpus = platform::allowed_cpus();
  const bool pin = cpus.size() >= 2;
  std::string producer_pin_error;
  std::string consumer_pin_error;

  std::uint64_t produced = 0;
  bool producer_gave_up = false;
  std::thread producer([&] {
    if (pin) {
      if (auto pinned = platform::pin_current_thread(cpus[0]); !pinned) producer_pin_error = pinned.err().message();
    }
    std::mt19937 random(seed);
    std::uniform_int_distribution<std::uint32_t> burst_size(1, max_burst);
    std::uint64_t batch[max_burst];
    std::uint32_t spins = 0;
    while (produced < total) {
      const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>(burst_size(random), total - produced));
      for (std::uint32_t i = 0; i < want; ++i) batch[i] = produced + i;
      std::uint32_t sent = 0;
      while (sent < want) {
        const std::uint32_t went = ring->push(batch + sent, want - sent);
        sent += went;
        if (went == 0 && !wait_a_little(spins)) {
          producer_gave_up = true;
          produced += sent;
          return;
        }
      }
      produced += want;
    }
  });

  std::uint64_t consumed = 0;
  std::uint64_t first_wrong_index = total;  // where the sequence broke, if it did
  std::uint64_t first_wrong_value = 0;
  bool consumer_gave_up = false;
  std::thread consumer([&] {
    if (pin) {
      if (auto pinned = platform::pin_current_thread(cpus[1]); !pinned) consumer_pin_error = pinned.err().message();
    }
    std::mt19937 random(seed + 1);
    std::uniform_int_distribution<std::uint32_t> burst_size(1, max_burst);
    std::uint64_t batch[max_burst];
    std::uint32_t spins = 0;
    while (consumed < total) {
      const std::uint32_t came = ring->pop(batch, burst_size(random));
      if (came == 0) {
        if (!wait_a_little(spins)) {
          consumer_gave_up = true;
          return;
        }
        continue;
      }
      for (std::uint32_t i = 0; i < came; ++i) {
        if (batch[i] != consumed + i) {
          first_wrong_index = consumed + i;
          first_wrong_value = batch[i];
          stop.store(true, std::memory_order_relaxed);
          return;
        }
      }
      consumed += came;
    }
  });

  producer.join();
  consumer.join();

  EXPECT_EQ(producer_pin_error, "");
  EXPECT_EQ(consumer_pin_error, "");
  EXPECT_EQ(first_wrong_index, total) << "item " << first_wrong_index << " carried " << first_wrong_value;
  EXPECT_FALSE(producer_gave_up) << "producer stopped after " << produced << " of " << total;
  EXPECT_FALSE(consumer_gave_up) << "consumer stopped after " << consumed << " of " << total;
  EXPECT_EQ(produced, total);
  EXPECT_EQ(consumed, total);
  // Nothing extra, nothing left behind.
  EXPECT_EQ(ring->size(), 0u);
  std::uint64_t leftover = 0;
  EXPECT_FALSE(ring->pop(leftover));
}

}  // namespace
}  // namespace ferry::dp
