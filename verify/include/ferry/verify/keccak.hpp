#pragma once
// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not SHA3-256's (0x06).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::verify {

using hash256 = std::array<std::byte, 32>;

// One call over contiguous bytes: about 1.6 ns a byte at 4 KiB, 230 ns for 32 bytes, on one x86-64 core
// (BENCHMARKS.md).
hash256 keccak256(std::span<const std::byte> data) noexcept;

// The same digest taken over several pieces, for digests over fields that are not contiguous on the wire.
class keccak256_hasher {
 public:
  keccak256_hasher& update(std::span<const std::byte> data) noexcept;
  hash256 finish() noexcept;  // once; the hasher is spent afterwards

 private:
  std::array<std::uint64_t, 25> _state{};
  std::size_t _filled = 0;  // bytes absorbed into the current block
};

// EIP-191 personal-sign hash of a 32-byte hash: keccak256("\x19Ethereum Signed Message:\n32" | hash). What
// Hyperlane validators and EVM DVN signers sign.
hash256 eth_signed_message_hash(const hash256& hash) noexcept;

}  // namespace ferry::verify
