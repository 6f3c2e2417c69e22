#include "pcap_writer.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::loadgen {

namespace {

constexpr std::size_t ethernet_size = 14;
constexpr std::size_t ipv4_size = 20;
constexpr std::size_t udp_size = 8;
constexpr std::size_t headers_size = ethernet_size + ipv4_size + udp_size;
constexpr std::size_t max_udp_payload = 65535 - ipv4_size - udp_size;

// The file header and record headers are in host order: readers tell the order from the magic.
struct file_header {
  std::uint32_t magic = 0xa1b2c3d4;  // microsecond timestamps
  std::uint16_t version_major = 2;
  std::uint16_t version_minor = 4;
  std::int32_t this_zone = 0;
  std::uint32_t sigfigs = 0;
  std::uint32_t snap_length = 65535 + headers_size;
  std::uint32_t link_type = 1;  // LINKTYPE_ETHERNET
};

struct record_header {
  std::uint32_t seconds;
  std::uint32_t microseconds;
  std::uint32_t captured_length;
  std::uint32_t original_length;
};

std::string system_error(const std::string& path, const char* doing) {
  return path + ": " + doing + ": " + std::strerror(errno);
}

}  // namespace

platform::result<void> parse_mac(std::string_view text, mac_address& out) {
  const auto bad = [&] {
    std::string message(text);  // built up, not "'" + string: GCC 12 warns wrongly (-Wrestrict) about the latter
    message.insert(0, 1, '\'');
    message += "': expected a MAC address like 02:00:00:00:00:01";
    return platform::error(std::move(message));
  };
  if (text.size() != 17) return bad();
  for (std::size_t i = 0; i < 6; ++i) {
    const char* at = text.data() + i * 3;
    if (i < 5 && at[2] != ':') return bad();
    const auto [end, ec] = std::from_chars(at, at + 2, out[i], 16);
    if (ec != std::errc() || end != at + 2) return bad();
  }
  return {};
}

std::uint16_t ipv4_header_checksum(std::span<const std::byte, 20> header) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < header.size(); i += 2) sum += platform::load_be16(header.data() + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

platform::result<pcap_writer> pcap_writer::create(const std::string& path, const pcap_addressing& addressing) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return platform::error(system_error(path, "cannot create"));
  const file_header header;
  if (std::fwrite(&header, sizeof header, 1, file) != 1) {
    const std::string problem = system_error(path, "cannot write");
    std::fclose(file);
    return platform::error(problem);
  }
  return pcap_writer(file, path, addressing);
}

pcap_writer::pcap_writer(pcap_writer&& other) noexcept
    : _file(other._file), _path(std::move(other._path)), _addressing(other._addressing), _ip_id(other._ip_id),
      _packets(other._packets), _bytes(other._bytes) {
  other._file = nullptr;
}

pcap_writer::~pcap_writer() {
  if (_file != nullptr) std::fclose(_file);
}

platform::result<void> pcap_writer::write(std::span<const std::byte> payload, std::uint64_t time_ns) {
  if (payload.size() > max_udp_payload) {
    return platform::error(_path + ": a datagram of " + std::to_string(payload.size()) +
                           " bytes does not fit in one IPv4 packet");
  }
  std::byte headers[headers_size] = {};
  std::byte* at = headers;
  std::memcpy(at, _addressing.destination_mac, 6);
  std::memcpy(at + 6, _addressing.source_mac, 6);
  platform::store_be16(at + 12, 0x0800);  // IPv4
  at += ethernet_size;

  at[0] = std::byte{0x45};  // version 4, 5 words of header
  platform::store_be16(at + 2, static_cast<std::uint16_t>(ipv4_size + udp_size + payload.size()));
  platform::store_be16(at + 4, _ip_id++);
  platform::store_be16(at + 6, 0x4000);  // don't fragment
  at[8] = std::byte{64};                 // time to live
  at[9] = std::byte{17};                 // UDP
  platform::store_be32(at + 12, _addressing.source_ip);
  platform::store_be32(at + 16, _addressing.destination_ip);
  platform::store_be16(at + 10, ipv4_header_checksum(std::span<const std::byte, 20>(at, 20)));
  at += ipv4_size;

  platform::store_be16(at, _addressing.source_port);
  platform::store_be16(at + 2, _addressing.destination_port);
  platform::store_be16(at + 4, static_cast<std::uint16_t>(udp_size + payload.size()));
  // at + 6: checksum 0, "not computed", legal over IPv4

  const auto length = static_cast<std::uint32_t>(headers_size + payload.size());
  const record_header record{static_cast<std::uint32_t>(time_ns / 1'000'000'000),
                             static_cast<std::uint32_t>(time_ns % 1'000'000'000 / 1000), length, length};
  if (std::fwrite(&record, sizeof record, 1, _file) != 1 || std::fwrite(headers, headers_size, 1, _file) != 1 ||
      (!payload.empty() && std::fwrite(payload.data(), payload.size(), 1, _file) != 1)) {
    return platform::error(system_error(_path, "cannot write"));
  }
  ++_packets;
  _bytes += length;
  return {};
}

platform::result<void> pcap_writer::close() {
  std::FILE* file = _file;
  _file = nullptr;
  if (file == nullptr) return {};
  const bool flushed = std::fflush(file) == 0;
  const std::string problem = flushed ? std::string() : system_error(_path, "cannot write");
  if (std::fclose(file) != 0 && flushed) return platform::error(system_error(_path, "cannot close"));
  if (!flushed) return platform::error(problem);
  return {};
}

}  // namespace ferry::loadgen
