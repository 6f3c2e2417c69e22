#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ferry::loadgen {

// Above linear_limit, a value with its top bit at position p (p >= 7) is shifted right by p - 6, leaving 64..127:
// the bucket is linear_limit + (p - 7) * 64 + (that - 64).
unsigned latency_histogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < linear_limit) return static_cast<unsigned>(ns);
  const unsigned top = 63u - static_cast<unsigned>(std::countl_zero(ns));
  const unsigned shift = top - 6;
  return linear_limit + (top - 7) * sub_buckets + static_cast<unsigned>((ns >> shift) - sub_buckets);
}

std::uint64_t latency_histogram::highest_in(unsigned bucket) noexcept {
  if (bucket < linear_limit) return bucket;
  const unsigned top = (bucket - linear_limit) / sub_buckets + 7;
  const unsigned shift = top - 6;
  const std::uint64_t leading = (bucket - linear_limit) % sub_buckets + sub_buckets;
  return ((leading + 1) << shift) - 1;
}

void latency_histogram::record(std::uint64_t ns) noexcept {
  ++_buckets[std::min(bucket_of(ns), bucket_count - 1)];
  ++_count;
  _sum += ns;
  _min = std::min(_min, ns);
  _max = std::max(_max, ns);
}

std::uint64_t latency_histogram::quantile(double q) const noexcept {
  if (_count == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(_count)));
  std::uint64_t seen = 0;
  for (unsigned b = 0; b < bucket_count; ++b) {
    seen += _buckets[b];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(highest_in(b), _max);
  }
  return _max;
}

}  // namespace ferry::loadgen
