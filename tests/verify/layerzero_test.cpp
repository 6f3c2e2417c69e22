#include "ferry/verify/layerzero.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/bytes.hpp"

namespace ferry::verify::layerzero {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;



// vectors/layerzero/layerzero_vectors.txt: "key=hex" lines among "#" comments; a value may be split by spaces
// into its parts (header, guid, message) and followed by a "#" comment.
std::map<std::string, bytes> load_vectors() {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/layerzero/layerzero_vectors.txt");
  std::map<std::string, bytes> out;
  std::string line;
  constexpr int max_lines = 1'000;
  for (int n = 0; n < max_lines && std::getline(in, line); ++n) {
    if (line.empty() || line.starts_with("#")) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    value = value.substr(0, value.find('#'));
    std::erase(value, ' ');
    const std::optional<bytes> raw = from_hex(value);
    if (raw) out[line.substr(0, eq)] = *raw;  // "confirmations=10 target=..." is not one hex value: skipped
  }
  return out;
}

const bytes& vector(const std::string& key) {
  static const std::map<std::string, bytes> vectors = load_vectors();
  static const bytes missing;
  const auto it = vectors.find(key);
  if (it == vectors.end()) {
    ADD_FAILURE() << "no '" << key << "' in " FERRY_VECTORS_DIR "/layerzero/layerzero_vectors.txt";
    return missing;
  }
  return it->second;
}

std::array<std::byte, 32> address_ending(std::uint16_t tail) {
  std::array<std::byte, 32> a{};
  a[30] = static_cast<std::byte>(tail >> 8);
  a[31] = static_cast<std::byte>(tail & 0xff);
  return a;
}

std::array<std::byte, 32> filled(std::byte value) {
  std::array<std::byte, 32> a{};
  a.fill(value);
  return a;
}

bytes concat(std::span<const std::byte> a, std::span<const std::byte> b, std::span<const std::byte> c = {}) {
  bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), c.begin(), c.end());
  return out;
}

bytes encode(const packet_fields& f, std::span<const std::byte> attestation) {
  bytes out(encoded_envelope_size(f, attestation));
  EXPECT_EQ(encode_envelope(f, attestation, out), out.size());
  return out;
}

packet_fields sample_fields(std::span<const std::byte> message) {
  packet_fields f;
  f.nonce = 0x0102030405060708;
  f.src_eid = 30101;
  f.sender = address_ending(0xaaaa);
  f.dst_eid = 30168;
  f.receiver = address_ending(0xbbbb);
  f.guid = filled(std::byte{0x5a});
  f.message = message;
  return f;
}

TEST(LayerZero, ConstantsMatchTheFormat) {
  EXPECT_EQ(packet_header_size, 81u);
  EXPECT_EQ(packet_fixed_size, 113u);
}

// The vector is only the 81-byte header DVNs attest; a packet needs a guid and a message after it.
TEST(LayerZero, ParsesThePacketHeaderVector) {
  const bytes& header = vector("packet_header");
  ASSERT_EQ(header.size(), packet_header_size);
  const std::array<std::byte, 32> guid = filled(std::byte{0xc3});
  const bytes message = {std::byte{'h'}, std::byte{'i'}};
  const bytes raw = concat(header, guid, message);

  packet_view p;
  ASSERT_EQ(parse_packet(raw, p), parse_status::ok);
  EXPECT_EQ(std::to_integer<std::uint8_t>(p.bytes()[0]), packet_version);
  EXPECT_EQ(p.nonce(), 1u);
  EXPECT_EQ(p.src_eid(), 1u);
  EXPECT_TRUE(same(p.sender(), address_ending(0x9099)));
  EXPECT_EQ(p.dst_eid(), 1u);
  EXPECT_TRUE(same(p.receiver(), address_ending(0x9099)));
  EXPECT_TRUE(same(p.header(), header));
  EXPECT_EQ(p.header().data(), raw.data());
  EXPECT_TRUE(same(p.guid(), guid));
  EXPECT_TRUE(same(p.message(), message));
  EXPECT_TRUE(same(p.payload(), concat(guid, message)));
  EXPECT_EQ(p.payload().data(), raw.data() + packet_header_size);
  EXPECT_EQ(p.bytes().size(), raw.size());
}

TEST(LayerZero, HeaderAloneIsTruncated) {
  const bytes& header = vector("packet_header");
  ASSERT_EQ(header.size(), packet_header_size);
  packet_view p;
  EXPECT_EQ(parse_packet(header, p), parse_status::truncated);
}

