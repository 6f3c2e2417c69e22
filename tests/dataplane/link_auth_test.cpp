// Encrypted link frames (link_auth.hpp) against another implementation, and a key id re-used with a new secret.
// (The data path's handling of them is PipelineTest's.)

#include "ferry/dataplane/link_auth.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <string_view>
#include <vector>

#include "ferry/dataplane/frame.hpp"
#include "support/bytes.hpp"
#include "support/messages.hpp"
#include "support/policy.hpp"

namespace ferry::dp {
namespace {

using bytes = std::vector<std::byte>;

std::uint64_t now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

// A frame sealed by Python's `cryptography` (ChaCha20Poly1305(key).encrypt(nonce, messages, header)): key bytes
// 00..1f under id 7, nonce a0..ab, the header (flags authenticated | encrypted, one message, sequence 42) as the
// additional data, and one opaque message from 1 to 2 with payload "hello". The wire format is RFC 8439's AEAD over
// ferry's own fields, nothing of ferry's making.
TEST(LinkAuth, OpensAFrameSealedByAnotherImplementation) {
  bytes datagram = *testing::from_hex(
      "4659010500010007000000000000002a"    // header
      "a0a1a2a3a4a5a6a7a8a9aaab"            // nonce
      "08ab78524de6c2aca00ff316949f9197f2"  // the message, encrypted
      "d1dae4e6c30afaad5ca90bbe223530b7");  // tag
  std::array<std::byte, 32> secret;
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::byte>(i);
  const link_keys keys{{link_key(7, secret, 0, link_mac::chacha20_poly1305)}};

  frame_view frame;
  ASSERT_EQ(parse_frame(datagram, frame), frame_status::ok);
  ASSERT_TRUE(open(keys, datagram, frame, now()));
  ASSERT_EQ(parse_opened(frame), frame_status::ok);
  ASSERT_EQ(std::distance(frame.begin(), frame.end()), 1);
  const message_ref m = *frame.begin();
  EXPECT_EQ(m.kind, 4);
  const bytes expected = *testing::from_hex("0000000100000002" "68656c6c6f");
  EXPECT_TRUE(std::ranges::equal(m.body, expected));

  // The same bytes again are plaintext now; and a key of another MAC under the id does not open a sealed frame.
  bytes again = *testing::from_hex(
      "4659010500010007000000000000002a"
      "a0a1a2a3a4a5a6a7a8a9aaab"
      "08ab78524de6c2aca00ff316949f9197f2"
      "d1dae4e6c30afaad5ca90bbe223530b7");
  const bytes as_sent = again;
  frame_view other;
  ASSERT_EQ(parse_frame(again, other), frame_status::ok);
  EXPECT_FALSE(open(link_keys{{link_key(7, secret, 0, link_mac::blake2b)}}, again, other, now()));
  EXPECT_EQ(again, as_sent) << "a frame that does not open is left as it came";
}

// While a key id is re-used with a new secret (the old one retiring for its grace), either secret opens a frame:
// a failed try leaves the bytes as they came for the next.
TEST(LinkAuth, AKeyIdReusedWithANewSecretOpensUnderEither) {
  const link_key old_key = testing::link_key_of(3, 0x61, 0, link_mac::chacha20_poly1305);
  const link_key new_key = testing::link_key_of(3, 0x62, 0, link_mac::chacha20_poly1305);
  const link_keys both{{old_key, new_key}};
  const bytes clear = testing::frame_of({{4, testing::opaque_body(5, 6, 100)}});
  for (const link_key* by : {&old_key, &new_key}) {
    bytes datagram = testing::sealed(clear, *by);
    ASSERT_EQ(datagram.size(), clear.size() + link_nonce_size + link_tag_size);
    frame_view frame;
    ASSERT_EQ(parse_frame(datagram, frame), frame_status::ok);
    ASSERT_TRUE(open(both, datagram, frame, now()));
    ASSERT_EQ(parse_opened(frame), frame_status::ok);
    EXPECT_TRUE(std::ranges::equal(frame.sealed(), std::span(clear).subspan(frame_header_size)));
  }
}

}  // namespace
}  // namespace ferry::dp
