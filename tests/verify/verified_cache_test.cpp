#include <gtest/gtest.h>

#include <string>

#include "ferry/verify/verified_cache.hpp"

namespace ferry::verify {
namespace {

hash256 key(std::size_t i) {
  const std::string label = "entry " + std::to_string(i);
  return keccak256(std::as_bytes(std::span(label.data(), label.size())));
}

TEST(VerifiedCache, RemembersWhatWasInserted) {
  verified_cache cache(1024);
  EXPECT_GE(cache.capacity(), 1024u);
  EXPECT_FALSE(cache.contains(key(1)));
  cache.insert(key(1));
  EXPECT_TRUE(cache.contains(key(1)));
  EXPECT_FALSE(cache.contains(key(2)));
}

TEST(VerifiedCache, HoldsItsCapacityWhenKeysSpreadEvenly) {
  verified_cache cache(4096);
  // keccak outputs fall on buckets like balls in bins: at half load (a mean of 2 a bucket) about 1.3% of keys land
  // in a bucket already holding 4 and push one out; a skewed bucket index would lose far more
  for (std::size_t i = 0; i < 2048; ++i) cache.insert(key(i));
  std::size_t kept = 0;
  for (std::size_t i = 0; i < 2048; ++i) kept += cache.contains(key(i)) ? 1u : 0u;
  EXPECT_GE(kept, 2048u * 95 / 100);
}

TEST(VerifiedCache, StaysBoundedAndKeepsTheNewest) {
  verified_cache cache(64);
  for (std::size_t i = 0; i < 100000; ++i) cache.insert(key(i));
  std::size_t kept = 0;
  for (std::size_t i = 0; i < 100000; ++i) kept += cache.contains(key(i)) ? 1u : 0u;
  EXPECT_LE(kept, cache.capacity());
  EXPECT_TRUE(cache.contains(key(99999)));  // the last insert is always present
}

TEST(VerifiedCache, ReplacesTheOldestWayOfAFullBucket) {
  verified_cache cache(verified_cache::ways);  // a single bucket
  for (std::size_t i = 0; i < verified_cache::ways; ++i) cache.insert(key(i));
  cache.insert(key(100));
  EXPECT_FALSE(cache.contains(key(0)));
  for (std::size_t i = 1; i < verified_cache::ways; ++i) EXPECT_TRUE(cache.contains(key(i)));
  EXPECT_TRUE(cache.contains(key(100)));
}

TEST(VerifiedCache, InsertingTwiceTakesOneWay) {
  verified_cache cache(verified_cache::ways);
  for (int n = 0; n < 3; ++n) cache.insert(key(0));
  for (std::size_t i = 1; i < verified_cache::ways; ++i) cache.insert(key(i));
  for (std::size_t i = 0; i < verified_cache::ways; ++i) EXPECT_TRUE(cache.contains(key(i)));
}

TEST(VerifiedCache, ClearForgetsEverything) {
  verified_cache cache(128);
  for (std::size_t i = 0; i < 50; ++i) cache.insert(key(i));
  cache.clear();
  for (std::size_t i = 0; i < 50; ++i) EXPECT_FALSE(cache.contains(key(i)));
}

TEST(VerifiedCache, ZeroCapacityHoldsNothing) {
  verified_cache cache(0);
  EXPECT_EQ(cache.capacity(), 0u);
  cache.insert(key(1));
  EXPECT_FALSE(cache.contains(key(1)));
  cache.clear();
}

}  // namespace
}  // namespace ferry::verify
