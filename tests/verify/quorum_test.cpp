// ferry's Ed25519 quorum-attested kind: envelope, digest, and the quorum rules.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/verify/addressing.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/sha256.hpp"
#include "support/bytes.hpp"

namespace ferry::verify::quorum {
namespace {

using testing::bytes;

ed25519_key_pair key(std::size_t i) {
  const std::string label = "ferry quorum test signer " + std::to_string(i);
  const hash256 seed = sha256(std::as_bytes(std::span(label.data(), label.size())));
  return ed25519_key_pair_from_seed(seed);
}

class QuorumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t i = 0; i < 7; ++i) keys.push_back(key(i));
    key_set set{.id = 9, .keys = {}, .threshold = 5};
    for (const auto& k : keys) set.keys.push_back(k.public_key);
    ASSERT_TRUE(registry.add(set));
  }

  bytes make(std::vector<std::uint8_t> signer_indices, std::uint32_t key_set = 9) {
    std::vector<signer> signers;
    for (const std::uint8_t i : signer_indices) signers.push_back({i, &keys.at(i % keys.size())});
    const message_fields fields{.key_set = key_set, .source = 77, .destination = 88, .payload = payload};
    bytes out(encoded_size(fields, signers.size()));
    EXPECT_EQ(encode_signed(fields, signers, out), out.size());
    return out;
  }

  verdict verdict_of(std::span<const std::byte> message) {
    message_view view;
    if (parse_message(message, view) != parse_status::ok) return verdict::malformed;
    const verdict cheap = check_message_structure(view, registry);
    const verdict full = verify_message(view, registry);
    // the cheap half agrees with the full check on everything the signatures do not decide
    if (full != verdict::bad_signature || cheap != verdict::valid) {
      EXPECT_EQ(cheap, full);
    }
    return full;
  }

  std::vector<ed25519_key_pair> keys;
  key_set_registry registry;
  bytes payload = bytes(40, std::byte{0x42});
};

TEST_F(QuorumTest, ParsesWhatItEncodes) {
  const bytes message = make({0, 1, 2, 3, 4});
  message_view view;
  ASSERT_EQ(parse_message(message, view), parse_status::ok);
  EXPECT_EQ(view.key_set(), 9u);
  EXPECT_EQ(view.source(), 77u);
  EXPECT_EQ(view.destination(), 88u);
  EXPECT_TRUE(testing::same(view.payload(), payload));
  EXPECT_EQ(view.signature_count(), 5);
  EXPECT_EQ(view.signature(4).signer_index, 4);
  addressing where{};
  ASSERT_EQ(read_addressing(message_kind::quorum, message, where), parse_status::ok);
  EXPECT_EQ(where.source, 77u);
  EXPECT_EQ(where.destination, 88u);
}

TEST_F(QuorumTest, DigestCoversDomainHeaderAndPayload) {
  const bytes message = make({0});
  message_view view;
  ASSERT_EQ(parse_message(message, view), parse_status::ok);
  bytes expected(signing_domain.begin(), signing_domain.end());
  expected.insert(expected.end(), message.begin(), message.begin() + static_cast<std::ptrdiff_t>(header_size + payload.size()));
  EXPECT_EQ(signing_digest(view), sha256(expected));
}

TEST_F(QuorumTest, ThresholdOrMoreAscendingSignersAreValid) {
  EXPECT_EQ(verdict_of(make({0, 1, 2, 3, 4})), verdict::valid);
  EXPECT_EQ(verdict_of(make({0, 2, 3, 5, 6})), verdict::valid);
  EXPECT_EQ(verdict_of(make({0, 1, 2, 3, 4, 5, 6})), verdict::valid);
}

TEST_F(QuorumTest, ShortQuorumDuplicatesAndDisorderAreNoQuorum) {
  EXPECT_EQ(verdict_of(make({0, 1, 2, 3})), verdict::no_quorum);
  EXPECT_EQ(verdict_of(make({0, 1, 2, 3, 3})), verdict::no_quorum);
  EXPECT_EQ(verdict_of(make({0, 1, 3, 2, 4})), verdict::no_quorum);
}

