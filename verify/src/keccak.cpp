#include "ferry/verify/keccak.hpp"

#include <algorithm>
#include <cstring>

#include "keccak_f1600.hpp"

namespace ferry::verify {

namespace {
constexpr std::size_t rate = 136;  // bytes: 1600 bits less twice the 256-bit capacity

// Fewer than 8 bytes as the low end of a lane.
std::uint64_t load_partial_lane(const std::byte* at, std::size_t count) noexcept {
  std::array<std::byte, 8> lane{};
  std::memcpy(lane.data(), at, count);
  return load_lane(lane.data());
}

// Xors `count` bytes into the state from byte offset `offset` on; offset + count <= rate. Whole lanes at a time
// where the offset allows.
void xor_bytes(keccak_state& state, std::size_t offset, const std::byte* data, std::size_t count) noexcept {
  if (const std::size_t in_lane = offset % 8; in_lane != 0 && count > 0) {
    const std::size_t head = std::min(count, 8 - in_lane);
    state[offset / 8] ^= load_partial_lane(data, head) << (8 * in_lane);
    offset += head;
    data += head;
    count -= head;
  }
  for (; count >= 8; count -= 8, offset += 8, data += 8) state[offset / 8] ^= load_lane(data);
  if (count > 0) state[offset / 8] ^= load_partial_lane(data, count);
}

// Keccak's pad10*1 with the 0x01 domain byte of the original submission, over a block of which `filled` bytes
// are taken, then the last permutation and the first 32 bytes out.
hash256 pad_and_squeeze(keccak_state& state, std::size_t filled) noexcept {
  state[filled / 8] ^= std::uint64_t{0x01} << (8 * (filled % 8));
  state[rate / 8 - 1] ^= std::uint64_t{0x80} << 56;
  keccak_f1600(state);
  hash256 out;
  for (std::size_t i = 0; i < 4; ++i) store_lane(out.data() + 8 * i, state[i]);
  return out;
}
}  // namespace

hash256 keccak256(std::span<const std::byte> data) noexcept {
  keccak_state state{};
  const std::size_t blocks = data.size() / rate;
  if (blocks > 0) keccak_f1600_absorb_136(state, data.data(), blocks);
  const std::size_t left = data.size() - blocks * rate;
  xor_bytes(state, 0, data.data() + blocks * rate, left);
  return pad_and_squeeze(state, left);
}

keccak256_hasher& keccak256_hasher::update(std::span<const std::byte> data) noexcept {
  const std::byte* at = data.data();
  std::size_t left = data.size();
  if (_filled > 0) {
    const std::size_t take = std::min(left, rate - _filled);
    xor_bytes(_state, _filled, at, take);
    _filled += take;
    at += take;
    left -= take;
    if (_filled < rate) return *this;
    keccak_f1600(_state);
    _filled = 0;
  }
  if (const std::size_t blocks = left / rate; blocks > 0) {
    keccak_f1600_absorb_136(_state, at, blocks);
    at += blocks * rate;
    left -= blocks * rate;
  }
  xor_bytes(_state, 0, at, left);
  _filled = left;
  return *this;
}

hash256 keccak256_hasher::finish() noexcept { return pad_and_squeeze(_state, _filled); }

hash256 eth_signed_message_hash(const hash256& hash) noexcept {
  static constexpr char prefix[] = "\x19" "Ethereum Signed Message:\n32";
  std::array<std::byte, sizeof prefix - 1 + 32> message;
  std::memcpy(message.data(), prefix, sizeof prefix - 1);
  std::memcpy(message.data() + sizeof prefix - 1, hash.data(), hash.size());
  return keccak256(message);
}

}  // namespace ferry::verify
