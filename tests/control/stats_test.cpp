#include "ferry/control/stats.hpp"

#include <gtest/gtest.h>

namespace ferry::ctl {
namespace {

router_stats sample() {
  dp::counter_values c;
  c.rx = 10;
  c.forwarded = 6;
  c.drop(dp::drop_reason::no_route, 3);
  c.drop(dp::drop_reason::malformed, 1);
  router_stats s;
  s.total = c;
  return s;
}

TEST(Stats, JsonHasRxForwardedAndEveryDropReason) {
  EXPECT_EQ(stats_json(sample()),
            R"({"rx":10,"forwarded":6,"drops":{"malformed":1,"unsupported_version":0,"unknown_kind":0,)"
            R"("oversize":0,"bad_signature":0,"no_quorum":0,"unknown_key_set":0,"expired_key_set":0,)"
            R"("duplicate":0,"queue_full":0,"no_route":3,"tx_error":0,"rate_limited_peer":0,)"
            R"("rate_limited_route":0,"breaker_open":0,"route_drop":0,"bad_mac":0,"replay":0}})");
}

TEST(Stats, JsonRoundTrips) {
  auto back = stats_from_json(stats_json(sample()));
  ASSERT_TRUE(back.ok()) << back.err().message();
  EXPECT_EQ(back->total.rx, 10u);
  EXPECT_EQ(back->total.forwarded, 6u);
  EXPECT_EQ(back->total.drops, sample().total.drops);
  EXPECT_TRUE(back->stages.empty());
}

TEST(Stats, StagesRoundTripWithTheirOwnCounters) {
  router_stats s = sample();
  dp::counter_values verify;
  verify.rx = 7;
  verify.forwarded = 5;
  verify.drop(dp::drop_reason::duplicate, 2);
  verify.ring_high_water = 33;
  verify.busy_polls = 4;
  s.stages = {{"io0", 0u, sample().total}, {"verify0", std::nullopt, verify}};
  auto back = stats_from_json(stats_json(s));
  ASSERT_TRUE(back.ok()) << back.err().message();
  ASSERT_EQ(back->stages.size(), 2u);
  EXPECT_EQ(back->stages[0].name, "io0");
  EXPECT_EQ(back->stages[0].cpu, 0u);
  EXPECT_EQ(back->stages[1].name, "verify0");
  EXPECT_FALSE(back->stages[1].cpu.has_value());
  EXPECT_EQ(back->stages[1].counters.drops, verify.drops);
  EXPECT_EQ(back->stages[1].counters.ring_high_water, 33u);
  EXPECT_EQ(back->stages[1].counters.busy_polls, 4u);
  const std::string text = format_summary(s, 0);
  EXPECT_NE(text.find("verify0"), std::string::npos) << text;
}

TEST(Stats, RefusesWhatIsNotStats) {
  EXPECT_FALSE(stats_from_json("").ok());
  EXPECT_FALSE(stats_from_json("[]").ok());
  EXPECT_FALSE(stats_from_json(R"({"rx":-1,"forwarded":0,"drops":{}})").ok());
  EXPECT_FALSE(stats_from_json(R"({"rx":1,"forwarded":0})").ok());
}

TEST(Stats, SummaryListsNonZeroDropsAndRates) {
  const std::string text = format_summary(sample(), 2.0);
  EXPECT_NE(text.find("received"), std::string::npos);
  EXPECT_NE(text.find("10 messages  (5/s)"), std::string::npos) << text;
  EXPECT_NE(text.find("no_route"), std::string::npos);
  EXPECT_NE(text.find("malformed"), std::string::npos);
  EXPECT_EQ(text.find("tx_error"), std::string::npos);
  EXPECT_EQ(format_summary(sample(), 0).find("/s"), std::string::npos);
}

}  // namespace
}  // namespace ferry::ctl
