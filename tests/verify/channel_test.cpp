#include "ferry/verify/channel.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/opaque.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/wormhole.hpp"
#include "support/bytes.hpp"

namespace ferry::verify {
namespace {

using ferry::testing::append;
using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;

void put_be16(bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::byte>(v >> 8));
  out.push_back(static_cast<std::byte>(v & 0xff));
}

void put_be32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((v >> shift) & 0xff));
}

// ferry's envelope around a Hyperlane message or a LayerZero packet: inner_length u16 | inner | proof.
bytes envelope(std::span<const std::byte> inner, std::span<const std::byte> proof) {
  bytes out;
  put_be16(out, static_cast<std::uint16_t>(inner.size()));
  append(out, inner);
  append(out, proof);
  return out;
}

// ---- vectors ----

// The VAAs of vectors/wormhole/mainnet_vaas.txt with the emitter and sequence their comment blocks state.
struct mainnet_vaa {
  bytes raw;
  std::uint16_t emitter_chain = 0;
  bytes emitter;
  std::uint64_t sequence = 0;
};

std::vector<mainnet_vaa> load_mainnet_vaas() {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/wormhole/mainnet_vaas.txt");
  std::vector<mainnet_vaa> out;
  std::map<std::string, std::string> fields;
  std::string line;
  for (int n = 0; n < 10'000 && std::getline(in, line); ++n) {
    if (line.starts_with("# guardian_set_index=")) {
      fields.clear();
      std::istringstream pairs(line.substr(2));
      for (std::string pair; pairs >> pair;) {
        const std::size_t eq = pair.find('=');
        if (eq != std::string::npos) fields[pair.substr(0, eq)] = pair.substr(eq + 1);
      }
      continue;
    }
    if (line.empty() || line.starts_with("#")) continue;
    const std::optional<bytes> raw = from_hex(line);
    const std::optional<bytes> emitter = from_hex(fields["emitter"]);
    if (!raw || !emitter || fields.empty()) {
      ADD_FAILURE() << "mainnet_vaas.txt line " << n + 1 << ": a VAA without its fields";
      continue;
    }
    out.push_back({*raw, static_cast<std::uint16_t>(std::stoul(fields.at("emitter_chain"))), *emitter,
                   std::stoull(fields.at("sequence"))});
    fields.clear();
  }
  return out;
}

const std::vector<mainnet_vaa>& mainnet_vaas() {
  static const std::vector<mainnet_vaa> vaas = load_mainnet_vaas();
  return vaas;
}

// vectors/hyperlane/message.json: the message laid out as Message.sol packs it.
struct hyperlane_vector {
  bytes message;
  std::uint32_t nonce = 0;
  std::uint32_t origin = 0;
};

hyperlane_vector hyperlane_message_json() {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/hyperlane/message.json");
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  hyperlane_vector v;
  if (doc.is_discarded() || !doc.is_array() || doc.empty()) {
    ADD_FAILURE() << "cannot read " FERRY_VECTORS_DIR "/hyperlane/message.json";
    return v;
  }
  const auto& m = doc[0];
  v.nonce = m.at("nonce").get<std::uint32_t>();
  v.origin = m.at("origin").get<std::uint32_t>();
  v.message.push_back(static_cast<std::byte>(m.at("version").get<std::uint8_t>()));
  put_be32(v.message, v.nonce);
  put_be32(v.message, v.origin);
  append(v.message, from_hex(m.at("sender").get<std::string>()).value());
  put_be32(v.message, m.at("destination").get<std::uint32_t>());
  append(v.message, from_hex(m.at("recipient").get<std::string>()).value());
  for (const auto& b : m.at("body")) v.message.push_back(static_cast<std::byte>(b.get<std::uint8_t>()));
  return v;
}

// vectors/layerzero/layerzero_vectors.txt, packet_computed: nonce 0x1234, srcEid 1, sender 0x..03, dstEid 2,
// receiver 0x..04, message 090807060504 (split by spaces into header, guid and message).
bytes layerzero_packet_computed() {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/layerzero/layerzero_vectors.txt");
  std::string line;
  for (int n = 0; n < 1'000 && std::getline(in, line); ++n) {
    if (!line.starts_with("packet_computed=")) continue;
    std::string value = line.substr(line.find('=') + 1);
    value = value.substr(0, value.find('#'));
    std::erase(value, ' ');
    return from_hex(value).value();
  }
  ADD_FAILURE() << "no packet_computed in " FERRY_VECTORS_DIR "/layerzero/layerzero_vectors.txt";
  return {};
}

std::array<std::byte, 32> address_ending(std::uint8_t last) {
  std::array<std::byte, 32> a{};
  a[31] = std::byte{last};
  return a;
}

bool tail_is_zero(const channel& c) {
  return std::all_of(c.id.begin() + c.size, c.id.end(), [](std::byte b) { return b == std::byte{0}; });
}

