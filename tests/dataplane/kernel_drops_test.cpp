#include "ferry/dataplane/kernel_drops.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace ferry::dp {
namespace {

TEST(KernelDrops, StartsAtZero) {
  kernel_drops drops;
  EXPECT_EQ(drops.total(), 0u);
  EXPECT_TRUE(drops.readable());
}

TEST(KernelDrops, AnOlderStampLeavesTheTotal) {
  kernel_drops drops;
  drops.stamped(40);
  drops.stamped(25);  // queued before the drops that the first one counted
  EXPECT_EQ(drops.total(), 40u);
  drops.stamped(41);
  EXPECT_EQ(drops.total(), 41u);
}

TEST(KernelDrops, FollowsTheCounterAcrossItsWrap) {
  kernel_drops drops;
  drops.stamped(0x7000'0000u);  // the count moves on by less than 2^31 between any two looks
  drops.stamped(0xe000'0000u);
  drops.stamped(0xffff'fff0u);
  EXPECT_EQ(drops.total(), 0xffff'fff0u);
  drops.stamped(0x10u);
  EXPECT_EQ(drops.total(), 0x1'0000'0010u);
  drops.stamped(0xffff'fffeu);  // an old stamp from before the wrap
  EXPECT_EQ(drops.total(), 0x1'0000'0010u);
}

TEST(KernelDrops, AFailedReadStopsTheReadsAndKeepsTheStamps) {
  kernel_drops drops;
  drops.stamped(7);
  int pair[2];
  ASSERT_EQ(::pipe(pair), 0);
  drops.refresh(pair[0]);  // not a socket: getsockopt fails
  ::close(pair[0]);
  ::close(pair[1]);
  EXPECT_FALSE(drops.readable());
  EXPECT_EQ(drops.total(), 7u);
  drops.stamped(9);
  EXPECT_EQ(drops.total(), 9u);
}

TEST(KernelDrops, ASocketWithNoDropsReadsZero) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  kernel_drops drops;
  drops.refresh(fd);
  ::close(fd);
  EXPECT_EQ(drops.total(), 0u);
}

}  // namespace
}  // namespace ferry::dp
