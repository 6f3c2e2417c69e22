#include "ferry/dataplane/breaker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace ferry::dp {
namespace {

constexpr std::uint64_t second = 1'000'000'000;
constexpr std::uint64_t ms = 1'000'000;

breaker_settings ratio_settings(double ratio, std::uint32_t min_verified) {
  breaker_settings settings;
  settings.failure_ratio = ratio;
  settings.min_verified = min_verified;
  return settings;
}

breaker_settings volume_settings(std::uint64_t max_messages) {
  breaker_settings settings;
  settings.max_messages = max_messages;
  return settings;
}

// Trips `b` on volume at now_ns (it must be closed with a fresh window and max_messages set).
void trip_on_volume(breaker& b, std::uint64_t now_ns) {
  for (std::uint64_t i = 0; i < b.settings().max_messages; ++i) ASSERT_TRUE(b.admit(now_ns)) << i;
  ASSERT_FALSE(b.admit(now_ns));
  ASSERT_EQ(b.state(now_ns), breaker_state::tripped);
}

TEST(Breaker, StatesHaveNames) {
  EXPECT_STREQ(to_string(breaker_state::closed), "closed");
  EXPECT_STREQ(to_string(breaker_state::tripped), "tripped");
  EXPECT_STREQ(to_string(breaker_state::paused), "paused");
}

TEST(Breaker, WithoutTriggersOnlyAHandOpensIt) {
  breaker b{breaker_settings{}};
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(b.admit(i * 1000));
    b.verified(i * 1000, true);
  }
  EXPECT_EQ(b.state(10 * second), breaker_state::closed);
  EXPECT_EQ(b.trips(), 0u);
  b.pause();
  EXPECT_FALSE(b.admit(11 * second));
}

TEST(Breaker, KeepsItsSettings) {
  breaker_settings settings;
  settings.failure_ratio = 0.25;
  settings.min_verified = 7;
  settings.max_messages = 99;
  settings.window_ns = 3 * second;
  settings.cooldown_ns = 4 * second;
  breaker b(settings);
  EXPECT_EQ(std::memcmp(&b.settings(), &settings, sizeof settings), 0);
}

// Half of 40 failed, with ratio 0.5 and min 20: 20 successes, then failures; 19 of 39 holds, 20 of 40 trips it.
TEST(Breaker, TripsWhenTheFailureRatioIsReached) {
  breaker b(ratio_settings(0.5, 20));
  const std::uint64_t t = 100 * second;
  for (int i = 0; i < 20; ++i) b.verified(t + static_cast<std::uint64_t>(i) * ms, false);
  for (int i = 0; i < 19; ++i) b.verified(t + second + static_cast<std::uint64_t>(i) * ms, true);
  EXPECT_EQ(b.state(t + 2 * second), breaker_state::closed);
  EXPECT_TRUE(b.admit(t + 2 * second));
  b.verified(t + 2 * second, true);
  EXPECT_EQ(b.state(t + 2 * second), breaker_state::tripped);
  EXPECT_FALSE(b.admit(t + 2 * second));
  EXPECT_EQ(b.trips(), 1u);
}

TEST(Breaker, RatioIsNotJudgedBelowMinVerified) {
  breaker b(ratio_settings(0.5, 20));
  for (int i = 0; i < 19; ++i) b.verified(second, true);
  EXPECT_EQ(b.state(second), breaker_state::closed);  // 19 of 19 failed, but only 19 judged
  b.verified(second, true);
  EXPECT_EQ(b.state(second), breaker_state::tripped);

  // Reaching min_verified with a success judges what is there: 10 of 20.
  breaker late(ratio_settings(0.5, 20));
  for (int i = 0; i < 10; ++i) late.verified(second, true);
  for (int i = 0; i < 9; ++i) late.verified(second, false);
  EXPECT_EQ(late.state(second), breaker_state::closed);
  late.verified(second, false);
  EXPECT_EQ(late.state(second), breaker_state::tripped);
}

