// libFuzzer target over dp::parse_udp_packet(), the DPDK backend's reading of Ethernet / IPv4 or IPv6 / UDP off the
// wire: whatever it accepts lies inside the input and says what its bytes say; rebuilt with write_udp_headers() from
// what was parsed, it parses back to the same datagram with both checksums right, whether the payload's checksum is
// summed in one pass or from two pieces split where the input's last byte says (payload_checksum).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferry/dataplane/udp_packet.hpp"
#include "ferry/platform/endian.hpp"

#include "support/bytes.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry;
using ferry::testing::inside;
using ferry::testing::require;
using ferry::testing::same;

const dp::mac_address source_mac{2, 0, 0, 0, 0, 1};
const dp::mac_address destination_mac{2, 0, 0, 0, 0, 2};

// The datagram rebuilt from `packet` into a frame of its own; the payload's checksum summed in one pass, or from
// the pieces [0, split) and [split, end) as they are copied.
std::vector<std::byte> rebuild(const dp::udp_packet_view& packet, const dp::endpoint& from, const dp::endpoint& to,
                               std::size_t split, bool pieces) {
  const std::span<const std::byte> payload = packet.payload();
  const std::size_t headers = dp::udp_headers_size(to.family());
  std::vector<std::byte> frame(headers + payload.size());
  std::copy(payload.begin(), payload.end(), frame.begin() + static_cast<std::ptrdiff_t>(headers));
  dp::payload_checksum summed;
  summed.add(payload.first(split));
  summed.add(payload.subspan(split));
  require(dp::write_udp_headers(frame, source_mac, destination_mac, from, to, 0, pieces ? &summed : nullptr),
          "write_udp_headers refused a datagram parse_udp_packet accepted");
  return frame;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  dp::udp_packet_view packet;
  if (dp::parse_udp_packet(input, packet) != dp::udp_packet_status::ok) return 0;

  require(packet.ip_version == 4 || packet.ip_version == 6, "accepted an IP version other than 4 and 6");
  require(inside(packet.ip_header, input) && inside(packet.datagram, input), "a part lies outside the input");
  require(inside(packet.source_address, packet.ip_header) && inside(packet.destination_address, packet.ip_header),
          "an address lies outside the IP header");
  const std::size_t address_size = packet.ip_version == 4 ? 4 : 16;
  require(packet.source_address.size() == address_size && packet.destination_address.size() == address_size,
          "address size");
  require(packet.datagram.size() >= dp::udp_header_size, "a datagram shorter than its UDP header");
  require(packet.datagram.size() == platform::load_be16(packet.datagram.data() + 4), "datagram size is not the UDP length");
  require(packet.source_port == platform::load_be16(packet.datagram.data()) &&
              packet.destination_port == platform::load_be16(packet.datagram.data() + 2),
          "ports differ from the bytes");
  require(packet.datagram.data() >= packet.ip_header.data() + packet.ip_header.size(), "UDP inside the IP header");

  // Rebuilt, it reads back the same, checksums right, however the payload's sum was taken.
  const dp::endpoint from = dp::source_of(packet);
  dp::udp_packet_view reversed = packet;
  reversed.source_address = packet.destination_address;
  reversed.source_port = packet.destination_port;
  const dp::endpoint to = dp::source_of(reversed);
  require(from.family() == to.family() && from.port() == packet.source_port, "source_of");
  const std::size_t split = size == 0 ? 0 : data[size - 1] % (packet.payload().size() + 1);
  const std::vector<std::byte> whole = rebuild(packet, from, to, split, false);
  const std::vector<std::byte> pieced = rebuild(packet, from, to, split, true);
  require(same(whole, pieced), "the payload summed in pieces gives another frame than summed in one pass");
  dp::udp_packet_view again;
  require(dp::parse_udp_packet(whole, again) == dp::udp_packet_status::ok, "a rebuilt frame does not parse");
  require(same(again.payload(), packet.payload()), "the rebuilt payload differs");
  require(again.source_port == packet.source_port && again.destination_port == packet.destination_port,
          "the rebuilt ports differ");
  require(dp::ip_checksum_ok(again) && dp::udp_checksum_ok(again), "a rebuilt frame's checksums are wrong");
  return 0;
}
