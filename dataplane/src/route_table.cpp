#include "ferry/dataplane/route_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace ferry::dp {

namespace {

constexpr std::uint8_t exact_emitter = 8;
constexpr std::uint8_t exact_kind = 4;
constexpr std::uint8_t exact_source = 2;
constexpr std::uint8_t exact_destination = 1;

std::uint8_t mask_of(const route_rule& rule) noexcept {
  return static_cast<std::uint8_t>((rule.emitter ? exact_emitter : 0) | (rule.kind ? exact_kind : 0) |
                                   (rule.source ? exact_source : 0) | (rule.destination ? exact_destination : 0));
}

// Most exact fields first; among equals, the larger mask (emitter, then kind, then source) first.
bool more_specific(std::uint8_t a, std::uint8_t b) noexcept {
  const int pa = std::popcount(a);
  const int pb = std::popcount(b);
  return pa != pb ? pa > pb : a > b;
}

}  // namespace

std::uint64_t route_table::emitter_hash(const std::byte* emitter) noexcept {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 32; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, emitter + i, 8);
    h = (h ^ word) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  return h;
}

std::uint64_t route_table::hash(std::uint8_t mask, std::uint8_t kind, std::uint32_t source,
                                std::uint32_t destination, std::uint64_t emitter) noexcept {
  std::uint64_t h = (std::uint64_t{source} << 32) | destination;
  h ^= (std::uint64_t{mask} << 8 | kind) * 0x9e3779b97f4a7c15ull;
  h ^= emitter;
  h *= 0xbf58476d1ce4e5b9ull;  // splitmix64 finaliser
  return h ^ (h >> 31);
}

platform::result<route_table> route_table::build(std::vector<route_rule> rules) {
  route_table table;
  table._rules = std::move(rules);
  std::size_t capacity = 4;
  while (capacity < table._rules.size() * 2) capacity *= 2;
  table._slots.resize(capacity);
  for (std::uint32_t i = 0; i < table._rules.size(); ++i) {
    const route_rule& r = table._rules[i];
    const std::uint8_t mask = mask_of(r);
    const auto kind = static_cast<std::uint8_t>(r.kind ? *r.kind : verify::message_kind{});
    const std::uint32_t source = r.source.value_or(0);
    const std::uint32_t destination = r.destination.value_or(0);
    const std::byte* emitter = r.emitter ? r.emitter->data() : nullptr;
    const std::uint64_t emitter_key = emitter != nullptr ? emitter_hash(emitter) : 0;
    const std::uint32_t existing = table.find(mask, kind, source, destination, emitter);
    if (existing != no_route) {
      return platform::error("routes " + std::to_string(existing) + " and " + std::to_string(i) +
                             " match the same kind, source, destination and emitter");
    }
    auto at = static_cast<std::size_t>(hash(mask, kind, source, destination, emitter_key) & (capacity - 1));
    while (table._slots[at].rule != no_route) at = (at + 1) & (capacity - 1);
    table._slots[at] = {mask, kind, source, destination, emitter_key, i};
    if (std::find(table._masks.begin(), table._masks.end(), mask) == table._masks.end()) {
      table._masks.push_back(mask);
    }
    table._uses_emitters = table._uses_emitters || emitter != nullptr;
  }
  std::sort(table._masks.begin(), table._masks.end(), more_specific);
  return table;
}

std::uint32_t route_table::find(std::uint8_t mask, std::uint8_t kind, std::uint32_t source,
                                std::uint32_t destination, const std::byte* emitter) const noexcept {
  if (_slots.empty()) return no_route;
  const std::uint64_t emitter_key = emitter != nullptr ? emitter_hash(emitter) : 0;
  const std::size_t wrap = _slots.size() - 1;
  for (auto at = static_cast<std::size_t>(hash(mask, kind, source, destination, emitter_key) & wrap);;
       at = (at + 1) & wrap) {
    const slot& s = _slots[at];
    if (s.rule == no_route) return no_route;
    if (s.mask == mask && s.kind == kind && s.source == source && s.destination == destination &&
        s.emitter == emitter_key &&
        (emitter == nullptr || std::memcmp(_rules[s.rule].emitter->data(), emitter, 32) == 0)) {
      return s.rule;
    }
  }
}

std::uint32_t route_table::match(verify::message_kind kind, std::uint32_t source, std::uint32_t destination,
                                 const std::byte* emitter) const noexcept {
  const auto wire_kind = static_cast<std::uint8_t>(kind);
  for (const std::uint8_t mask : _masks) {
    if ((mask & exact_emitter) != 0 && emitter == nullptr) continue;
    const std::uint32_t rule =
        find(mask, (mask & exact_kind) ? wire_kind : 0, (mask & exact_source) ? source : 0,
             (mask & exact_destination) ? destination : 0, (mask & exact_emitter) ? emitter : nullptr);
    if (rule != no_route) return rule;
  }
  return no_route;
}

}  // namespace ferry::dp
