#pragma once
// Counters as the control API shows them (JSON) and as people read them (the summary ferryd prints when it stops
// and `ferryctl stats` prints).

#include <string>

#include "ferry/dataplane/counters.hpp"
#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// {"rx": N, "forwarded": N, "drops": {"<reason>": N, ...}} with every drop reason present.
std::string stats_json(const dp::counter_values& counters);

// The inverse of stats_json(); fails on a document that is not one.
platform::result<dp::counter_values> counters_from_json(const std::string& json);

// A few aligned lines: received, forwarded, dropped by reason, and rates when `seconds` > 0.
std::string format_summary(const dp::counter_values& counters, double seconds);

}  // namespace ferry::ctl
