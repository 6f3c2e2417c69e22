#include "traffic.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <string>

#include "ferry/dataplane/frame.hpp"
#include "ferry/platform/endian.hpp"
#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/opaque.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/verifier.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::loadgen {

namespace {

constexpr std::uint32_t stamp_magic = 0x464c4731;  // "FLG1"

std::uint64_t splitmix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const std::size_t at = text.find(by);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

std::optional<std::uint32_t> number(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

template <std::size_t N>
std::array<std::byte, N> filled(std::uint64_t seed) {
  std::array<std::byte, N> bytes{};
  for (std::size_t i = 0; i < N; ++i) bytes[i] = static_cast<std::byte>(splitmix(seed + i));
  return bytes;
}

}  // namespace

const char* to_string(category c) noexcept {
  switch (c) {
    case category::valid: return "valid";
    case category::unroutable: return "unroutable";
    case category::malformed: return "malformed";
    case category::forged: return "forged";
    case category::duplicate: return "duplicate";
  }
  return "unknown";
}

platform::result<std::vector<flow>> parse_flows(std::string_view spec) {
  std::vector<flow> flows;
  for (const std::string_view item : split(spec, ',')) {
    const auto fields = split(item, ':');
    const std::string quoted = "flow '" + std::string(item) + "'";
    if (fields.size() != 3) return platform::error(quoted + ": expected kind:source:destination");
    const auto kind = verify::kind_from_string(fields[0]);
    if (!kind) return platform::error(quoted + ": unknown kind (wormhole, hyperlane, layerzero, opaque, quorum)");
    const auto source = number(fields[1]);
    const auto destination = number(fields[2]);
    if (!source || !destination) return platform::error(quoted + ": source and destination are numbers");
    if (*kind == verify::message_kind::wormhole && *source > 0xffff) {
      return platform::error(quoted + ": a Wormhole chain id is 16 bits");
    }
    if (*kind == verify::message_kind::wormhole && *destination != 0) {
      return platform::error(quoted + ": a VAA names no destination; write 0");
    }
    flows.push_back({*kind, *source, *destination});
  }
  return flows;
}

platform::result<mix> parse_mix(std::string_view spec) {
  mix m;
  for (std::uint32_t& w : m.weight) w = 0;
  for (const std::string_view item : split(spec, ',')) {
    const std::size_t eq = item.find('=');
    const auto weight = eq == std::string_view::npos ? std::nullopt : number(item.substr(eq + 1));
    if (!weight) return platform::error("mix '" + std::string(item) + "': expected name=weight");
    const std::string_view name = item.substr(0, eq);
    bool known = false;
    for (std::size_t c = 0; c < category_count; ++c) {
      if (name == to_string(static_cast<category>(c))) {
        m.weight[c] = *weight;
        known = true;
      }
    }
    if (!known) return platform::error("mix '" + std::string(item) +
                                       "': categories are valid, duplicate, unroutable, malformed, forged");
  }
  return m;
}

std::uint64_t mix::total() const noexcept {
  std::uint64_t sum = 0;
  for (const std::uint32_t w : weight) sum += w;
  return sum;
}

platform::result<traffic> traffic::create(traffic_options options) {
  const auto& w = options.weights.weight;
  if (options.weights.total() == 0) return platform::error("mix: every weight is 0");
  if (w[0] != 0 && options.valid_flows.empty()) return platform::error("valid traffic needs at least one flow");
  if (w[1] != 0 && options.unroutable_flows.empty()) {
    return platform::error("unroutable traffic needs at least one flow");
  }
  if (options.payload_size < stamp_size || options.payload_size > max_payload) {
    return platform::error("payload size must be from " + std::to_string(stamp_size) + " to " +
                           std::to_string(max_payload) + " bytes");
  }
  traffic made(std::move(options));
  if (w[3] != 0 && made._signed_flows.empty()) {
    return platform::error("forged traffic needs a valid flow of a signed kind (not opaque)");
  }
  // ferry recognises a repeat by the message it verified, so only a signed kind's valid units can be repeated.
  if (w[4] != 0 && (w[0] == 0 || made._signed_flows.empty())) {
    return platform::error("duplicate traffic repeats valid units: it needs valid weight and a valid flow of a "
                           "signed kind (not opaque)");
  }
  return made;
}

traffic::traffic(traffic_options options) : _options(std::move(options)) {
  for (const flow& f : _options.valid_flows) {
    if (verify::is_verified_kind(f.kind)) _signed_flows.push_back(f);
  }
}

unit traffic::describe(std::uint64_t sequence) const noexcept {
  unit u = describe_fresh(sequence);
  if (u.what != category::duplicate) return u;
  const std::uint64_t oldest = sequence > duplicate_window ? sequence - duplicate_window : 0;
  for (std::uint64_t before = sequence; before-- > oldest;) {
    const unit earlier = describe_fresh(before);
    if (earlier.what == category::valid && verify::is_verified_kind(earlier.where.kind)) {
      u.where = earlier.where;
      u.original = before;
      return u;
    }
  }
  // Nothing to repeat yet: a valid unit of a signed flow in its own right.
  const auto low = static_cast<std::uint32_t>(splitmix(_options.seed ^ ~sequence));
  return unit{category::valid, _signed_flows[low % _signed_flows.size()], 0, false, 0};
}

unit traffic::describe_fresh(std::uint64_t sequence) const noexcept {
  const auto& w = _options.weights.weight;
  const std::uint64_t r = splitmix(_options.seed ^ (sequence * 0x2545f4914f6cdd1dull));
  const std::uint64_t pick = (r >> 32) % _options.weights.total();
  const auto low = static_cast<std::uint32_t>(r);
  unit u{};
  if (pick < w[0]) {
    u.what = category::valid;
    u.where = _options.valid_flows[low % _options.valid_flows.size()];
  } else if (pick < std::uint64_t{w[0]} + w[1]) {
    u.what = category::unroutable;
    u.where = _options.unroutable_flows[low % _options.unroutable_flows.size()];
  } else if (pick < std::uint64_t{w[0]} + w[1] + w[2]) {
    u.what = category::malformed;
    u.malformation = static_cast<std::uint8_t>(low % malformation_count);
    u.own_datagram = u.malformation < 4;
  } else if (pick < std::uint64_t{w[0]} + w[1] + w[2] + w[3]) {
    u.what = category::forged;
    u.where = _signed_flows[low % _signed_flows.size()];
  } else {
    u.what = category::duplicate;
  }
  return u;
}

void traffic::write_payload(const stamp& s, std::span<std::byte> out) const noexcept {
  platform::store_be32(out.data(), stamp_magic);
  platform::store_be32(out.data() + 4, s.run);
  platform::store_be64(out.data() + 8, s.sequence);
  for (std::size_t i = stamp_size; i < out.size(); ++i) out[i] = static_cast<std::byte>(i);
}

std::size_t traffic::write_message(const flow& where, const stamp& s, std::span<std::byte> out) const {
  std::byte payload_bytes[max_payload];
  const std::span<std::byte> payload(payload_bytes, _options.payload_size);
  write_payload(s, payload);
  switch (where.kind) {
    case verify::message_kind::wormhole: {
      verify::wormhole::vaa_fields vaa;
      vaa.timestamp = static_cast<std::uint32_t>(s.sequence);
      vaa.nonce = s.run;
      vaa.emitter_chain = static_cast<std::uint16_t>(where.source);
      vaa.emitter_address = filled<32>(where.source);
      vaa.sequence = s.number;
      vaa.consistency_level = 1;
      vaa.payload = payload;
      return verify::demo::write_wormhole(vaa, out);
    }
    case verify::message_kind::hyperlane: {
      verify::hyperlane::message_fields message;
      message.nonce = static_cast<std::uint32_t>(s.number);
      message.origin = where.source;
      message.sender = filled<32>(where.source);
      message.destination = where.destination;
      message.recipient = filled<32>(where.destination);
      message.body = payload;
      return verify::demo::write_hyperlane(message, out);
    }
    case verify::message_kind::layerzero: {
      verify::layerzero::packet_fields packet;
      packet.nonce = s.number;
      packet.src_eid = where.source;
      packet.sender = filled<32>(where.source);
      packet.dst_eid = where.destination;
      packet.receiver = filled<32>(where.destination);
      packet.message = payload;
      return verify::demo::write_layerzero(packet, out);
    }
    case verify::message_kind::opaque:
      return verify::opaque::encode_envelope(where.source, where.destination, payload, out);
    case verify::message_kind::quorum:
      return verify::demo::write_quorum({verify::demo::quorum_key_set, where.source, where.destination, payload}, out);
  }
  return 0;
}

std::size_t traffic::write_forged_message(const flow& where, const stamp& s, std::span<std::byte> out) const {
  const std::size_t size = write_message(where, s, out);
  if (size > 0) out[size - 1] ^= std::byte{0x01};
  return size;
}

std::size_t traffic::write_malformed_message(const unit& u, const stamp& s, std::span<std::byte> out,
                                             std::uint8_t& kind_out) const {
  if (u.malformation == 4) {
    kind_out = static_cast<std::uint8_t>(verify::message_kind::wormhole);
    const std::size_t size = write_message({verify::message_kind::wormhole, 2, 0}, s, out);
    return size < 20 ? size : 20;  // cut inside the signatures
  }
  kind_out = static_cast<std::uint8_t>(verify::message_kind::hyperlane);
  const std::size_t size = write_message({verify::message_kind::hyperlane, 1, 42161}, s, out);
  if (size >= 2) platform::store_be16(out.data(), 0xffff);  // message length past the envelope's end
  return size;
}

std::size_t traffic::write_broken_datagram(const unit& u, const stamp& s, std::span<std::byte> out,
                                          std::uint8_t frame_flags) const {
  // A good one-message frame, then broken the chosen way.
  std::byte body[max_payload + 64];
  const std::size_t body_size = write_message({verify::message_kind::opaque, 1, 2}, s, body);
  dp::frame_header header;
  header.flags = frame_flags;
  dp::frame_writer writer(out, header);
  if (body_size == 0 || !writer.add(static_cast<std::uint8_t>(verify::message_kind::opaque), {body, body_size})) {
    return 0;
  }
  std::size_t size = writer.finish().size();
  switch (u.malformation) {
    case 0: out[0] = std::byte{'X'}; break;                                                 // bad magic
    case 1: platform::store_be16(out.data() + dp::frame_header_size + 2, 0xfff0); break;  // length past end
    case 2: platform::store_be16(out.data() + 4, 2); break;  // counts a second message that is not there
    case 3:                                                   // trailing bytes
      if (size + 3 > out.size()) return 0;
      std::memset(out.data() + size, 0xee, 3);
      size += 3;
      break;
    default: return 0;
  }
  return size;
}

std::optional<stamp> read_stamp(std::uint8_t kind, std::span<const std::byte> body) noexcept {
  const auto which = verify::kind_from_wire(kind);
  if (!which) return std::nullopt;
  std::span<const std::byte> payload;
  switch (*which) {
    case verify::message_kind::wormhole: {
      verify::wormhole::vaa_view vaa;
      if (verify::wormhole::parse_vaa(body, vaa) != verify::parse_status::ok) return std::nullopt;
      payload = vaa.payload();
      break;
    }
    case verify::message_kind::hyperlane: {
      verify::hyperlane::envelope_view envelope;
      if (verify::hyperlane::parse_envelope(body, envelope) != verify::parse_status::ok) return std::nullopt;
      payload = envelope.message.body();
      break;
    }
    case verify::message_kind::layerzero: {
      verify::layerzero::envelope_view envelope;
      if (verify::layerzero::parse_envelope(body, envelope) != verify::parse_status::ok) return std::nullopt;
      payload = envelope.packet.message();
      break;
    }
    case verify::message_kind::opaque: {
      verify::opaque::envelope_view envelope;
      if (verify::opaque::parse_envelope(body, envelope) != verify::parse_status::ok) return std::nullopt;
      payload = envelope.payload;
      break;
    }
    case verify::message_kind::quorum: {
      verify::quorum::message_view message;
      if (verify::quorum::parse_message(body, message) != verify::parse_status::ok) return std::nullopt;
      payload = message.payload();
      break;
    }
  }
  if (payload.size() < stamp_size || platform::load_be32(payload.data()) != stamp_magic) return std::nullopt;
  return stamp{platform::load_be32(payload.data() + 4), platform::load_be64(payload.data() + 8), 0};
}

}  // namespace ferry::loadgen
