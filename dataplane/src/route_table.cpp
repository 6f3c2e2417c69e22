#include "ferry/dataplane/route_table.hpp"

#include <algorithm>
#include <bit>
#include <string>

namespace ferry::dp {

namespace {

constexpr std::uint8_t exact_kind = 4;
constexpr std::uint8_t exact_source = 2;
constexpr std::uint8_t exact_destination = 1;

std::uint8_t mask_of(const route_rule& rule) noexcept {
  return static_cast<std::uint8_t>((rule.kind ? exact_kind : 0) | (rule.source ? exact_source : 0) |
                                   (rule.destination ? exact_destination : 0));
}

// Most exact fields first; among equals, the larger mask (kind, then source) first.
bool more_specific(std::uint8_t a, std::uint8_t b) noexcept {
  const int pa = std::popcount(a);
  const int pb = std::popcount(b);
  return pa != pb ? pa > pb : a > b;
}

}  // namespace

std::uint64_t route_table::hash(std::uint8_t mask, std::uint8_t kind, std::uint32_t source,
                                std::uint32_t destination) noexcept {
  std::uint64_t h = (std::uint64_t{source} << 32) | destination;
  h ^= (std::uint64_t{mask} << 8 | kind) * 0x9e3779b97f4a7c15ull;
  h *= 0xbf58476d1ce4e5b9ull;  // splitmix64 finaliser
  return h ^ (h >> 31);
}

platform::result<route_table> route_table::build(std::vector<route_rule> rules, std::uint32_t hop_count) {
  route_table table;
  std::size_t capacity = 4;
  while (capacity < rules.size() * 2) capacity *= 2;
  table._slots.resize(capacity);
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    const route_rule& r = rules[i];
    if (r.hop >= hop_count) {
      return platform::error("route " + std::to_string(i) + ": next hop " + std::to_string(r.hop) +
                             " does not exist (" + std::to_string(hop_count) + " hops)");
    }
    const std::uint8_t mask = mask_of(r);
    const auto kind = static_cast<std::uint8_t>(r.kind ? *r.kind : verify::message_kind{});
    const std::uint32_t source = r.source.value_or(0);
    const std::uint32_t destination = r.destination.value_or(0);
    const std::uint32_t existing = table.find(mask, kind, source, destination);
    if (existing != no_route) {
      return platform::error("routes " + std::to_string(existing) + " and " + std::to_string(i) +
                             " match the same kind, source and destination");
    }
    auto at = static_cast<std::size_t>(hash(mask, kind, source, destination) & (capacity - 1));
    while (table._slots[at].rule != no_route) at = (at + 1) & (capacity - 1);
    table._slots[at] = {mask, kind, source, destination, i};
    if (std::find(table._masks.begin(), table._masks.end(), mask) == table._masks.end()) {
      table._masks.push_back(mask);
    }
  }
  std::sort(table._masks.begin(), table._masks.end(), more_specific);
  table._rules = std::move(rules);
  return table;
}

std::uint32_t route_table::find(std::uint8_t mask, std::uint8_t kind, std::uint32_t source,
                                std::uint32_t destination) const noexcept {
  if (_slots.empty()) return no_route;
  const std::size_t wrap = _slots.size() - 1;
  for (auto at = static_cast<std::size_t>(hash(mask, kind, source, destination) & wrap);; at = (at + 1) & wrap) {
    const slot& s = _slots[at];
    if (s.rule == no_route) return no_route;
    if (s.mask == mask && s.kind == kind && s.source == source && s.destination == destination) return s.rule;
  }
}

std::uint32_t route_table::match(verify::message_kind kind, std::uint32_t source,
                                 std::uint32_t destination) const noexcept {
  const auto wire_kind = static_cast<std::uint8_t>(kind);
  for (const std::uint8_t mask : _masks) {
    const std::uint32_t rule = find(mask, (mask & exact_kind) ? wire_kind : 0, (mask & exact_source) ? source : 0,
                                    (mask & exact_destination) ? destination : 0);
    if (rule != no_route) return rule;
  }
  return no_route;
}

}  // namespace ferry::dp
