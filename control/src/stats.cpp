#include "ferry/control/stats.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ferry::ctl {

namespace {

nlohmann::ordered_json drops_json(const dp::counter_values& counters) {
  nlohmann::ordered_json drops = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    drops[dp::to_string(static_cast<dp::drop_reason>(i))] = counters.drops[i];
  }
  return drops;
}

bool count(const nlohmann::json& object, const char* key, std::uint64_t& out) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return false;
  out = it->get<std::uint64_t>();
  return true;
}

bool read_counters(const nlohmann::json& doc, dp::counter_values& counters) {
  if (!count(doc, "rx", counters.rx) || !count(doc, "forwarded", counters.forwarded)) return false;
  const auto drops = doc.find("drops");
  if (drops == doc.end() || !drops->is_object()) return false;
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    count(*drops, dp::to_string(static_cast<dp::drop_reason>(i)), counters.drops[i]);
  }
  return true;
}

}  // namespace

std::string stats_json(const router_stats& stats) {
  nlohmann::ordered_json doc;
  doc["rx"] = stats.total.rx;
  doc["forwarded"] = stats.total.forwarded;
  doc["drops"] = drops_json(stats.total);
  if (!stats.stages.empty()) {
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (const stage_stats& s : stats.stages) {
      const dp::counter_values& c = s.counters;
      nlohmann::ordered_json one;
      one["name"] = s.name;
      one["cpu"] = s.cpu ? nlohmann::ordered_json(*s.cpu) : nullptr;
      one["rx"] = c.rx;
      one["forwarded"] = c.forwarded;
      one["drops"] = drops_json(c);
      one["ring_high_water"] = c.ring_high_water;
      one["busy_polls"] = c.busy_polls;
      one["idle_polls"] = c.idle_polls;
      one["rx_datagrams"] = c.rx_datagrams;
      one["rx_bytes"] = c.rx_bytes;
      one["tx_datagrams"] = c.tx_datagrams;
      one["tx_bytes"] = c.tx_bytes;
      one["rx_lost"] = c.rx_lost;
      one["rx_ignored"] = c.rx_ignored;
      stages.push_back(std::move(one));
    }
    doc["stages"] = std::move(stages);
  }
  return doc.dump();
}

platform::result<router_stats> stats_from_json(const std::string& json) {
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return platform::error("stats: not a JSON object");
  router_stats stats;
  if (!read_counters(doc, stats.total)) return platform::error("stats: rx and forwarded must be counts, drops an object");
  const auto stages = doc.find("stages");
  if (stages == doc.end()) return stats;
  if (!stages->is_array()) return platform::error("stats: stages must be a list");
  for (const auto& one : *stages) {
    stage_stats s;
    if (!one.is_object() || !read_counters(one, s.counters) || !one.contains("name") || !one["name"].is_string()) {
      return platform::error("stats: a stage needs a name, rx, forwarded and drops");
    }
    s.name = one["name"].get<std::string>();
    if (one.contains("cpu") && one["cpu"].is_number_unsigned()) s.cpu = one["cpu"].get<unsigned>();
    count(one, "ring_high_water", s.counters.ring_high_water);
    count(one, "busy_polls", s.counters.busy_polls);
    count(one, "idle_polls", s.counters.idle_polls);
    stats.stages.push_back(std::move(s));
  }
  return stats;
}

std::string format_summary(const router_stats& stats, double seconds) {
  const dp::counter_values& counters = stats.total;
  std::string out;
  char line[200];
  const auto rate = [&](std::uint64_t n) -> std::string {
    if (seconds <= 0) return "";
    char text[48];
    std::snprintf(text, sizeof text, "  (%.0f/s)", static_cast<double>(n) / seconds);
    return text;
  };
  std::snprintf(line, sizeof line, "  received   %12llu messages%s\n", static_cast<unsigned long long>(counters.rx),
                rate(counters.rx).c_str());
  out += line;
  std::snprintf(line, sizeof line, "  forwarded  %12llu%s\n", static_cast<unsigned long long>(counters.forwarded),
                rate(counters.forwarded).c_str());
  out += line;
  std::snprintf(line, sizeof line, "  dropped    %12llu\n", static_cast<unsigned long long>(counters.dropped()));
  out += line;
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    if (counters.drops[i] == 0) continue;
    std::snprintf(line, sizeof line, "    %-21s %10llu\n", dp::to_string(static_cast<dp::drop_reason>(i)),
                  static_cast<unsigned long long>(counters.drops[i]));
    out += line;
  }
  if (stats.stages.empty()) return out;
  out += "  stage      cpu          in         out     dropped  ring high-water  busy polls\n";
  for (const stage_stats& s : stats.stages) {
    const std::string cpu = s.cpu ? std::to_string(*s.cpu) : "-";
    std::snprintf(line, sizeof line, "  %-9s %4s %11llu %11llu %11llu %16llu %11llu\n", s.name.c_str(), cpu.c_str(),
                  static_cast<unsigned long long>(s.counters.rx),
                  static_cast<unsigned long long>(s.counters.forwarded),
                  static_cast<unsigned long long>(s.counters.dropped()),
                  static_cast<unsigned long long>(s.counters.ring_high_water),
                  static_cast<unsigned long long>(s.counters.busy_polls));
    out += line;
  }
  return out;
}

}  // namespace ferry::ctl
