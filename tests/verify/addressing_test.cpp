#include "ferry/verify/addressing.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/opaque.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::verify {
namespace {

using bytes = std::vector<std::byte>;

constexpr message_kind all_kinds[] = {message_kind::wormhole, message_kind::hyperlane, message_kind::layerzero,
                                      message_kind::opaque, message_kind::quorum};

// A well-formed body of each kind, with distinct values everywhere that addressing could be read from by mistake.
bytes wormhole_body(std::uint16_t emitter_chain) {
  const std::vector<wormhole::signature_fields> signatures = {{3, {}}, {7, {}}};
  wormhole::vaa_fields f;
  f.guardian_set_index = 4;
  f.signatures = signatures;
  f.timestamp = 0x11111111;
  f.nonce = 0x22222222;
  f.emitter_chain = emitter_chain;
  f.emitter_address.fill(std::byte{0x33});
  f.sequence = 0x4444444444444444;
  f.consistency_level = 0x55;
  const bytes payload(12, std::byte{0x66});
  f.payload = payload;
  bytes out(wormhole::encoded_size(f));
  EXPECT_EQ(wormhole::encode_vaa(f, out), out.size());
  return out;
}

bytes hyperlane_body(std::uint32_t origin, std::uint32_t destination) {
  hyperlane::message_fields f;
  f.nonce = 0x77777777;
  f.origin = origin;
  f.sender.fill(std::byte{0x88});
  f.destination = destination;
  f.recipient.fill(std::byte{0x99});
  const bytes body(5, std::byte{0xaa});
  f.body = body;
  const bytes metadata(68 + 65, std::byte{0xbb});
  bytes out(hyperlane::encoded_envelope_size(f, metadata));
  EXPECT_EQ(hyperlane::encode_envelope(f, metadata, out), out.size());
  return out;
}

bytes layerzero_body(std::uint32_t src_eid, std::uint32_t dst_eid) {
  layerzero::packet_fields f;
  f.nonce = 0xcccccccccccccccc;
  f.src_eid = src_eid;
  f.sender.fill(std::byte{0xdd});
  f.dst_eid = dst_eid;
  f.receiver.fill(std::byte{0xee});
  f.guid.fill(std::byte{0x12});
  const bytes message(9, std::byte{0x13});
  f.message = message;
  const bytes attestation(65, std::byte{0x14});
  bytes out(layerzero::encoded_envelope_size(f, attestation));
  EXPECT_EQ(layerzero::encode_envelope(f, attestation, out), out.size());
  return out;
}

bytes opaque_body(std::uint32_t source, std::uint32_t destination, std::size_t payload_size = 4) {
  const bytes payload(payload_size, std::byte{0x15});
  bytes out(opaque::header_size + payload.size());
  EXPECT_EQ(opaque::encode_envelope(source, destination, payload, out), out.size());
  return out;
}

// Unsigned: addressing does not look at signatures, only at the lengths around them.
bytes quorum_body(std::uint32_t source, std::uint32_t destination) {
  const bytes payload(6, std::byte{0x16});
  const quorum::message_fields fields{.key_set = 3, .source = source, .destination = destination, .payload = payload};
  bytes out(quorum::encoded_size(fields, 0));
  EXPECT_EQ(quorum::encode_signed(fields, {}, out), out.size());
  return out;
}

bytes body_of(message_kind kind) {
  switch (kind) {
    case message_kind::wormhole: return wormhole_body(2);
    case message_kind::hyperlane: return hyperlane_body(1000, 2000);
    case message_kind::layerzero: return layerzero_body(30101, 30168);
    case message_kind::opaque: return opaque_body(10, 20);
    case message_kind::quorum: return quorum_body(30, 40);
  }
  return {};
}

TEST(Addressing, WormholeIsEmitterChainToNowhere) {
  for (const std::uint16_t chain : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{0xffff}}) {
    const bytes body = wormhole_body(chain);
    addressing a{0xdead, 0xbeef, nullptr};
    ASSERT_EQ(read_addressing(message_kind::wormhole, body, a), parse_status::ok);
    EXPECT_EQ(a.source, chain);
    EXPECT_EQ(a.destination, 0u);
  }
}

TEST(Addressing, HyperlaneIsOriginToDestination) {
  const bytes body = hyperlane_body(0x01020304, 0xa0b0c0d0);
  addressing a{};
  ASSERT_EQ(read_addressing(message_kind::hyperlane, body, a), parse_status::ok);
  EXPECT_EQ(a.source, 0x01020304u);
  EXPECT_EQ(a.destination, 0xa0b0c0d0u);
}

TEST(Addressing, LayerZeroIsSourceEidToDestinationEid) {
  const bytes body = layerzero_body(30101, 30168);
  addressing a{};
  ASSERT_EQ(read_addressing(message_kind::layerzero, body, a), parse_status::ok);
  EXPECT_EQ(a.source, 30101u);
  EXPECT_EQ(a.destination, 30168u);
}

