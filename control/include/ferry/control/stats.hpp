#pragma once
// Counters as the control API shows them (JSON) and as people read them (the summary ferryd prints when it stops
// and `ferryctl stats` prints).

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
};

struct router_stats {
  dp::counter_values total;
  std::vector<stage_stats> stages;
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