// 7 of 25 is a ratio of 0.28 exactly, although 0.28 * 25 > 7 in doubles.
TEST(Breaker, RatioIsComparedAsTheQuotientItIs) {
  breaker b(ratio_settings(0.28, 25));
  for (int i = 0; i < 7; ++i) b.verified(second, true);
  for (int i = 0; i < 17; ++i) b.verified(second, false);
  EXPECT_EQ(b.state(second), breaker_state::closed);
  b.verified(second, false);
  EXPECT_EQ(b.state(second), breaker_state::tripped);
}

// max_messages admitted; the one past it trips the breaker and is refused. Spread over 9 s of a 10 s window, so the
// count is carried across sub-windows by their priors.
TEST(Breaker, TripsOnVolumeExactlyAtMaxMessagesPlusOne) {
  breaker b(volume_settings(100));
  const std::uint64_t t = 5 * second;
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(b.admit(t + i * 90 * ms)) << i;
  EXPECT_EQ(b.state(t + 9 * second), breaker_state::closed);
  EXPECT_FALSE(b.admit(t + 9 * second));
  EXPECT_EQ(b.state(t + 9 * second), breaker_state::tripped);
  EXPECT_EQ(b.trips(), 1u);

  breaker at_once(volume_settings(1));
  EXPECT_TRUE(at_once.admit(0));
  EXPECT_FALSE(at_once.admit(0));
  EXPECT_EQ(at_once.trips(), 1u);
}

// An event stays in the window between 15/16 and 16/16 of window_ns (16 sub-windows of 625 ms here).
TEST(Breaker, AdmissionsSlideOutOfTheWindow) {
  // 100 at 0 s are gone at 10 s, not at 9.999 s.
  breaker gone(volume_settings(100));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(gone.admit(0));
  EXPECT_TRUE(gone.admit(10 * second));
  breaker not_yet(volume_settings(100));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(not_yet.admit(0));
  EXPECT_FALSE(not_yet.admit(10 * second - 1));

  // 50 at 0 s and 50 at 5 s: at 10 s the first 50 have left and 50 more fit, not 51.
  breaker half(volume_settings(100));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(half.admit(0));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(half.admit(5 * second));
  EXPECT_FALSE(half.admit(9 * second)) << "all 100 are still in the window";
  breaker half_later(volume_settings(100));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(half_later.admit(0));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(half_later.admit(5 * second));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(half_later.admit(10 * second)) << i;
  EXPECT_FALSE(half_later.admit(10 * second));

  // After a quiet spell the ring still holds sub-windows from long ago, in slots nobody reused: 60 at 1 s are not
  // in the window at 12 s.
  breaker quiet(volume_settings(100));
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(quiet.admit(second));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(quiet.admit(12 * second)) << i;
  EXPECT_FALSE(quiet.admit(12 * second));

  // A steady 8 a second never holds 100 in 10 s; 12 a second does, about 8.4 s in.
  breaker steady(volume_settings(100));
  for (std::uint64_t t = 0; t < 60 * second; t += second / 8) ASSERT_TRUE(steady.admit(t)) << t;
  breaker faster(volume_settings(100));
  std::uint64_t t = 0;
  while (faster.admit(t)) t += second / 12;
  EXPECT_EQ(t, 100 * (second / 12));
}

