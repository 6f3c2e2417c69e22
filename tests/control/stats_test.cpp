#include "ferry/control/stats.hpp"

#include <gtest/gtest.h>

namespace ferry::ctl {
namespace {

dp::counter_values sample() {
  dp::counter_values c;
  c.rx = 10;
  c.forwarded = 6;
  c.drop(dp::drop_reason::no_route, 3);
  c.drop(dp::drop_reason::malformed, 1);
  return c;
}

TEST(Stats, JsonHasRxForwardedAndEveryDropReason) {
  EXPECT_EQ(stats_json(sample()),
            R"({"rx":10,"forwarded":6,"drops":{"malformed":1,"unsupported_version":0,"unknown_kind":0,)"
            R"("oversize":0,"bad_signature":0,"no_quorum":0,"unknown_key_set":0,"expired_key_set":0,)"
            R"("no_route":3,"tx_error":0}})");
}

TEST(Stats, JsonRoundTrips) {
  auto back = counters_from_json(stats_json(sample()));
  ASSERT_TRUE(back.ok()) << back.err().message();
  EXPECT_EQ(back->rx, 10u);
  EXPECT_EQ(back->forwarded, 6u);
  EXPECT_EQ(back->drops, sample().drops);
}

TEST(Stats, RefusesWhatIsNotStats) {
  EXPECT_FALSE(counters_from_json("").ok());
  EXPECT_FALSE(counters_from_json("[]").ok());
  EXPECT_FALSE(counters_from_json(R"({"rx":-1,"forwarded":0,"drops":{}})").ok());
  EXPECT_FALSE(counters_from_json(R"({"rx":1,"forwarded":0})").ok());
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
