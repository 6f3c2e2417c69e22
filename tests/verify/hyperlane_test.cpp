#include "ferry/verify/hyperlane.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/bytes.hpp"

namespace ferry::verify::hyperlane {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;



void put_be32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>(v >> shift));
}

// vectors/hyperlane/message.json: an array holding one message object.
struct json_message {
  std::uint32_t version = 0;
  std::uint32_t nonce = 0;
  std::uint32_t origin = 0;
  bytes sender;
  std::uint32_t destination = 0;
  bytes recipient;
  bytes body;
};

std::optional<json_message> load_vector_message() {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/hyperlane/message.json");
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_array() || doc.empty()) return std::nullopt;
  const auto& m = doc[0];
  auto sender = from_hex(m.value("sender", ""));
  auto recipient = from_hex(m.value("recipient", ""));
  if (!sender || !recipient || !m.contains("body")) return std::nullopt;
  json_message out;
  out.version = m.value("version", 0u);
  out.nonce = m.value("nonce", 0u);
  out.origin = m.value("origin", 0u);
  out.destination = m.value("destination", 0u);
  out.sender = std::move(*sender);
  out.recipient = std::move(*recipient);
  for (const auto& b : m["body"]) out.body.push_back(static_cast<std::byte>(b.get<std::uint8_t>()));
  return out;
}

// The message laid out as Message.sol's formatMessage (abi.encodePacked) does, independently of the encoder.
bytes packed(const json_message& m) {
  bytes out;
  out.push_back(static_cast<std::byte>(m.version));
  put_be32(out, m.nonce);
  put_be32(out, m.origin);
  out.insert(out.end(), m.sender.begin(), m.sender.end());
  put_be32(out, m.destination);
  out.insert(out.end(), m.recipient.begin(), m.recipient.end());
  out.insert(out.end(), m.body.begin(), m.body.end());
  return out;
}

message_fields sample_fields(std::span<const std::byte> body) {
  message_fields f;
  f.nonce = 0x01020304;
  f.origin = 0x0a0b0c0d;
  for (std::size_t i = 0; i < 32; ++i) f.sender[i] = static_cast<std::byte>(i + 1);
  f.destination = 0xf0e0d0c0;
  for (std::size_t i = 0; i < 32; ++i) f.recipient[i] = static_cast<std::byte>(0xff - i);
  f.body = body;
  return f;
}

bytes encode(const message_fields& f, std::span<const std::byte> metadata) {
  bytes out(encoded_envelope_size(f, metadata));
  const std::size_t written = encode_envelope(f, metadata, out);
  EXPECT_EQ(written, out.size());
  return out;
}

void expect_fields(const message_view& m, const message_fields& f) {
  EXPECT_EQ(m.nonce(), f.nonce);
  EXPECT_EQ(m.origin(), f.origin);
  EXPECT_TRUE(same(m.sender(), f.sender));
  EXPECT_EQ(m.destination(), f.destination);
  EXPECT_TRUE(same(m.recipient(), f.recipient));
  EXPECT_TRUE(same(m.body(), f.body));
}

TEST(Hyperlane, VectorMessageHasTheStatedFields) {
  const std::optional<json_message> vector = load_vector_message();
  ASSERT_TRUE(vector.has_value()) << "cannot read " FERRY_VECTORS_DIR "/hyperlane/message.json";
  EXPECT_EQ(vector->version, 3u);
  EXPECT_EQ(vector->origin, 1000u);
  EXPECT_EQ(vector->destination, 2000u);
  ASSERT_EQ(vector->sender.size(), 32u);
  ASSERT_EQ(vector->recipient.size(), 32u);
}

TEST(Hyperlane, ParsesTheVectorMessage) {
  const std::optional<json_message> vector = load_vector_message();
  ASSERT_TRUE(vector.has_value());
  const bytes raw = packed(*vector);
  ASSERT_EQ(raw.size(), message_header_size + vector->body.size());

  message_view m;
  ASSERT_EQ(parse_message(raw, m), parse_status::ok);
  EXPECT_EQ(m.bytes().data(), raw.data());
  EXPECT_EQ(m.bytes().size(), raw.size());
  EXPECT_EQ(m.nonce(), vector->nonce);
  EXPECT_EQ(m.origin(), vector->origin);
  EXPECT_TRUE(same(m.sender(), vector->sender));
  EXPECT_EQ(m.destination(), vector->destination);
  EXPECT_TRUE(same(m.recipient(), vector->recipient));
  EXPECT_TRUE(same(m.body(), vector->body));
  EXPECT_EQ(m.body().data(), raw.data() + message_header_size);
  // The sender and recipient of the vector are the left-padded addresses 0x11..11 and 0x22..22.
  EXPECT_EQ(m.sender()[12], std::byte{0x11});
  EXPECT_EQ(m.recipient()[31], std::byte{0x22});
}