// With ratio 0.5 and min 20, failures alone trip once 20 are in the window: one every 400 ms gets there, one every
// 600 ms never has more than 17 in 10 s.
TEST(Breaker, OutcomesSlideOutOfTheWindow) {
  breaker sparse(ratio_settings(0.5, 20));
  for (std::uint64_t t = 0; t < 100 * second; t += 600 * ms) {
    sparse.verified(t, true);
    ASSERT_EQ(sparse.state(t), breaker_state::closed) << t;
  }
  breaker dense(ratio_settings(0.5, 20));
  std::uint64_t t = 0;
  for (; dense.state(t) == breaker_state::closed; t += 400 * ms) dense.verified(t, true);
  EXPECT_EQ(t, 20 * 400 * ms);

  // Successes leave as failures do, so a ratio is of the recent window only.
  breaker recent(ratio_settings(1.0 / 3, 20));
  for (int i = 0; i < 40; ++i) recent.verified(0, false);
  for (int i = 0; i < 19; ++i) recent.verified(0, true);            // 19 of 59
  for (int i = 0; i < 40; ++i) recent.verified(5 * second, false);  // 19 of 99
  const std::uint64_t later = 10 * second + 500 * ms;
  for (int i = 0; i < 19; ++i) recent.verified(later, true);  // 19 of 59: those at 0 s have left
  EXPECT_EQ(recent.state(later), breaker_state::closed);
  recent.verified(later, true);  // 20 of 60, where without the slide it would be 39 of 119
  EXPECT_EQ(recent.state(later), breaker_state::tripped);
}

TEST(Breaker, CoolDownClosesItByItselfAtExactlyCooldown) {
  breaker_settings settings = volume_settings(3);
  settings.cooldown_ns = 30 * second;
  breaker b(settings);
  const std::uint64_t t = 7 * second + 123;
  trip_on_volume(b, t);
  const std::uint64_t open_until = t + 30 * second;
  EXPECT_EQ(b.state(open_until - 1), breaker_state::tripped);
  EXPECT_FALSE(b.admit(open_until - 1));
  EXPECT_EQ(b.state(open_until), breaker_state::closed);
  // Closed here, with a fresh window: the 4 admissions before the trip no longer count.
  trip_on_volume(b, open_until);
  EXPECT_EQ(b.trips(), 2u);
  // A caller whose clock read lags the trip is still refused.
  EXPECT_FALSE(b.admit(open_until - 1));
  EXPECT_EQ(b.state(open_until - 1), breaker_state::tripped);
}

TEST(Breaker, CooldownZeroStaysTrippedUntilResumed) {
  breaker_settings settings = ratio_settings(0.5, 1);
  settings.cooldown_ns = 0;
  breaker b(settings);
  b.verified(second, true);
  EXPECT_EQ(b.state(second), breaker_state::tripped);
  EXPECT_FALSE(b.admit(1'000'000 * second));
  EXPECT_EQ(b.state(1'000'000 * second), breaker_state::tripped);
  b.resume(1'000'000 * second);
  EXPECT_EQ(b.state(1'000'000 * second), breaker_state::closed);
  EXPECT_TRUE(b.admit(1'000'000 * second));
  b.verified(1'000'000 * second, false);  // a fresh window: 0 of 1 failed
  EXPECT_EQ(b.state(1'000'000 * second), breaker_state::closed);
  EXPECT_EQ(b.trips(), 1u);
}

TEST(Breaker, PauseAndResumeByHand) {
  breaker_settings settings = volume_settings(5);
  settings.failure_ratio = 0.5;
  settings.min_verified = 1;
  breaker b(settings);
  b.pause();
  EXPECT_EQ(b.state(second), breaker_state::paused);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(b.admit(second));
    b.verified(second, true);  // dropped while open: neither trips nor lingers in the window
  }
  EXPECT_EQ(b.state(second), breaker_state::paused);
  b.resume(2 * second);
  EXPECT_EQ(b.state(2 * second), breaker_state::closed);
  b.verified(2 * second, false);
  EXPECT_EQ(b.state(2 * second), breaker_state::closed);
  trip_on_volume(b, 2 * second);
  EXPECT_EQ(b.trips(), 1u);  // pauses are not trips
}

TEST(Breaker, PauseBeatsCoolDown) {
  breaker_settings settings = volume_settings(1);
  settings.cooldown_ns = 30 * second;
  breaker b(settings);
  trip_on_volume(b, second);
  b.pause();
  EXPECT_FALSE(b.admit(100 * second));
  EXPECT_EQ(b.state(100 * second), breaker_state::paused);
  b.resume(100 * second);
  EXPECT_EQ(b.state(100 * second), breaker_state::closed);
  EXPECT_TRUE(b.admit(100 * second));
}