// ---- tests ----

TEST(Channel, WormholeMainnetVaasAreEmitterChainAndAddressWithTheirSequence) {
  const auto& vaas = mainnet_vaas();
  ASSERT_GE(vaas.size(), 4u);
  for (const mainnet_vaa& v : vaas) {
    SCOPED_TRACE("sequence " + std::to_string(v.sequence));
    channel c;
    ASSERT_TRUE(read_channel(message_kind::wormhole, v.raw, c));
    EXPECT_EQ(c.kind, message_kind::wormhole);
    ASSERT_EQ(c.size, 34u);
    bytes expected;
    put_be16(expected, v.emitter_chain);
    append(expected, v.emitter);
    EXPECT_TRUE(same(c.identity(), expected));
    EXPECT_EQ(c.sequence, v.sequence);
    EXPECT_TRUE(tail_is_zero(c));
  }
  // The first is the Token Bridge transfer from Ethereum, and the fourth the same VAA tampered with: one channel,
  // one sequence, as a replay window must see them.
  channel transfer;
  channel tampered;
  ASSERT_TRUE(read_channel(message_kind::wormhole, vaas[0].raw, transfer));
  ASSERT_TRUE(read_channel(message_kind::wormhole, vaas[3].raw, tampered));
  EXPECT_EQ(transfer.sequence, 92254u);
  EXPECT_TRUE(same(transfer.identity(), tampered.identity()));
  EXPECT_EQ(transfer.sequence, tampered.sequence);
  // The governance VAA: Solana's chain 1, emitter 0x..04, a sequence past 2^62.
  channel governance;
  ASSERT_TRUE(read_channel(message_kind::wormhole, vaas[2].raw, governance));
  EXPECT_EQ(governance.sequence, 8526464727442833848u);
  EXPECT_EQ(governance.id[0], std::byte{0});
  EXPECT_EQ(governance.id[1], std::byte{1});
  EXPECT_EQ(governance.id[33], std::byte{4});
}

TEST(Channel, HyperlaneIsTheOriginDomainWithTheNonce) {
  const hyperlane_vector v = hyperlane_message_json();
  ASSERT_FALSE(v.message.empty());
  const bytes metadata(68 + 65, std::byte{0xbb});
  channel c;
  ASSERT_TRUE(read_channel(message_kind::hyperlane, envelope(v.message, metadata), c));
  EXPECT_EQ(c.kind, message_kind::hyperlane);
  ASSERT_EQ(c.size, 4u);
  bytes expected;
  put_be32(expected, 1000);
  EXPECT_TRUE(same(c.identity(), expected));
  EXPECT_EQ(v.origin, 1000u);
  EXPECT_EQ(c.sequence, v.nonce);
  EXPECT_TRUE(tail_is_zero(c));

  // Every field a nonce or origin could be read from by mistake, distinct.
  hyperlane::message_fields f;
  f.nonce = 0xfffffffe;
  f.origin = 0x01020304;
  f.sender.fill(std::byte{0x11});
  f.destination = 0x05060708;
  f.recipient.fill(std::byte{0x22});
  const bytes body(3, std::byte{0x33});
  f.body = body;
  bytes made(hyperlane::encoded_envelope_size(f, metadata));
  ASSERT_EQ(hyperlane::encode_envelope(f, metadata, made), made.size());
  ASSERT_TRUE(read_channel(message_kind::hyperlane, made, c));
  expected.clear();
  put_be32(expected, 0x01020304);
  EXPECT_TRUE(same(c.identity(), expected));
  EXPECT_EQ(c.sequence, 0xfffffffeu);
}

TEST(Channel, LayerZeroIsThePathWithTheNonce) {
  const bytes packet = layerzero_packet_computed();
  ASSERT_EQ(packet.size(), layerzero::packet_fixed_size + 6);
  const bytes attestation(65, std::byte{0x14});
  channel c;
  ASSERT_TRUE(read_channel(message_kind::layerzero, envelope(packet, attestation), c));
  EXPECT_EQ(c.kind, message_kind::layerzero);
  ASSERT_EQ(c.size, 72u);
  bytes expected;
  put_be32(expected, 1);
  append(expected, address_ending(3));
  put_be32(expected, 2);
  append(expected, address_ending(4));
  EXPECT_TRUE(same(c.identity(), expected));
  EXPECT_EQ(c.sequence, 0x1234u);

  // Sender and receiver both count: the same source, destination and nonce on another path is another channel.
  layerzero::packet_fields f;
  f.nonce = 0xfedcba9876543210;
  f.src_eid = 30101;
  f.sender.fill(std::byte{0xdd});
  f.dst_eid = 30168;
  f.receiver.fill(std::byte{0xee});
  f.guid.fill(std::byte{0x12});
  bytes made(layerzero::encoded_envelope_size(f, attestation));
  ASSERT_EQ(layerzero::encode_envelope(f, attestation, made), made.size());
  ASSERT_TRUE(read_channel(message_kind::layerzero, made, c));
  EXPECT_EQ(c.sequence, 0xfedcba9876543210u);
  expected.clear();
  put_be32(expected, 30101);
  append(expected, bytes(32, std::byte{0xdd}));
  put_be32(expected, 30168);
  append(expected, bytes(32, std::byte{0xee}));
  EXPECT_TRUE(same(c.identity(), expected));
  f.receiver[0] = std::byte{0};
  ASSERT_EQ(layerzero::encode_envelope(f, attestation, made), made.size());
  channel other;
  ASSERT_TRUE(read_channel(message_kind::layerzero, made, other));
  EXPECT_FALSE(same(c.identity(), other.identity()));
}

