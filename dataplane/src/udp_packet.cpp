#include "ferry/dataplane/udp_packet.hpp"

#include <netinet/in.h>

#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::dp {

using platform::load_be16;
using platform::store_be16;

namespace {

constexpr std::size_t max_ip_total = 0xffff;

// The pseudo-header's sum: addresses, protocol and UDP length, laid out as RFC 768 (IPv4) and RFC 8200 8.1 (IPv6)
// put them in front of the datagram.
std::uint64_t pseudo_header_sum(std::span<const std::byte> source, std::span<const std::byte> destination,
                                std::uint16_t udp_length) noexcept {
  std::uint64_t sum = checksum_add(0, source);
  sum = checksum_add(sum, destination);
  // IPv4: zero, protocol, UDP length (16 bits). IPv6: UDP length (32 bits), three zeros, next header. Both sum the
  // same 16-bit words, so one layout serves.
  std::byte tail[4];
  tail[0] = std::byte{0};
  tail[1] = std::byte{ip_protocol_udp};
  store_be16(tail + 2, udp_length);
  return checksum_add(sum, tail);
}

// Folds a sum of 16-bit words taken as numbers (rather than read from memory, as checksum_add() does) to 16 bits.
std::uint16_t fold_number(std::uint64_t sum) noexcept {
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

}  // namespace

const char* to_string(udp_packet_status status) noexcept {
  switch (status) {
    case udp_packet_status::ok: return "ok";
    case udp_packet_status::truncated: return "truncated";
    case udp_packet_status::not_ip: return "not IP";
    case udp_packet_status::bad_ip_header: return "bad IP header";
    case udp_packet_status::bad_ip_length: return "bad IP length";
    case udp_packet_status::fragment: return "IP fragment";
    case udp_packet_status::not_udp: return "not UDP";
    case udp_packet_status::bad_udp_length: return "bad UDP length";
  }
  return "unknown";
}

std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::byte> bytes) noexcept {
  // Sums native-order words: the ones' complement sum commutes with byte swapping (RFC 1071 2.B), so
  // checksum_fold() swaps once at the end. 32-bit words into 64 bits cannot overflow below 2^32 words.
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 4; p += 4, n -= 4) {
    std::uint32_t word;
    std::memcpy(&word, p, sizeof word);
    sum += word;
  }
  if (n >= 2) {
    std::uint16_t word;
    std::memcpy(&word, p, sizeof word);
    sum += word;
    p += 2;
    n -= 2;
  }
  if (n == 1) sum += std::to_integer<std::uint8_t>(*p);  // the odd byte, padded with a zero after it
  return sum;
}

std::uint16_t checksum_fold(std::uint64_t sum) noexcept {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return __builtin_bswap16(static_cast<std::uint16_t>(sum));
}

udp_packet_status parse_udp_packet(std::span<const std::byte> frame, udp_packet_view& out) noexcept {
  const std::byte* p = frame.data();
  const std::size_t size = frame.size();
  if (size < ethernet_header_size) return udp_packet_status::truncated;
  std::uint16_t type = load_be16(p + 12);
  std::size_t at = ethernet_header_size;
  if (type == ethertype_vlan) {
    if (size < at + vlan_tag_size) return udp_packet_status::truncated;
    type = load_be16(p + at + 2);
    at += vlan_tag_size;
  }
  const std::byte* ip = p + at;
  const std::size_t room = size - at;  // the IP packet and any Ethernet padding after it

  udp_packet_view view;
  std::size_t header_length;
  std::size_t ip_payload;  // bytes after the IP header that the IP length says are the packet's
  if (type == ethertype_ipv4) {
    if (room < ipv4_header_size) return udp_packet_status::truncated;
    const auto version_ihl = std::to_integer<std::uint8_t>(ip[0]);
    if ((version_ihl >> 4) != 4) return udp_packet_status::bad_ip_header;
    header_length = static_cast<std::size_t>(version_ihl & 0x0f) * 4;
    if (header_length < ipv4_header_size) return udp_packet_status::bad_ip_header;
    if (header_length > room) return udp_packet_status::truncated;
    const std::size_t total = load_be16(ip + 2);
    if (total < header_length || total > room) return udp_packet_status::bad_ip_length;
    if ((load_be16(ip + 6) & 0x3fff) != 0) return udp_packet_status::fragment;  // more-fragments or an offset
    if (std::to_integer<std::uint8_t>(ip[9]) != ip_protocol_udp) return udp_packet_status::not_udp;
    view.ip_version = 4;
    view.source_address = std::span(ip + 12, 4);
    view.destination_address = std::span(ip + 16, 4);
    ip_payload = total - header_length;
  } else if (type == ethertype_ipv6) {
    if (room < ipv6_header_size) return udp_packet_status::truncated;
    if ((std::to_integer<std::uint8_t>(ip[0]) >> 4) != 6) return udp_packet_status::bad_ip_header;
    header_length = ipv6_header_size;
    ip_payload = load_be16(ip + 4);
    if (ip_payload > room - header_length) return udp_packet_status::bad_ip_length;
    if (std::to_integer<std::uint8_t>(ip[6]) != ip_protocol_udp) return udp_packet_status::not_udp;
    view.ip_version = 6;
    view.source_address = std::span(ip + 8, 16);
    view.destination_address = std::span(ip + 24, 16);
  } else {
    return udp_packet_status::not_ip;
  }

  if (ip_payload < udp_header_size) return udp_packet_status::bad_udp_length;
  const std::byte* udp = ip + header_length;
  const std::size_t udp_length = load_be16(udp + 4);
  if (udp_length < udp_header_size || udp_length > ip_payload) return udp_packet_status::bad_udp_length;
  view.ip_header = std::span(ip, header_length);
  view.source_port = load_be16(udp);
  view.destination_port = load_be16(udp + 2);
  view.datagram = std::span(udp, udp_length);
  out = view;
  return udp_packet_status::ok;
}