TEST(Breaker, ResumeStartsAFreshWindowAndLeavesAClosedOneAlone) {
  breaker b(volume_settings(10));
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(b.admit(second));
  b.resume(second);  // closed already: nothing happens, the 9 still count
  EXPECT_TRUE(b.admit(second));
  EXPECT_FALSE(b.admit(second));
  b.resume(2 * second);  // from tripped, before its cool-down
  EXPECT_EQ(b.state(2 * second), breaker_state::closed);
  trip_on_volume(b, 2 * second);

  breaker ratio(ratio_settings(0.5, 20));
  for (int i = 0; i < 19; ++i) ratio.verified(second, true);
  ratio.pause();
  ratio.resume(second + 1);
  ratio.verified(second + 1, true);  // 1 of 1, not 20 of 20
  EXPECT_EQ(ratio.state(second + 1), breaker_state::closed);
}

// A close starts its window after everything counted before it, even when it comes in the same nanosecond (a
// coarse clock), or from a control thread whose clock read lags the data plane's.
TEST(Breaker, WindowIsFreshEvenAtTheSameInstantOrWithALaggingClock) {
  breaker_settings settings = volume_settings(2);
  settings.cooldown_ns = 0;
  breaker b(settings);
  const std::uint64_t t = 5 * second;  // on the sub-window grid, where a window closed at t would begin
  trip_on_volume(b, t);
  b.resume(t);
  trip_on_volume(b, t);
  b.pause();
  b.resume(t - 1);
  trip_on_volume(b, t);
  EXPECT_EQ(b.trips(), 3u);
}

TEST(Breaker, TripsCountsOnlyTripsByItself) {
  breaker_settings settings = volume_settings(2);
  settings.cooldown_ns = second;
  breaker b(settings);
  std::uint64_t t = second;
  for (std::uint64_t round = 1; round <= 5; ++round) {
    trip_on_volume(b, t);
    EXPECT_FALSE(b.admit(t));  // refused while tripped: not another trip
    EXPECT_EQ(b.trips(), round);
    if (round % 2 == 0) {
      b.pause();
      b.resume(t + ms);
      t += 2 * ms;
    } else {
      t += second;  // cool-down
    }
  }
  EXPECT_EQ(b.trips(), 5u);
}

// As many threads as run at once here, 2 to 4: more than the cores would take turns rather than race.
int racing_threads() {
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2u, 4u));
}

// Runs `rounds` rounds on `threads` threads, each round started together (a spinning start line, so that the
// threads overlap on the round's breaker rather than take turns), calling body(thread, round).
template <class Body>
void in_lockstep(int threads, int rounds, Body body) {
  std::atomic<int> arrived{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int round = 0; round < rounds; ++round) {
        arrived.fetch_add(1, std::memory_order_acq_rel);
        for (std::uint32_t spins = 0; arrived.load(std::memory_order_acquire) < threads * (round + 1); ++spins) {
          if (spins % 1024 == 1023) std::this_thread::yield();
        }
        body(t, round);
      }
    });
  }
  for (auto& worker : workers) worker.join();
}

// Threads admitting at one instant against max_messages: exactly max_messages get through, and the breaker trips
// once, although every thread that counts past the limit tries to trip it. (Within one sub-window there is no
// roll-over, so the count is exact under any interleaving.)
TEST(BreakerStress, ConcurrentAdmitsGrantExactlyMaxMessages) {
  const int threads = racing_threads();
  constexpr int rounds = 1000;
  constexpr std::uint64_t max_messages = 1000;
  breaker_settings settings = volume_settings(max_messages);
  settings.cooldown_ns = 0;
  std::vector<std::unique_ptr<breaker>> breakers;
  for (int round = 0; round < rounds; ++round) breakers.push_back(std::make_unique<breaker>(settings));
  std::vector<std::atomic<std::uint64_t>> admitted(rounds);
  in_lockstep(threads, rounds, [&](int, int round) {
    breaker& b = *breakers[static_cast<std::size_t>(round)];
    std::uint64_t mine = 0;
    for (std::uint64_t i = 0; i < 2 * max_messages / static_cast<std::uint64_t>(threads); ++i) {
      mine += b.admit(second + i) ? 1u : 0u;
    }
    admitted[static_cast<std::size_t>(round)].fetch_add(mine, std::memory_order_relaxed);
  });
  for (std::size_t round = 0; round < rounds; ++round) {
    ASSERT_EQ(admitted[round].load(), max_messages) << round;
    ASSERT_EQ(breakers[round]->trips(), 1u) << round;
    ASSERT_EQ(breakers[round]->state(2 * second), breaker_state::tripped) << round;
  }
}