TEST(Channel, OpaqueAndQuorumMessagesHaveNone) {
  const bytes payload(6, std::byte{0x16});
  bytes opaque_body(opaque::header_size + payload.size());
  ASSERT_EQ(opaque::encode_envelope(1, 2, payload, opaque_body), opaque_body.size());
  const quorum::message_fields fields{.key_set = 3, .source = 4, .destination = 5, .payload = payload};
  bytes quorum_body(quorum::encoded_size(fields, 0));
  ASSERT_EQ(quorum::encode_signed(fields, {}, quorum_body), quorum_body.size());

  channel c;
  c.sequence = 77;
  EXPECT_FALSE(read_channel(message_kind::opaque, opaque_body, c));
  EXPECT_FALSE(read_channel(message_kind::quorum, quorum_body, c));
  // Nor does any kind this build does not know, even over a body another kind would read.
  EXPECT_FALSE(read_channel(static_cast<message_kind>(0), mainnet_vaas().at(0).raw, c));
  EXPECT_FALSE(read_channel(static_cast<message_kind>(9), mainnet_vaas().at(0).raw, c));
  EXPECT_EQ(c.sequence, 77u) << "a refusal leaves `out` alone";
  EXPECT_EQ(c.size, 0u);
}

// Each prefix is copied to a buffer of exactly its size, so that AddressSanitizer sees a read past its end.
TEST(Channel, TruncatedBodiesAreRefusedAndNothingOutsideIsRead) {
  const hyperlane_vector h = hyperlane_message_json();
  const bytes cases[] = {mainnet_vaas().at(0).raw, envelope(h.message, bytes(133, std::byte{0xbb})),
                         envelope(layerzero_packet_computed(), bytes(65, std::byte{0x14}))};
  const message_kind kinds[] = {message_kind::wormhole, message_kind::hyperlane, message_kind::layerzero};
  // The shortest prefix that parses: what may follow the fixed parts and declared lengths can be cut.
  const std::size_t whole_from[] = {wormhole::header_size + 13 * wormhole::signature_size + wormhole::body_fixed_size,
                                    2 + h.message.size(), 2 + layerzero::packet_fixed_size + 6};
  for (std::size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(std::string(to_string(kinds[k])));
    for (std::size_t length = 0; length <= cases[k].size(); ++length) {
      const auto exact = std::make_unique<std::byte[]>(length + 1);  // +1: never a zero-sized allocation
      std::copy_n(cases[k].begin(), length, exact.get());
      channel c;
      c.sequence = 0x5151;
      const bool ok = read_channel(kinds[k], std::span<const std::byte>(exact.get(), length), c);
      EXPECT_EQ(ok, length >= whole_from[k]) << "length " << length;
      if (!ok) {
        EXPECT_EQ(c.sequence, 0x5151u) << "length " << length;
      }
    }
  }
}

TEST(Channel, MalformedBodiesAreRefused) {
  channel c;
  bytes vaa = mainnet_vaas().at(0).raw;
  vaa[0] = std::byte{2};  // VAA version 2
  EXPECT_FALSE(read_channel(message_kind::wormhole, vaa, c));
  const hyperlane_vector h = hyperlane_message_json();
  bytes hl = envelope(h.message, {});
  hl[2] = std::byte{2};  // Hyperlane message version 2
  EXPECT_FALSE(read_channel(message_kind::hyperlane, hl, c));
  hl = envelope(h.message, {});
  hl[0] = std::byte{0xff};  // an inner length past the end
  EXPECT_FALSE(read_channel(message_kind::hyperlane, hl, c));
  bytes lz = envelope(layerzero_packet_computed(), {});
  lz[2] = std::byte{2};  // LayerZero packet version 2
  EXPECT_FALSE(read_channel(message_kind::layerzero, lz, c));
  // A Hyperlane message handed over as LayerZero, and the other way round.
  EXPECT_FALSE(read_channel(message_kind::layerzero, envelope(h.message, {}), c));
  EXPECT_FALSE(read_channel(message_kind::hyperlane, envelope(layerzero_packet_computed(), {}), c));
}

}  // namespace
}  // namespace ferry::verify
