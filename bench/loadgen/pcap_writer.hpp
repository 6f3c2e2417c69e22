#pragma once
// Writes UDP datagrams as Ethernet/IPv4/UDP packets to a classic libpcap file (magic 0xa1b2c3d4 in host order,
// link type 1, Ethernet), the format DPDK's net_pcap device reads (`--vdev net_pcap0,rx_pcap=FILE`), so that a DPDK
// port can be fed the load generator's traffic without a NIC. The IPv4 header checksum is computed; the UDP checksum
// is 0 ("none"), which IPv4 allows.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "ferry/platform/result.hpp"

namespace ferry::loadgen {

using mac_address = std::uint8_t[6];

// "02:00:00:00:00:01"; fails naming the problem.
platform::result<void> parse_mac(std::string_view text, mac_address& out);

struct pcap_addressing {
  mac_address source_mac = {0x02, 0, 0, 0, 0, 0x01};
  mac_address destination_mac = {0x02, 0, 0, 0, 0, 0x02};
  std::uint32_t source_ip = 0x0a000001;       // host order: 10.0.0.1
  std::uint16_t source_port = 7000;
  std::uint32_t destination_ip = 0x7f000001;  // host order
  std::uint16_t destination_port = 7700;
};

class pcap_writer {
 public:
  // Creates (or truncates) `path` and writes the file header.
  static platform::result<pcap_writer> create(const std::string& path, const pcap_addressing& addressing);

  pcap_writer(pcap_writer&& other) noexcept;
  pcap_writer& operator=(pcap_writer&&) = delete;
  pcap_writer(const pcap_writer&) = delete;
  ~pcap_writer();

  // Appends one packet carrying `payload` (at most 65507 bytes), stamped `time_ns` after the epoch.
  platform::result<void> write(std::span<const std::byte> payload, std::uint64_t time_ns);

  // Flushes and closes; the file is complete only when this succeeds.
  platform::result<void> close();

  std::uint64_t packets() const noexcept { return _packets; }
  std::uint64_t bytes() const noexcept { return _bytes; }

 private:
  pcap_writer(std::FILE* file, std::string path, const pcap_addressing& addressing) noexcept
      : _file(file), _path(std::move(path)), _addressing(addressing) {}

  std::FILE* _file;
  std::string _path;
  pcap_addressing _addressing;
  std::uint16_t _ip_id = 0;
  std::uint64_t _packets = 0;
  std::uint64_t _bytes = 0;
};

// The IPv4 header checksum (RFC 791) of a 20-byte header whose checksum field is 0.
std::uint16_t ipv4_header_checksum(std::span<const std::byte, 20> header) noexcept;

}  // namespace ferry::loadgen