TEST(Hyperlane, EncoderLaysOutTheVectorMessageByteForByte) {
  const std::optional<json_message> vector = load_vector_message();
  ASSERT_TRUE(vector.has_value());
  const bytes raw = packed(*vector);
  message_fields f;
  f.nonce = vector->nonce;
  f.origin = vector->origin;
  std::copy(vector->sender.begin(), vector->sender.end(), f.sender.begin());
  f.destination = vector->destination;
  std::copy(vector->recipient.begin(), vector->recipient.end(), f.recipient.begin());
  f.body = vector->body;

  const bytes envelope = encode(f, {});
  ASSERT_EQ(envelope.size(), 2 + raw.size());
  EXPECT_EQ(std::to_integer<std::size_t>(envelope[0]) * 256 + std::to_integer<std::size_t>(envelope[1]), raw.size());
  EXPECT_TRUE(same(std::span<const std::byte>(envelope).subspan(2), raw));
}

TEST(Hyperlane, EnvelopeRoundTripsWithMetadata) {
  const bytes body = {std::byte{0xde}, std::byte{0xad}, std::byte{0xbe}, std::byte{0xef}, std::byte{0x00}};
  // MessageIdMultisig-shaped metadata: hook, root, index, two signatures.
  bytes metadata(68 + 2 * 65);
  for (std::size_t i = 0; i < metadata.size(); ++i) metadata[i] = static_cast<std::byte>(i * 7);
  const message_fields f = sample_fields(body);

  const bytes raw = encode(f, metadata);
  ASSERT_EQ(raw.size(), 2 + message_header_size + body.size() + metadata.size());
  envelope_view e;
  ASSERT_EQ(parse_envelope(raw, e), parse_status::ok);
  expect_fields(e.message, f);
  EXPECT_EQ(e.message.bytes().data(), raw.data() + 2);
  EXPECT_EQ(e.message.bytes().size(), message_header_size + body.size());
  EXPECT_TRUE(same(e.metadata, metadata));
  EXPECT_EQ(e.metadata.data(), raw.data() + 2 + message_header_size + body.size());
}

TEST(Hyperlane, EnvelopeRoundTripsWithoutBodyOrMetadata) {
  const message_fields f = sample_fields({});
  const bytes raw = encode(f, {});
  ASSERT_EQ(raw.size(), 2 + message_header_size);
  envelope_view e;
  ASSERT_EQ(parse_envelope(raw, e), parse_status::ok);
  expect_fields(e.message, f);
  EXPECT_TRUE(e.message.body().empty());
  EXPECT_TRUE(e.metadata.empty());
}

TEST(Hyperlane, LengthPastTheEndIsBadLength) {
  const bytes body(10, std::byte{1});
  const bytes raw = encode(sample_fields(body), {});
  const std::uint16_t length = static_cast<std::uint16_t>(raw.size() - 2);
  for (const std::uint32_t claimed : {std::uint32_t{length} + 1u, std::uint32_t{length} + 100u, 0xffffu}) {
    bytes wrong = raw;
    wrong[0] = static_cast<std::byte>(claimed >> 8);
    wrong[1] = static_cast<std::byte>(claimed & 0xff);
    envelope_view e;
    EXPECT_EQ(parse_envelope(wrong, e), parse_status::bad_length) << "claimed " << claimed;
  }
  // Dropping the last byte of a metadata-less envelope makes its own length run past the end.
  envelope_view e;
  EXPECT_EQ(parse_envelope(std::span<const std::byte>(raw).first(raw.size() - 1), e), parse_status::bad_length);
}

TEST(Hyperlane, ShorterLengthMovesBytesIntoMetadata) {
  const bytes body(10, std::byte{1});
  bytes raw = encode(sample_fields(body), {});
  raw[1] = static_cast<std::byte>(std::to_integer<unsigned>(raw[1]) - 4);
  envelope_view e;
  ASSERT_EQ(parse_envelope(raw, e), parse_status::ok);
  EXPECT_EQ(e.message.body().size(), 6u);
  EXPECT_EQ(e.metadata.size(), 4u);
}

