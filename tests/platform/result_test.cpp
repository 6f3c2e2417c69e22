#include "ferry/platform/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

namespace ferry::platform {
namespace {

result<int> parse_port(bool good) {
  if (!good) return error("unknown peer");
  return 8080;
}

// Two layers above the failure, each adding what it was doing, as control-path code is meant to.
result<int> resolve_next_hop(bool good) {
  result<int> port = parse_port(good);
  if (!port) return std::move(port).context("next hop 'x'");
  return *port + 1;
}

result<int> load_route(bool good) {
  result<int> hop = resolve_next_hop(good);
  if (!hop) return std::move(hop).context("route 'eth->sol'");
  return hop.value();
}

result<void> check(bool good) {
  if (!good) return error("c");
  return {};
}

TEST(Result, HoldsAValue) {
  result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  r.value() = 7;
  EXPECT_EQ(*r, 7);
  const result<int>& cr = r;
  EXPECT_EQ(cr.value(), 7);
}

TEST(Result, HoldsAnError) {
  const result<int> r = error("no such peer");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.err().message(), "no such peer");
}

TEST(Result, ArrowReachesTheValue) {
  result<std::string> r = std::string("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  r->append("d");
  EXPECT_EQ(*r, "abcd");
}

TEST(Result, ErrorContextPrefixes) {
  error e = error("c").context("b");
  EXPECT_EQ(e.message(), "b: c");
  e = std::move(e).context("a");
  EXPECT_EQ(e.message(), "a: b: c");
}

TEST(Result, ResultContextPrefixesThroughTwoLayers) {
  result<void> inner = check(false);
  ASSERT_FALSE(inner.ok());
  result<void> middle = std::move(inner).context("b");
  ASSERT_FALSE(middle.ok());
  const result<void> outer = std::move(middle).context("a");
  ASSERT_FALSE(outer.ok());
  EXPECT_EQ(outer.err().message(), "a: b: c");
}

TEST(Result, ContextGrowsOnTheWayUp) {
  const result<int> failed = load_route(false);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.err().message(), "route 'eth->sol': next hop 'x': unknown peer");

  const result<int> fine = load_route(true);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine, 8081);
}

TEST(Result, VoidSuccessAndFailure) {
  const result<void> good = check(true);
  EXPECT_TRUE(good.ok());
  EXPECT_TRUE(static_cast<bool>(good));

  const result<void> defaulted;
  EXPECT_TRUE(defaulted.ok());

  result<void> bad = check(false);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.err().message(), "c");
  const error taken = std::move(bad).err();
  EXPECT_EQ(taken.message(), "c");
}

TEST(Result, MoveOnlyValue) {
  result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(r.value(), nullptr);
  EXPECT_EQ(*r.value(), 5);

  const std::unique_ptr<int> owned = std::move(r).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 5);

  result<std::unique_ptr<int>> moved = std::move(r);  // the moved-from value is null, the state still "value"
  EXPECT_TRUE(moved.ok());
  EXPECT_EQ(moved.value(), nullptr);

  result<std::unique_ptr<int>> failed = error("out of memory");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.err().message(), "out of memory");
}

TEST(Result, MovedErrorKeepsItsMessage) {
  result<int> r = error("x");
  const error e = std::move(r).err();
  EXPECT_EQ(e.message(), "x");
}

// Death tests use gtest's default "fast" style (fork): the "threadsafe" style re-executes the binary, which an
// emulator without binfmt_misc (qemu-user in the cross build) cannot do.
TEST(Result, ValueOfAnErrorAborts) {
  result<int> r = error("broken");
  EXPECT_DEATH({ [[maybe_unused]] const int v = r.value(); }, "");
  const result<int>& cr = r;
  EXPECT_DEATH({ [[maybe_unused]] const int v = *cr; }, "");
  EXPECT_DEATH({ [[maybe_unused]] const int v = std::move(r).value(); }, "");
}

TEST(Result, ErrorOfAValueAborts) {
  const result<int> r = 1;
  EXPECT_DEATH({ [[maybe_unused]] const std::string m = r.err().message(); }, "");
  result<int> moved = 1;
  EXPECT_DEATH({ [[maybe_unused]] const error e = std::move(moved).context("x"); }, "");
}

TEST(Result, ErrorOfAVoidSuccessAborts) {
  const result<void> r;
  EXPECT_DEATH({ [[maybe_unused]] const std::string m = r.err().message(); }, "");
  result<void> moved;
  EXPECT_DEATH({ [[maybe_unused]] const error e = std::move(moved).err(); }, "");
}

}  // namespace
}  // namespace ferry::platform
