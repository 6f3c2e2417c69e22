#include "ferry/control/stats.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ferry::ctl {

std::string stats_json(const dp::counter_values& counters) {
  nlohmann::ordered_json drops = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    drops[dp::to_string(static_cast<dp::drop_reason>(i))] = counters.drops[i];
  }
  nlohmann::ordered_json doc;
  doc["rx"] = counters.rx;
  doc["forwarded"] = counters.forwarded;
  doc["drops"] = std::move(drops);
  return doc.dump();
}

platform::result<dp::counter_values> counters_from_json(const std::string& json) {
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return platform::error("stats: not a JSON object");
  const auto count = [&](const nlohmann::json& object, const char* key, std::uint64_t& out) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number_unsigned()) return false;
    out = it->get<std::uint64_t>();
    return true;
  };
  dp::counter_values counters;
  if (!count(doc, "rx", counters.rx) || !count(doc, "forwarded", counters.forwarded)) {
    return platform::error("stats: rx and forwarded must be counts");
  }
  const auto drops = doc.find("drops");
  if (drops == doc.end() || !drops->is_object()) return platform::error("stats: drops must be an object");
  for (std::size_t i = 0; i < dp::drop_reason_count; ++i) {
    count(*drops, dp::to_string(static_cast<dp::drop_reason>(i)), counters.drops[i]);
  }
  return counters;
}

std::string format_summary(const dp::counter_values& counters, double seconds) {
  std::string out;
  char line[160];
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
  return out;
}

}  // namespace ferry::ctl
