// ferry's Keccak-256 against published digests and, differentially, against Crypto++'s Keccak_256 (the original
// Keccak padding, as Ethereum uses it), one-shot and incremental.
#include "ferry/verify/keccak.hpp"

#include <gtest/gtest.h>

#include <crypto++/keccak.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/bytes.hpp"

namespace ferry::verify {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::to_hex;

std::span<const std::byte> text(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

hash256 digest(std::string_view hex) {
  const auto b = from_hex(hex);
  hash256 out{};
  EXPECT_TRUE(b && b->size() == out.size()) << hex;
  if (b && b->size() == out.size()) std::copy(b->begin(), b->end(), out.begin());
  return out;
}

// The reference: Crypto++'s Keccak_256, an implementation independent of ours.
hash256 cryptopp_keccak256(std::span<const std::byte> data) {
  hash256 out{};
  CryptoPP::Keccak_256 h;
  h.CalculateDigest(reinterpret_cast<CryptoPP::byte*>(out.data()),
                    reinterpret_cast<const CryptoPP::byte*>(data.data()), data.size());
  return out;
}

// Not a pattern the permutation could map to itself: the counter mixes every byte position and the seed.
bytes pattern(std::size_t size, std::uint8_t seed) {
  bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((i * 131 + (i >> 8) * 7 + seed) & 0xff);
  return out;
}

bytes random_bytes(std::mt19937_64& rng, std::size_t size) {
  bytes out(size);
  for (std::byte& b : out) b = static_cast<std::byte>(rng() & 0xff);
  return out;
}

hash256 incremental(std::span<const std::byte> data, std::span<const std::size_t> chunk_sizes) {
  keccak256_hasher h;
  std::size_t at = 0;
  for (const std::size_t n : chunk_sizes) {
    h.update(data.subspan(at, n));
    at += n;
  }
  EXPECT_EQ(at, data.size());
  return h.finish();
}

TEST(Keccak256, PublishedDigests) {
  // The empty string, as every Keccak-256 implementation and Ethereum's empty code hash have it.
  EXPECT_EQ(keccak256({}), digest("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"));
  EXPECT_EQ(keccak256(text("abc")), digest("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"));
  EXPECT_EQ(keccak256(text("The quick brown fox jumps over the lazy dog")),
            digest("4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"));
  EXPECT_EQ(keccak256(text("hello world")), digest("47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"));
  // The topics of ERC-20's events, which every Ethereum log indexer matches on.
  EXPECT_EQ(keccak256(text("Transfer(address,address,uint256)")),
            digest("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"));
  EXPECT_EQ(keccak256(text("Approval(address,address,uint256)")),
            digest("8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"));
}

TEST(Keccak256, ReferenceAgreesWithPublishedDigests) {
  // The differential tests below are only as good as the reference: it must be Keccak-256, not SHA3-256.
  EXPECT_EQ(cryptopp_keccak256({}), digest("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"));
  EXPECT_EQ(cryptopp_keccak256(text("abc")),
            digest("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"));
}

TEST(Keccak256, NotSha3) {
  // SHA3-256("") differs only in the domain byte (0x06); a mix-up of the two paddings shows here.
  EXPECT_NE(keccak256({}), digest("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"));
}

TEST(Keccak256, EveryLengthUpTo600MatchesCryptopp) {
  // Covers every tail length of every lane offset over four blocks, and in particular the rate boundaries
  // 135/136/137, 271/272/273 and 407/408/409, where the padding's two bytes share a byte or spill to a new block.
  const bytes data = pattern(600, 0x5a);
  for (std::size_t n = 0; n <= data.size(); ++n) {
    const auto input = std::span(data).first(n);
    ASSERT_EQ(to_hex(keccak256(input)), to_hex(cryptopp_keccak256(input))) << "length " << n;
  }
}

TEST(Keccak256, AllOnesAndAllZeroBlocksMatchCryptopp) {
  // Lanes of all ones meet the lanes the permutation keeps complemented internally.
  for (const std::size_t n : {135u, 136u, 137u, 271u, 272u, 273u}) {
    const bytes ones(n, std::byte{0xff});
    const bytes zeros(n, std::byte{0x00});
    EXPECT_EQ(keccak256(ones), cryptopp_keccak256(ones)) << "0xff x " << n;
    EXPECT_EQ(keccak256(zeros), cryptopp_keccak256(zeros)) << "0x00 x " << n;
  }
}

TEST(Keccak256, RandomInputsUpTo10KiBMatchCryptopp) {
  std::mt19937_64 rng(20240917);
  std::uniform_int_distribution<std::size_t> length(0, 10 * 1024);
  for (int i = 0; i < 200; ++i) {
    const bytes data = random_bytes(rng, length(rng));
    ASSERT_EQ(to_hex(keccak256(data)), to_hex(cryptopp_keccak256(data)))
        << "input " << i << ", " << data.size() << " bytes";
  }
}

TEST(Keccak256, UnalignedInputs) {
  // Lanes are loaded from wherever the caller's bytes are: every misalignment, whole blocks and tails.
  const bytes buffer = pattern(8 + 3 * 136 + 50, 0x11);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (const std::size_t n : {0u, 7u, 32u, 136u, 300u, 458u}) {
      const auto input = std::span(buffer).subspan(offset, n);
      EXPECT_EQ(keccak256(input), cryptopp_keccak256(input)) << "offset " << offset << ", length " << n;
    }
  }
}

TEST(Keccak256, DigestDependsOnEveryBit) {
  // Guards the tests above against a reference and an implementation that agree on something trivial.
  bytes data = pattern(300, 0x01);
  const hash256 original = keccak256(data);
  for (std::size_t bit = 0; bit < data.size() * 8; bit += 13) {
    data[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    EXPECT_NE(keccak256(data), original) << "bit " << bit;
    data[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  }
  EXPECT_EQ(keccak256(data), original);
}

TEST(Keccak256Hasher, EmptyIsTheEmptyDigest) {
  EXPECT_EQ(keccak256_hasher{}.finish(), keccak256({}));
  EXPECT_EQ(keccak256_hasher{}.update({}).update({}).finish(), keccak256({}));
}

TEST(Keccak256Hasher, EverySplitOfA300ByteInputMatchesOneShot) {
  const bytes data = pattern(300, 0xc3);
  const hash256 expected = cryptopp_keccak256(data);
  ASSERT_EQ(keccak256(data), expected);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    const std::array<std::size_t, 2> chunks{split, data.size() - split};
    ASSERT_EQ(to_hex(incremental(data, chunks)), to_hex(expected)) << "split at " << split;
  }
}

TEST(Keccak256Hasher, ByteByByteAndLaneByLane) {
  const bytes data = pattern(3 * 136 + 17, 0x77);
  const hash256 expected = cryptopp_keccak256(data);
  for (const std::size_t step : {1u, 3u, 8u, 13u, 135u, 136u, 137u}) {
    std::vector<std::size_t> chunks(data.size() / step, step);
    chunks.push_back(data.size() % step);
    EXPECT_EQ(incremental(data, chunks), expected) << "chunks of " << step;
  }
}

TEST(Keccak256Hasher, RandomChunkingsMatchOneShot) {
  std::mt19937_64 rng(7150);
  std::uniform_int_distribution<std::size_t> length(0, 4 * 1024);
  for (int i = 0; i < 200; ++i) {
    const bytes data = random_bytes(rng, length(rng));
    // Mostly small pieces, now and then empty ones or ones longer than a block.
    std::uniform_int_distribution<std::size_t> piece(0, i % 2 == 0 ? 20 : 400);
    std::vector<std::size_t> chunks;
    for (std::size_t left = data.size(); left > 0;) {
      const std::size_t n = std::min(left, piece(rng));
      chunks.push_back(n);
      left -= n;
    }
    ASSERT_EQ(to_hex(incremental(data, chunks)), to_hex(cryptopp_keccak256(data)))
        << "input " << i << ", " << data.size() << " bytes in " << chunks.size() << " pieces";
  }
}

TEST(Keccak256Hasher, UpdateReturnsTheHasherForChaining) {
  keccak256_hasher h;
  EXPECT_EQ(&h.update(text("ab")), &h);
  EXPECT_EQ(h.update(text("c")).finish(), keccak256(text("abc")));
}

TEST(EthSignedMessageHash, MatchesEip191OverCryptopp) {
  // EIP-191 version 0x45 ("personal_sign") of a 32-byte message: the prefix, the decimal length, the bytes.
  for (const std::uint8_t seed : std::array<std::uint8_t, 3>{0x00, 0x42, 0xff}) {
    const bytes message = pattern(32, seed);
    hash256 hash{};
    std::copy(message.begin(), message.end(), hash.begin());
    bytes prefixed;
    for (const char c : std::string_view("\x19" "Ethereum Signed Message:\n32")) prefixed.push_back(std::byte(c));
    prefixed.insert(prefixed.end(), hash.begin(), hash.end());
    ASSERT_EQ(prefixed.size(), 60u);
    EXPECT_EQ(eth_signed_message_hash(hash), cryptopp_keccak256(prefixed)) << "seed " << int{seed};
  }
}

TEST(EthSignedMessageHash, PublishedPersonalSignDigest) {
  // alloy's eip191_hash_message(b"hello_world"), an 11-byte message: the same prefix, with "11" for "32". It pins
  // the prefix bytes down independently of Crypto++.
  EXPECT_EQ(keccak256(text("\x19" "Ethereum Signed Message:\n11hello_world")),
            digest("d52de6e039c023a7c77752126e4d9d99e2a7dacea3d19e97e9c2ebcb3ecf1c00"));
}

TEST(EthSignedMessageHash, IsTheHashOfPrefixAndHash) {
  const hash256 empty = digest("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  keccak256_hasher h;
  h.update(text("\x19" "Ethereum Signed Message:\n32")).update(empty);
  const hash256 expected = h.finish();
  EXPECT_EQ(eth_signed_message_hash(empty), expected);
  EXPECT_NE(eth_signed_message_hash(empty), keccak256(empty));
}

}  // namespace
}  // namespace ferry::verify
