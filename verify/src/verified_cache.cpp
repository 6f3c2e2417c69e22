#include "ferry/verify/verified_cache.hpp"

#include <bit>
#include <cstring>

namespace ferry::verify {

namespace {
// Keys are keccak256 outputs: their first bytes are already uniform, so they index buckets directly.
std::size_t bucket_of(const hash256& key, std::size_t mask) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, key.data(), sizeof bits);
  return static_cast<std::size_t>(bits) & mask;
}
}  // namespace

verified_cache::verified_cache(std::size_t capacity) {
  if (capacity == 0) return;
  const std::size_t buckets = std::bit_ceil((capacity + ways - 1) / ways);
  _buckets = std::make_unique<bucket[]>(buckets);
  _bucket_mask = buckets - 1;
}

const verified_cache::bucket* verified_cache::find_bucket(const hash256& key) const noexcept {
  return _buckets ? &_buckets[bucket_of(key, _bucket_mask)] : nullptr;
}

bool verified_cache::contains(const hash256& key) const noexcept {
  const bucket* b = find_bucket(key);
  if (b == nullptr) return false;
  for (std::size_t way = 0; way < b->used; ++way) {
    if (b->keys[way] == key) return true;
  }
  return false;
}

void verified_cache::insert(const hash256& key) noexcept {
  if (contains(key) || !_buckets) return;
  bucket& b = _buckets[bucket_of(key, _bucket_mask)];
  if (b.used < ways) {
    b.keys[b.used++] = key;
    return;
  }
  b.keys[b.next] = key;  // the oldest: ways are replaced in the order they were filled
  b.next = static_cast<std::uint8_t>((b.next + 1) % ways);
}

void verified_cache::clear() noexcept {
  if (!_buckets) return;
  for (std::size_t i = 0; i <= _bucket_mask; ++i) _buckets[i] = bucket{};
}

}  // namespace ferry::verify
