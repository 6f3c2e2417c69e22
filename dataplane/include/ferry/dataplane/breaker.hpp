#pragma once
// A route's circuit breaker: trips by itself when too many of the route's messages fail verification or too many take
// it, closes by itself after a cool-down, and can be paused (opened) and resumed by hand. Shared without locks by the
// verify stages (which report outcomes), the route stages (which ask admit() per message) and the control thread.
//
// State machine: one atomic word holds the state and a time (closed: when its window started, 1 ns after the call
// that closed it; tripped: when it tripped, or when its window started if that is later; paused: the time it had
// before). The time only grows. Every transition by
// the data plane is a compare-exchange from the exact word it judged, so a decision made on an old window can never
// trip a breaker that closed afresh since, and a pause is never undone by a cool-down or a trip.
//
// Window: a ring of 16 sub-windows of window_ns / 16, on a grid that starts when the breaker closed. Each holds its
// start time (the tag), running counters, their values when it began (its base: counters are never zeroed, so that a
// late thread cannot erase what others counted), and the totals of the 15 sub-windows before it as they stood then
// (its prior). A window total is then prior + (counter - base): a few loads, no summing on the hot path. The first
// writer to find a slot holding an older sub-window claims it with a compare-exchange on the tag, sums the other 15
// once, and publishes the new tag; writers arriving meanwhile wait a few microseconds at most, then count without
// judging. Sub-windows of a previous closed spell are told apart by their tag (at or before the close), so closing
// needs no clean-up. An event stays in the window between 15/16 and 16/16 of window_ns.
//
// What is approximate (a breaker judges thousands of messages; the state machine above is exact whatever happens
// here, and no event is ever lost from the counters):
// - Calls that meet a roll-over still in progress after their short wait (its thread lost the CPU) are counted but
//   not judged: a trip may come a few messages late.
// - A thread still counting into the previous sub-window just after the roll-over is missing from the new one's
//   prior, so the current total can fall short by those few events until the next sub-window begins.
// - A thread that read the state before a trip and a close and counts after them puts that one event in the new
//   window.
// - A sub-window's counters are 32-bit: it counts correctly up to 2^32 - 1 events (4 billion in window_ns / 16).

#include <array>
#include <atomic>
#include <cstdint>

#include "ferry/platform/cpu.hpp"

namespace ferry::dp {

struct breaker_settings {
  double failure_ratio = 0;            // trip when failed / verified in the window reaches this; 0: off
  std::uint32_t min_verified = 20;     // the ratio is judged only once this many outcomes are in the window
  std::uint64_t max_messages = 0;      // trip when more than this many messages were admitted in the window; 0: off
  std::uint64_t window_ns = 10'000'000'000;    // sliding window; at least 16 ns to mean what it says
  std::uint64_t cooldown_ns = 30'000'000'000;  // closes by itself this long after tripping; 0: only by hand
};

enum class breaker_state : std::uint8_t {
  closed,   // admits
  tripped,  // open by itself until its cool-down passes (or resume())
  paused,   // open by hand until resume()
};

const char* to_string(breaker_state state) noexcept;  // "closed", "tripped", "paused"

// Times (now_ns) are from one monotonic ns clock shared by all callers, below 2^62 (146 years); a call with an
// older time than another's (a thread that read the clock, then lost the CPU) is judged as of the time it gives.
class breaker {
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the breaker relies on lock-free 64-bit atomics");

 public:
  static constexpr std::uint32_t sub_windows = 16;

  explicit breaker(const breaker_settings& settings) noexcept;

  breaker(const breaker&) = delete;
  breaker& operator=(const breaker&) = delete;

  // Data plane, any thread: may a message take the route now? False while the breaker is open (paused, or tripped
  // less than cooldown_ns ago); a tripped breaker whose cool-down has passed closes here, with a fresh window, and
  // admits. With max_messages set, an admitted message counts toward it, and the one that passes it trips the
  // breaker and is refused too.
  // Cost: one load of the state word when max_messages is off; with it on, also a division, three loads and one
  // relaxed fetch_add on the current sub-window's line (plus a sum of the other 15 once a sub-window).
  bool admit(std::uint64_t now_ns) noexcept;

  // Data plane, any thread: one verification outcome of a message this route would take; may trip on the ratio.
  // Outcomes reported while the breaker is open are dropped (it closes with a fresh window anyway).
  // Cost: nothing with failure_ratio off; else about what admit() costs, plus a division on a failure.
  void verified(std::uint64_t now_ns, bool failed) noexcept;

  // Control plane, any thread.
  void pause() noexcept;  // open by hand until resume(); beats a trip and a cool-down
  // Close, from paused or tripped, with a fresh window starting just after now_ns. Does nothing to a closed breaker.
  void resume(std::uint64_t now_ns) noexcept;
  breaker_state state(std::uint64_t now_ns) const noexcept;  // tripped reads as closed once its cool-down passed
  std::uint64_t trips() const noexcept;  // times it tripped by itself
  const breaker_settings& settings() const noexcept { return _settings; }

 private:
  // One sub-window, on its own line: during its time every counting thread writes it.
  struct alignas(platform::cache_line) sub_window {
    std::atomic<std::uint64_t> tag{0};  // its start time + 1 (| busy while being rolled over); 0: never used
    std::atomic<std::uint64_t> prior_admitted{0};  // in the 15 sub-windows before it, as they stood when it began
    std::atomic<std::uint64_t> prior_verified{0};
    std::atomic<std::uint64_t> prior_failed{0};
    std::atomic<std::uint32_t> admitted{0};  // running counters, wrapping; this sub-window's count is counter - base
    std::atomic<std::uint32_t> verified{0};
    std::atomic<std::uint32_t> failed{0};
    std::atomic<std::uint32_t> base_admitted{0};  // the counters when it began
    std::atomic<std::uint32_t> base_verified{0};
    std::atomic<std::uint32_t> base_failed{0};
  };
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "the breaker relies on lock-free 32-bit atomics");

  // The sub-window holding now_ns in the closed spell that began at `since`, rolled over first if its slot holds an
  // older one. `ready` is false when another thread's roll-over of it was still unfinished after a short wait: the
  // caller counts in it but must not judge (its base and prior are not there yet).
  sub_window& current(std::uint64_t now_ns, std::uint64_t since, bool& ready) noexcept;
  // Moves `closed_word` (the closed state a decision was made on) to tripped at now_ns, unless it changed since.
  void trip(std::uint64_t closed_word, std::uint64_t now_ns) noexcept;

  // Read by every call, written only on a transition: kept apart from the sub-windows, which are written per message.
  alignas(platform::cache_line) const breaker_settings _settings;
  const std::uint64_t _width;          // of a sub-window, ns (>= 1)
  std::atomic<std::uint64_t> _state;   // (time << 2) | state
  std::atomic<std::uint64_t> _trips{0};
  std::array<sub_window, sub_windows> _ring;
};

}  // namespace ferry::dp
