#pragma once
// Signatures made wrong on purpose, for the high-s and malleability cases of the verifier tests.

#include <array>
#include <cstddef>
#include <cstdint>

#include "ferry/verify/keccak.hpp"
#include "support/bytes.hpp"

namespace ferry::testing {

// The secp256k1 group order n, big-endian.
inline constexpr std::array<std::uint8_t, 32> secp256k1_order{
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

// The other signature of the same message by the same key: (r, n - s) with the recovery id flipped. Given a low-s
// signature r | s | v (v being 0/1 or 27/28), returns its high-s twin in the same v convention.
inline std::array<std::byte, 65> high_s_twin(const std::array<std::byte, 65>& rsv) {
  std::array<std::byte, 65> out = rsv;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    const auto at = static_cast<std::size_t>(i);
    int d = secp256k1_order[at] - std::to_integer<int>(rsv[32 + at]) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 256;
    out[32 + at] = static_cast<std::byte>(d);
  }
  const int v = std::to_integer<int>(rsv[64]);
  out[64] = static_cast<std::byte>(v >= 27 ? 27 + ((v - 27) ^ 1) : v ^ 1);
  return out;
}

// EIP-191's personal-sign hash laid out by hand, to check verify's eth_signed_message_hash and the digests built
// on it: keccak256("\x19Ethereum Signed Message:\n32" | h).
inline verify::hash256 eip191(const verify::hash256& h) {
  bytes b = text("\x19" "Ethereum Signed Message:\n32");
  append(b, h);
  return verify::keccak256(b);
}

}  // namespace ferry::testing
