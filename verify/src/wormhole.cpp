#include "ferry/verify/wormhole.hpp"

#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::verify::wormhole {

using platform::load_be16;
using platform::load_be32;
using platform::load_be64;

namespace {
// Body field offsets, from the start of the body.
constexpr std::size_t timestamp_at = 0;
constexpr std::size_t nonce_at = 4;
constexpr std::size_t emitter_chain_at = 8;
constexpr std::size_t emitter_address_at = 10;
constexpr std::size_t sequence_at = 42;
constexpr std::size_t consistency_at = 50;
}  // namespace

parse_status parse_vaa(std::span<const std::byte> bytes, vaa_view& out) noexcept {
  if (bytes.size() < min_vaa_size) return parse_status::truncated;
  if (std::to_integer<std::uint8_t>(bytes[0]) != vaa_version) return parse_status::unsupported_version;
  const std::size_t signatures = std::to_integer<std::size_t>(bytes[5]);
  const std::size_t body_offset = header_size + signatures * signature_size;
  if (bytes.size() < body_offset + body_fixed_size) return parse_status::truncated;
  out._data = bytes.data();
  out._size = bytes.size();
  out._body_offset = body_offset;
  return parse_status::ok;
}

std::uint32_t vaa_view::guardian_set_index() const noexcept { return load_be32(_data + 1); }

std::uint8_t vaa_view::signature_count() const noexcept { return std::to_integer<std::uint8_t>(_data[5]); }

signature_view vaa_view::signature(std::uint8_t i) const noexcept {
  const std::byte* at = _data + header_size + std::size_t{i} * signature_size;
  return {std::to_integer<std::uint8_t>(at[0]), std::span<const std::byte, 65>(at + 1, 65)};
}

std::span<const std::byte> vaa_view::body() const noexcept { return {_data + _body_offset, _size - _body_offset}; }
std::uint32_t vaa_view::timestamp() const noexcept { return load_be32(_data + _body_offset + timestamp_at); }
std::uint32_t vaa_view::nonce() const noexcept { return load_be32(_data + _body_offset + nonce_at); }
std::uint16_t vaa_view::emitter_chain() const noexcept { return load_be16(_data + _body_offset + emitter_chain_at); }
std::span<const std::byte, 32> vaa_view::emitter_address() const noexcept {
  return std::span<const std::byte, 32>(_data + _body_offset + emitter_address_at, 32);
}
std::uint64_t vaa_view::sequence() const noexcept { return load_be64(_data + _body_offset + sequence_at); }
std::uint8_t vaa_view::consistency_level() const noexcept {
  return std::to_integer<std::uint8_t>(_data[_body_offset + consistency_at]);
}
std::span<const std::byte> vaa_view::payload() const noexcept {
  const std::size_t at = _body_offset + body_fixed_size;
  return {_data + at, _size - at};
}

std::size_t encoded_size(const vaa_fields& vaa) noexcept {
  return header_size + vaa.signatures.size() * signature_size + body_fixed_size + vaa.payload.size();
}

std::size_t encode_vaa(const vaa_fields& vaa, std::span<std::byte> out) noexcept {
  const std::size_t size = encoded_size(vaa);
  if (vaa.signatures.size() > 255 || out.size() < size) return 0;
  std::byte* p = out.data();
  p[0] = std::byte{vaa_version};
  platform::store_be32(p + 1, vaa.guardian_set_index);
  p[5] = static_cast<std::byte>(vaa.signatures.size());
  p += header_size;
  for (const signature_fields& sig : vaa.signatures) {
    p[0] = std::byte{sig.guardian_index};
    std::memcpy(p + 1, sig.rsv.data(), sig.rsv.size());
    p += signature_size;
  }
  platform::store_be32(p + timestamp_at, vaa.timestamp);
  platform::store_be32(p + nonce_at, vaa.nonce);
  platform::store_be16(p + emitter_chain_at, vaa.emitter_chain);
  std::memcpy(p + emitter_address_at, vaa.emitter_address.data(), 32);
  platform::store_be64(p + sequence_at, vaa.sequence);
  p[consistency_at] = std::byte{vaa.consistency_level};
  if (!vaa.payload.empty()) std::memcpy(p + body_fixed_size, vaa.payload.data(), vaa.payload.size());
  return size;
}

}  // namespace ferry::verify::wormhole
