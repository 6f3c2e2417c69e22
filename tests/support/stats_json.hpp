#pragma once
// Checks on ferryd's counters as `ferryctl stats --json` reports them.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ferry::testing {

// The sum of the counts of a "drops" object (reason -> count), the whole router's or a stage's.
inline std::uint64_t total_drops(const nlohmann::json& drops) {
  std::uint64_t total = 0;
  for (const auto& [reason, count] : drops.items()) total += count.get<std::uint64_t>();
  return total;
}

// Each stage in `stats` balances (rx == forwarded + sum(drops)), and the stages took in the `messages` sent between
// them. `layout` is ferryd's [dataplane] layout: "staged", where the io stages take the messages in and each kind of
// stage passes on what the next takes in (io -> verify -> route); otherwise run to completion, where the rtc stages
// take them in.
inline void expect_stages_account_for(const nlohmann::json& stats, std::uint64_t messages, std::string_view layout) {
  std::map<std::string, std::uint64_t> in, out;  // by kind of stage: its name without the number
  for (const auto& stage : stats["stages"]) {
    const std::string name = stage["name"];
    EXPECT_EQ(stage["rx"].get<std::uint64_t>(), stage["forwarded"].get<std::uint64_t>() + total_drops(stage["drops"]))
        << name;
    const std::string kind = name.substr(0, name.find_first_of("0123456789"));
    in[kind] += stage["rx"].get<std::uint64_t>();
    out[kind] += stage["forwarded"].get<std::uint64_t>();
  }
  if (layout == "staged") {
    EXPECT_EQ(in["io"], messages) << stats.dump();
    EXPECT_EQ(out["io"], in["verify"]) << stats.dump();
    EXPECT_EQ(out["verify"], in["route"]) << stats.dump();
  } else {
    EXPECT_EQ(in["rtc"], messages) << stats.dump();
  }
}

}  // namespace ferry::testing
