#pragma once
// The Keccak-f[1600] permutation (FIPS 202, section 3), and lane loads in its little-endian lane order. Private
// to verify/.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ferry::verify {

using keccak_state = std::array<std::uint64_t, 25>;  // lane (x, y) at [x + 5 * y], in the plain representation

inline std::uint64_t load_lane(const std::byte* at) noexcept {
  std::uint64_t lane;
  std::memcpy(&lane, at, 8);
  if constexpr (std::endian::native == std::endian::big) lane = __builtin_bswap64(lane);
  return lane;
}

inline void store_lane(std::byte* at, std::uint64_t lane) noexcept {
  if constexpr (std::endian::native == std::endian::big) lane = __builtin_bswap64(lane);
  std::memcpy(at, &lane, 8);
}

// Permutes the state in place: the 24 rounds of Keccak-f[1600].
void keccak_f1600(keccak_state& state) noexcept;

// The sponge's absorbing loop for a rate of 17 lanes (136 bytes, Keccak-256): for each of `blocks` blocks of
// 136 bytes at `data` (any alignment), xors the block into the first 17 lanes and permutes. The lanes stay in
// local variables from block to block instead of going back to `state`: one permutation a block, nothing more.
void keccak_f1600_absorb_136(keccak_state& state, const std::byte* data, std::size_t blocks) noexcept;

}  // namespace ferry::verify
