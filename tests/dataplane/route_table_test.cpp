#include "ferry/dataplane/route_table.hpp"

#include <gtest/gtest.h>

#include <random>

namespace ferry::dp {
namespace {

using verify::message_kind;
constexpr auto any = std::nullopt;

emitter_id emitter(std::uint8_t fill) {
  emitter_id e;
  e.fill(std::byte{fill});
  return e;
}

route_table build(std::vector<route_rule> rules) {
  auto table = route_table::build(std::move(rules));
  EXPECT_TRUE(table.ok()) << (table.ok() ? "" : table.err().message());
  return std::move(*table);
}

TEST(RouteTable, EmptyTableRoutesNothing) {
  const route_table table = build({});
  EXPECT_EQ(table.match(message_kind::wormhole, 1, 2, nullptr), route_table::no_route);
}

TEST(RouteTable, ExactFieldsMustAllMatch) {
  const route_table table = build({{message_kind::hyperlane, 1, 42161, any}});
  EXPECT_EQ(table.match(message_kind::hyperlane, 1, 42161, nullptr), 0u);
  EXPECT_EQ(table.match(message_kind::hyperlane, 1, 42162, nullptr), route_table::no_route);
  EXPECT_EQ(table.match(message_kind::hyperlane, 2, 42161, nullptr), route_table::no_route);
  EXPECT_EQ(table.match(message_kind::layerzero, 1, 42161, nullptr), route_table::no_route);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_FALSE(table.uses_emitters());
}

TEST(RouteTable, MostSpecificRuleWins) {
  const route_table table = build({
      {any, any, any, any},                        // 0: catch-all
      {message_kind::wormhole, any, any, any},     // 1: kind
      {message_kind::wormhole, 2, any, any},       // 2: kind + source
      {message_kind::wormhole, 2, 0, any},         // 3: all three
      {any, 7, 8, any},                            // 4: source + destination
      {message_kind::layerzero, any, 30102, any},  // 5: kind + destination
      {any, any, 99, any},                         // 6: destination
  });
  EXPECT_EQ(table.match(message_kind::wormhole, 2, 0, nullptr), 3u);
  EXPECT_EQ(table.match(message_kind::wormhole, 2, 5, nullptr), 2u);
  EXPECT_EQ(table.match(message_kind::wormhole, 3, 0, nullptr), 1u);
  EXPECT_EQ(table.match(message_kind::opaque, 3, 0, nullptr), 0u);
  EXPECT_EQ(table.match(message_kind::opaque, 7, 8, nullptr), 4u);
  // Two exact fields each: (kind, destination) beats (source, destination).
  EXPECT_EQ(table.match(message_kind::layerzero, 7, 30102, nullptr), 5u);
  EXPECT_EQ(table.match(message_kind::layerzero, 7, 8, nullptr), 4u);
  // One exact field each: kind beats destination.
  EXPECT_EQ(table.match(message_kind::wormhole, 9, 99, nullptr), 1u);
  EXPECT_EQ(table.match(message_kind::hyperlane, 9, 99, nullptr), 6u);
}

TEST(RouteTable, TieBreakBetweenTwoFieldRules) {
  // (kind, source) beats (kind, destination) beats (source, destination), whatever the order they were given in.
  const route_table table = build({
      {any, 1, 2, any},
      {message_kind::opaque, any, 2, any},
      {message_kind::opaque, 1, any, any},
  });
  EXPECT_EQ(table.match(message_kind::opaque, 1, 2, nullptr), 2u);
  EXPECT_EQ(table.match(message_kind::opaque, 5, 2, nullptr), 1u);
  EXPECT_EQ(table.match(message_kind::wormhole, 1, 2, nullptr), 0u);
}

TEST(RouteTable, RefusesDuplicates) {
  auto duplicate = route_table::build({{message_kind::wormhole, 2, any, any}, {message_kind::wormhole, 2, any, any}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.err().message().find("routes 0 and 1"), std::string::npos);
}

TEST(RouteTable, RefusesDuplicatesWithAllFourFields) {
  auto duplicate = route_table::build({{message_kind::wormhole, 2, 0, emitter(1)},
                                       {message_kind::wormhole, 2, 0, emitter(2)},
                                       {message_kind::wormhole, 2, 0, emitter(1)}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.err().message().find("routes 0 and 2"), std::string::npos);
  // Same emitter, another field differs: two rules.
  auto fine = route_table::build({{message_kind::wormhole, 2, 0, emitter(1)}, {message_kind::wormhole, 3, 0, emitter(1)},
                                  {any, any, any, emitter(1)}});
  EXPECT_TRUE(fine.ok());
}

TEST(RouteTable, EmitterBeatsKindAndSource) {
  const route_table table = build({
      {message_kind::wormhole, 2, any, any},        // 0: kind + source
      {message_kind::wormhole, any, any, emitter(7)},  // 1: kind + emitter
      {any, any, any, emitter(9)},                   // 2: emitter alone
      {message_kind::wormhole, any, any, any},       // 3: kind
  });
  EXPECT_TRUE(table.uses_emitters());
  const emitter_id seven = emitter(7);
  const emitter_id nine = emitter(9);
  const emitter_id other = emitter(8);
  EXPECT_EQ(table.match(message_kind::wormhole, 2, 0, seven.data()), 1u);
  EXPECT_EQ(table.match(message_kind::wormhole, 2, 0, other.data()), 0u);
  EXPECT_EQ(table.match(message_kind::wormhole, 3, 0, other.data()), 3u);
  // One exact field each: emitter beats kind.
  EXPECT_EQ(table.match(message_kind::wormhole, 3, 0, nine.data()), 2u);
  EXPECT_EQ(table.match(message_kind::hyperlane, 3, 0, nine.data()), 2u);
  EXPECT_EQ(table.match(message_kind::hyperlane, 3, 0, seven.data()), route_table::no_route);
}

TEST(RouteTable, ARuleWithAnEmitterNeverMatchesAMessageWithoutOne) {
  const route_table only = build({{any, any, any, emitter(0)}});
  EXPECT_EQ(only.match(message_kind::opaque, 1, 2, nullptr), route_table::no_route);
  const emitter_id zero = emitter(0);
  EXPECT_EQ(only.match(message_kind::opaque, 1, 2, zero.data()), 0u);
  const route_table mixed = build({{message_kind::opaque, 1, 2, emitter(0)}, {message_kind::opaque, any, any, any}});
  EXPECT_EQ(mixed.match(message_kind::opaque, 1, 2, nullptr), 1u);
  EXPECT_EQ(mixed.match(message_kind::opaque, 1, 2, zero.data()), 0u);
}

TEST(RouteTable, EmittersThatShareAHashWordStillDiffer) {
  // Only the last byte differs: the rule's own 32 bytes are compared on a hit.
  emitter_id a = emitter(5);
  emitter_id b = emitter(5);
  b[31] = std::byte{6};
  const route_table table = build({{any, any, any, a}});
  EXPECT_EQ(table.match(message_kind::wormhole, 1, 0, a.data()), 0u);
  EXPECT_EQ(table.match(message_kind::wormhole, 1, 0, b.data()), route_table::no_route);
}

TEST(RouteTable, AgreesWithALinearScanOnRandomRules) {
  // The reference: the rule with the most exact fields, ties broken emitter > kind > source > destination.
  std::mt19937 random(7);
  std::vector<route_rule> rules;
  for (std::uint32_t i = 0; i < 300; ++i) {
    route_rule r;
    if (random() % 2) r.kind = static_cast<message_kind>(1 + random() % 4);
    if (random() % 2) r.source = random() % 6;
    if (random() % 2) r.destination = random() % 6;
    if (random() % 3 == 0) r.emitter = emitter(static_cast<std::uint8_t>(random() % 3));
    bool duplicate = false;
    for (const route_rule& o : rules) {
      duplicate |= o.kind == r.kind && o.source == r.source && o.destination == r.destination && o.emitter == r.emitter;
    }
    if (!duplicate) rules.push_back(r);
  }
  const route_table table = build(rules);
  const auto rank = [](const route_rule& r) {
    return (r.emitter ? 8 : 0) + (r.kind ? 4 : 0) + (r.source ? 2 : 0) + (r.destination ? 1 : 0) +
           16 * ((r.emitter ? 1 : 0) + (r.kind ? 1 : 0) + (r.source ? 1 : 0) + (r.destination ? 1 : 0));
  };
  const emitter_id emitters[] = {emitter(0), emitter(1), emitter(2), emitter(3)};
  for (std::uint8_t k = 1; k <= 4; ++k) {
    for (std::uint32_t s = 0; s < 7; ++s) {
      for (std::uint32_t d = 0; d < 7; ++d) {
        for (int e = -1; e < 4; ++e) {  // -1: the message names no emitter
          const auto kind = static_cast<message_kind>(k);
          const std::byte* from = e < 0 ? nullptr : emitters[static_cast<std::size_t>(e)].data();
          std::uint32_t expected = route_table::no_route;
          for (std::uint32_t i = 0; i < rules.size(); ++i) {
            const route_rule& r = rules[i];
            const bool matches = (!r.kind || *r.kind == kind) && (!r.source || *r.source == s) &&
                                 (!r.destination || *r.destination == d) &&
                                 (!r.emitter || (from != nullptr && *r.emitter == emitters[static_cast<std::size_t>(e)]));
            if (matches && (expected == route_table::no_route || rank(r) > rank(rules[expected]))) expected = i;
          }
          EXPECT_EQ(table.match(kind, s, d, from), expected) << int{k} << " " << s << " " << d << " " << e;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ferry::dp
