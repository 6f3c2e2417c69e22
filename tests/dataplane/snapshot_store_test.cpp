#include "ferry/dataplane/snapshot_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace ferry::dp {
namespace {

// A snapshot that counts its destruction.
struct counted {
  counted(int v, std::atomic<int>& d) : value(v), destroyed(&d) {}
  ~counted() { destroyed->fetch_add(1); }
  int value;
  std::atomic<int>* destroyed;
};

using counted_store = snapshot_store<counted>;

TEST(SnapshotStore, ServesTheFirstSnapshotAndThenEachPublishedOne) {
  std::atomic<int> destroyed{0};
  counted_store store(std::make_unique<counted>(1, destroyed), 1);
  EXPECT_EQ(store.current()->value, 1);
  EXPECT_EQ(store.published(), 1u);
  store.publish(std::make_unique<counted>(2, destroyed));
  EXPECT_EQ(store.current()->value, 2);
  EXPECT_EQ(store.published(), 2u);
  EXPECT_EQ(destroyed.load(), 1) << "no reader online: the old snapshot goes at once";
  EXPECT_EQ(store.retired(), 0u);
}

TEST(SnapshotStore, FreesAnOldSnapshotOnlyAfterItsGracePeriod) {
  std::atomic<int> destroyed{0};
  {
    counted_store store(std::make_unique<counted>(1, destroyed), 2);
    store.readers().online(0);
    store.readers().online(1);
    const counted* held = store.current();  // reader 0 holds the first snapshot
    store.publish(std::make_unique<counted>(2, destroyed));
    EXPECT_EQ(destroyed.load(), 0);
    EXPECT_EQ(store.retired(), 1u);
    EXPECT_EQ(held->value, 1) << "still readable";
    store.readers().quiescent(0);
    store.reclaim();
    EXPECT_EQ(destroyed.load(), 0) << "reader 1 may hold it too";
    store.readers().quiescent(1);
    store.reclaim();
    EXPECT_EQ(destroyed.load(), 1);
    EXPECT_EQ(store.retired(), 0u);
    // A publish reclaims what has passed on its own.
    store.publish(std::make_unique<counted>(3, destroyed));
    EXPECT_EQ(store.retired(), 1u);
    store.readers().quiescent(0);
    store.readers().quiescent(1);
    store.publish(std::make_unique<counted>(4, destroyed));
    EXPECT_EQ(destroyed.load(), 2);
    EXPECT_EQ(store.retired(), 1u);
    EXPECT_EQ(store.current()->value, 4);
  }
  EXPECT_EQ(destroyed.load(), 4) << "the store frees the current and the retired snapshots";
}

TEST(SnapshotStore, DrainWaitsForTheGracePeriodOrGivesUp) {
  std::atomic<int> destroyed{0};
  counted_store store(std::make_unique<counted>(1, destroyed), 1);
  store.readers().online(0);
  store.publish(std::make_unique<counted>(2, destroyed));
  store.publish(std::make_unique<counted>(3, destroyed));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(store.drain(std::chrono::milliseconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_EQ(destroyed.load(), 0);
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    store.readers().quiescent(0);
  });
  EXPECT_TRUE(store.drain(std::chrono::seconds(5)));
  reader.join();
  EXPECT_EQ(destroyed.load(), 2);
  EXPECT_EQ(store.retired(), 0u);
}

TEST(SnapshotStore, APublisherWaitsOnceMaxRetiredSnapshotsAreWaiting) {
  std::atomic<int> destroyed{0};
  counted_store store(std::make_unique<counted>(0, destroyed), 1);
  store.readers().online(0);  // a reader slow to quiesce
  std::atomic<int> published{0};
  std::thread writer([&] {
    for (int i = 1; i <= static_cast<int>(counted_store::max_retired) + 1; ++i) {
      store.publish(std::make_unique<counted>(i, destroyed));
      published.fetch_add(1);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (published.load() < static_cast<int>(counted_store::max_retired) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(published.load(), static_cast<int>(counted_store::max_retired));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(published.load(), static_cast<int>(counted_store::max_retired)) << "the next publish must wait";
  EXPECT_EQ(destroyed.load(), 0);
  store.readers().quiescent(0);
  writer.join();
  EXPECT_EQ(published.load(), static_cast<int>(counted_store::max_retired) + 1);
  EXPECT_EQ(destroyed.load(), static_cast<int>(counted_store::max_retired) + 1);
  EXPECT_EQ(store.retired(), 0u);
  EXPECT_EQ(store.current()->value, static_cast<int>(counted_store::max_retired) + 1);
}

// A snapshot whose every value must equal its generation; it poisons itself when freed, so that a reader that
// reads it late sees the damage even without a sanitizer.
struct generation_snapshot {
  explicit generation_snapshot(std::uint64_t g) : generation(g), values(64, g) {}
  ~generation_snapshot() {
    for (auto& v : values) v = ~std::uint64_t{0};
    generation = ~std::uint64_t{0};
  }
  std::uint64_t generation;
  std::vector<std::uint64_t> values;
};

// Readers read every field of the current snapshot between quiescent points (going offline now and then) while a
// writer publishes thousands: under AddressSanitizer or ThreadSanitizer a use after free or an unordered read
// fails, and without either the poison does.
TEST(SnapshotStoreStress, ReadersNeverSeeAFreedOrTornSnapshot) {
  constexpr std::uint32_t reader_count = 4;
  constexpr std::uint64_t snapshots = 3000;
  snapshot_store<generation_snapshot> store(std::make_unique<generation_snapshot>(0), reader_count);
  std::atomic<bool> writing{true};
  std::atomic<std::uint64_t> bad{0}, backwards{0}, reads{0};
  std::atomic<std::uint32_t> started{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::thread> readers;
  for (std::uint32_t r = 0; r < reader_count; ++r) {
    readers.emplace_back([&, r] {
      qsbr& q = store.readers();
      q.online(r);
      started.fetch_add(1);
      std::uint64_t last = 0;
      std::uint64_t n = 0, wrong = 0, behind = 0;
      for (; n < 50'000'000 && std::chrono::steady_clock::now() < deadline; ++n) {
        const bool done = !writing.load(std::memory_order_acquire);
        const generation_snapshot* s = store.current();
        const std::uint64_t g = s->generation;
        for (const std::uint64_t v : s->values) wrong += v != g ? 1 : 0;
        behind += g < last ? 1 : 0;
        last = g;
        q.quiescent(r);
        if (n % 1024 == r) {  // a nap, offline
          q.offline(r);
          std::this_thread::yield();
          q.online(r);
        }
        if (done) break;
      }
      q.offline(r);
      reads.fetch_add(n, std::memory_order_relaxed);
      bad.fetch_add(wrong, std::memory_order_relaxed);
      backwards.fetch_add(behind, std::memory_order_relaxed);
    });
  }
  // Every reader online first: otherwise the writer could be done before any reader reads.
  while (started.load() < reader_count && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  for (std::uint64_t g = 1; g <= snapshots && std::chrono::steady_clock::now() < deadline; ++g) {
    store.publish(std::make_unique<generation_snapshot>(g));
    EXPECT_LE(store.retired(), snapshot_store<generation_snapshot>::max_retired);
  }
  writing.store(false, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(store.published(), snapshots + 1);
  EXPECT_EQ(store.current()->generation, snapshots);
  EXPECT_TRUE(store.drain(std::chrono::seconds(1)));
}

}  // namespace
}  // namespace ferry::dp
