#pragma once
// A token bucket for the data plane's rate limits (per peer before verification, per route after), shared by several
// data-plane threads at once and lock-free.
//
// GCRA (the generic cell rate algorithm, ATM's "virtual scheduling" form of the leaky bucket): the whole state is one
// theoretical arrival time (TAT), when the bucket would next be full. take() at `now` conforms when
// TAT - tolerance <= now, and then moves TAT to max(TAT, now) + interval, where interval = 1/rate and
// tolerance = (burst - 1) * interval. Over any span d of the callers' clock it grants at most d * rate + burst, and
// exactly that (to within one token) under a load that keeps it empty. With burst 1 there is no tolerance: a caller
// late by x pushes every later token by x, so a rate limit fed by jittery arrivals wants burst >= 2.
//
// Time unit: TAT is kept in units of interval / 2^shift, with shift chosen so that a unit is 1 to 2 ns (coarser only
// when burst * interval would not fit 62 bits). The interval is then exactly 2^shift units and adding it never rounds:
// kept in whole nanoseconds, 3e6/s (333.33 ns) would run at 3.003e6/s and 1.5e8/s (6.67 ns) at 1.43e8/s. now_ns is
// converted once a call, by a 64x64->128-bit multiply by 2^shift / interval; that rounds down by under one unit
// without accumulating. Any ns clock fits (no epoch to pick), as long as now_ns < 2^63 (292 years).

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "ferry/platform/cpu.hpp"

namespace ferry::dp {

namespace detail {

// (a * b) >> 63, exact for b <= 2^63. The portable form is always compiled and tested; the other is what a 64-bit
// target runs (one mul instruction on x86-64, mul + umulh on aarch64).
constexpr std::uint64_t mul_shr63_portable(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t a_lo = a & 0xffff'ffffu, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xffff'ffffu, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo, lo_hi = a_lo * b_hi, hi_lo = a_hi * b_lo, hi_hi = a_hi * b_hi;
  const std::uint64_t middle = (lo_lo >> 32) + (lo_hi & 0xffff'ffffu) + (hi_lo & 0xffff'ffffu);  // < 3 * 2^32
  const std::uint64_t low = (middle << 32) | (lo_lo & 0xffff'ffffu);
  const std::uint64_t high = hi_hi + (lo_hi >> 32) + (hi_lo >> 32) + (middle >> 32);
  return (high << 1) | (low >> 63);
}

constexpr std::uint64_t mul_shr63(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<u128>(a) * b) >> 63);
#else
  return mul_shr63_portable(a, b);
#endif
}

}  // namespace detail

// One cache line: take() writes _tat and reads the constants beside it, so a call touches this line only.
class alignas(platform::cache_line) token_bucket {
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the bucket relies on lock-free 64-bit atomics");

 public:
  static constexpr double min_rate = 1e-9;  // a token every 32 years; any slower rate is taken as this one
  static constexpr double max_rate = 1e9;   // a token a nanosecond

  // rate: tokens a second, assumed in (0, 1e9] (clamped into [min_rate, max_rate]; NaN gives min_rate).
  // burst: most tokens taken back to back after an idle spell, assumed >= 1 (0 reads as 1). Starts full.
  token_bucket(double rate, std::uint32_t burst) noexcept;

  token_bucket(const token_bucket&) = delete;
  token_bucket& operator=(const token_bucket&) = delete;

  // Takes one token at time now_ns (a monotonic clock in ns, the same one for every caller, < 2^63). True when there
  // was one. Any thread, lock-free: a loop of one relaxed compare-exchange, retried only when another thread moved
  // TAT in between. A now_ns older than an earlier call's (a thread that read the clock, then lost the CPU) is
  // judged against the current TAT: it can only be refused or take a token that was due, never move TAT back.
  bool take(std::uint64_t now_ns) noexcept {
    const std::uint64_t now = detail::mul_shr63(now_ns, _ns_to_units);
    // Relaxed: the bucket guards no other data, and compare-exchanges on one word see a single order of its values
    // (its modification order), which is all GCRA needs to grant each token once.
    std::uint64_t tat = _tat.load(std::memory_order_relaxed);
    for (;;) {
      if (tat > now && tat - now > _tolerance) return false;
      const std::uint64_t next = std::max(tat, now) + _interval;
      if (_tat.compare_exchange_weak(tat, next, std::memory_order_relaxed, std::memory_order_relaxed)) return true;
    }
  }

  double rate() const noexcept { return _rate; }  // as in effect, after clamping
  std::uint32_t burst() const noexcept { return _burst; }

 private:
  std::atomic<std::uint64_t> _tat{0};  // theoretical arrival time, in units; 0: full
  std::uint64_t _interval;             // 2^shift units: the emission interval, exact
  std::uint64_t _tolerance;            // (burst - 1) * _interval
  std::uint64_t _ns_to_units;          // 2^shift / interval_ns, times 2^63 (<= 2^63)
  double _rate;
  std::uint32_t _burst;
};

}  // namespace ferry::dp
