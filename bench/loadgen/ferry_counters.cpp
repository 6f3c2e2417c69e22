#include "ferry_counters.hpp"

#include <nlohmann/json.hpp>

#include "ferry/control/control_socket.hpp"

namespace ferry::loadgen {

std::uint64_t ferry_counters::dropped() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& [reason, n] : drops) sum += n;
  return sum;
}

platform::result<ferry_counters> read_ferry_counters(const std::string& socket_path) {
  auto response = ctl::control_request(socket_path, "GET", "/stats");
  if (!response) return std::move(response).context("reading ferryd's counters");
  if (response->status != 200) {
    return platform::error("reading ferryd's counters: ferryd at " + socket_path + " answered " +
                           std::to_string(response->status));
  }
  const auto doc = nlohmann::ordered_json::parse(response->body, nullptr, false);
  const auto counter = [&](const nlohmann::ordered_json& value) { return value.is_number_unsigned(); };
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("rx") || !counter(doc["rx"]) ||
      !doc.contains("forwarded") || !counter(doc["forwarded"]) || !doc.contains("drops") ||
      !doc["drops"].is_object()) {
    return platform::error("reading ferryd's counters: /stats is not {\"rx\":N,\"forwarded\":N,\"drops\":{...}}");
  }
  ferry_counters counters;
  counters.rx = doc["rx"].get<std::uint64_t>();
  counters.forwarded = doc["forwarded"].get<std::uint64_t>();
  for (const auto& [reason, n] : doc["drops"].items()) {
    if (!counter(n)) return platform::error("reading ferryd's counters: drops." + reason + " is not a count");
    counters.drops.emplace_back(reason, n.get<std::uint64_t>());
  }
  return counters;
}

ferry_counters since(const ferry_counters& before, const ferry_counters& after) {
  const auto minus = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };
  ferry_counters d;
  d.rx = minus(after.rx, before.rx);
  d.forwarded = minus(after.forwarded, before.forwarded);
  for (const auto& [reason, n] : after.drops) {
    std::uint64_t was = 0;
    for (const auto& [old_reason, old_n] : before.drops) {
      if (old_reason == reason) was = old_n;
    }
    d.drops.emplace_back(reason, minus(n, was));
  }
  return d;
}

}  // namespace ferry::loadgen
