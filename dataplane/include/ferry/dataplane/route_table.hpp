#pragma once
// Route matching: (kind, source, destination, emitter), each exact or a wildcard. The most specific rule wins: more
// exact fields first, and among rules with as many, emitter before kind before source before destination, so that
// (kind, emitter) beats (kind, source) beats (kind, destination) beats (source, destination). Built once by the
// control plane; a lookup probes one hash slot chain per mask in use (at most 16), and allocates nothing.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/message_kind.hpp"

namespace ferry::dp {

using emitter_id = std::array<std::byte, 32>;  // Wormhole emitter address, Hyperlane or LayerZero sender

struct route_rule {
  std::optional<verify::message_kind> kind;  // nothing: any kind
  std::optional<std::uint32_t> source;       // nothing: any source
  std::optional<std::uint32_t> destination;  // nothing: any destination
  std::optional<emitter_id> emitter;         // nothing: any emitter (and messages that name none)
};

class route_table {
 public:
  static constexpr std::uint32_t no_route = 0xffffffffu;

  // Fails when two rules have the same four fields (the message names both rules by position).
  static platform::result<route_table> build(std::vector<route_rule> rules);

  route_table() = default;

  // Index of the rule that routes the message, or no_route. emitter: 32 bytes, or nullptr when the message names
  // none (then only rules without an emitter match).
  std::uint32_t match(verify::message_kind kind, std::uint32_t source, std::uint32_t destination,
                      const std::byte* emitter) const noexcept;

  // Whether some rule names an emitter: callers that do not have the emitter at hand need to read it only then.
  bool uses_emitters() const noexcept { return _uses_emitters; }
  const route_rule& rule(std::uint32_t index) const noexcept { return _rules[index]; }
  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(_rules.size()); }

 private:
  struct slot {
    std::uint8_t mask = 0;  // which fields are exact; rule == no_route marks an empty slot
    std::uint8_t kind = 0;
    std::uint32_t source = 0;
    std::uint32_t destination = 0;
    std::uint64_t emitter = 0;  // a hash of the emitter; the rule's own is compared on a hit
    std::uint32_t rule = no_route;
  };

  static std::uint64_t emitter_hash(const std::byte* emitter) noexcept;
  static std::uint64_t hash(std::uint8_t mask, std::uint8_t kind, std::uint32_t source, std::uint32_t destination,
                            std::uint64_t emitter) noexcept;
  std::uint32_t find(std::uint8_t mask, std::uint8_t kind, std::uint32_t source, std::uint32_t destination,
                     const std::byte* emitter) const noexcept;

  std::vector<route_rule> _rules;
  std::vector<slot> _slots;          // open addressing, linear probing, a power of two at least twice the rules
  std::vector<std::uint8_t> _masks;  // the masks some rule uses, most specific first
  bool _uses_emitters = false;
};

}  // namespace ferry::dp
