#pragma once
// ferryd's counters for Prometheus: the text that GET /metrics serves. The families and how they relate are in
// docs/metrics.md.

#include <string>
#include <string_view>

#include "ferry/control/stats.hpp"

namespace ferry::ctl {

// What the /metrics response declares as its Content-Type.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

// The router's counters in Prometheus text format 0.0.4, families in a fixed order, every family with its HELP and
// TYPE lines, label values escaped (and invalid UTF-8 in them replaced by U+FFFD, so one odd name cannot make the
// whole page unreadable). Every drop reason and every verifier outcome is present, zeros too, so series do not
// come and go. `stats` is assumed to name each stage, route and peer once; `uptime_seconds` is the time since
// ferryd started. Costs one string of a few hundred bytes per stage.
std::string prometheus_text(const router_stats& stats, double uptime_seconds);

}  // namespace ferry::ctl