TEST(Hyperlane, MessageShorterThanItsHeaderIsTruncated) {
  const bytes raw = encode(sample_fields({}), {});
  const std::span<const std::byte> message = std::span<const std::byte>(raw).subspan(2);
  ASSERT_EQ(message.size(), message_header_size);
  for (std::size_t length = 0; length < message_header_size; ++length) {
    message_view m;
    EXPECT_EQ(parse_message(message.first(length), m), parse_status::truncated) << "length " << length;

    // The same short message in an envelope whose length agrees with it.
    bytes envelope = {std::byte{0}, static_cast<std::byte>(length)};
    envelope.insert(envelope.end(), message.begin(), message.begin() + static_cast<std::ptrdiff_t>(length));
    envelope.push_back(std::byte{0x99});  // metadata, so that only the message is short
    envelope_view e;
    EXPECT_EQ(parse_envelope(envelope, e), parse_status::truncated) << "length " << length;
  }
  message_view m;
  EXPECT_EQ(parse_message(message, m), parse_status::ok);
}

TEST(Hyperlane, EnvelopeWithoutItsLengthIsTruncated) {
  const bytes one = {std::byte{0}};
  envelope_view e;
  EXPECT_EQ(parse_envelope({}, e), parse_status::truncated);
  EXPECT_EQ(parse_envelope(one, e), parse_status::truncated);
}

TEST(Hyperlane, OtherVersionsAreUnsupported) {
  const bytes raw = encode(sample_fields({}), {});
  const std::uint8_t versions[] = {0, 1, 2, 4, 0xff};
  for (const std::uint8_t version : versions) {
    bytes wrong = raw;
    wrong[2] = std::byte{version};
    envelope_view e;
    EXPECT_EQ(parse_envelope(wrong, e), parse_status::unsupported_version) << "version " << int{version};
    message_view m;
    EXPECT_EQ(parse_message(std::span<const std::byte>(wrong).subspan(2), m), parse_status::unsupported_version)
        << "version " << int{version};
  }
}

TEST(Hyperlane, FailedParseLeavesTheViewAlone) {
  const bytes body(3, std::byte{5});
  const bytes raw = encode(sample_fields(body), {});
  envelope_view e;
  ASSERT_EQ(parse_envelope(raw, e), parse_status::ok);
  bytes wrong = raw;
  wrong[2] = std::byte{4};
  EXPECT_EQ(parse_envelope(wrong, e), parse_status::unsupported_version);
  EXPECT_EQ(e.message.bytes().data(), raw.data() + 2);
}

TEST(Hyperlane, EncoderRefusesASmallBufferOrAnOversizedMessage) {
  const bytes body(20, std::byte{3});
  const bytes metadata(5, std::byte{4});
  const message_fields f = sample_fields(body);
  const std::size_t size = encoded_envelope_size(f, metadata);
  ASSERT_EQ(size, 2 + message_header_size + body.size() + metadata.size());
  bytes small(size - 1, std::byte{0xee});
  EXPECT_EQ(encode_envelope(f, metadata, small), 0u);
  EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](std::byte b) { return b == std::byte{0xee}; }));
  EXPECT_EQ(encode_envelope(f, metadata, {}), 0u);

  // The u16 length holds at most 65535 message bytes.
  const bytes largest_body(0xffff - message_header_size, std::byte{6});
  const message_fields largest = sample_fields(largest_body);
  bytes out(encoded_envelope_size(largest, {}));
  ASSERT_EQ(encode_envelope(largest, {}, out), out.size());
  envelope_view e;
  ASSERT_EQ(parse_envelope(out, e), parse_status::ok);
  EXPECT_EQ(e.message.bytes().size(), 0xffffu);
  EXPECT_EQ(e.message.body().size(), largest_body.size());

  const bytes too_large_body(0xffff - message_header_size + 1, std::byte{6});
  const message_fields too_large = sample_fields(too_large_body);
  bytes big(encoded_envelope_size(too_large, {}) + 16);
  EXPECT_EQ(encode_envelope(too_large, {}, big), 0u);
}

}  // namespace
}  // namespace ferry::verify::hyperlane
