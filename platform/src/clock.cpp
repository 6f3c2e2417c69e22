#include "ferry/platform/clock.hpp"

#include <cmath>
#include <thread>

namespace ferry::platform {

const char* to_string(clock_source source) noexcept {
  switch (source) {
    case clock_source::tsc: return "tsc";
    case clock_source::cntvct: return "cntvct";
    case clock_source::monotonic: return "monotonic";
  }
  return "unknown";
}

tick_rate::tick_rate(double ticks_per_second, clock_source source, bool reliable) noexcept
    : _ticks_per_second(ticks_per_second), _ns_per_tick(1e9 / ticks_per_second), _source(source),
      _reliable(reliable) {}

tick_rate tick_rate::exact(double ticks_per_second, clock_source source) noexcept {
  return tick_rate(ticks_per_second, source, true);
}

namespace {

struct clock_pair {
  std::uint64_t ns;
  std::uint64_t ticks;
};

// Reads both clocks close together: of a few tries, keeps the one where the monotonic reads bracketing the tick
// read were nearest, so a preemption between them does not skew the rate.
clock_pair read_pair() noexcept {
  clock_pair best{0, 0};
  std::uint64_t best_gap = ~std::uint64_t{0};
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t before = portable::monotonic_ns();
    const std::uint64_t ticks = cycle_ticks();
    const std::uint64_t after = portable::monotonic_ns();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {before + (after - before) / 2, ticks};
    }
  }
  return best;
}

}  // namespace

tick_rate tick_rate::calibrate(std::chrono::milliseconds window) noexcept {
  if constexpr (cycle_clock_source == clock_source::monotonic) {
    return exact(1e9, clock_source::monotonic);
  } else {
    const clock_pair start = read_pair();
    std::this_thread::sleep_for(window);
    const clock_pair end = read_pair();
    const double seconds = static_cast<double>(end.ns - start.ns) / 1e9;
    double rate = static_cast<double>(end.ticks - start.ticks) / seconds;
    if (!std::isfinite(rate) || rate <= 0.0) rate = 1e9;  // a stuck clock: keep conversions finite, flag it unreliable
#if defined(__x86_64__)
    const bool reliable = x86::tsc_is_invariant() && end.ticks > start.ticks;
#else
    const bool reliable = end.ticks > start.ticks;
#endif
    return tick_rate(rate, cycle_clock_source, reliable);
  }
}

}  // namespace ferry::platform
