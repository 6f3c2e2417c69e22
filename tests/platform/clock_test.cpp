#include "ferry/platform/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace ferry::platform {
namespace {

using namespace std::chrono_literals;

// This machine is shared and noisy, and under qemu the counter is emulated: the only timing bound in this file is
// this generous agreement between a converted tick interval and CLOCK_MONOTONIC's.
constexpr double interval_tolerance = 0.25;
constexpr int interval_attempts = 3;

// A cycle-clock reading bracketed by two CLOCK_MONOTONIC reads: the tighter the bracket, the better the pair.
struct bracketed {
  std::uint64_t ticks;
  std::uint64_t ns;   // midpoint of the bracket
  std::uint64_t gap;  // width of the bracket
};

bracketed read_bracketed() {
  bracketed best{0, 0, ~std::uint64_t{0}};
  for (int i = 0; i < 8; ++i) {
    const std::uint64_t before = portable::monotonic_ns();
    const std::uint64_t ticks = cycle_ticks();
    const std::uint64_t after = portable::monotonic_ns();
    if (after - before < best.gap) best = {ticks, before + (after - before) / 2, after - before};
  }
  return best;
}

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

TEST(Clock, SourceMatchesTheTarget) {
#if defined(__x86_64__)
  EXPECT_EQ(cycle_clock_source, clock_source::tsc);
#elif defined(__aarch64__)
  EXPECT_EQ(cycle_clock_source, clock_source::cntvct);
#else
  EXPECT_EQ(cycle_clock_source, clock_source::monotonic);
#endif
}

TEST(Clock, SourceNames) {
  EXPECT_EQ(std::string_view(to_string(clock_source::tsc)), "tsc");
  EXPECT_EQ(std::string_view(to_string(clock_source::cntvct)), "cntvct");
  EXPECT_EQ(std::string_view(to_string(clock_source::monotonic)), "monotonic");
}

TEST(Clock, CycleTicksAreMonotonic) {
  constexpr int reads = 200'000;
  std::uint64_t previous = cycle_ticks();
  const std::uint64_t first = previous;
  for (int i = 0; i < reads; ++i) {
    const std::uint64_t now = cycle_ticks();
    ASSERT_GE(now, previous) << "read " << i;
    previous = now;
  }
  std::this_thread::sleep_for(2ms);
  EXPECT_GT(cycle_ticks(), first) << "the counter did not move in 2 ms";
}

TEST(Clock, CalibratedRateIsPositiveAndOfThisClock) {
  const tick_rate rate = tick_rate::calibrate();
  EXPECT_GT(rate.ticks_per_second(), 0.0);
  EXPECT_TRUE(std::isfinite(rate.ticks_per_second()));
  EXPECT_EQ(rate.source(), cycle_clock_source);
  RecordProperty("ticks_per_second", std::to_string(rate.ticks_per_second()));
  RecordProperty("reliable", rate.reliable() ? "true" : "false");
#if !defined(__x86_64__)
  // Only x86 may report an unreliable counter (no invariant TSC); elsewhere the counter is a fixed-rate timer.
  EXPECT_TRUE(rate.reliable());
#endif
}

TEST(Clock, CalibratedRateConvertsAnIntervalLikeMonotonic) {
  const tick_rate rate = tick_rate::calibrate();
  ASSERT_GT(rate.ticks_per_second(), 0.0);
  double best_error = 1e300;
  for (int attempt = 0; attempt < interval_attempts; ++attempt) {
    const bracketed start = read_bracketed();
    std::this_thread::sleep_for(50ms);
    const bracketed end = read_bracketed();
    ASSERT_GT(end.ticks, start.ticks);
    ASSERT_GT(end.ns, start.ns);
    const double measured = rate.to_ns(end.ticks - start.ticks);
    const double expected = static_cast<double>(end.ns - start.ns);
    const double error = std::fabs(measured - expected) / expected;
    if (error < best_error) best_error = error;
    RecordProperty("interval_error_" + std::to_string(attempt), std::to_string(error));
    if (error <= interval_tolerance) break;
  }
  EXPECT_LE(best_error, interval_tolerance)
      << "a 50 ms sleep converted with the calibrated rate disagrees with CLOCK_MONOTONIC in every attempt";
}

TEST(Clock, ConversionRoundTrips) {
  const tick_rate calibrated = tick_rate::calibrate(5ms);
  const tick_rate rates[] = {calibrated, tick_rate::exact(1e9, clock_source::monotonic),
                             tick_rate::exact(24e6, clock_source::cntvct),
                             tick_rate::exact(2.5e9, clock_source::tsc)};
  const std::uint64_t ticks[] = {0, 1, 1000, 123'456'789, 3'000'000'000'000ull};
  for (const tick_rate& rate : rates) {
    for (const std::uint64_t t : ticks) {
      const std::uint64_t back = rate.from_ns(rate.to_ns(t));
      // from_ns truncates: a conversion that lands a hair below the integer comes back one short.
      const std::uint64_t diff = back > t ? back - t : t - back;
      EXPECT_LE(diff, 1u) << "rate " << rate.ticks_per_second() << " ticks " << t << " came back as " << back;
    }
    // One second of ticks is one second of nanoseconds, and back. A calibrated rate is not a whole number of
    // ticks: the whole ticks of one second fall short of it by up to one tick.
    const double one_tick_ns = 1e9 / rate.ticks_per_second();
    EXPECT_NEAR(rate.to_ns(static_cast<std::uint64_t>(rate.ticks_per_second())), 1e9, one_tick_ns + 1.0);
    EXPECT_NEAR(static_cast<double>(rate.from_ns(1e9)), rate.ticks_per_second(), 1.0);
  }
}

TEST(Clock, ExactRateIsUsedAsGiven) {
  const tick_rate tsc = tick_rate::exact(3e9, clock_source::tsc);
  EXPECT_EQ(tsc.ticks_per_second(), 3e9);
  EXPECT_EQ(tsc.source(), clock_source::tsc);
  EXPECT_TRUE(tsc.reliable());
  EXPECT_NEAR(tsc.to_ns(3000), 1000.0, 1e-6);
  EXPECT_NEAR(static_cast<double>(tsc.from_ns(1000.0)), 3000.0, 1.0);
}

TEST(Clock, PortableRateConvertsOneToOne) {
  const tick_rate rate = tick_rate::exact(1e9, clock_source::monotonic);
  EXPECT_EQ(rate.source(), clock_source::monotonic);
  EXPECT_TRUE(rate.reliable());
  const std::uint64_t values[] = {0, 1, 999, 1'000'000'007, 86'400'000'000'000ull};
  for (const std::uint64_t v : values) {
    EXPECT_EQ(rate.to_ns(v), static_cast<double>(v));
    EXPECT_EQ(rate.from_ns(static_cast<double>(v)), v);
  }
}

TEST(Clock, PortableMonotonicNeverGoesBack) {
  constexpr int reads = 100'000;
  std::uint64_t previous = portable::monotonic_ns();
  const std::uint64_t first = previous;
  for (int i = 0; i < reads; ++i) {
    const std::uint64_t now = portable::monotonic_ns();
    ASSERT_GE(now, previous) << "read " << i;
    previous = now;
  }
  std::this_thread::sleep_for(2ms);
  EXPECT_GE(portable::monotonic_ns() - first, 2'000'000u) << "slept 2 ms, the clock moved less";
}

TEST(Clock, PortableMonotonicAgreesWithSteadyClock) {
  // Both read CLOCK_MONOTONIC on Linux; allow a little for a libstdc++ that picked another clock.
  constexpr std::uint64_t slack = 5'000'000;  // 5 ms
  const std::uint64_t steady_before = steady_ns();
  const std::uint64_t mono_before = portable::monotonic_ns();
  std::this_thread::sleep_for(10ms);
  const std::uint64_t mono_after = portable::monotonic_ns();
  const std::uint64_t steady_after = steady_ns();

  EXPECT_GE(mono_after - mono_before, 10'000'000u) << "slept 10 ms, the portable clock moved less";
  EXPECT_LE(mono_after - mono_before, steady_after - steady_before + slack)
      << "the portable clock ran ahead of steady_clock over the same sleep";
  EXPECT_GE(mono_before + slack, steady_before);
  EXPECT_LE(mono_after, steady_after + slack);
}

#if defined(__x86_64__)
TEST(Clock, TscInvariantQueryRuns) {
  const bool invariant = x86::tsc_is_invariant();
  RecordProperty("tsc_invariant", invariant ? "true" : "false");
  // calibrate() may only call the TSC reliable when it is invariant.
  if (!invariant) {
    EXPECT_FALSE(tick_rate::calibrate(5ms).reliable());
  }
}
#endif

#if defined(__aarch64__)
TEST(Clock, CounterFrequencyIsSet) {
  const std::uint64_t hz = arm::counter_frequency();
  RecordProperty("cntfrq_hz", std::to_string(hz));
  ASSERT_NE(hz, 0u);
  // The rate measured against CLOCK_MONOTONIC is the one the firmware programmed.
  const tick_rate rate = tick_rate::calibrate(50ms);
  EXPECT_NEAR(rate.ticks_per_second(), static_cast<double>(hz), static_cast<double>(hz) * interval_tolerance);
}
#endif

}  // namespace
}  // namespace ferry::platform