TEST_F(QuorumTest, UnknownKeySetIsRefused) { EXPECT_EQ(verdict_of(make({0, 1, 2, 3, 4}, 10)), verdict::unknown_key_set); }

TEST_F(QuorumTest, SignerOutsideTheSetIsABadSignature) {
  // index 7 is past the set's 7 keys (make() signs with keys[0] for it)
  EXPECT_EQ(verdict_of(make({0, 1, 2, 3, 7})), verdict::bad_signature);
}

TEST_F(QuorumTest, OneBadSignatureRejectsEvenAboveThreshold) {
  bytes message = make({0, 1, 2, 3, 4, 5});
  testing::flip_last_byte(message);  // inside the last signature
  EXPECT_EQ(verdict_of(message), verdict::bad_signature);
}

TEST_F(QuorumTest, SignatureFromTheWrongKeyIsBad) {
  // signer index 1 carrying key 0's signature
  std::vector<signer> signers{{0, &keys[0]}, {1, &keys[0]}, {2, &keys[2]}, {3, &keys[3]}, {4, &keys[4]}};
  const message_fields fields{.key_set = 9, .source = 77, .destination = 88, .payload = payload};
  bytes message(encoded_size(fields, signers.size()));
  ASSERT_EQ(encode_signed(fields, signers, message), message.size());
  EXPECT_EQ(verdict_of(message), verdict::bad_signature);
}

TEST_F(QuorumTest, EveryFlippedByteIsRejected) {
  // No byte is harmless: the header and payload are signed, the count and indices are checked, and each signature
  // is checked whole.
  const bytes message = make({0, 1, 2, 3, 4});
  for (std::size_t i = 0; i < message.size(); ++i) {
    bytes mutated = message;
    mutated[i] ^= std::byte{0xff};
    EXPECT_NE(verdict_of(mutated), verdict::valid) << "byte " << i;
  }
}

TEST_F(QuorumTest, LengthsAreChecked) {
  const bytes message = make({0, 1, 2, 3, 4});
  message_view view;
  for (std::size_t n = 0; n < message.size(); ++n) {
    EXPECT_NE(parse_message(std::span(message).first(n), view), parse_status::ok) << n;
  }
  bytes longer = message;
  longer.push_back(std::byte{0});
  EXPECT_EQ(parse_message(longer, view), parse_status::bad_length);
  bytes version = message;
  version[0] = std::byte{2};
  EXPECT_EQ(parse_message(version, view), parse_status::unsupported_version);
  bytes huge_payload = message;
  huge_payload[13] = std::byte{0xff};  // payload length far past the end
  EXPECT_EQ(parse_message(huge_payload, view), parse_status::truncated);
}

TEST(QuorumRegistry, RefusesBadSets) {
  const auto k0 = key(0).public_key;
  const auto k1 = key(1).public_key;
  key_set_registry registry;
  EXPECT_FALSE(registry.add({.id = 1, .keys = {}, .threshold = 1}));
  EXPECT_FALSE(registry.add({.id = 1, .keys = {k0}, .threshold = 0}));
  EXPECT_FALSE(registry.add({.id = 1, .keys = {k0}, .threshold = 2}));
  EXPECT_FALSE(registry.add({.id = 1, .keys = {k0, k0}, .threshold = 1}));
  ASSERT_TRUE(registry.add({.id = 1, .keys = {k0, k1}, .threshold = 2}));
  const auto again = registry.add({.id = 1, .keys = {k0}, .threshold = 1});
  ASSERT_FALSE(again);
  EXPECT_NE(again.err().message().find("quorum key set 1"), std::string::npos);
  ASSERT_NE(registry.find(1), nullptr);
  EXPECT_EQ(registry.find(2), nullptr);
}

}  // namespace
}  // namespace ferry::verify::quorum
