#include "ferry/dataplane/qsbr.hpp"

#include <gtest/gtest.h>

namespace ferry::dp {
namespace {

TEST(Qsbr, ReaderSlotsAreClamped) {
  EXPECT_EQ(qsbr(0).readers(), 1u);
  EXPECT_EQ(qsbr(3).readers(), 3u);
  EXPECT_EQ(qsbr(qsbr::max_readers + 5).readers(), qsbr::max_readers);
}

TEST(Qsbr, NoOnlineReaderMeansEveryGracePeriodHasPassed) {
  qsbr readers(2);  // both start offline
  EXPECT_TRUE(readers.passed(readers.start_grace()));
}

TEST(Qsbr, AGracePeriodWaitsForEveryOnlineReaderToPassAQuiescentPoint) {
  qsbr readers(3);
  readers.online(0);
  readers.online(1);
  const std::uint64_t token = readers.start_grace();
  EXPECT_FALSE(readers.passed(token));
  readers.quiescent(0);
  EXPECT_FALSE(readers.passed(token)) << "reader 1 has not passed one yet";
  readers.quiescent(1);
  EXPECT_TRUE(readers.passed(token));
  // A quiescent point before the grace period started does not count for it.
  const std::uint64_t later = readers.start_grace();
  EXPECT_FALSE(readers.passed(later));
  EXPECT_TRUE(readers.passed(token)) << "an older grace period stays passed";
  readers.quiescent(1);
  readers.quiescent(0);
  EXPECT_TRUE(readers.passed(later));
}

TEST(Qsbr, AnOfflineReaderDoesNotBlockAndBlocksAgainOnceOnline) {
  qsbr readers(2);
  readers.online(0);
  readers.online(1);
  readers.offline(1);
  const std::uint64_t token = readers.start_grace();
  readers.quiescent(0);
  EXPECT_TRUE(readers.passed(token)) << "reader 1 sleeps holding nothing";
  readers.online(1);
  EXPECT_TRUE(readers.passed(token)) << "it woke after the grace period started: it holds nothing older";
  const std::uint64_t next = readers.start_grace();
  readers.quiescent(0);
  EXPECT_FALSE(readers.passed(next)) << "online again: it may hold the snapshot unpublished just now";
  readers.quiescent(1);
  EXPECT_TRUE(readers.passed(next));
}

TEST(Qsbr, AReaderThatGoesOfflineEndsItsGracePeriods) {
  qsbr readers(1);
  readers.online(0);
  const std::uint64_t token = readers.start_grace();
  EXPECT_FALSE(readers.passed(token));
  readers.offline(0);
  EXPECT_TRUE(readers.passed(token));
}

}  // namespace
}  // namespace ferry::dp
