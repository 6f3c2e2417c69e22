#pragma once
// ferryd's message counters as its control socket serves them (GET /stats), read before and after a run so that
// the report can say what ferryd did with the run's messages: how many it received, forwarded and dropped, by reason.
// Reasons are taken as ferryd names them, so the report follows whatever reasons the ferryd under test has.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ferry/platform/result.hpp"

namespace ferry::loadgen {

struct ferry_counters {
  std::uint64_t rx = 0;
  std::uint64_t forwarded = 0;
  std::vector<std::pair<std::string, std::uint64_t>> drops;  // in ferryd's order

  std::uint64_t dropped() const noexcept;
};

// Asks the ferryd serving `socket_path` for its counters; fails saying why (not running, not answering, not JSON).
platform::result<ferry_counters> read_ferry_counters(const std::string& socket_path);

// What `after` counted since `before` (a reason `before` lacks counts from 0).
ferry_counters since(const ferry_counters& before, const ferry_counters& after);

}  // namespace ferry::loadgen
