#pragma once
// Routes: (kind, source, destination), each exact or a wildcard, to a next hop. The most specific rule wins:
// more exact fields first, and among rules with as many, kind before source before destination, so that
// (kind, source) beats (kind, destination) beats (source, destination). Built once by the control plane; a lookup
// probes at most eight hash slots whatever the number of rules, and allocates nothing.

#include <cstdint>
#include <optional>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/message_kind.hpp"

namespace ferry::dp {

struct route_rule {
  std::optional<verify::message_kind> kind;  // nothing: any kind
  std::optional<std::uint32_t> source;       // nothing: any source
  std::optional<std::uint32_t> destination;  // nothing: any destination
  std::uint32_t hop = 0;                     // index of the next hop
};

class route_table {
 public:
  static constexpr std::uint32_t no_route = 0xffffffffu;

  // Fails when two rules have the same three fields (the message names both rules by position), or a rule's hop
  // is not below hop_count.
  static platform::result<route_table> build(std::vector<route_rule> rules, std::uint32_t hop_count);

  route_table() = default;

  // Index of the rule that routes the message, or no_route.
  std::uint32_t match(verify::message_kind kind, std::uint32_t source, std::uint32_t destination) const noexcept;

  const route_rule& rule(std::uint32_t index) const noexcept { return _rules[index]; }
  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(_rules.size()); }

 private:
  struct slot {
    std::uint8_t mask = 0;  // which fields are exact; 0 with rule == no_route marks an empty slot
    std::uint8_t kind = 0;
    std::uint32_t source = 0;
    std::uint32_t destination = 0;
    std::uint32_t rule = no_route;
  };

  static std::uint64_t hash(std::uint8_t mask, std::uint8_t kind, std::uint32_t source,
                            std::uint32_t destination) noexcept;
  std::uint32_t find(std::uint8_t mask, std::uint8_t kind, std::uint32_t source,
                     std::uint32_t destination) const noexcept;

  std::vector<route_rule> _rules;
  std::vector<slot> _slots;             // open addressing, linear probing, a power of two at least twice the rules
  std::vector<std::uint8_t> _masks;     // the masks some rule uses, most specific first
};

}  // namespace ferry::dp