TEST(LayerZero, ParsesThePacketLayoutVector) {
  const bytes& raw = vector("packet_computed");
  const bytes& guid = vector("guid_computed");
  const bytes message = {std::byte{9}, std::byte{8}, std::byte{7}, std::byte{6}, std::byte{5}, std::byte{4}};
  ASSERT_EQ(raw.size(), packet_fixed_size + message.size());

  packet_view p;
  ASSERT_EQ(parse_packet(raw, p), parse_status::ok);
  EXPECT_EQ(p.nonce(), 0x1234u);
  EXPECT_EQ(p.src_eid(), 1u);
  EXPECT_TRUE(same(p.sender(), address_ending(0x03)));
  EXPECT_EQ(p.dst_eid(), 2u);
  EXPECT_TRUE(same(p.receiver(), address_ending(0x04)));
  EXPECT_TRUE(same(p.guid(), guid));
  EXPECT_TRUE(same(p.message(), message));
}

TEST(LayerZero, EncoderLaysOutThePacketVectorByteForByte) {
  const bytes& raw = vector("packet_computed");
  const bytes& guid = vector("guid_computed");
  ASSERT_EQ(guid.size(), 32u);
  const bytes message = {std::byte{9}, std::byte{8}, std::byte{7}, std::byte{6}, std::byte{5}, std::byte{4}};
  packet_fields f;
  f.nonce = 0x1234;
  f.src_eid = 1;
  f.sender = address_ending(0x03);
  f.dst_eid = 2;
  f.receiver = address_ending(0x04);
  std::copy(guid.begin(), guid.end(), f.guid.begin());
  f.message = message;

  const bytes envelope = encode(f, {});
  ASSERT_EQ(envelope.size(), 2 + raw.size());
  EXPECT_EQ(std::to_integer<std::size_t>(envelope[0]) * 256 + std::to_integer<std::size_t>(envelope[1]), raw.size());
  EXPECT_TRUE(same(std::span<const std::byte>(envelope).subspan(2), raw));
}

TEST(LayerZero, EnvelopeRoundTripsWithAttestation) {
  const bytes message = {std::byte{1}, std::byte{2}, std::byte{3}};
  bytes attestation(2 * 65);  // two DVN signatures
  for (std::size_t i = 0; i < attestation.size(); ++i) attestation[i] = static_cast<std::byte>(i * 3 + 1);
  const packet_fields f = sample_fields(message);
  const bytes raw = encode(f, attestation);
  ASSERT_EQ(raw.size(), 2 + packet_fixed_size + message.size() + attestation.size());

  envelope_view e;
  ASSERT_EQ(parse_envelope(raw, e), parse_status::ok);
  EXPECT_EQ(e.packet.nonce(), f.nonce);
  EXPECT_EQ(e.packet.src_eid(), f.src_eid);
  EXPECT_TRUE(same(e.packet.sender(), f.sender));
  EXPECT_EQ(e.packet.dst_eid(), f.dst_eid);
  EXPECT_TRUE(same(e.packet.receiver(), f.receiver));
  EXPECT_TRUE(same(e.packet.guid(), f.guid));
  EXPECT_TRUE(same(e.packet.message(), message));
  EXPECT_EQ(e.packet.bytes().data(), raw.data() + 2);
  EXPECT_EQ(e.packet.bytes().size(), packet_fixed_size + message.size());
  EXPECT_TRUE(same(e.attestation, attestation));
  EXPECT_EQ(e.attestation.data(), raw.data() + 2 + packet_fixed_size + message.size());
}

TEST(LayerZero, EnvelopeRoundTripsWithoutMessageOrAttestation) {
  const packet_fields f = sample_fields({});
  const bytes raw = encode(f, {});
  ASSERT_EQ(raw.size(), 2 + packet_fixed_size);
  envelope_view e;
  ASSERT_EQ(parse_envelope(raw, e), parse_status::ok);
  EXPECT_TRUE(e.packet.message().empty());
  EXPECT_TRUE(e.attestation.empty());
  EXPECT_EQ(e.packet.payload().size(), 32u);
}

