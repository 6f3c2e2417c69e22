#pragma once
// The verified-digest cache: a bounded set of messages already verified, so that the same message seen again
// (a VAA re-observed from many guardians is the normal case) costs a lookup instead of a quorum of recoveries.
//
// Keys are keccak256 of the message's kind and every byte of it, signatures included: only a byte-identical copy
// of a verified message hits, so a genuine body carrying forged signatures is still checked. Set-associative,
// four ways a bucket, the oldest way replaced; all memory taken at construction. One owner thread (a verify
// stage); not safe to share.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "ferry/verify/keccak.hpp"

namespace ferry::verify {

class verified_cache {
 public:
  static constexpr std::size_t ways = 4;

  // Room for at least `capacity` digests (rounded up to a power-of-two number of buckets); 0 makes a cache that
  // holds nothing, so every lookup misses.
  explicit verified_cache(std::size_t capacity);

  bool contains(const hash256& key) const noexcept;
  void insert(const hash256& key) noexcept;  // no effect when already present
  void clear() noexcept;                     // when the key sets change, what was valid may no longer be

  std::size_t capacity() const noexcept { return _buckets ? (_bucket_mask + 1) * ways : 0; }

 private:
  struct bucket {
    std::array<hash256, ways> keys;
    std::uint8_t used = 0;  // ways filled
    std::uint8_t next = 0;  // the way to replace when full
  };
  const bucket* find_bucket(const hash256& key) const noexcept;

  std::unique_ptr<bucket[]> _buckets;
  std::size_t _bucket_mask = 0;
};

}  // namespace ferry::verify
