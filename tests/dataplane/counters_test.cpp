#include "ferry/dataplane/counters.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ferry::dp {
namespace {

TEST(Counters, ValuesAddAndSumTheirDrops) {
  counter_values a;
  a.rx = 5;
  a.forwarded = 2;
  a.drop(drop_reason::no_route, 2);
  a.drop(drop_reason::malformed);
  counter_values b = a;
  b.rx_lost = 7;
  a += b;
  EXPECT_EQ(a.rx, 10u);
  EXPECT_EQ(a.forwarded, 4u);
  EXPECT_EQ(a.dropped(), 6u);
  EXPECT_EQ(a.drops[static_cast<std::size_t>(drop_reason::no_route)], 4u);
  EXPECT_EQ(a.rx_lost, 7u);
}

TEST(Counters, PublishAccumulatesAndKeepsTheKernelsRunningTotal) {
  stage_counters counters;
  counter_values burst;
  burst.rx = 3;
  burst.forwarded = 2;
  burst.drop(drop_reason::tx_error);
  burst.rx_lost = 9;
  counters.publish(burst);
  burst.rx_lost = 0;  // no news from the kernel this burst: the last total stands
  counters.publish(burst);
  const counter_values seen = counters.read();
  EXPECT_EQ(seen.rx, 6u);
  EXPECT_EQ(seen.forwarded, 4u);
  EXPECT_EQ(seen.drops[static_cast<std::size_t>(drop_reason::tx_error)], 2u);
  EXPECT_EQ(seen.rx_lost, 9u);
}

TEST(Counters, EveryReasonHasAName) {
  for (std::size_t i = 0; i < drop_reason_count; ++i) {
    EXPECT_STRNE(to_string(static_cast<drop_reason>(i)), "unknown") << i;
  }
}

// The stage publishes while the control plane reads: every read must be monotonic and never show more received
// than accounted for (rx is published last, with release; read() loads it first, with acquire).
TEST(CountersStress, ReadersNeverSeeMoreReceivedThanAccountedFor) {
  stage_counters counters;
  std::atomic<bool> done{false};
  constexpr std::uint64_t bursts = 1'000'000;
  std::thread stage([&] {
    for (std::uint64_t i = 0; i < bursts; ++i) {
      counter_values burst;
      burst.rx = 1 + i % 32;
      burst.forwarded = burst.rx / 2;
      burst.drop(static_cast<drop_reason>(i % drop_reason_count), burst.rx - burst.forwarded);
      counters.publish(burst);
    }
    done.store(true, std::memory_order_release);
  });
  counter_values last;
  std::uint64_t reads = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
    const counter_values now = counters.read();
    ASSERT_LE(now.rx, now.forwarded + now.dropped());
    ASSERT_GE(now.rx, last.rx);
    ASSERT_GE(now.forwarded, last.forwarded);
    ASSERT_GE(now.dropped(), last.dropped());
    last = now;
    ++reads;
  }
  stage.join();
  const counter_values end = counters.read();
  EXPECT_EQ(end.rx, end.forwarded + end.dropped());
  RecordProperty("reads", static_cast<int>(reads));
}

}  // namespace
}  // namespace ferry::dp