// Threads admitting in step across 15 sub-windows, so that they meet at every roll-over: no count is lost. The limit
// is exactly what they admit, so none is refused; a probe in a 16th sub-window, begun after they finished, sums all
// 15 and must find one too many.
TEST(BreakerStress, RollOversLoseNoCount) {
  const int threads = racing_threads();
  constexpr int rounds = 300;
  constexpr std::uint64_t per_thread = 300;
  constexpr std::uint64_t width = 1000;  // of a sub-window, ns
  breaker_settings settings = volume_settings(per_thread * static_cast<std::uint64_t>(threads));
  settings.window_ns = breaker::sub_windows * width;
  settings.cooldown_ns = 0;
  std::vector<std::unique_ptr<breaker>> breakers;
  for (int round = 0; round < rounds; ++round) breakers.push_back(std::make_unique<breaker>(settings));
  std::vector<std::atomic<std::uint64_t>> admitted(rounds);
  in_lockstep(threads, rounds, [&](int, int round) {
    breaker& b = *breakers[static_cast<std::size_t>(round)];
    std::uint64_t mine = 0;
    for (std::uint64_t i = 0; i < per_thread; ++i) mine += b.admit(second + i * 15 * width / per_thread) ? 1u : 0u;
    admitted[static_cast<std::size_t>(round)].fetch_add(mine, std::memory_order_relaxed);
  });
  for (std::size_t round = 0; round < rounds; ++round) {
    breaker& b = *breakers[round];
    ASSERT_EQ(admitted[round].load(), b.settings().max_messages) << round;
    ASSERT_FALSE(b.admit(second + 15 * width)) << round;
    ASSERT_EQ(b.trips(), 1u) << round;
  }
}

// Threads reporting outcomes at once, every prefix of each thread's half failures: it trips, once, since every trip
// is a compare-exchange from the closed word the decision was made on.
TEST(BreakerStress, ConcurrentFailuresTripOnce) {
  const int threads = racing_threads();
  constexpr int rounds = 1000;
  breaker_settings settings = ratio_settings(0.5, 20);
  settings.cooldown_ns = 0;
  std::vector<std::unique_ptr<breaker>> breakers;
  for (int round = 0; round < rounds; ++round) breakers.push_back(std::make_unique<breaker>(settings));
  in_lockstep(threads, rounds, [&](int, int round) {
    breaker& b = *breakers[static_cast<std::size_t>(round)];
    for (std::uint64_t i = 0; i < 200; ++i) b.verified(second + i, i % 2 == 0);
  });
  for (std::size_t round = 0; round < rounds; ++round) {
    ASSERT_EQ(breakers[round]->trips(), 1u) << round;
    ASSERT_EQ(breakers[round]->state(second), breaker_state::tripped) << round;
  }
}

