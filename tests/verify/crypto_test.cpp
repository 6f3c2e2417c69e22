// The crypto primitives verify/ takes from libraries (libsecp256k1, libsodium, mbedTLS), against published vectors
// and the rules each protocol applies on top.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "ferry/verify/blake2b.hpp"
#include "ferry/verify/chacha20_poly1305.hpp"
#include "ferry/verify/ed25519.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/sha256.hpp"
#include "support/bytes.hpp"
#include "support/signatures.hpp"

namespace ferry::verify {
namespace {

using testing::from_hex;

template <std::size_t N>
std::array<std::byte, N> fixed(std::string_view hex) {
  const auto b = from_hex(hex);
  std::array<std::byte, N> out{};
  EXPECT_TRUE(b && b->size() == N) << hex;
  if (b && b->size() == N) std::copy(b->begin(), b->end(), out.begin());
  return out;
}

std::span<const std::byte> text(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// The Tilt devnet guardian (vectors/wormhole/guardian_sets.txt): a published test key.
const auto devnet_secret = fixed<32>("cfb12303a19cde580bb4dd771639b0d26bc68353645571a8cff516ab2ee113a0");
const auto devnet_address = fixed<20>("befa429d57cd18b7f8a4d91a2da9ab4af05d0fbe");

std::span<const std::byte, 64> rs(const std::array<std::byte, 65>& rsv) { return std::span(rsv).first<64>(); }
std::uint8_t recovery_id(const std::array<std::byte, 65>& rsv) { return std::to_integer<std::uint8_t>(rsv[64]); }

TEST(Secp256k1, AddressOfTheDevnetKeyMatchesThePublishedOne) {
  const auto address = address_of_secret_key(devnet_secret);
  ASSERT_TRUE(address);
  EXPECT_EQ(*address, devnet_address);
}

TEST(Secp256k1, InvalidSecretKeysAreRefused) {
  EXPECT_FALSE(address_of_secret_key(std::array<std::byte, 32>{}));
  EXPECT_FALSE(sign_recoverable(keccak256(text("x")), std::array<std::byte, 32>{}));
  std::array<std::byte, 32> order;
  for (std::size_t i = 0; i < 32; ++i) order[i] = std::byte{testing::secp256k1_order[i]};
  EXPECT_FALSE(address_of_secret_key(order));
}

TEST(Secp256k1, SignedDigestRecoversTheSigner) {
  const hash256 digest = keccak256(text("ferry"));
  const auto signature = sign_recoverable(digest, devnet_secret);
  ASSERT_TRUE(signature);
  EXPECT_LE(recovery_id(*signature), 1);
  for (const s_rule rule : {s_rule::any, s_rule::low_only}) {
    const auto signer = recover_address(digest, rs(*signature), recovery_id(*signature), rule);
    ASSERT_TRUE(signer);
    EXPECT_EQ(*signer, devnet_address);
  }
}

TEST(Secp256k1, AnotherDigestRecoversAnotherAddress) {
  const auto signature = sign_recoverable(keccak256(text("ferry")), devnet_secret);
  ASSERT_TRUE(signature);
  const auto signer = recover_address(keccak256(text("ferrx")), rs(*signature), recovery_id(*signature), s_rule::any);
  // ECDSA recovery yields some key for almost any digest: what matters is that it is not the signer's
  ASSERT_TRUE(signer);
  EXPECT_NE(*signer, devnet_address);
}

TEST(Secp256k1, HighSTwinIsAcceptedByEcrecoverRulesOnly) {
  const hash256 digest = keccak256(text("malleable"));
  const auto signature = sign_recoverable(digest, devnet_secret);
  ASSERT_TRUE(signature);
  const auto twin = testing::high_s_twin(*signature);
  const auto any = recover_address(digest, rs(twin), recovery_id(twin), s_rule::any);
  ASSERT_TRUE(any);
  EXPECT_EQ(*any, devnet_address);
  EXPECT_FALSE(recover_address(digest, rs(twin), recovery_id(twin), s_rule::low_only));
}

TEST(Secp256k1, RecoveryIdsBeyondOneAreRefused) {
  const hash256 digest = keccak256(text("v"));
  const auto signature = sign_recoverable(digest, devnet_secret);
  ASSERT_TRUE(signature);
  for (const int id : {2, 3, 27, 28, 255}) {
    EXPECT_FALSE(recover_address(digest, rs(*signature), static_cast<std::uint8_t>(id), s_rule::any)) << id;
  }
}

TEST(Secp256k1, ZeroAndOverflowingScalarsAreRefused) {
  const hash256 digest = keccak256(text("scalars"));
  const auto signature = sign_recoverable(digest, devnet_secret);
  ASSERT_TRUE(signature);
  auto zero_r = *signature;
  std::fill(zero_r.begin(), zero_r.begin() + 32, std::byte{0});
  EXPECT_FALSE(recover_address(digest, rs(zero_r), recovery_id(zero_r), s_rule::any));
  auto zero_s = *signature;
  std::fill(zero_s.begin() + 32, zero_s.begin() + 64, std::byte{0});
  EXPECT_FALSE(recover_address(digest, rs(zero_s), recovery_id(zero_s), s_rule::any));
  auto order_s = *signature;
  for (std::size_t i = 0; i < 32; ++i) order_s[32 + i] = std::byte{testing::secp256k1_order[i]};
  EXPECT_FALSE(recover_address(digest, rs(order_s), recovery_id(order_s), s_rule::any));
  auto r_not_x = *signature;
  std::fill(r_not_x.begin(), r_not_x.begin() + 32, std::byte{0xff});  // above the field prime: no point has it
  EXPECT_FALSE(recover_address(digest, rs(r_not_x), recovery_id(r_not_x), s_rule::any));
}

// RFC 8032 section 7.1, TEST 1 and TEST 2.
TEST(Ed25519, Rfc8032Vectors) {
  const auto pk1 = fixed<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const auto sig1 = fixed<64>(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
      "655141438e7a100b");
  EXPECT_TRUE(ed25519_verify(sig1, {}, pk1));
  const auto pk2 = fixed<32>("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const auto sig2 = fixed<64>(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
      "eeb00d291612bb0c00");
  const std::array<std::byte, 1> message2{std::byte{0x72}};
  EXPECT_TRUE(ed25519_verify(sig2, message2, pk2));
  EXPECT_FALSE(ed25519_verify(sig2, message2, pk1));
  EXPECT_FALSE(ed25519_verify(sig1, message2, pk1));
  auto flipped = sig1;
  flipped[10] ^= std::byte{1};
  EXPECT_FALSE(ed25519_verify(flipped, {}, pk1));
}

TEST(Ed25519, KeyFromSeedSignsWhatVerifies) {
  const auto seed = fixed<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const ed25519_key_pair pair = ed25519_key_pair_from_seed(seed);
  EXPECT_EQ(pair.public_key, fixed<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  const ed25519_signature signature = ed25519_sign(text("ferry"), pair);
  EXPECT_TRUE(ed25519_verify(signature, text("ferry"), pair.public_key));
  EXPECT_FALSE(ed25519_verify(signature, text("ferrx"), pair.public_key));
}

TEST(Ed25519, NonCanonicalSIsRefused) {
  const ed25519_key_pair pair = ed25519_key_pair_from_seed(fixed<32>(std::string(64, '1')));
  ed25519_signature signature = ed25519_sign(text("m"), pair);
  // s + L (the group order) is the same scalar, not the canonical encoding: RFC 8032 says reject
  const std::array<std::uint8_t, 32> order_le{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                              0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                              0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = std::to_integer<unsigned>(signature[32 + i]) + order_le[i] + carry;
    signature[32 + i] = static_cast<std::byte>(sum & 0xff);
    carry = sum >> 8;
  }
  EXPECT_FALSE(ed25519_verify(signature, text("m"), pair.public_key));
}

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256({}), fixed<32>("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_EQ(sha256(text("abc")), fixed<32>("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            fixed<32>("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

TEST(Sha256, PiecesGiveTheSameDigestAsOneCall) {
  const std::string_view message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (std::size_t split = 0; split <= message.size(); ++split) {
    sha256_hasher hasher;
    hasher.update(text(message.substr(0, split))).update(text(message.substr(split)));
    EXPECT_EQ(hasher.finish(), sha256(text(message))) << split;
  }
}

hash256 hmac(std::span<const std::byte> key, std::span<const std::byte> data) {
  const hmac_sha256_key ready(key);
  return hmac_sha256_key::message(ready).update(data).finish();
}

std::vector<std::byte> repeated(std::uint8_t value, std::size_t count) {
  return std::vector<std::byte>(count, std::byte{value});
}

// RFC 4231 test cases 1, 2, 4 and 6 (a key longer than a block is hashed first), and the empty key and message.
TEST(HmacSha256, Rfc4231Vectors) {
  EXPECT_EQ(hmac(repeated(0x0b, 20), text("Hi There")),
            fixed<32>("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  EXPECT_EQ(hmac(text("Jefe"), text("what do ya want for nothing?")),
            fixed<32>("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  EXPECT_NE(hmac(text("Jeff"), text("what do ya want for nothing?")),
            fixed<32>("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  std::vector<std::byte> counting(25);
  for (std::size_t i = 0; i < counting.size(); ++i) counting[i] = static_cast<std::byte>(i + 1);
  EXPECT_EQ(hmac(counting, repeated(0xcd, 50)),
            fixed<32>("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"));
  EXPECT_EQ(hmac(repeated(0xaa, 131), text("Test Using Larger Than Block-Size Key - Hash Key First")),
            fixed<32>("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
  EXPECT_EQ(hmac({}, {}), fixed<32>("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"));
}

// One key, many messages, in pieces split anywhere, from the key or a copy of it: each the same as a fresh key's
// HMAC of the whole message (the ready states are not changed by use).
TEST(HmacSha256, AKeyMadeOnceServesEveryMessageInAnyPieces) {
  const hmac_sha256_key key(text("a link secret of some length"));
  const hmac_sha256_key copy = key;
  const std::string_view message =
      "frames longer than one block of sixty-four bytes, so that pieces cross a block boundary somewhere";
  for (std::size_t split = 0; split <= message.size(); split += 7) {
    const hash256 expected = hmac(text("a link secret of some length"), text(message.substr(0, split)));
    EXPECT_EQ(hmac_sha256_key::message(key).update(text(message.substr(0, split))).finish(), expected) << split;
    hmac_sha256_key::message pieces(copy);
    pieces.update(text(message.substr(0, split / 2))).update(text(message.substr(split / 2, split - split / 2)));
    EXPECT_EQ(pieces.finish(), expected) << split;
  }
}

// Keyed BLAKE2b with a 16-byte output, against Python's hashlib.blake2b(data, key=key, digest_size=16): the
// output size is part of BLAKE2b's parameter block, so these are not prefixes of the 64-byte KAT values.
TEST(Blake2b, KeyedSixteenByteVectors) {
  std::vector<std::byte> key64(64), key16(16), data255(255);
  for (std::size_t i = 0; i < key64.size(); ++i) key64[i] = static_cast<std::byte>(i);
  for (std::size_t i = 0; i < key16.size(); ++i) key16[i] = static_cast<std::byte>(i);
  for (std::size_t i = 0; i < data255.size(); ++i) data255[i] = static_cast<std::byte>(i);
  const blake2b_key k64(key64), k16(key16);
  EXPECT_EQ(blake2b_key::message(k64).finish(), fixed<16>("2ae6b02df83c8d5a85eb7ab86fe3a11f"));
  EXPECT_EQ(blake2b_key::message(k64).update(data255).finish(), fixed<16>("5a867fe7ef93d24a0509b446ce554530"));
  EXPECT_EQ(blake2b_key::message(k16).update(text("abc")).finish(), fixed<16>("cc611a2673ca66e9f7fc64b995c5467c"));
}

// As for HMAC keys: one key serves many messages, in pieces split anywhere (across the 128-byte block too).
TEST(Blake2b, AKeyMadeOnceServesEveryMessageInAnyPieces) {
  std::vector<std::byte> data255(255);
  for (std::size_t i = 0; i < data255.size(); ++i) data255[i] = static_cast<std::byte>(i);
  const blake2b_key key(text("sixteen or more bytes of key"));
  const blake2b_key copy = key;
  const mac128 whole = blake2b_key::message(key).update(data255).finish();
  for (std::size_t split = 0; split <= data255.size(); split += 17) {
    blake2b_key::message pieces(split % 2 == 0 ? key : copy);
    pieces.update(std::span(data255).first(split)).update(std::span(data255).subspan(split));
    EXPECT_EQ(pieces.finish(), whole) << split;
  }
  EXPECT_NE(blake2b_key::message(key).update(std::span(data255).first(254)).finish(), whole);
}

// ChaCha20-Poly1305: RFC 8439's AEAD test vector (section 2.8.2), encrypted in pieces split anywhere, and decrypted
// in place with the tag matching; a changed byte of ciphertext or additional data changes the tag.
TEST(ChaCha20Poly1305, Rfc8439AeadVector) {
  std::array<std::byte, 32> key_bytes;
  for (std::size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = static_cast<std::byte>(0x80 + i);
  const chacha20_poly1305_key key(key_bytes);
  const auto nonce = fixed<12>("070000004041424344454647");
  const auto additional = fixed<12>("50515253c0c1c2c3c4c5c6c7");
  const std::string_view plain =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would "
      "be it.";
  const auto cipher = *from_hex(
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e06"
      "0b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d265"
      "86cec64b6116");
  const mac128 tag = fixed<16>("1ae10b594f09e26a7e902ecbd0600691");
  using direction = chacha20_poly1305_key::message::direction;
  for (std::size_t split = 0; split <= plain.size(); split += 19) {
    std::vector<std::byte> out(plain.size());
    chacha20_poly1305_key::message sealing(key, nonce, direction::encrypt, additional);
    sealing.update(text(plain.substr(0, split)), out.data());
    sealing.update(text(plain.substr(split)), out.data() + split);
    EXPECT_EQ(sealing.finish(), tag) << split;
    EXPECT_EQ(out, cipher) << split;
  }
  std::vector<std::byte> in_place = cipher;
  chacha20_poly1305_key::message opening(key, nonce, direction::decrypt, additional);
  opening.update(in_place, in_place.data());
  EXPECT_TRUE(equal_in_constant_time(opening.finish(), tag));
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(in_place.data()), in_place.size()), plain);

  std::vector<std::byte> changed = cipher;
  changed[40] ^= std::byte{0x80};
  EXPECT_NE(chacha20_poly1305_key::message(key, nonce, direction::decrypt, additional)
                .update(changed, changed.data())
                .finish(),
            tag);
  auto other_additional = additional;
  other_additional[0] ^= std::byte{1};
  std::vector<std::byte> again = cipher;
  EXPECT_NE(chacha20_poly1305_key::message(key, nonce, direction::decrypt, other_additional)
                .update(again, again.data())
                .finish(),
            tag);
}

}  // namespace
}  // namespace ferry::verify
