#pragma once
// Ethernet / IPv4 or IPv6 / UDP, as the DPDK backend reads them off the wire and writes them onto it, with their
// checksums. Byte work only (no DPDK), so that it is tested, fuzzed and cross-built with the rest of the data plane.
// Every read is checked against the frame's length first; nothing here allocates or throws.

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/dataplane/endpoint.hpp"

namespace ferry::dp {

using mac_address = std::array<std::uint8_t, 6>;

inline constexpr std::size_t ethernet_header_size = 14;
inline constexpr std::size_t vlan_tag_size = 4;
inline constexpr std::size_t ipv4_header_size = 20;  // without options
inline constexpr std::size_t ipv6_header_size = 40;  // the fixed header; extension headers are not read
inline constexpr std::size_t udp_header_size = 8;
inline constexpr std::size_t min_ethernet_frame = 60;  // without the FCS; shorter frames are padded on the wire

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_arp = 0x0806;
inline constexpr std::uint16_t ethertype_vlan = 0x8100;
inline constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
inline constexpr std::uint8_t ip_protocol_udp = 17;

// Why a frame is not a UDP datagram that parse_udp_packet() can hand on.
enum class udp_packet_status : std::uint8_t {
  ok,
  truncated,       // ends inside the Ethernet header, the VLAN tag or the IP header its type announces
  not_ip,          // another ethertype (ARP, LLDP, ...) or a second VLAN tag
  bad_ip_header,   // wrong IP version, or an IPv4 header length under 20 bytes
  bad_ip_length,   // IP total (IPv4) or payload (IPv6) length below its headers or past the end of the frame
  fragment,        // an IPv4 fragment: ferry does not reassemble
  not_udp,         // another protocol, or IPv6 extension headers (including a fragment header) before UDP
  bad_udp_length,  // UDP length under 8 or past the IP payload (shorter is allowed: the rest is cut, as Linux does)
};

const char* to_string(udp_packet_status status) noexcept;

// A parsed datagram: every span points into the frame it was parsed from.
struct udp_packet_view {
  std::uint8_t ip_version = 0;                     // 4 or 6
  std::span<const std::byte> ip_header;            // IPv4 header with its options, or the IPv6 fixed header
  std::span<const std::byte> source_address;       // 4 or 16 bytes
  std::span<const std::byte> destination_address;  // 4 or 16 bytes
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::span<const std::byte> datagram;  // UDP header and payload: exactly the UDP length (Ethernet padding cut)

  std::span<const std::byte> payload() const noexcept { return datagram.subspan(udp_header_size); }
};

// Reads the Ethernet header (skipping one 802.1Q tag), the IP header and the UDP header of `frame`, checking every
// length against the frame and each other; fills `out` only when ok. Checksums are not checked here (see below), so
// that a caller checks them only for datagrams it keeps, and not when the NIC already did.
udp_packet_status parse_udp_packet(std::span<const std::byte> frame, udp_packet_view& out) noexcept;

// True when the IPv4 header checksum is right (always true for IPv6, which has none).
bool ip_checksum_ok(const udp_packet_view& packet) noexcept;

// True when the UDP checksum over the pseudo-header and datagram is right. An IPv4 checksum of 0 means "not
// computed" and passes; an IPv6 checksum of 0 is invalid (RFC 8200 8.1) and fails, as in the kernel.
bool udp_checksum_ok(const udp_packet_view& packet) noexcept;

// True when the datagram is for `listen`: same IP family and UDP port, and the same address unless `listen`'s is the
// unspecified one (0.0.0.0 or ::), which takes any address of its family.
bool addressed_to(const udp_packet_view& packet, const endpoint& listen) noexcept;

// The sender's address and port.
endpoint source_of(const udp_packet_view& packet) noexcept;

// Bytes of the Ethernet, IP and UDP headers in front of a payload sent to `family`: 42 for AF_INET, 62 for
// AF_INET6, 0 for any other family.
std::size_t udp_headers_size(sa_family_t family) noexcept;

// Largest UDP payload one IP datagram of `family` carries (65507 for IPv4, 65527 for IPv6; 0 for others).
std::size_t max_udp_payload(sa_family_t family) noexcept;

// Checksums write_udp_headers() leaves for the NIC, as DPDK's offload flags expect them.
namespace checksum_offload {
inline constexpr std::uint32_t ipv4_header = 1u << 0;  // the IPv4 header checksum is left 0
inline constexpr std::uint32_t udp = 1u << 1;          // the UDP checksum holds the pseudo-header sum only
}  // namespace checksum_offload

// Writes Ethernet (no VLAN tag), IP and UDP headers into the first udp_headers_size() bytes of `frame`; the rest of
// `frame` is the payload, already in place, which the UDP checksum covers. source, destination: both IPv4 or both
// IPv6. offloads: checksum_offload bits. IPv4 goes with DF set, ID 0 and TTL 64, IPv6 with hop limit 64, traffic
// class and flow label 0. Returns false, writing nothing, when the families differ or are not IP, or when `frame`
// is shorter than the headers or its payload longer than max_udp_payload(). Costs one pass over the payload unless
// the UDP checksum is offloaded or `payload_sum` (the payload_checksum of exactly the payload) is given.
class payload_checksum;
bool write_udp_headers(std::span<std::byte> frame, const mac_address& source_mac, const mac_address& destination_mac,
                       const endpoint& source, const endpoint& destination, std::uint32_t offloads = 0,
                       const payload_checksum* payload_sum = nullptr) noexcept;

// The Internet checksum (RFC 1071) in pieces, for callers that assemble their own (tests, offload set-up): add byte
// runs to a running sum, then fold it. Every run but the last must have an even length, so that each starts at an
// even offset of the checksummed stream.
std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::byte> bytes) noexcept;

// Folds a running sum to 16 bits, returned as the big-endian field's value (store it with store_be16); not
// complemented. A checksummed region that includes its own correct checksum folds to 0xffff.
std::uint16_t checksum_fold(std::uint64_t sum) noexcept;

// A payload's checksum summed piece by piece, in order, as the pieces are copied into a frame: each is read while
// it is still in cache where it came from, rather than read back from the frame just written, which stalls on the
// stores in flight (a pass over a 1.4 KB frame cost a quarter of DPDK forwarding's time that way). A piece that
// starts at an odd offset counts byte-swapped (RFC 1071 2.B).
class payload_checksum {
 public:
  void add(std::span<const std::byte> piece) noexcept {
    const std::uint16_t folded = checksum_fold(checksum_add(0, piece));
    _sum += (_length & 1) != 0 ? __builtin_bswap16(folded) : folded;
    _length += piece.size();
  }
  std::uint64_t sum() const noexcept { return _sum; }  // 16-bit words as numbers: fold to use
  std::size_t length() const noexcept { return _length; }

 private:
  std::uint64_t _sum = 0;
  std::size_t _length = 0;
};

}  // namespace ferry::dp
