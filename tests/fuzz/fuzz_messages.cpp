// libFuzzer target over the verify parsers. The first byte is the message kind as on the wire, the rest the body:
// read_addressing() and the kind's own parser must agree, every accessor of an accepted message stays inside the
// input, and re-encoding an accepted message from its accessors gives back the same bytes (each format has one
// encoding), which also reads every byte the views cover. read_channel() (the replay windows' key) names a channel
// exactly for the numbered kinds whose addressing reads, and that channel starts with the message's source.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/addressing.hpp"
#include "ferry/verify/channel.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/opaque.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/wormhole.hpp"

#include "support/bytes.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry::verify;
using ferry::testing::inside;
using ferry::testing::require;
using ferry::testing::same;

template <std::size_t N>
std::array<std::byte, N> copy_of(std::span<const std::byte, N> s) {
  std::array<std::byte, N> a{};
  std::memcpy(a.data(), s.data(), N);
  return a;
}

void check_wormhole(std::span<const std::byte> body, parse_status addressed, const addressing& a) {
  wormhole::vaa_view vaa;
  const parse_status status = wormhole::parse_vaa(body, vaa);
  require(status == addressed, "wormhole: read_addressing and parse_vaa disagree");
  if (status != parse_status::ok) return;
  require(a.source == vaa.emitter_chain() && a.destination == 0, "wormhole: addressing");

  std::vector<wormhole::signature_fields> signatures;
  for (unsigned i = 0; i < vaa.signature_count(); ++i) {
    const wormhole::signature_view sig = vaa.signature(static_cast<std::uint8_t>(i));
    require(inside(sig.rsv, body), "wormhole: signature outside the input");
    signatures.push_back({sig.guardian_index, copy_of(sig.rsv)});
  }
  require(inside(vaa.body(), body) && inside(vaa.payload(), body) && inside(vaa.emitter_address(), body),
          "wormhole: a view outside the input");
  require(vaa.body().size() == wormhole::body_fixed_size + vaa.payload().size(), "wormhole: body size");
  require(vaa.body().data() + vaa.body().size() == body.data() + body.size(), "wormhole: body does not end the VAA");

  wormhole::vaa_fields f;
  f.guardian_set_index = vaa.guardian_set_index();
  f.signatures = signatures;
  f.timestamp = vaa.timestamp();
  f.nonce = vaa.nonce();
  f.emitter_chain = vaa.emitter_chain();
  f.emitter_address = copy_of(vaa.emitter_address());
  f.sequence = vaa.sequence();
  f.consistency_level = vaa.consistency_level();
  f.payload = vaa.payload();
  require(wormhole::encoded_size(f) == body.size(), "wormhole: encoded size differs");
  std::vector<std::byte> out(body.size());
  require(wormhole::encode_vaa(f, out) == body.size(), "wormhole: encode refused a parsed VAA");
  require(same(out, body), "wormhole: re-encoded VAA differs");
}

void check_hyperlane(std::span<const std::byte> body, parse_status addressed, const addressing& a) {
  hyperlane::envelope_view e;
  const parse_status status = hyperlane::parse_envelope(body, e);
  require(status == addressed, "hyperlane: read_addressing and parse_envelope disagree");
  if (status != parse_status::ok) return;
  const hyperlane::message_view& m = e.message;
  require(a.source == m.origin() && a.destination == m.destination(), "hyperlane: addressing");
  require(inside(m.bytes(), body) && inside(m.sender(), body) && inside(m.recipient(), body) &&
              inside(m.body(), body) && inside(e.metadata, body),
          "hyperlane: a view outside the input");
  require(m.bytes().size() >= hyperlane::message_header_size, "hyperlane: short message accepted");
  require(2 + m.bytes().size() + e.metadata.size() == body.size(), "hyperlane: sizes do not add up");
  hyperlane::message_view again;
  require(hyperlane::parse_message(m.bytes(), again) == parse_status::ok, "hyperlane: message does not reparse");

  hyperlane::message_fields f;
  f.nonce = m.nonce();
  f.origin = m.origin();
  f.sender = copy_of(m.sender());
  f.destination = m.destination();
  f.recipient = copy_of(m.recipient());
  f.body = m.body();
  require(hyperlane::encoded_envelope_size(f, e.metadata) == body.size(), "hyperlane: encoded size differs");
  std::vector<std::byte> out(body.size());
  require(hyperlane::encode_envelope(f, e.metadata, out) == body.size(), "hyperlane: encode refused");
  require(same(out, body), "hyperlane: re-encoded envelope differs");
}