bool ip_checksum_ok(const udp_packet_view& packet) noexcept {
  if (packet.ip_version != 4) return true;
  return checksum_fold(checksum_add(0, packet.ip_header)) == 0xffff;
}

bool udp_checksum_ok(const udp_packet_view& packet) noexcept {
  const std::uint16_t stored = load_be16(packet.datagram.data() + 6);
  if (stored == 0) return packet.ip_version == 4;
  const std::uint64_t sum = pseudo_header_sum(packet.source_address, packet.destination_address,
                                              static_cast<std::uint16_t>(packet.datagram.size()));
  return checksum_fold(checksum_add(sum, packet.datagram)) == 0xffff;
}

bool addressed_to(const udp_packet_view& packet, const endpoint& listen) noexcept {
  if (packet.destination_port != listen.port()) return false;
  if (packet.ip_version == 4 && listen.family() == AF_INET) {
    sockaddr_in address;
    std::memcpy(&address, listen.address(), sizeof address);
    if (address.sin_addr.s_addr == htonl(INADDR_ANY)) return true;
    return std::memcmp(&address.sin_addr, packet.destination_address.data(), 4) == 0;
  }
  if (packet.ip_version == 6 && listen.family() == AF_INET6) {
    sockaddr_in6 address;
    std::memcpy(&address, listen.address(), sizeof address);
    if (IN6_IS_ADDR_UNSPECIFIED(&address.sin6_addr)) return true;
    return std::memcmp(&address.sin6_addr, packet.destination_address.data(), 16) == 0;
  }
  return false;
}

endpoint source_of(const udp_packet_view& packet) noexcept {
  if (packet.ip_version == 4) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(packet.source_port);
    std::memcpy(&address.sin_addr, packet.source_address.data(), 4);
    return endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), sizeof address);
  }
  if (packet.ip_version == 6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(packet.source_port);
    std::memcpy(&address.sin6_addr, packet.source_address.data(), 16);
    return endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), sizeof address);
  }
  return endpoint();
}

std::size_t udp_headers_size(sa_family_t family) noexcept {
  if (family == AF_INET) return ethernet_header_size + ipv4_header_size + udp_header_size;
  if (family == AF_INET6) return ethernet_header_size + ipv6_header_size + udp_header_size;
  return 0;
}

std::size_t max_udp_payload(sa_family_t family) noexcept {
  if (family == AF_INET) return max_ip_total - ipv4_header_size - udp_header_size;
  if (family == AF_INET6) return max_ip_total - udp_header_size;  // the payload length excludes the fixed header
  return 0;
}