TEST(Addressing, OpaqueIsSourceToDestination) {
  for (const std::size_t payload : {std::size_t{0}, std::size_t{1}, std::size_t{300}}) {
    const bytes body = opaque_body(0xfffffffe, 7, payload);
    addressing a{};
    ASSERT_EQ(read_addressing(message_kind::opaque, body, a), parse_status::ok) << "payload " << payload;
    EXPECT_EQ(a.source, 0xfffffffeu);
    EXPECT_EQ(a.destination, 7u);
  }
}

TEST(Addressing, QuorumIsSourceToDestination) {
  const bytes body = quorum_body(0x0a0b0c0d, 0x01020304);
  addressing a{};
  ASSERT_EQ(read_addressing(message_kind::quorum, body, a), parse_status::ok);
  EXPECT_EQ(a.source, 0x0a0b0c0du);
  EXPECT_EQ(a.destination, 0x01020304u);
}

// Agrees with each kind's own parser, which is what verification will read.
TEST(Addressing, AgreesWithEachParser) {
  const bytes w = wormhole_body(23);
  wormhole::vaa_view vaa;
  ASSERT_EQ(wormhole::parse_vaa(w, vaa), parse_status::ok);
  addressing a{};
  ASSERT_EQ(read_addressing(message_kind::wormhole, w, a), parse_status::ok);
  EXPECT_EQ(a.source, vaa.emitter_chain());

  const bytes h = hyperlane_body(5, 6);
  hyperlane::envelope_view he;
  ASSERT_EQ(hyperlane::parse_envelope(h, he), parse_status::ok);
  ASSERT_EQ(read_addressing(message_kind::hyperlane, h, a), parse_status::ok);
  EXPECT_EQ(a.source, he.message.origin());
  EXPECT_EQ(a.destination, he.message.destination());

  const bytes l = layerzero_body(8, 9);
  layerzero::envelope_view le;
  ASSERT_EQ(layerzero::parse_envelope(l, le), parse_status::ok);
  ASSERT_EQ(read_addressing(message_kind::layerzero, l, a), parse_status::ok);
  EXPECT_EQ(a.source, le.packet.src_eid());
  EXPECT_EQ(a.destination, le.packet.dst_eid());
}

// The emitter: 32 bytes inside the body where the message names one (the same bytes its parser reads), nullptr
// for the kinds that name none.
TEST(Addressing, EmitterPointsIntoTheBodyOrIsNull) {
  const auto inside = [](const bytes& body, const std::byte* p) {
    return p != nullptr && p >= body.data() && p + 32 <= body.data() + body.size();
  };
  addressing a{};
  const bytes w = wormhole_body(23);
  ASSERT_EQ(read_addressing(message_kind::wormhole, w, a), parse_status::ok);
  ASSERT_TRUE(inside(w, a.emitter));
  EXPECT_EQ(bytes(a.emitter, a.emitter + 32), bytes(32, std::byte{0x33}));
  const bytes h = hyperlane_body(5, 6);
  ASSERT_EQ(read_addressing(message_kind::hyperlane, h, a), parse_status::ok);
  ASSERT_TRUE(inside(h, a.emitter));
  EXPECT_EQ(bytes(a.emitter, a.emitter + 32), bytes(32, std::byte{0x88}));
  const bytes l = layerzero_body(8, 9);
  ASSERT_EQ(read_addressing(message_kind::layerzero, l, a), parse_status::ok);
  ASSERT_TRUE(inside(l, a.emitter));
  EXPECT_EQ(bytes(a.emitter, a.emitter + 32), bytes(32, std::byte{0xdd}));
  ASSERT_EQ(read_addressing(message_kind::opaque, opaque_body(1, 2), a), parse_status::ok);
  EXPECT_EQ(a.emitter, nullptr);
  a.emitter = w.data();
  ASSERT_EQ(read_addressing(message_kind::quorum, quorum_body(1, 2), a), parse_status::ok);
  EXPECT_EQ(a.emitter, nullptr);
}

// The shortest prefix of body_of(kind) that still parses: the fixed parts and every declared length; what may
// follow (payload, metadata, attestation) can be cut.
std::size_t shortest_ok_prefix(message_kind kind) {
  switch (kind) {
    case message_kind::wormhole:
      return wormhole::header_size + 2 * wormhole::signature_size + wormhole::body_fixed_size;
    case message_kind::hyperlane: return 2 + hyperlane::message_header_size + 5;
    case message_kind::layerzero: return 2 + layerzero::packet_fixed_size + 9;
    case message_kind::opaque: return opaque::header_size;
    case message_kind::quorum: return body_of(kind).size();  // the signatures must fill the rest exactly
  }
  return 0;
}

