#include "ferry/dataplane/breaker.hpp"

#include <algorithm>

namespace ferry::dp {

// The state word's memory orders are all relaxed: it guards no other data (a fresh window is told apart by the time
// in the word, not by anything written before it), and its transitions are compare-exchanges on the one word, whose
// single modification order is all the state machine needs. The sub-windows pair their own acquires and releases.
namespace {

constexpr std::uint64_t state_bits = 2;
constexpr std::uint64_t state_mask = (std::uint64_t{1} << state_bits) - 1;

constexpr std::uint64_t make_word(breaker_state state, std::uint64_t ns) noexcept {
  return (ns << state_bits) | static_cast<std::uint64_t>(state);
}
constexpr breaker_state state_of(std::uint64_t word) noexcept { return static_cast<breaker_state>(word & state_mask); }
constexpr std::uint64_t time_of(std::uint64_t word) noexcept { return word >> state_bits; }

// The closed word that ends `word` at now_ns. Its window starts just after both now_ns and the time in `word`, so
// that the times in the word only grow (no closed word repeats: a compare-exchange cannot mistake an old spell for
// the new one) and every sub-window tagged in an earlier spell, even at now_ns itself, is at or before it.
constexpr std::uint64_t closing(std::uint64_t word, std::uint64_t now_ns) noexcept {
  return make_word(breaker_state::closed, std::max(now_ns, time_of(word)) + 1);
}

// A tripped word whose cool-down has passed at now_ns. A caller whose clock reads before the trip is still in it.
constexpr bool cooled_down(std::uint64_t word, std::uint64_t now_ns, std::uint64_t cooldown_ns) noexcept {
  const std::uint64_t tripped_at = time_of(word);
  return cooldown_ns != 0 && now_ns >= tripped_at && now_ns - tripped_at >= cooldown_ns;
}

// Events counted in a sub-window, from one of its counters (as read, or as a fetch_add left it) and its base.
std::uint32_t since_base(std::uint32_t counter, const std::atomic<std::uint32_t>& base) noexcept {
  return static_cast<std::uint32_t>(counter - base.load(std::memory_order_relaxed));  // wraps, as the counter does
}

}  // namespace

const char* to_string(breaker_state state) noexcept {
  switch (state) {
    case breaker_state::closed: return "closed";
    case breaker_state::tripped: return "tripped";
    case breaker_state::paused: return "paused";
  }
  return "unknown";
}

breaker::breaker(const breaker_settings& settings) noexcept
    : _settings(settings),
      _width(std::max<std::uint64_t>(settings.window_ns / sub_windows, 1)),
      _state(make_word(breaker_state::closed, 0)) {}

bool breaker::admit(std::uint64_t now_ns) noexcept {
  std::uint64_t word = _state.load(std::memory_order_relaxed);
  while (state_of(word) != breaker_state::closed) {
    if (state_of(word) == breaker_state::paused || !cooled_down(word, now_ns, _settings.cooldown_ns)) return false;
    // Cooled down: whoever gets here first closes it, with a fresh window; the others see its word and go round.
    const std::uint64_t closed = closing(word, now_ns);
    if (_state.compare_exchange_weak(word, closed, std::memory_order_relaxed, std::memory_order_relaxed)) {
      word = closed;
    }
  }
  if (_settings.max_messages == 0) return true;
  bool ready = false;
  sub_window& window = current(now_ns, time_of(word), ready);
  const std::uint32_t counter = window.admitted.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!ready) return true;
  const std::uint64_t in_window =
      window.prior_admitted.load(std::memory_order_relaxed) + since_base(counter, window.base_admitted);
  if (in_window <= _settings.max_messages) return true;
  trip(word, now_ns);
  return false;
}

void breaker::verified(std::uint64_t now_ns, bool failed) noexcept {
  if (!(_settings.failure_ratio > 0)) return;
  const std::uint64_t word = _state.load(std::memory_order_relaxed);
  if (state_of(word) != breaker_state::closed) return;
  bool ready = false;
  sub_window& window = current(now_ns, time_of(word), ready);
  const std::uint32_t verified_counter = window.verified.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::uint32_t failed_counter = failed ? window.failed.fetch_add(1, std::memory_order_relaxed) + 1 : 0;
  if (!ready) return;
  const std::uint64_t outcomes =
      window.prior_verified.load(std::memory_order_relaxed) + since_base(verified_counter, window.base_verified);
  // Only a failure raises the ratio, and only reaching min_verified starts judging it: any other success leaves the
  // verdict as the last outcome left it.
  if (outcomes < _settings.min_verified || (!failed && outcomes != _settings.min_verified)) return;
  const std::uint32_t failures_counter = failed ? failed_counter : window.failed.load(std::memory_order_relaxed);
  const std::uint64_t failures =
      window.prior_failed.load(std::memory_order_relaxed) + since_base(failures_counter, window.base_failed);
  // A quotient, not failures >= ratio * outcomes: 7 of 25 must reach a ratio of 0.28, and 0.28 * 25 > 7 in doubles.
  if (static_cast<double>(failures) / static_cast<double>(outcomes) >= _settings.failure_ratio) trip(word, now_ns);
}