bool write_udp_headers(std::span<std::byte> frame, const mac_address& source_mac, const mac_address& destination_mac,
                       const endpoint& source, const endpoint& destination, std::uint32_t offloads,
                       const payload_checksum* payload_sum) noexcept {
  const sa_family_t family = destination.family();
  if (source.family() != family) return false;
  const std::size_t headers = udp_headers_size(family);
  if (headers == 0 || frame.size() < headers) return false;
  const std::size_t payload = frame.size() - headers;
  if (payload > max_udp_payload(family)) return false;
  if (payload_sum != nullptr && payload_sum->length() != payload) return false;
  const auto udp_length = static_cast<std::uint16_t>(payload + udp_header_size);

  // The header checksums are summed from the values written rather than read back from the frame: loads right
  // after the byte stores that made the headers would stall on store forwarding. Sums here are of 16-bit words as
  // numbers, checksum_fold()'s domain.
  const auto words = [](std::uint32_t v) -> std::uint64_t { return (v >> 16) + (v & 0xffff); };
  std::byte* p = frame.data();
  std::memcpy(p, destination_mac.data(), 6);
  std::memcpy(p + 6, source_mac.data(), 6);
  std::byte* ip = p + ethernet_header_size;
  std::byte* udp;
  std::uint64_t pseudo;  // the pseudo-header's words
  if (family == AF_INET) {
    store_be16(p + 12, ethertype_ipv4);
    sockaddr_in from;
    sockaddr_in to;
    std::memcpy(&from, source.address(), sizeof from);
    std::memcpy(&to, destination.address(), sizeof to);
    const auto total = static_cast<std::uint16_t>(ipv4_header_size + udp_length);
    constexpr std::uint16_t version_ihl_tos = 0x4500;  // version 4, 5 words of header, DSCP and ECN 0
    constexpr std::uint16_t flags_offset = 0x4000;     // DF: ferry never fragments, so a path that would must say so
    constexpr std::uint16_t ttl_protocol = (64u << 8) | ip_protocol_udp;
    store_be16(ip, version_ihl_tos);
    store_be16(ip + 2, total);
    store_be16(ip + 4, 0);  // ID: RFC 6864 lets an atomic datagram (DF, never fragmented) leave it 0
    store_be16(ip + 6, flags_offset);
    store_be16(ip + 8, ttl_protocol);
    store_be16(ip + 10, 0);
    std::memcpy(ip + 12, &from.sin_addr, 4);
    std::memcpy(ip + 16, &to.sin_addr, 4);
    const std::uint64_t addresses = words(ntohl(from.sin_addr.s_addr)) + words(ntohl(to.sin_addr.s_addr));
    if ((offloads & checksum_offload::ipv4_header) == 0) {
      const std::uint64_t sum = version_ihl_tos + total + flags_offset + ttl_protocol + addresses;
      store_be16(ip + 10, static_cast<std::uint16_t>(~fold_number(sum)));
    }
    udp = ip + ipv4_header_size;
    pseudo = addresses + ip_protocol_udp + udp_length;
  } else {
    store_be16(p + 12, ethertype_ipv6);
    sockaddr_in6 from;
    sockaddr_in6 to;
    std::memcpy(&from, source.address(), sizeof from);
    std::memcpy(&to, destination.address(), sizeof to);
    ip[0] = std::byte{0x60};  // version 6; traffic class and flow label 0
    ip[1] = std::byte{0};
    ip[2] = std::byte{0};
    ip[3] = std::byte{0};
    store_be16(ip + 4, udp_length);
    ip[6] = std::byte{ip_protocol_udp};
    ip[7] = std::byte{64};
    std::memcpy(ip + 8, &from.sin6_addr, 16);
    std::memcpy(ip + 24, &to.sin6_addr, 16);
    const auto as_bytes = [](const in6_addr& a) { return std::span(reinterpret_cast<const std::byte*>(&a), 16); };
    pseudo = checksum_fold(checksum_add(checksum_add(0, as_bytes(from.sin6_addr)), as_bytes(to.sin6_addr))) +
             std::uint64_t{ip_protocol_udp} + udp_length;
    udp = ip + ipv6_header_size;
  }
  store_be16(udp, source.port());
  store_be16(udp + 2, destination.port());
  store_be16(udp + 4, udp_length);
  if ((offloads & checksum_offload::udp) != 0) {
    store_be16(udp + 6, fold_number(pseudo));
  } else {
    const std::uint64_t header = std::uint64_t{source.port()} + destination.port() + udp_length;
    const std::uint16_t body = payload_sum != nullptr
                                   ? fold_number(payload_sum->sum())
                                   : checksum_fold(checksum_add(0, std::span(udp + udp_header_size, payload)));
    auto checksum = static_cast<std::uint16_t>(~fold_number(pseudo + header + body));
    if (checksum == 0) checksum = 0xffff;  // 0 would read as "no checksum" (IPv4) or invalid (IPv6)
    store_be16(udp + 6, checksum);
  }
  return true;
}

}  // namespace ferry::dp