// Data-plane threads admit and report outcomes on a shared fake clock, tripping on both triggers and closing after
// short cool-downs, while the control thread pauses and resumes. A handshake makes "paused" observable: the control
// thread pauses, then announces an odd epoch; each data thread records the last epoch it finished a call in; the
// control thread resumes only once every data thread has moved on to the next (even) epoch. So a call made after
// reading an odd epoch ran entirely between pause() and resume(), and must be refused: neither a trip, nor a
// cool-down, nor a roll-over may undo a pause.
TEST(BreakerStress, PauseHoldsWhileAdmitsTripsAndCoolDownsRace) {
  constexpr int data_threads = 3;
  constexpr int rounds = 200;
  breaker_settings settings;
  settings.failure_ratio = 0.4;
  settings.min_verified = 20;
  settings.max_messages = 300;
  settings.window_ns = 1 * ms;
  settings.cooldown_ns = 50'000;
  breaker b(settings);

  std::atomic<std::uint64_t> clock{second};  // each call moves it on 100 ns
  std::atomic<std::uint64_t> epoch{0};       // odd: paused
  std::array<std::atomic<std::uint64_t>, data_threads> finished_in{};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> admitted_while_paused{0};
  std::atomic<std::uint64_t> calls_while_paused{0};
  std::atomic<std::uint64_t> admitted{0};

  std::vector<std::thread> workers;
  for (int t = 0; t < data_threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::uint32_t>(t));
      std::bernoulli_distribution fails(0.3);
      std::uint64_t mine = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // A1: pairs with R1/R2 in the control thread: a pause() (or resume()) before the epoch is seen by admit().
        const std::uint64_t e = epoch.load(std::memory_order_acquire);
        const std::uint64_t now = clock.fetch_add(100, std::memory_order_relaxed);
        const bool ok = b.admit(now);
        b.verified(now, fails(random));
        if (e % 2 == 1) {
          calls_while_paused.fetch_add(1, std::memory_order_relaxed);
          if (ok) admitted_while_paused.fetch_add(1, std::memory_order_relaxed);
        }
        mine += ok ? 1u : 0u;
        // Now and then let the control thread (and a data thread waiting for a core) run: the handshake needs every
        // thread to make a call, and on a machine with fewer cores than threads a spinning thread would hold its
        // core for a whole time slice.
        if (now % 6400 == 0) std::this_thread::yield();
        // R3: the calls above are done; pairs with A3 in the control thread.
        finished_in[static_cast<std::size_t>(t)].store(e, std::memory_order_release);
      }
      admitted.fetch_add(mine, std::memory_order_relaxed);
    });
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto all_finished_in = [&](std::uint64_t e) {
    for (const auto& f : finished_in) {
      // A3: pairs with R3: that thread's calls under epoch e (or later) are over.
      while (f.load(std::memory_order_acquire) < e) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
      }
    }
    return true;
  };
  std::uint64_t trips_seen = 0;
  bool in_time = true;
  for (std::uint64_t round = 0; round < rounds && in_time; ++round) {
    const std::uint64_t e = 2 * round;
    // Let the data plane run (and trip, and cool down) for a while.
    in_time = all_finished_in(e);
    for (int i = 0; i < 20; ++i) std::this_thread::yield();
    b.pause();
    // R1: publishes the pause; pairs with A1.
    epoch.store(e + 1, std::memory_order_release);
    in_time = in_time && all_finished_in(e + 1);
    EXPECT_EQ(b.state(clock.load(std::memory_order_relaxed)), breaker_state::paused);
    // R2: pairs with A1: from here on data threads stop expecting refusals.
    epoch.store(e + 2, std::memory_order_release);
    in_time = in_time && all_finished_in(e + 2);
    b.resume(clock.load(std::memory_order_relaxed));
    const std::uint64_t trips = b.trips();
    EXPECT_GE(trips, trips_seen);
    trips_seen = trips;
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& worker : workers) worker.join();

  EXPECT_TRUE(in_time) << "a data thread stopped making progress";
  EXPECT_EQ(admitted_while_paused.load(), 0u);
  EXPECT_GT(calls_while_paused.load(), 0u);
  EXPECT_GT(b.trips(), 0u);
  EXPECT_GT(admitted.load(), 0u);
  const breaker_state last = b.state(clock.load());
  EXPECT_TRUE(last == breaker_state::closed || last == breaker_state::tripped) << to_string(last);
  b.resume(clock.load());
  EXPECT_TRUE(b.admit(clock.load()));
  RecordProperty("trips", static_cast<int>(b.trips()));
}

}  // namespace
}  // namespace ferry::dp
