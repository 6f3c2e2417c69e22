#pragma once
// What the load generator sends: a deterministic stream of units (one message each, or one broken datagram), each
// unit's category and flow derived from its sequence number alone, so that the receiving side knows what every
// arriving message should have been without sharing state with the sending side.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::loadgen {

struct flow {
  verify::message_kind kind;
  std::uint32_t source;
  std::uint32_t destination;
};

// "kind:source:destination,..." e.g. "wormhole:2:0,hyperlane:1:42161". Wormhole flows name destination 0.
platform::result<std::vector<flow>> parse_flows(std::string_view spec);

enum class category : std::uint8_t {
  valid,       // a well-formed message on a routed flow: must arrive at the sink
  unroutable,  // a well-formed message on a flow no route matches: ferry drops it as no_route
  malformed,   // a broken datagram or message: ferry drops it as malformed
  forged,      // a signed message on a routed flow, altered after signing: ferry drops it as bad_signature
  duplicate,   // the very bytes of an earlier valid unit of a signed kind, sent again: ferry drops it as duplicate
};

inline constexpr std::size_t category_count = 5;
const char* to_string(category c) noexcept;

// Relative weights, e.g. "valid=85,duplicate=5,unroutable=5,malformed=5,forged=5"; a category not named weighs 0.
struct mix {
  std::uint32_t weight[category_count] = {85, 5, 5, 5, 0};
  std::uint64_t total() const noexcept;
};

platform::result<mix> parse_mix(std::string_view spec);

// The stamp each generated message carries at the start of its payload: which run and unit it is. The send time is
// not in it: the signature covers the payload and is made before the run starts, so the sender keeps each unit's
// send time on its side, indexed by sequence.
struct stamp {
  std::uint32_t run = 0;
  std::uint64_t sequence = 0;
  // The message's number in its protocol channel (Wormhole emitter, Hyperlane origin, LayerZero path): dense from 0
  // in each channel, as a real emitter numbers its messages, so that ferry's replay windows see what they would in
  // production. Not part of the payload's stamp.
  std::uint64_t number = 0;
};

// The channel key stamp::number counts in: flows of one channel share it (Hyperlane: one origin, whatever the
// destination; LayerZero: one source and destination; Wormhole: one emitter chain).
inline std::uint64_t channel_of(const flow& where) noexcept {
  const std::uint64_t destination = where.kind == verify::message_kind::layerzero ? where.destination : 0;
  return (std::uint64_t{static_cast<std::uint8_t>(where.kind)} << 56) ^ (std::uint64_t{where.source} << 24) ^
         destination;
}

inline constexpr std::size_t stamp_size = 16;
inline constexpr std::size_t max_payload = 4096;

struct traffic_options {
  std::vector<flow> valid_flows;
  std::vector<flow> unroutable_flows;
  mix weights;
  std::uint64_t seed = 1;
  std::size_t payload_size = 64;        // bytes of payload per message, stamp_size to max_payload
};

// A unit: what sequence number n is.
struct unit {
  category what;
  flow where;                // for valid, unroutable and forged; for duplicate, the flow of `original`
  std::uint8_t malformation; // for malformed: which breakage
  bool own_datagram;         // malformed units that break the frame itself travel alone
  std::uint64_t original;    // for duplicate: the earlier valid unit whose bytes it repeats
};

class traffic {
 public:
  static constexpr std::uint8_t malformation_count = 6;
  // How far back a duplicate looks for the valid unit it repeats. Near enough that the original is still in
  // ferry's memory of what it verified; a duplicate with no such unit before it (the first units of a run) is sent
  // as a valid unit of its own, and describe() says so.
  static constexpr std::uint64_t duplicate_window = 256;

  // Fails when a category with weight has no flows (forged and duplicate traffic take the valid flows of signed
  // kinds), all weights are 0, or the payload size is out of range.
  static platform::result<traffic> create(traffic_options options);

  // Costs a hash, or up to duplicate_window of them for a duplicate.
  unit describe(std::uint64_t sequence) const noexcept;

  // Writes the body of a well-formed message on flow `where` carrying `s`, signed with the demo keys
  // (verify/demo_keys.hpp) that the default configuration trusts; returns its size, or 0 when `out` is too small.
  // Signing costs tens of microseconds a message, which is why a run signs everything before it starts
  // (presigned_pool.hpp). Safe to call from several threads at once.
  std::size_t write_message(const flow& where, const stamp& s, std::span<std::byte> out) const;

  // Writes the body of a forged unit: a message written as write_message() does, then its last byte changed (a
  // payload byte of a VAA, a signature byte of every other kind), so that its signature no longer verifies.
  std::size_t write_forged_message(const flow& where, const stamp& s, std::span<std::byte> out) const;

  // Writes the body of a malformed unit that travels inside a good frame (own_datagram false): a VAA cut short, or
  // a Hyperlane envelope whose length runs past its end. Returns its size; `kind_out` gets the kind to frame it as.
  std::size_t write_malformed_message(const unit& u, const stamp& s, std::span<std::byte> out,
                                      std::uint8_t& kind_out) const;

  // Writes a whole broken datagram for a malformed unit with own_datagram, its frame header carrying
  // `frame_flags` (dp::frame_flag); returns its size, or 0 when `out` is too small.
  std::size_t write_broken_datagram(const unit& u, const stamp& s, std::span<std::byte> out,
                                    std::uint8_t frame_flags = 0) const;

  const traffic_options& options() const noexcept { return _options; }

 private:
  explicit traffic(traffic_options options);
  unit describe_fresh(std::uint64_t sequence) const noexcept;  // what the unit is before duplicates are resolved
  void write_payload(const stamp& s, std::span<std::byte> out) const noexcept;

  traffic_options _options;
  std::vector<flow> _signed_flows;  // the valid flows of kinds that carry signatures, for forged units
};

// Reads the stamp of a message that arrived in a frame, or nothing when it carries none (another sender's message).
std::optional<stamp> read_stamp(std::uint8_t kind, std::span<const std::byte> body) noexcept;

}  // namespace ferry::loadgen