TEST(Addressing, EveryPrefixIsRejectedUntilTheMessageIsWhole) {
  for (const message_kind kind : all_kinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const bytes body = body_of(kind);
    const std::size_t ok_from = shortest_ok_prefix(kind);
    ASSERT_LE(ok_from, body.size());
    for (std::size_t length = 0; length <= body.size(); ++length) {
      addressing a{0x5151, 0x6262, nullptr};
      const parse_status status = read_addressing(kind, std::span<const std::byte>(body).first(length), a);
      if (length < ok_from) {
        EXPECT_NE(status, parse_status::ok) << "length " << length;
        // A refused body leaves `out` alone.
        EXPECT_EQ(a.source, 0x5151u) << "length " << length;
        EXPECT_EQ(a.destination, 0x6262u) << "length " << length;
      } else {
        EXPECT_EQ(status, parse_status::ok) << "length " << length;
        EXPECT_NE(a.source, 0x5151u) << "length " << length;
      }
    }
  }
}

TEST(Addressing, MalformedBodiesAreRejectedWithTheParsersStatus) {
  addressing a{};
  {
    bytes w = wormhole_body(2);
    w[0] = std::byte{2};
    EXPECT_EQ(read_addressing(message_kind::wormhole, w, a), parse_status::unsupported_version);
    w = wormhole_body(2);
    w[5] = std::byte{200};  // more signatures than the bytes hold
    EXPECT_EQ(read_addressing(message_kind::wormhole, w, a), parse_status::truncated);
  }
  {
    bytes h = hyperlane_body(1, 2);
    h[2] = std::byte{2};
    EXPECT_EQ(read_addressing(message_kind::hyperlane, h, a), parse_status::unsupported_version);
    h = hyperlane_body(1, 2);
    h[0] = std::byte{0xff};
    EXPECT_EQ(read_addressing(message_kind::hyperlane, h, a), parse_status::bad_length);
    h = hyperlane_body(1, 2);
    h[0] = std::byte{0};
    h[1] = std::byte{40};  // a declared message shorter than its 77-byte header
    EXPECT_EQ(read_addressing(message_kind::hyperlane, h, a), parse_status::truncated);
  }
  {
    bytes l = layerzero_body(1, 2);
    l[2] = std::byte{2};
    EXPECT_EQ(read_addressing(message_kind::layerzero, l, a), parse_status::unsupported_version);
    l = layerzero_body(1, 2);
    l[0] = std::byte{0xff};
    EXPECT_EQ(read_addressing(message_kind::layerzero, l, a), parse_status::bad_length);
    l = layerzero_body(1, 2);
    l[0] = std::byte{0};
    l[1] = std::byte{81};  // just the header: no guid
    EXPECT_EQ(read_addressing(message_kind::layerzero, l, a), parse_status::truncated);
  }
  {
    const bytes o = opaque_body(1, 2);
    for (std::size_t length = 0; length < opaque::header_size; ++length) {
      EXPECT_EQ(read_addressing(message_kind::opaque, std::span<const std::byte>(o).first(length), a),
                parse_status::truncated)
          << "length " << length;
    }
  }
}

TEST(Addressing, KindWireValuesRoundTrip) {
  for (const message_kind kind : all_kinds) {
    const auto wire = static_cast<std::uint8_t>(kind);
    const std::optional<message_kind> back = kind_from_wire(wire);
    ASSERT_TRUE(back.has_value()) << int{wire};
    EXPECT_EQ(*back, kind);
  }
  EXPECT_EQ(static_cast<std::uint8_t>(message_kind::wormhole), 1);
  EXPECT_EQ(static_cast<std::uint8_t>(message_kind::hyperlane), 2);
  EXPECT_EQ(static_cast<std::uint8_t>(message_kind::layerzero), 3);
  EXPECT_EQ(static_cast<std::uint8_t>(message_kind::opaque), 4);
  EXPECT_EQ(static_cast<std::uint8_t>(message_kind::quorum), 5);
  EXPECT_EQ(message_kind_count, 5);
}

TEST(Addressing, UnknownWireValuesAreRefused) {
  EXPECT_FALSE(kind_from_wire(0).has_value());
  for (unsigned value = 6; value <= 255; ++value) {
    EXPECT_FALSE(kind_from_wire(static_cast<std::uint8_t>(value)).has_value()) << value;
  }
}

TEST(Addressing, KindNamesRoundTrip) {
  const std::string_view names[] = {"wormhole", "hyperlane", "layerzero", "opaque", "quorum"};
  for (std::size_t i = 0; i < std::size(all_kinds); ++i) {
    EXPECT_EQ(to_string(all_kinds[i]), names[i]);
    const std::optional<message_kind> back = kind_from_string(names[i]);
    ASSERT_TRUE(back.has_value()) << names[i];
    EXPECT_EQ(*back, all_kinds[i]);
  }
  for (const std::string_view name : {"", "Wormhole", "WORMHOLE", "worm", "wormhole ", "unknown", "ibc"}) {
    EXPECT_FALSE(kind_from_string(name).has_value()) << "'" << name << "'";
  }
}

TEST(Addressing, StatusNames) {
  EXPECT_EQ(to_string(parse_status::ok), "ok");
  EXPECT_EQ(to_string(parse_status::truncated), "truncated");
  EXPECT_EQ(to_string(parse_status::unsupported_version), "unsupported version");
  EXPECT_EQ(to_string(parse_status::bad_length), "bad length");
}

}  // namespace
}  // namespace ferry::verify
