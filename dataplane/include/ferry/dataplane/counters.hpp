#pragma once
// Per-stage counters: written by their stage only, read by the control plane without locks.
//
// Accounting is exact: every message received leaves as forwarded or as a drop with a reason, so that
// rx == forwarded + sum(drops). A datagram rejected whole (not a frame, or a frame with a bad length) counts as one
// message received and one dropped, since its messages cannot be told apart.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ferry/platform/cpu.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/verdict.hpp"

namespace ferry::dp {

enum class drop_reason : std::uint8_t {
  malformed,            // not a valid frame, or a message (or its proof) its kind's parser rejects
  unsupported_version,  // a frame version this build does not read
  unknown_kind,         // a message kind this build does not know
  oversize,             // a datagram larger than the receive buffer
  bad_signature,        // a signature that recovers to no key, or not to the key it must (verify::verdict)
  no_quorum,            // too few distinct signers, in the order the protocol requires
  unknown_key_set,      // no key set configured for the guardian set, origin, path or id the message names
  expired_key_set,      // the key set the message names has expired
  duplicate,            // a byte-identical copy of a message already verified (and passed on) by its verify stage
  queue_full,           // the ring to its verify stage was full: dropped at once rather than block receiving
  no_route,             // no route matches the message
  tx_error,             // the backend refused to send the frame carrying it
  rate_limited_peer,    // over its peer's token bucket (before verification, so a flood costs no crypto)
  rate_limited_route,   // over its route's token bucket (after verification)
  breaker_open,         // its route's circuit breaker is open: tripped by itself, or paused by hand
  route_drop,           // its route says drop
  bad_mac,              // a frame from a peer with link keys without a tag by one of them (the whole datagram)
  replay,               // a message whose channel and sequence were forwarded before (replay_windows.hpp)
};

inline constexpr std::size_t drop_reason_count = 18;

// Message latency inside ferry, from receive to hand-off to the backend, in buckets whose upper bounds are
// 2^i microseconds (1 us .. 32.8 ms), the last one unbounded.
inline constexpr std::size_t latency_bucket_count = 17;
inline constexpr std::size_t latency_bucket(std::uint64_t ns) noexcept {
  std::size_t b = 0;
  for (std::uint64_t bound = 1000; b + 1 < latency_bucket_count && ns > bound; bound <<= 1) ++b;
  return b;
}

const char* to_string(drop_reason reason) noexcept;

// Plain tallies: a burst's worth kept by a stage before publishing, or a reader's copy. For one stage of a staged
// pipeline, rx counts the messages it took in and forwarded those it passed on (io: to a verify stage, verify: to a
// route stage, route: to the backend), so that rx == forwarded + dropped() holds per stage as for the whole.
struct counter_values {
  std::uint64_t rx = 0;         // messages received (see the accounting rule above)
  std::uint64_t forwarded = 0;  // messages passed on: handed to the backend for their next hop
  std::array<std::uint64_t, drop_reason_count> drops{};
  std::uint64_t rx_datagrams = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_datagrams = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t busy_polls = 0;  // polls that found work
  std::uint64_t idle_polls = 0;  // polls that found none
  std::uint64_t rx_lost = 0;     // running total: datagrams lost below ferry (socket buffer full, NIC missed, ...)
  std::uint64_t rx_ignored = 0;  // running total: packets on a DPDK port that were not datagrams for ferry
  std::uint64_t ring_high_water = 0;  // most descriptors seen waiting in one of the stage's input rings
  std::uint64_t copies = 0;           // extra copies sent by routes that replicate (not counted as forwarded)
  std::uint64_t copy_errors = 0;      // extra copies the backend refused
  // Verifier outcomes by kind (index: wire value - 1) and verdict: what the crypto concluded, before it became a
  // drop reason or a pass.
  std::array<std::array<std::uint64_t, verify::verdict_count>, verify::message_kind_count> verdicts{};
  std::array<std::uint64_t, latency_bucket_count> latency{};  // messages per latency_bucket()
  std::uint64_t latency_sum_ns = 0;

  void verdict(verify::message_kind kind, verify::verdict v) noexcept {
    verdicts[static_cast<std::size_t>(kind) - 1][static_cast<std::size_t>(v)] += 1;
  }

  void drop(drop_reason reason, std::uint64_t n = 1) noexcept { drops[static_cast<std::size_t>(reason)] += n; }
  std::uint64_t dropped() const noexcept;
  counter_values& operator+=(const counter_values& other) noexcept;
};

// A counter with one writer: an increment is a plain load and store (no locked instruction), still a data-race-
// free read for other threads.
class single_writer_counter {
 public:
  void add(std::uint64_t n) noexcept { _value.store(_value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(std::uint64_t v) noexcept { _value.store(v, std::memory_order_relaxed); }
  std::uint64_t load() const noexcept { return _value.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> _value{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "counters rely on lock-free 64-bit atomics");
};

class alignas(platform::cache_line) stage_counters {
 public:
  // Stage only: adds a burst's tallies (rx_lost and rx_ignored are running totals and replace the last ones;
  // ring_high_water replaces the last one when higher).
  // rx is published last, so a concurrent reader never sees more received than accounted for.
  void publish(const counter_values& burst) noexcept;

  // Any thread. Exact once the stage is idle; while it runs, each field is a recent value.
  counter_values read() const noexcept;

 private:
  single_writer_counter _forwarded;
  std::array<single_writer_counter, drop_reason_count> _drops;
  single_writer_counter _rx_datagrams, _rx_bytes, _tx_datagrams, _tx_bytes, _busy_polls, _idle_polls;
  single_writer_counter _rx_lost, _rx_ignored, _ring_high_water, _copies, _copy_errors, _latency_sum_ns;
  std::array<std::array<single_writer_counter, verify::verdict_count>, verify::message_kind_count> _verdicts;
  std::array<single_writer_counter, latency_bucket_count> _latency;
  std::atomic<std::uint64_t> _rx{0};
};

}  // namespace ferry::dp
