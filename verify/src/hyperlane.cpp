#include "ferry/verify/hyperlane.hpp"

#include <cstring>

#include "envelope.hpp"
#include "ferry/platform/endian.hpp"

namespace ferry::verify::hyperlane {

using platform::load_be32;

namespace {
constexpr std::size_t nonce_at = 1;
constexpr std::size_t origin_at = 5;
constexpr std::size_t sender_at = 9;
constexpr std::size_t destination_at = 41;
constexpr std::size_t recipient_at = 45;
}  // namespace

parse_status parse_message(std::span<const std::byte> bytes, message_view& out) noexcept {
  if (bytes.size() < message_header_size) return parse_status::truncated;
  if (std::to_integer<std::uint8_t>(bytes[0]) != message_version) return parse_status::unsupported_version;
  out._data = bytes.data();
  out._size = bytes.size();
  return parse_status::ok;
}

std::uint32_t message_view::nonce() const noexcept { return load_be32(_data + nonce_at); }
std::uint32_t message_view::origin() const noexcept { return load_be32(_data + origin_at); }
std::span<const std::byte, 32> message_view::sender() const noexcept {
  return std::span<const std::byte, 32>(_data + sender_at, 32);
}
std::uint32_t message_view::destination() const noexcept { return load_be32(_data + destination_at); }
std::span<const std::byte, 32> message_view::recipient() const noexcept {
  return std::span<const std::byte, 32>(_data + recipient_at, 32);
}
std::span<const std::byte> message_view::body() const noexcept {
  return {_data + message_header_size, _size - message_header_size};
}

parse_status parse_envelope(std::span<const std::byte> bytes, envelope_view& out) noexcept {
  envelope::parts parts;
  parse_status status = envelope::split(bytes, parts);
  message_view message;
  if (status == parse_status::ok) status = parse_message(parts.inner, message);
  if (status != parse_status::ok) return status;
  out = {message, parts.proof};
  return parse_status::ok;
}

std::size_t encoded_envelope_size(const message_fields& message, std::span<const std::byte> metadata) noexcept {
  return envelope::length_size + message_header_size + message.body.size() + metadata.size();
}

std::size_t encode_envelope(const message_fields& message, std::span<const std::byte> metadata,
                            std::span<std::byte> out) noexcept {
  const std::size_t message_size = message_header_size + message.body.size();
  std::byte* const p = envelope::begin(out, message_size, metadata.size());
  if (p == nullptr) return 0;
  p[0] = std::byte{message_version};
  platform::store_be32(p + nonce_at, message.nonce);
  platform::store_be32(p + origin_at, message.origin);
  std::memcpy(p + sender_at, message.sender.data(), 32);
  platform::store_be32(p + destination_at, message.destination);
  std::memcpy(p + recipient_at, message.recipient.data(), 32);
  if (!message.body.empty()) std::memcpy(p + message_header_size, message.body.data(), message.body.size());
  if (!metadata.empty()) std::memcpy(p + message_size, metadata.data(), metadata.size());
  return encoded_envelope_size(message, metadata);
}

}  // namespace ferry::verify::hyperlane
