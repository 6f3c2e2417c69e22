#include "ferry/dataplane/token_bucket.hpp"

#include <bit>
#include <cmath>

namespace ferry::dp {

token_bucket::token_bucket(double rate, std::uint32_t burst) noexcept
    : _rate(rate >= min_rate ? std::min(rate, max_rate) : min_rate), _burst(std::max<std::uint32_t>(burst, 1)) {
  // 2^shift <= interval_ns < 2^(shift + 1), so a unit (interval / 2^shift) is 1 to 2 ns and now_ns in units never
  // exceeds now_ns; shift is at most 59 (interval_ns <= 1e18).
  int exponent = 0;
  std::frexp(1e9 / _rate, &exponent);
  // burst * 2^shift < 2^62, so TAT (at most now + burst intervals) cannot overflow for now_ns < 2^63.
  const int shift = std::min(exponent - 1, 62 - static_cast<int>(std::bit_width(_burst)));
  _interval = std::uint64_t{1} << shift;
  _tolerance = std::uint64_t{_burst - 1} << shift;
  // 2^shift * rate / 1e9 <= 1: exact to the 53 bits of a double, a rate error near 1e-16.
  _ns_to_units = static_cast<std::uint64_t>(std::min(std::ldexp(_rate / 1e9, shift + 63), std::ldexp(1.0, 63)));
}

}  // namespace ferry::dp
