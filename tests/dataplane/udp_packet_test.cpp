#include "ferry/dataplane/udp_packet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "ferry/platform/endian.hpp"
#include "support/bytes.hpp"

namespace ferry::dp {
namespace {

using ferry::testing::bytes;
using ferry::testing::from_hex;
using ferry::testing::same;

constexpr mac_address source_mac = {0x02, 0, 0, 0, 0, 0x01};
constexpr mac_address destination_mac = {0x02, 0, 0, 0, 0, 0x02};
constexpr std::string_view hello = "hello ferry";

// Written out by an independent implementation (Python's struct, 16-bit big-endian words) and the IPv4 header
// checksum checked by hand: 192.0.2.1:5000 -> 198.51.100.7:7700, and [2001:db8::1]:5000 -> [2001:db8::2]:7700,
// each carrying "hello ferry" (11 bytes: an odd length, so the checksum pads).
constexpr std::string_view ipv4_frame_hex =
    "020000000002020000000001"
    "0800"
    "450000270000400040114e8ac0000201c6336407"
    "13881e1400134c25"
    "68656c6c6f206665727279";
constexpr std::string_view ipv6_frame_hex =
    "020000000002020000000001"
    "86dd"
    "6000000000131140"
    "20010db8000000000000000000000001"
    "20010db8000000000000000000000002"
    "13881e140013dcec"
    "68656c6c6f206665727279";

bytes hex(std::string_view text) {
  auto out = from_hex(text);
  EXPECT_TRUE(out.has_value()) << text;
  return out.value_or(bytes{});
}

endpoint ep(std::string_view text) {
  auto parsed = endpoint::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : endpoint();
}

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// A frame built by write_udp_headers() around `payload`.
bytes build(const endpoint& from, const endpoint& to, std::span<const std::byte> payload, std::uint32_t offloads = 0) {
  bytes frame(udp_headers_size(to.family()) + payload.size());
  std::memcpy(frame.data() + udp_headers_size(to.family()), payload.data(), payload.size());
  EXPECT_TRUE(write_udp_headers(frame, source_mac, destination_mac, from, to, offloads));
  return frame;
}

// The textbook sum (RFC 1071): big-endian 16-bit words, carries folded, not complemented.
std::uint16_t reference_sum(std::span<const std::byte> data) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const auto hi = std::to_integer<std::uint32_t>(data[i]);
    const auto lo = i + 1 < data.size() ? std::to_integer<std::uint32_t>(data[i + 1]) : 0u;
    sum += (hi << 8) | lo;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(sum);
}

udp_packet_status parse(const bytes& frame) {
  udp_packet_view view;
  return parse_udp_packet(frame, view);
}

TEST(UdpPacket, ChecksumOfTheTextbookIpv4Header) {
  // The worked example of the IPv4 header checksum (192.168.0.1 -> 192.168.0.199, checksum b861).
  bytes header = hex("450000730000400040110000c0a80001c0a800c7");
  EXPECT_EQ(static_cast<std::uint16_t>(~checksum_fold(checksum_add(0, header))), 0xb861);
  platform::store_be16(header.data() + 10, 0xb861);
  EXPECT_EQ(checksum_fold(checksum_add(0, header)), 0xffff);
}

TEST(UdpPacket, ChecksumAgreesWithTheTextbookSumInPieces) {
  std::mt19937 random(7);
  for (std::size_t length : {0u, 1u, 2u, 3u, 5u, 8u, 63u, 64u, 1499u, 1500u}) {
    bytes data(length);
    for (auto& b : data) b = static_cast<std::byte>(random());
    EXPECT_EQ(checksum_fold(checksum_add(0, data)), reference_sum(data)) << length;
    // Split at even offsets, as the pseudo-header and the datagram are.
    for (std::size_t split = 0; split <= length; split += 2) {
      const auto whole = std::span<const std::byte>(data);
      const std::uint64_t sum = checksum_add(checksum_add(0, whole.first(split)), whole.subspan(split));
      EXPECT_EQ(checksum_fold(sum), reference_sum(data)) << length << " split at " << split;
    }
  }
  // Many all-ones words: the carries wrap around, and the result is 0xffff rather than 0.
  const bytes ones(65536, std::byte{0xff});
  EXPECT_EQ(checksum_fold(checksum_add(0, ones)), 0xffff);
}

TEST(UdpPacket, WritesIpv4AsTheReference) {
  const bytes frame = build(ep("192.0.2.1:5000"), ep("198.51.100.7:7700"), as_bytes(hello));
  EXPECT_EQ(frame.size(), 42u + hello.size());
  EXPECT_TRUE(same(frame, hex(ipv4_frame_hex)));
}

TEST(UdpPacket, WritesIpv6AsTheReference) {
  const bytes frame = build(ep("[2001:db8::1]:5000"), ep("[2001:db8::2]:7700"), as_bytes(hello));
  EXPECT_EQ(frame.size(), 62u + hello.size());
  EXPECT_TRUE(same(frame, hex(ipv6_frame_hex)));
}

TEST(UdpPacket, ParsesTheReferenceFrames) {
  for (std::string_view text : {ipv4_frame_hex, ipv6_frame_hex}) {
    const bytes frame = hex(text);
    udp_packet_view view;
    ASSERT_EQ(parse_udp_packet(frame, view), udp_packet_status::ok);
    const bool v4 = text == ipv4_frame_hex;
    EXPECT_EQ(view.ip_version, v4 ? 4 : 6);
    EXPECT_EQ(view.ip_header.size(), v4 ? 20u : 40u);
    EXPECT_EQ(view.source_port, 5000);
    EXPECT_EQ(view.destination_port, 7700);
    EXPECT_EQ(view.datagram.size(), 8u + hello.size());
    EXPECT_TRUE(same(view.payload(), as_bytes(hello)));
    EXPECT_TRUE(ip_checksum_ok(view));
    EXPECT_TRUE(udp_checksum_ok(view));
    EXPECT_EQ(source_of(view), ep(v4 ? "192.0.2.1:5000" : "[2001:db8::1]:5000"));
    EXPECT_TRUE(addressed_to(view, ep(v4 ? "198.51.100.7:7700" : "[2001:db8::2]:7700")));
    EXPECT_TRUE(addressed_to(view, ep(v4 ? "0.0.0.0:7700" : "[::]:7700")));
    EXPECT_FALSE(addressed_to(view, ep(v4 ? "198.51.100.7:7701" : "[2001:db8::2]:7701")));
    EXPECT_FALSE(addressed_to(view, ep(v4 ? "198.51.100.8:7700" : "[2001:db8::3]:7700")));
    EXPECT_FALSE(addressed_to(view, ep(v4 ? "[::]:7700" : "0.0.0.0:7700")));  // the other family
  }
}

TEST(UdpPacket, OffloadLeavesTheChecksumsAsNicsExpect) {
  const bytes frame = build(ep("192.0.2.1:5000"), ep("198.51.100.7:7700"), as_bytes(hello),
                            checksum_offload::ipv4_header | checksum_offload::udp);
  EXPECT_EQ(platform::load_be16(frame.data() + 14 + 10), 0);
  // The UDP field holds the pseudo-header's sum, not complemented.
  const bytes pseudo = hex("c0000201c633640700110013");
  EXPECT_EQ(platform::load_be16(frame.data() + 34 + 6), reference_sum(pseudo));
  const bytes v6 = build(ep("[2001:db8::1]:5000"), ep("[2001:db8::2]:7700"), as_bytes(hello), checksum_offload::udp);
  const bytes pseudo6 = hex("20010db800000000000000000000000120010db80000000000000000000000020000001300000011");
  EXPECT_EQ(platform::load_be16(v6.data() + 54 + 6), reference_sum(pseudo6));
  // Everything else is as without offload.
  bytes plain = hex(ipv4_frame_hex);
  platform::store_be16(plain.data() + 14 + 10, 0);
  platform::store_be16(plain.data() + 34 + 6, 0);
  bytes offloaded = frame;
  platform::store_be16(offloaded.data() + 34 + 6, 0);
  EXPECT_TRUE(same(offloaded, plain));
}

TEST(UdpPacket, ZeroChecksumIsSentAsAllOnes) {
  // A payload chosen so that the checksum computes to 0: "no checksum" in IPv4, so it must go out as 0xffff.
  const endpoint from = ep("10.0.0.1:1");
  const endpoint to = ep("10.0.0.2:2");
  bytes payload(2);
  bytes frame = build(from, to, payload);
  const std::uint16_t first = platform::load_be16(frame.data() + 34 + 6);
  // Setting the payload word to the old checksum makes the sum's complement 0.
  platform::store_be16(payload.data(), first);
  frame = build(from, to, payload);
  EXPECT_EQ(platform::load_be16(frame.data() + 34 + 6), 0xffff);
  udp_packet_view view;
  ASSERT_EQ(parse_udp_packet(frame, view), udp_packet_status::ok);
  EXPECT_TRUE(udp_checksum_ok(view));
}

TEST(UdpPacket, ChecksumsCatchCorruption) {
  for (std::string_view text : {ipv4_frame_hex, ipv6_frame_hex}) {
    bytes frame = hex(text);
    frame.back() ^= std::byte{0x01};
    udp_packet_view view;
    ASSERT_EQ(parse_udp_packet(frame, view), udp_packet_status::ok);
    EXPECT_TRUE(ip_checksum_ok(view));
    EXPECT_FALSE(udp_checksum_ok(view)) << text;
  }
  bytes frame = hex(ipv4_frame_hex);
  frame[14 + 8] = std::byte{63};  // TTL
  udp_packet_view view;
  ASSERT_EQ(parse_udp_packet(frame, view), udp_packet_status::ok);
  EXPECT_FALSE(ip_checksum_ok(view));
}

TEST(UdpPacket, ZeroUdpChecksumPassesOnIpv4Only) {
  bytes v4 = hex(ipv4_frame_hex);
  platform::store_be16(v4.data() + 34 + 6, 0);
  udp_packet_view view;
  ASSERT_EQ(parse_udp_packet(v4, view), udp_packet_status::ok);
  EXPECT_TRUE(udp_checksum_ok(view));
  bytes v6 = hex(ipv6_frame_hex);
  platform::store_be16(v6.data() + 54 + 6, 0);
  ASSERT_EQ(parse_udp_packet(v6, view), udp_packet_status::ok);
  EXPECT_FALSE(udp_checksum_ok(view));
}

TEST(UdpPacket, SkipsOneVlanTag) {
  const bytes plain = hex(ipv4_frame_hex);
  bytes tagged(plain.begin(), plain.begin() + 12);
  for (auto b : hex("81000064")) tagged.push_back(b);  // 802.1Q, VLAN 100
  tagged.insert(tagged.end(), plain.begin() + 12, plain.end());
  udp_packet_view view;
  ASSERT_EQ(parse_udp_packet(tagged, view), udp_packet_status::ok);
  EXPECT_TRUE(same(view.payload(), as_bytes(hello)));
  EXPECT_TRUE(udp_checksum_ok(view));
  tagged.resize(16);
  EXPECT_EQ(parse(tagged), udp_packet_status::truncated);
}

TEST(UdpPacket, CutsEthernetPaddingAndShortUdpLengths) {
  bytes padded = hex(ipv4_frame_hex);
  padded.resize(min_ethernet_frame + 20, std::byte{0xee});
  udp_packet_view view;
  ASSERT_EQ(parse_udp_packet(padded, view), udp_packet_status::ok);
  EXPECT_TRUE(same(view.payload(), as_bytes(hello)));
  EXPECT_TRUE(udp_checksum_ok(view));
  // A UDP length under the IP payload: the rest is not the datagram's (Linux accepts and trims it too).
  bytes shorter = hex(ipv4_frame_hex);
  platform::store_be16(shorter.data() + 34 + 4, 8 + 5);
  ASSERT_EQ(parse_udp_packet(shorter, view), udp_packet_status::ok);
  EXPECT_EQ(view.payload().size(), 5u);
}

TEST(UdpPacket, ReadsPastIpv4Options) {
  const bytes plain = hex(ipv4_frame_hex);
  bytes with_options(plain.begin(), plain.begin() + 34);
  with_options[14] = std::byte{0x46};  // 6 words of header
  platform::store_be16(with_options.data() + 16, 0x27 + 4);
  for (int i = 0; i < 4; ++i) with_options.push_back(std::byte{1});  // four NOP options
  with_options.insert(with_options.end(), plain.begin() + 34, plain.end());
  platform::store_be16(with_options.data() + 24, 0);
  const std::uint64_t header_sum = checksum_add(0, std::span(with_options).subspan(14, 24));
  platform::store_be16(with_options.data() + 24, static_cast<std::uint16_t>(~checksum_fold(header_sum)));
  udp_packet_view view;
  ASSERT_EQ(parse_udp_packet(with_options, view), udp_packet_status::ok);
  EXPECT_EQ(view.ip_header.size(), 24u);
  EXPECT_TRUE(ip_checksum_ok(view));
  EXPECT_TRUE(udp_checksum_ok(view));
  EXPECT_TRUE(same(view.payload(), as_bytes(hello)));
}

TEST(UdpPacket, RefusesWhatIsNotAUdpDatagram) {
  const bytes v4 = hex(ipv4_frame_hex);
  const bytes v6 = hex(ipv6_frame_hex);
  const auto edit = [](bytes frame, std::size_t at, std::initializer_list<std::uint8_t> values) {
    for (std::uint8_t v : values) frame[at++] = std::byte{v};
    return frame;
  };
  const auto cut = [](bytes frame, std::size_t size) {
    frame.resize(size);
    return frame;
  };
  EXPECT_EQ(parse(cut(v4, 13)), udp_packet_status::truncated);
  EXPECT_EQ(parse(edit(v4, 12, {0x08, 0x06})), udp_packet_status::not_ip);  // ARP
  EXPECT_EQ(parse(cut(v4, 14 + 19)), udp_packet_status::truncated);
  EXPECT_EQ(parse(edit(v4, 14, {0x55})), udp_packet_status::bad_ip_header);  // version 5
  EXPECT_EQ(parse(edit(v4, 14, {0x44})), udp_packet_status::bad_ip_header);  // 16-byte header
  EXPECT_EQ(parse(edit(v4, 14, {0x4f})), udp_packet_status::truncated);      // 60-byte header, 53 bytes there
  EXPECT_EQ(parse(edit(v4, 16, {0x00, 0x28})), udp_packet_status::bad_ip_length);  // one past the frame
  EXPECT_EQ(parse(edit(v4, 16, {0x00, 0x13})), udp_packet_status::bad_ip_length);  // under its header
  EXPECT_EQ(parse(edit(v4, 16, {0x00, 0x1b})), udp_packet_status::bad_udp_length);  // 7 bytes for UDP
  EXPECT_EQ(parse(edit(v4, 20, {0x20, 0x00})), udp_packet_status::fragment);        // more fragments
  EXPECT_EQ(parse(edit(v4, 20, {0x40, 0x01})), udp_packet_status::fragment);        // an offset
  EXPECT_EQ(parse(edit(v4, 23, {6})), udp_packet_status::not_udp);                  // TCP
  EXPECT_EQ(parse(edit(v4, 38, {0x00, 0x07})), udp_packet_status::bad_udp_length);
  EXPECT_EQ(parse(edit(v4, 38, {0x00, 0x14})), udp_packet_status::bad_udp_length);  // one past the IP payload
  EXPECT_EQ(parse(cut(v4, v4.size() - 1)), udp_packet_status::bad_ip_length);      // the IP packet cut short

  EXPECT_EQ(parse(cut(v6, 14 + 39)), udp_packet_status::truncated);
  EXPECT_EQ(parse(edit(v6, 14, {0x40})), udp_packet_status::bad_ip_header);
  EXPECT_EQ(parse(edit(v6, 18, {0x00, 0x14})), udp_packet_status::bad_ip_length);
  EXPECT_EQ(parse(edit(v6, 18, {0x00, 0x07})), udp_packet_status::bad_udp_length);
  EXPECT_EQ(parse(edit(v6, 20, {44})), udp_packet_status::not_udp);  // a fragment header
  EXPECT_EQ(parse(edit(v6, 20, {0})), udp_packet_status::not_udp);   // hop-by-hop options
  EXPECT_EQ(parse(edit(v6, 58, {0x00, 0x14})), udp_packet_status::bad_udp_length);
}

TEST(UdpPacket, WriteRefusesWhatItCannotSend) {
  bytes frame(100);
  EXPECT_FALSE(write_udp_headers(frame, source_mac, destination_mac, ep("10.0.0.1:1"), ep("[::1]:2")));
  EXPECT_FALSE(write_udp_headers(frame, source_mac, destination_mac, endpoint(), endpoint()));
  bytes small(41);
  EXPECT_FALSE(write_udp_headers(small, source_mac, destination_mac, ep("10.0.0.1:1"), ep("10.0.0.2:2")));
  EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](std::byte b) { return b == std::byte{0}; }));
  bytes largest(udp_headers_size(AF_INET) + max_udp_payload(AF_INET));
  EXPECT_TRUE(write_udp_headers(largest, source_mac, destination_mac, ep("10.0.0.1:1"), ep("10.0.0.2:2")));
  EXPECT_EQ(platform::load_be16(largest.data() + 16), 0xffff);
  largest.push_back(std::byte{0});
  EXPECT_FALSE(write_udp_headers(largest, source_mac, destination_mac, ep("10.0.0.1:1"), ep("10.0.0.2:2")));
  bytes largest6(udp_headers_size(AF_INET6) + max_udp_payload(AF_INET6));
  EXPECT_TRUE(write_udp_headers(largest6, source_mac, destination_mac, ep("[::1]:1"), ep("[::2]:2")));
  EXPECT_EQ(platform::load_be16(largest6.data() + 18), 0xffff);
  largest6.push_back(std::byte{0});
  EXPECT_FALSE(write_udp_headers(largest6, source_mac, destination_mac, ep("[::1]:1"), ep("[::2]:2")));
  EXPECT_EQ(udp_headers_size(AF_UNIX), 0u);
}

TEST(UdpPacket, RoundTripsEveryPayloadLength) {
  std::mt19937 random(11);
  bytes payload(1500);
  for (auto& b : payload) b = static_cast<std::byte>(random());
  for (std::size_t length = 0; length <= payload.size(); length += 37) {
    for (const char* to : {"203.0.113.9:9", "[2001:db8::9]:9"}) {
      const endpoint destination = ep(to);
      const endpoint source = ep(destination.family() == AF_INET ? "203.0.113.1:40000" : "[2001:db8::1]:40000");
      const auto body = std::span<const std::byte>(payload).first(length);
      const bytes frame = build(source, destination, body);
      udp_packet_view view;
      ASSERT_EQ(parse_udp_packet(frame, view), udp_packet_status::ok) << length;
      EXPECT_TRUE(ip_checksum_ok(view));
      EXPECT_TRUE(udp_checksum_ok(view)) << length;
      EXPECT_TRUE(same(view.payload(), body));
      EXPECT_EQ(source_of(view), source);
      EXPECT_TRUE(addressed_to(view, destination));
    }
  }
}

}  // namespace
}  // namespace ferry::dp