void breaker::pause() noexcept {
  // Keeps the time in the word, so that the next window still starts after everything counted in the last one.
  std::uint64_t word = _state.load(std::memory_order_relaxed);
  while (!_state.compare_exchange_weak(word, make_word(breaker_state::paused, time_of(word)),
                                       std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
}

void breaker::resume(std::uint64_t now_ns) noexcept {
  std::uint64_t word = _state.load(std::memory_order_relaxed);
  while (state_of(word) != breaker_state::closed) {
    if (_state.compare_exchange_weak(word, closing(word, now_ns), std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
}

breaker_state breaker::state(std::uint64_t now_ns) const noexcept {
  const std::uint64_t word = _state.load(std::memory_order_relaxed);
  if (state_of(word) == breaker_state::tripped && cooled_down(word, now_ns, _settings.cooldown_ns)) {
    return breaker_state::closed;
  }
  return state_of(word);
}

std::uint64_t breaker::trips() const noexcept { return _trips.load(std::memory_order_relaxed); }

void breaker::trip(std::uint64_t closed_word, std::uint64_t now_ns) noexcept {
  // Not before the window began, for a caller whose clock read lags the close.
  const std::uint64_t tripped = make_word(breaker_state::tripped, std::max(now_ns, time_of(closed_word)));
  if (_state.compare_exchange_strong(closed_word, tripped, std::memory_order_relaxed, std::memory_order_relaxed)) {
    _trips.fetch_add(1, std::memory_order_relaxed);
  }
}

breaker::sub_window& breaker::current(std::uint64_t now_ns, std::uint64_t since, bool& ready) noexcept {
  // Set in a tag while its slot is being rolled over. Tags are times + 1 < 2^62, so it is free.
  constexpr std::uint64_t busy = std::uint64_t{1} << 63;
  // How long a caller waits for another's roll-over: a few microseconds, several times what one takes (16 lines read,
  // 7 written), and short enough that a roll-over thread losing the CPU costs only judgement, never a stall.
  constexpr std::uint32_t max_waits = 256;

  // Before `since` only for a caller whose clock read lags the close: it counts in the first sub-window.
  const std::uint64_t index = (now_ns > since ? now_ns - since : 0) / _width;
  const std::uint64_t tag = since + index * _width + 1;
  sub_window& window = _ring[index % sub_windows];
  // A1: pairs with R1 below, in whichever thread rolled the slot over: sees the base and prior it published.
  std::uint64_t seen = window.tag.load(std::memory_order_acquire);
  for (std::uint32_t waits = 0;;) {
    if ((seen & busy) != 0) {
      ready = false;
      if ((seen & ~busy) > tag || ++waits > max_waits) return window;
      platform::cpu_relax();
      seen = window.tag.load(std::memory_order_acquire);  // A1
      continue;
    }
    // A newer tag than ours is a caller lagging a whole ring behind: it counts there rather than undo the roll-over.
    if (seen >= tag) {
      ready = true;
      return window;
    }
    // Ours to roll over. The counters are read before the claim, so every event counted after it (by a thread that
    // waited on it, or was too late for the old sub-window) falls in the new one.
    const std::uint32_t admitted = window.admitted.load(std::memory_order_relaxed);
    const std::uint32_t verified = window.verified.load(std::memory_order_relaxed);
    const std::uint32_t failed = window.failed.load(std::memory_order_relaxed);
    // R2: the claim; pairs with A1 in a waiter, which then counts only after the reads above, so its count cannot
    // leak into the base.
    if (!window.tag.compare_exchange_weak(seen, tag | busy, std::memory_order_acq_rel, std::memory_order_acquire)) {
      continue;
    }
    std::uint64_t prior_admitted = 0, prior_verified = 0, prior_failed = 0;
    for (const sub_window& other : _ring) {
      // A2: pairs with R1: the base read after the tag is the one published with it.
      const std::uint64_t other_tag = other.tag.load(std::memory_order_acquire);
      // The 15 sub-windows before this one, in this closed spell (tags after `since`; this slot is busy now).
      if ((other_tag & busy) != 0 || other_tag <= since || other_tag >= tag ||
          tag - other_tag >= sub_windows * _width) {
        continue;
      }
      // Acquire, so that the second look at the tag below stays after these reads (a seqlock's check; a fence would
      // do too, but GCC's ThreadSanitizer refuses fences). A3: pairs with R3, for a base stored by a later claim.
      const auto counted = [](const std::atomic<std::uint32_t>& counter, const std::atomic<std::uint32_t>& base) {
        const std::uint32_t value = counter.load(std::memory_order_acquire);
        return static_cast<std::uint32_t>(value - base.load(std::memory_order_acquire));
      };
      const std::uint32_t admitted_there = counted(other.admitted, other.base_admitted);
      const std::uint32_t verified_there = counted(other.verified, other.base_verified);
      const std::uint32_t failed_there = counted(other.failed, other.base_failed);
      // A caller lagging a ring behind may have claimed that slot for a newer sub-window while we read it.
      if (other.tag.load(std::memory_order_relaxed) != other_tag) continue;
      prior_admitted += admitted_there;
      prior_verified += verified_there;
      prior_failed += failed_there;
    }
    // R3: after the claim, so a reader of a base stored here (A3) sees the slot's tag changed; pairs with A3.
    window.base_admitted.store(admitted, std::memory_order_release);
    window.base_verified.store(verified, std::memory_order_release);
    window.base_failed.store(failed, std::memory_order_release);
    window.prior_admitted.store(prior_admitted, std::memory_order_relaxed);
    window.prior_verified.store(prior_verified, std::memory_order_relaxed);
    window.prior_failed.store(prior_failed, std::memory_order_relaxed);
    // R1: publishes the base and prior above with the tag; pairs with A1 and A2.
    window.tag.store(tag, std::memory_order_release);
    ready = true;
    return window;
  }
}

}  // namespace ferry::dp
