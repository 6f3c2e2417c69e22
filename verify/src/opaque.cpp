#include "ferry/verify/opaque.hpp"

#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::verify::opaque {

parse_status parse_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept {
  if (bytes.size() < header_size) return parse_status::truncated;
  out.source = platform::load_be32(bytes.data());
  out.destination = platform::load_be32(bytes.data() + 4);
  out.payload = bytes.subspan(header_size);
  return parse_status::ok;
}

std::size_t encode_envelope(std::uint32_t source, std::uint32_t destination, std::span<const std::byte> payload,
                            std::span<std::byte> out) noexcept {
  const std::size_t size = header_size + payload.size();
  if (out.size() < size) return 0;
  platform::store_be32(out.data(), source);
  platform::store_be32(out.data() + 4, destination);
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return size;
}

}  // namespace ferry::verify::opaque
