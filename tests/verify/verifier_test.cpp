// The one entry point a verify stage calls: dispatch by kind, cheap checks, the verified-digest cache, the crypto.
#include "ferry/verify/verifier.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <vector>

#include "ferry/verify/demo_keys.hpp"
#include "support/bytes.hpp"
#include "support/demo_key_sets.hpp"

namespace ferry::verify {
namespace {

using bytes = std::vector<std::byte>;

bytes signed_message(message_kind kind, std::uint64_t n = 1) {
  const bytes payload(32, static_cast<std::byte>(n));
  bytes out(demo::max_overhead + payload.size());
  std::size_t size = 0;
  switch (kind) {
    case message_kind::wormhole: {
      wormhole::vaa_fields vaa;
      vaa.emitter_chain = 2;
      vaa.sequence = n;
      vaa.payload = payload;
      size = demo::write_wormhole(vaa, out);
      break;
    }
    case message_kind::hyperlane: {
      hyperlane::message_fields message;
      message.nonce = static_cast<std::uint32_t>(n);
      message.origin = 1;
      message.destination = 2;
      message.body = payload;
      size = demo::write_hyperlane(message, out);
      break;
    }
    case message_kind::layerzero: {
      layerzero::packet_fields packet;
      packet.nonce = n;
      packet.src_eid = 30101;
      packet.dst_eid = 30102;
      packet.message = payload;
      size = demo::write_layerzero(packet, out);
      break;
    }
    case message_kind::quorum:
      size = demo::write_quorum({demo::quorum_key_set, 1, 2, payload}, out);
      break;
    case message_kind::opaque:
      break;
  }
  EXPECT_GT(size, 0u);
  out.resize(size);
  return out;
}

constexpr message_kind verified_kinds[] = {message_kind::wormhole, message_kind::hyperlane, message_kind::layerzero,
                                           message_kind::quorum};

const auto now = static_cast<std::uint64_t>(std::time(nullptr));

class VerifierTest : public ::testing::Test {
 protected:
  key_sets keys = testing::demo_key_sets();
  verified_cache cache{1024};
  verifier check{keys, cache};
};

TEST_F(VerifierTest, DemoSignedMessagesOfEveryKindAreValid) {
  for (const message_kind kind : verified_kinds) {
    EXPECT_EQ(check.verify(kind, signed_message(kind), now), verdict::valid) << to_string(kind);
  }
  EXPECT_EQ(check.cache_misses(), 4u);
  EXPECT_EQ(check.cache_hits(), 0u);
}

TEST_F(VerifierTest, ARepeatIsADuplicateFoundWithoutTheCrypto) {
  for (const message_kind kind : verified_kinds) {
    const bytes message = signed_message(kind, 5);
    EXPECT_EQ(check.verify(kind, message, now), verdict::valid);
    const std::uint64_t misses = check.cache_misses();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(check.verify(kind, message, now), verdict::duplicate) << to_string(kind);
    EXPECT_EQ(check.cache_misses(), misses) << to_string(kind);
  }
  EXPECT_EQ(check.cache_hits(), 12u);
}

TEST_F(VerifierTest, OnlyAByteIdenticalCopyHits) {
  for (const message_kind kind : verified_kinds) {
    const bytes message = signed_message(kind, 9);
    ASSERT_EQ(check.verify(kind, message, now), verdict::valid);
    bytes forged = message;
    testing::flip_last_byte(forged);  // the last byte is inside a signature for every kind
    EXPECT_NE(check.verify(kind, forged, now), verdict::valid) << to_string(kind);
  }
  EXPECT_EQ(check.cache_hits(), 0u);
}

TEST_F(VerifierTest, WhatFailsIsNotCached) {
  bytes forged = signed_message(message_kind::wormhole);
  testing::flip_last_byte(forged);
  EXPECT_EQ(check.verify(message_kind::wormhole, forged, now), verdict::bad_signature);
  EXPECT_EQ(check.verify(message_kind::wormhole, forged, now), verdict::bad_signature);
  EXPECT_EQ(check.cache_hits(), 0u);
  EXPECT_EQ(check.cache_misses(), 2u);
}

TEST_F(VerifierTest, ACachedMessageIsRefusedOnceItsKeySetExpires) {
  const bytes vaa = signed_message(message_kind::wormhole, 3);
  ASSERT_EQ(check.verify(message_kind::wormhole, vaa, now), verdict::valid);
  // governance replaces set 0; it stays valid for a day, then the cached VAA is refused like any other
  ASSERT_TRUE(keys.wormhole.upgrade(1, {demo::hyperlane_validator()}, now));
  EXPECT_EQ(check.verify(message_kind::wormhole, vaa, now + 3600), verdict::duplicate);
  EXPECT_EQ(check.verify(message_kind::wormhole, vaa, now + 2 * 86400), verdict::expired_key_set);
}

TEST_F(VerifierTest, MalformedAndUnknownAreRefusedBeforeTheCache) {
  for (const message_kind kind : verified_kinds) {
    bytes cut = signed_message(kind);
    cut.resize(10);
    EXPECT_EQ(check.verify(kind, cut, now), verdict::malformed) << to_string(kind);
  }
  key_sets empty;
  verifier bare(empty, cache);
  for (const message_kind kind : verified_kinds) {
    EXPECT_EQ(bare.verify(kind, signed_message(kind), now), verdict::unknown_key_set) << to_string(kind);
  }
  EXPECT_EQ(check.cache_hits() + check.cache_misses() + bare.cache_hits() + bare.cache_misses(), 0u);
}

TEST_F(VerifierTest, OpaqueMessagesAreNotVerified) {
  EXPECT_FALSE(is_verified_kind(message_kind::opaque));
  EXPECT_EQ(check.verify(message_kind::opaque, bytes(3), now), verdict::valid);
}

TEST(CacheKey, CoversTheKindAndEveryByte) {
  const bytes message(100, std::byte{7});
  EXPECT_NE(cache_key(message_kind::wormhole, message), cache_key(message_kind::hyperlane, message));
  bytes other = message;
  other[99] = std::byte{8};
  EXPECT_NE(cache_key(message_kind::wormhole, message), cache_key(message_kind::wormhole, other));
  EXPECT_EQ(cache_key(message_kind::wormhole, message), cache_key(message_kind::wormhole, bytes(100, std::byte{7})));
}

}  // namespace
}  // namespace ferry::verify