// Cutting an envelope short: without its length field it is truncated; with it, the declared packet runs past
// the end (bad_length) until the cut is inside the attestation, which then merely gets shorter.
TEST(LayerZero, EveryTruncationOfAnEnvelope) {
  const bytes message(7, std::byte{0x42});
  const bytes attestation(65, std::byte{0x17});
  const bytes raw = encode(sample_fields(message), attestation);
  const std::size_t packet_end = 2 + packet_fixed_size + message.size();
  for (std::size_t length = 0; length < raw.size(); ++length) {
    envelope_view e;
    const parse_status status = parse_envelope(std::span<const std::byte>(raw).first(length), e);
    if (length < 2) {
      EXPECT_EQ(status, parse_status::truncated) << "length " << length;
    } else if (length < packet_end) {
      EXPECT_EQ(status, parse_status::bad_length) << "length " << length;
    } else {
      ASSERT_EQ(status, parse_status::ok) << "length " << length;
      EXPECT_EQ(e.attestation.size(), length - packet_end);
      EXPECT_TRUE(same(e.packet.message(), message));
    }
  }
}

TEST(LayerZero, EveryTruncationOfAPacket) {
  const bytes message(5, std::byte{0x42});
  const bytes envelope = encode(sample_fields(message), {});
  const std::span<const std::byte> raw = std::span<const std::byte>(envelope).subspan(2);
  for (std::size_t length = 0; length <= raw.size(); ++length) {
    packet_view p;
    const parse_status status = parse_packet(raw.first(length), p);
    if (length < packet_fixed_size) {
      EXPECT_EQ(status, parse_status::truncated) << "length " << length;
    } else {
      ASSERT_EQ(status, parse_status::ok) << "length " << length;
      EXPECT_EQ(p.message().size(), length - packet_fixed_size);
    }
  }
}

TEST(LayerZero, DeclaredPacketShorterThanItsFixedPartIsTruncated) {
  const bytes raw = encode(sample_fields({}), {});
  for (const std::size_t declared : {std::size_t{0}, packet_header_size, packet_fixed_size - 1}) {
    bytes wrong = raw;
    wrong[0] = static_cast<std::byte>(declared >> 8);
    wrong[1] = static_cast<std::byte>(declared & 0xff);
    envelope_view e;
    EXPECT_EQ(parse_envelope(wrong, e), parse_status::truncated) << "declared " << declared;
  }
}

TEST(LayerZero, LengthPastTheEndIsBadLength) {
  const bytes raw = encode(sample_fields({}), {});
  for (const std::size_t declared : {packet_fixed_size + 1, std::size_t{0xffff}}) {
    bytes wrong = raw;
    wrong[0] = static_cast<std::byte>(declared >> 8);
    wrong[1] = static_cast<std::byte>(declared & 0xff);
    envelope_view e;
    EXPECT_EQ(parse_envelope(wrong, e), parse_status::bad_length) << "declared " << declared;
  }
}

TEST(LayerZero, OtherVersionsAreUnsupported) {
  const bytes raw = encode(sample_fields({}), {});
  const std::uint8_t versions[] = {0, 2, 3, 0x80, 0xff};
  for (const std::uint8_t version : versions) {
    bytes wrong = raw;
    wrong[2] = std::byte{version};
    envelope_view e;
    EXPECT_EQ(parse_envelope(wrong, e), parse_status::unsupported_version) << "version " << int{version};
    packet_view p;
    EXPECT_EQ(parse_packet(std::span<const std::byte>(wrong).subspan(2), p), parse_status::unsupported_version)
        << "version " << int{version};
  }
}

TEST(LayerZero, EncoderRefusesASmallBufferOrAnOversizedPacket) {
  const bytes message(9, std::byte{1});
  const bytes attestation(65, std::byte{2});
  const packet_fields f = sample_fields(message);
  const std::size_t size = encoded_envelope_size(f, attestation);
  ASSERT_EQ(size, 2 + packet_fixed_size + message.size() + attestation.size());
  bytes small(size - 1, std::byte{0xee});
  EXPECT_EQ(encode_envelope(f, attestation, small), 0u);
  EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](std::byte b) { return b == std::byte{0xee}; }));

  const bytes largest_message(0xffff - packet_fixed_size, std::byte{3});
  const packet_fields largest = sample_fields(largest_message);
  bytes out(encoded_envelope_size(largest, {}));
  ASSERT_EQ(encode_envelope(largest, {}, out), out.size());
  envelope_view e;
  ASSERT_EQ(parse_envelope(out, e), parse_status::ok);
  EXPECT_EQ(e.packet.bytes().size(), 0xffffu);

  const bytes too_large_message(0xffff - packet_fixed_size + 1, std::byte{3});
  const packet_fields too_large = sample_fields(too_large_message);
  bytes big(encoded_envelope_size(too_large, {}) + 16);
  EXPECT_EQ(encode_envelope(too_large, {}, big), 0u);
}

}  // namespace
}  // namespace ferry::verify::layerzero