void check_layerzero(std::span<const std::byte> body, parse_status addressed, const addressing& a) {
  layerzero::envelope_view e;
  const parse_status status = layerzero::parse_envelope(body, e);
  require(status == addressed, "layerzero: read_addressing and parse_envelope disagree");
  if (status != parse_status::ok) return;
  const layerzero::packet_view& p = e.packet;
  require(a.source == p.src_eid() && a.destination == p.dst_eid(), "layerzero: addressing");
  require(inside(p.bytes(), body) && inside(p.header(), body) && inside(p.payload(), body) &&
              inside(p.sender(), body) && inside(p.receiver(), body) && inside(p.guid(), body) &&
              inside(p.message(), body) && inside(e.attestation, body),
          "layerzero: a view outside the input");
  require(p.payload().size() == 32 + p.message().size(), "layerzero: payload is not guid + message");
  require(2 + p.bytes().size() + e.attestation.size() == body.size(), "layerzero: sizes do not add up");

  layerzero::packet_fields f;
  f.nonce = p.nonce();
  f.src_eid = p.src_eid();
  f.sender = copy_of(p.sender());
  f.dst_eid = p.dst_eid();
  f.receiver = copy_of(p.receiver());
  f.guid = copy_of(p.guid());
  f.message = p.message();
  require(layerzero::encoded_envelope_size(f, e.attestation) == body.size(), "layerzero: encoded size differs");
  std::vector<std::byte> out(body.size());
  require(layerzero::encode_envelope(f, e.attestation, out) == body.size(), "layerzero: encode refused");
  require(same(out, body), "layerzero: re-encoded envelope differs");
}

void check_opaque(std::span<const std::byte> body, parse_status addressed, const addressing& a) {
  opaque::envelope_view e;
  const parse_status status = opaque::parse_envelope(body, e);
  require(status == addressed, "opaque: read_addressing and parse_envelope disagree");
  if (status != parse_status::ok) return;
  require(a.source == e.source && a.destination == e.destination, "opaque: addressing");
  require(inside(e.payload, body), "opaque: payload outside the input");
  std::vector<std::byte> out(body.size());
  require(opaque::encode_envelope(e.source, e.destination, e.payload, out) == body.size(), "opaque: encode refused");
  require(same(out, body), "opaque: re-encoded envelope differs");
}

// Parsing and addressing only; verification has its own target (fuzz_quorum).
void check_quorum(std::span<const std::byte> body, parse_status addressed, const addressing& a) {
  quorum::message_view m;
  const parse_status status = quorum::parse_message(body, m);
  require(status == addressed, "quorum: read_addressing and parse_message disagree");
  if (status != parse_status::ok) return;
  require(a.source == m.source() && a.destination == m.destination(), "quorum: addressing");
  require(inside(m.payload(), body) && inside(m.signed_part(), body), "quorum: a view outside the input");
  require(quorum::header_size + m.payload().size() + 1 + std::size_t{m.signature_count()} * quorum::signature_size ==
              body.size(),
          "quorum: the signatures do not fill the rest exactly");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::optional<message_kind> kind = kind_from_wire(data[0]);
  if (!kind) {
    require(data[0] == 0 || data[0] > message_kind_count, "kind_from_wire refused a known kind");
    return 0;
  }
  require(static_cast<std::uint8_t>(*kind) == data[0], "kind_from_wire changed the value");
  require(kind_from_string(to_string(*kind)) == kind, "kind name does not round trip");

  const std::span<const std::byte> body(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  addressing a{};
  const parse_status addressed = read_addressing(*kind, body, a);
  switch (*kind) {
    case message_kind::wormhole: check_wormhole(body, addressed, a); break;
    case message_kind::hyperlane: check_hyperlane(body, addressed, a); break;
    case message_kind::layerzero: check_layerzero(body, addressed, a); break;
    case message_kind::opaque: check_opaque(body, addressed, a); break;
    case message_kind::quorum: check_quorum(body, addressed, a); break;
  }

  channel c;
  const bool numbered = read_channel(*kind, body, c);
  const bool expected = addressed == parse_status::ok &&
                        (*kind == message_kind::wormhole || *kind == message_kind::hyperlane ||
                         *kind == message_kind::layerzero);
  require(numbered == expected, "read_channel disagrees with read_addressing on whether the message is numbered");
  if (numbered) {
    require(c.kind == *kind && c.size <= c.id.size(), "channel kind or size");
    const std::uint32_t source = *kind == message_kind::wormhole ? ferry::platform::load_be16(c.id.data())
                                                                 : ferry::platform::load_be32(c.id.data());
    require(source == a.source, "the channel does not start with the message's source");
  }
  return 0;
}
