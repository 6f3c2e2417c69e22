#include "ferry/dataplane/route_table.hpp"

#include <gtest/gtest.h>

#include <random>

namespace ferry::dp {
namespace {

using verify::message_kind;
constexpr auto any = std::nullopt;

route_table build(std::vector<route_rule> rules) {
  auto table = route_table::build(std::move(rules), 16);
  EXPECT_TRUE(table.ok()) << (table.ok() ? "" : table.err().message());
  return std::move(*table);
}

TEST(RouteTable, EmptyTableRoutesNothing) {
  const route_table table = build({});
  EXPECT_EQ(table.match(message_kind::wormhole, 1, 2), route_table::no_route);
}

TEST(RouteTable, ExactFieldsMustAllMatch) {
  const route_table table = build({{message_kind::hyperlane, 1, 42161, 3}});
  EXPECT_EQ(table.match(message_kind::hyperlane, 1, 42161), 0u);
  EXPECT_EQ(table.match(message_kind::hyperlane, 1, 42162), route_table::no_route);
  EXPECT_EQ(table.match(message_kind::hyperlane, 2, 42161), route_table::no_route);
  EXPECT_EQ(table.match(message_kind::layerzero, 1, 42161), route_table::no_route);
  EXPECT_EQ(table.rule(0).hop, 3u);
}

TEST(RouteTable, MostSpecificRuleWins) {
  const route_table table = build({
      {any, any, any, 0},                                   // 0: catch-all
      {message_kind::wormhole, any, any, 1},                // 1: kind
      {message_kind::wormhole, 2, any, 2},                  // 2: kind + source
      {message_kind::wormhole, 2, 0, 3},                    // 3: all three
      {any, 7, 8, 4},                                       // 4: source + destination
      {message_kind::layerzero, any, 30102, 5},             // 5: kind + destination
      {any, any, 99, 6},                                    // 6: destination
  });
  EXPECT_EQ(table.match(message_kind::wormhole, 2, 0), 3u);
  EXPECT_EQ(table.match(message_kind::wormhole, 2, 5), 2u);
  EXPECT_EQ(table.match(message_kind::wormhole, 3, 0), 1u);
  EXPECT_EQ(table.match(message_kind::opaque, 3, 0), 0u);
  EXPECT_EQ(table.match(message_kind::opaque, 7, 8), 4u);
  // Two exact fields each: (kind, destination) beats (source, destination).
  EXPECT_EQ(table.match(message_kind::layerzero, 7, 30102), 5u);
  EXPECT_EQ(table.match(message_kind::layerzero, 7, 8), 4u);
  // One exact field each: kind beats destination.
  EXPECT_EQ(table.match(message_kind::wormhole, 9, 99), 1u);
  EXPECT_EQ(table.match(message_kind::hyperlane, 9, 99), 6u);
}

TEST(RouteTable, TieBreakBetweenTwoFieldRules) {
  // (kind, source) beats (kind, destination) beats (source, destination), whatever the order they were given in.
  const route_table table = build({
      {any, 1, 2, 0},
      {message_kind::opaque, any, 2, 1},
      {message_kind::opaque, 1, any, 2},
  });
  EXPECT_EQ(table.match(message_kind::opaque, 1, 2), 2u);
  EXPECT_EQ(table.match(message_kind::opaque, 5, 2), 1u);
  EXPECT_EQ(table.match(message_kind::wormhole, 1, 2), 0u);
}

TEST(RouteTable, RefusesDuplicatesAndMissingHops) {
  auto duplicate = route_table::build({{message_kind::wormhole, 2, any, 0}, {message_kind::wormhole, 2, any, 1}}, 2);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.err().message().find("routes 0 and 1"), std::string::npos);
  auto no_hop = route_table::build({{message_kind::wormhole, 2, any, 2}}, 2);
  ASSERT_FALSE(no_hop.ok());
  EXPECT_NE(no_hop.err().message().find("next hop 2"), std::string::npos);
}

TEST(RouteTable, AgreesWithALinearScanOnRandomRules) {
  // The reference: the rule with the most exact fields, ties broken kind > source > destination.
  std::mt19937 random(7);
  std::vector<route_rule> rules;
  for (std::uint32_t i = 0; i < 300; ++i) {
    route_rule r;
    if (random() % 2) r.kind = static_cast<message_kind>(1 + random() % 4);
    if (random() % 2) r.source = random() % 6;
    if (random() % 2) r.destination = random() % 6;
    r.hop = i % 16;
    bool duplicate = false;
    for (const route_rule& o : rules) {
      duplicate |= o.kind == r.kind && o.source == r.source && o.destination == r.destination;
    }
    if (!duplicate) rules.push_back(r);
  }
  const route_table table = build(rules);
  const auto rank = [](const route_rule& r) {
    return (r.kind ? 4 : 0) + (r.source ? 2 : 0) + (r.destination ? 1 : 0) +
           8 * ((r.kind ? 1 : 0) + (r.source ? 1 : 0) + (r.destination ? 1 : 0));
  };
  for (std::uint8_t k = 1; k <= 4; ++k) {
    for (std::uint32_t s = 0; s < 7; ++s) {
      for (std::uint32_t d = 0; d < 7; ++d) {
        const auto kind = static_cast<message_kind>(k);
        std::uint32_t expected = route_table::no_route;
        for (std::uint32_t i = 0; i < rules.size(); ++i) {
          const route_rule& r = rules[i];
          const bool matches = (!r.kind || *r.kind == kind) && (!r.source || *r.source == s) &&
                               (!r.destination || *r.destination == d);
          if (matches && (expected == route_table::no_route || rank(r) > rank(rules[expected]))) expected = i;
        }
        EXPECT_EQ(table.match(kind, s, d), expected) << int{k} << " " << s << " " << d;
      }
    }
  }
}

}  // namespace
}  // namespace ferry::dp
