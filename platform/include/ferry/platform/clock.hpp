#pragma once
// A monotonic cycle clock for timestamps on the hot path, and its calibrated conversion to nanoseconds.
// The counter is the TSC on x86-64, CNTVCT_EL0 on aarch64, and clock_gettime(CLOCK_MONOTONIC) elsewhere.

#include <chrono>
#include <cstdint>

#include "ferry/platform/arch/arm.hpp"
#include "ferry/platform/arch/portable.hpp"
#include "ferry/platform/arch/x86.hpp"

namespace ferry::platform {

enum class clock_source : std::uint8_t { tsc, cntvct, monotonic };

const char* to_string(clock_source source) noexcept;

// The counter this build reads, chosen at compile time for the target.
#if defined(__x86_64__)
inline constexpr clock_source cycle_clock_source = clock_source::tsc;
#elif defined(__aarch64__)
inline constexpr clock_source cycle_clock_source = clock_source::cntvct;
#else
inline constexpr clock_source cycle_clock_source = clock_source::monotonic;
#endif

// Reads the cycle clock: a few nanoseconds, no system call. Ticks from different cores compare on any CPU with an
// invariant TSC (x86-64) or a generic timer (ARM); tick_rate::reliable says whether this one qualifies.
inline std::uint64_t cycle_ticks() noexcept {
#if defined(__x86_64__)
  return x86::read_tsc();
#elif defined(__aarch64__)
  return arm::read_cntvct();
#else
  return portable::monotonic_ns();
#endif
}

// Ticks-per-second of the cycle clock, measured against CLOCK_MONOTONIC.
class tick_rate {
 public:
  // Measures the clock against CLOCK_MONOTONIC over about `window` (longer is more precise: 20 ms gives about
  // 0.01%). Blocks the caller for that long; call once at start-up.
  static tick_rate calibrate(std::chrono::milliseconds window = std::chrono::milliseconds(20)) noexcept;

  // The rate of a clock known without measuring (the portable clock ticks in nanoseconds).
  static tick_rate exact(double ticks_per_second, clock_source source) noexcept;

  double ticks_per_second() const noexcept { return _ticks_per_second; }
  clock_source source() const noexcept { return _source; }
  // False when the counter may stop or change rate (an x86 CPU without an invariant TSC): intervals are then
  // approximate and a log line should say so.
  bool reliable() const noexcept { return _reliable; }

  double to_ns(std::uint64_t ticks) const noexcept { return static_cast<double>(ticks) * _ns_per_tick; }
  std::uint64_t from_ns(double ns) const noexcept { return static_cast<std::uint64_t>(ns / _ns_per_tick); }

 private:
  tick_rate(double ticks_per_second, clock_source source, bool reliable) noexcept;

  double _ticks_per_second;
  double _ns_per_tick;
  clock_source _source;
  bool _reliable;
};

}  // namespace ferry::platform
