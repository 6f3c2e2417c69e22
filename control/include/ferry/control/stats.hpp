#pragma once
// Counters as the control API shows them (JSON) and as people read them (the summary ferryd prints when it stops
// and `ferryctl stats` prints).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/dataplane/counters.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// One stage's counters as reported: for a stage, rx is what it took in and forwarded what it passed on.
struct stage_stats {
  std::string name;  // rtc, io0, verify0, route0, ...
  std::optional<unsigned> cpu;
  dp::counter_values counters;
  std::uint64_t ring_waiting = 0;  // descriptors in its input rings when read
};

// One route's counters (kept across reloads while the route keeps its name) and its breaker.
struct route_stats {
  std::string name;
  std::uint64_t matched = 0;             // messages the route was chosen for (route stage)
  std::uint64_t forwarded = 0;           // of those, handed to the backend
  std::uint64_t rate_limited = 0;        // dropped as rate_limited_route
  std::uint64_t breaker_open = 0;        // dropped as breaker_open
  std::uint64_t dropped_by_action = 0;   // dropped as route_drop (action = "drop")
  std::uint64_t verify_failed = 0;       // messages for this route that failed verification
  std::uint64_t verified = 0;            // messages for this route that passed verification
  std::string breaker = "closed";        // "closed", "tripped" (by itself) or "paused" (by hand)
  std::uint64_t trips = 0;               // times the breaker tripped by itself
};

// One named peer's counters.
struct peer_stats {
  std::string name;
  std::uint64_t rx = 0;            // messages received from it (io stage)
  std::uint64_t rate_limited = 0;  // of those, dropped as rate_limited_peer
  std::uint64_t bad_mac = 0;       // of those, dropped as bad_mac (a datagram counts as one)
};

// Which key sets the router verifies against now (indices and sizes: never key material).
struct key_set_stats {
  std::optional<std::uint32_t> wormhole_current;  // the current guardian set's index
  std::size_t wormhole_sets = 0;
  std::size_t hyperlane_origins = 0;
  std::size_t layerzero_paths = 0;
  std::size_t quorum_sets = 0;
  std::uint64_t guardian_set_upgrades = 0;  // applied from upgrade VAAs seen in the data plane
};

struct router_stats {
  dp::counter_values total;
  std::vector<stage_stats> stages;
  std::vector<route_stats> routes;
  std::vector<peer_stats> peers;
  key_set_stats keys;
  std::uint64_t snapshots_published = 0;  // configuration generations since start (1: the first)
  std::uint64_t snapshots_retired = 0;    // old snapshots waiting for every stage to pass a quiescent point
  // The replay windows (dp::replay_windows): channels held, room for them, channels evicted to make room.
  std::uint64_t replay_channels = 0, replay_capacity = 0, replay_evictions = 0;
};

// {"rx": N, "forwarded": N, "drops": {"<reason>": N, ...}, "stages": [{"name": "io0", "cpu": 0, "rx": N,
//  "forwarded": N, "drops": {...}, "ring_high_water": N, "busy_polls": N, "idle_polls": N, "rx_datagrams": N,
//  "rx_bytes": N, "tx_datagrams": N, "tx_bytes": N, "rx_lost": N, "rx_ignored": N}, ...]}
// with every drop reason present; "stages" only when there are some.
std::string stats_json(const router_stats& stats);

// The inverse of stats_json(); fails on a document that is not one.
platform::result<router_stats> stats_from_json(const std::string& json);

// A few aligned lines: received, forwarded, dropped by reason, and rates when `seconds` > 0; then, when there are
// stages, one line each.
std::string format_summary(const router_stats& stats, double seconds);

}  // namespace ferry::ctl
