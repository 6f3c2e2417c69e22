#include "ferry/verify/layerzero.hpp"

#include <cstring>

#include "envelope.hpp"
#include "ferry/platform/endian.hpp"

namespace ferry::verify::layerzero {

using platform::load_be32;
using platform::load_be64;

namespace {
constexpr std::size_t nonce_at = 1;
constexpr std::size_t src_eid_at = 9;
constexpr std::size_t sender_at = 13;
constexpr std::size_t dst_eid_at = 45;
constexpr std::size_t receiver_at = 49;
constexpr std::size_t guid_at = 81;
}  // namespace

parse_status parse_packet(std::span<const std::byte> bytes, packet_view& out) noexcept {
  if (bytes.size() < packet_fixed_size) return parse_status::truncated;
  if (std::to_integer<std::uint8_t>(bytes[0]) != packet_version) return parse_status::unsupported_version;
  out._data = bytes.data();
  out._size = bytes.size();
  return parse_status::ok;
}

std::span<const std::byte> packet_view::payload() const noexcept {
  return {_data + packet_header_size, _size - packet_header_size};
}
std::uint64_t packet_view::nonce() const noexcept { return load_be64(_data + nonce_at); }
std::uint32_t packet_view::src_eid() const noexcept { return load_be32(_data + src_eid_at); }
std::span<const std::byte, 32> packet_view::sender() const noexcept {
  return std::span<const std::byte, 32>(_data + sender_at, 32);
}
std::uint32_t packet_view::dst_eid() const noexcept { return load_be32(_data + dst_eid_at); }
std::span<const std::byte, 32> packet_view::receiver() const noexcept {
  return std::span<const std::byte, 32>(_data + receiver_at, 32);
}
std::span<const std::byte, 32> packet_view::guid() const noexcept {
  return std::span<const std::byte, 32>(_data + guid_at, 32);
}
std::span<const std::byte> packet_view::message() const noexcept {
  return {_data + packet_fixed_size, _size - packet_fixed_size};
}

parse_status parse_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept {
  envelope::parts parts;
  parse_status status = envelope::split(bytes, parts);
  packet_view packet;
  if (status == parse_status::ok) status = parse_packet(parts.inner, packet);
  if (status != parse_status::ok) return status;
  out = {packet, parts.proof};
  return parse_status::ok;
}

std::size_t encoded_envelope_size(const packet_fields& packet, std::span<const std::byte> attestation) noexcept {
  return envelope::length_size + packet_fixed_size + packet.message.size() + attestation.size();
}

std::size_t encode_envelope(const packet_fields& packet, std::span<const std::byte> attestation,
                            std::span<std::byte> out) noexcept {
  const std::size_t packet_size = packet_fixed_size + packet.message.size();
  std::byte* const p = envelope::begin(out, packet_size, attestation.size());
  if (p == nullptr) return 0;
  p[0] = std::byte{packet_version};
  platform::store_be64(p + nonce_at, packet.nonce);
  platform::store_be32(p + src_eid_at, packet.src_eid);
  std::memcpy(p + sender_at, packet.sender.data(), 32);
  platform::store_be32(p + dst_eid_at, packet.dst_eid);
  std::memcpy(p + receiver_at, packet.receiver.data(), 32);
  std::memcpy(p + guid_at, packet.guid.data(), 32);
  if (!packet.message.empty()) std::memcpy(p + packet_fixed_size, packet.message.data(), packet.message.size());
  if (!attestation.empty()) std::memcpy(p + packet_size, attestation.data(), attestation.size());
  return encoded_envelope_size(packet, attestation);
}

}  // namespace ferry::verify::layerzero
