#include "ferry/verify/quorum.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "ferry/platform/endian.hpp"
#include "ferry/verify/sha256.hpp"

namespace ferry::verify::quorum {

using platform::load_be32;

namespace {
constexpr std::size_t key_set_at = 1;
constexpr std::size_t source_at = 5;
constexpr std::size_t destination_at = 9;
constexpr std::size_t payload_length_at = 13;
constexpr std::size_t count_size = 1;
}  // namespace

parse_status parse_message(std::span<const std::byte> bytes, message_view& out) noexcept {
  if (bytes.size() < header_size + count_size) return parse_status::truncated;
  if (std::to_integer<std::uint8_t>(bytes[0]) != message_version) return parse_status::unsupported_version;
  const std::size_t payload_size = load_be32(bytes.data() + payload_length_at);
  if (payload_size > bytes.size() - header_size - count_size) return parse_status::truncated;
  const std::size_t count = std::to_integer<std::size_t>(bytes[header_size + payload_size]);
  const std::size_t signatures = bytes.size() - header_size - payload_size - count_size;
  if (signatures != count * signature_size) {
    return signatures < count * signature_size ? parse_status::truncated : parse_status::bad_length;
  }
  out._data = bytes.data();
  out._payload_size = payload_size;
  return parse_status::ok;
}

std::uint32_t message_view::key_set() const noexcept { return load_be32(_data + key_set_at); }
std::uint32_t message_view::source() const noexcept { return load_be32(_data + source_at); }
std::uint32_t message_view::destination() const noexcept { return load_be32(_data + destination_at); }
std::span<const std::byte> message_view::payload() const noexcept { return {_data + header_size, _payload_size}; }
std::span<const std::byte> message_view::signed_part() const noexcept { return {_data, header_size + _payload_size}; }

std::uint8_t message_view::signature_count() const noexcept {
  return std::to_integer<std::uint8_t>(_data[header_size + _payload_size]);
}

signature_view message_view::signature(std::uint8_t i) const noexcept {
  const std::byte* at = _data + header_size + _payload_size + count_size + std::size_t{i} * signature_size;
  return {std::to_integer<std::uint8_t>(at[0]), std::span<const std::byte, 64>(at + 1, 64)};
}

hash256 signing_digest(const message_view& message) noexcept {
  sha256_hasher hasher;
  hasher.update(signing_domain).update(message.signed_part());
  return hasher.finish();
}

platform::result<void> key_set_registry::add(key_set set) {
  const std::string name = "quorum key set " + std::to_string(set.id);
  if (find(set.id) != nullptr) return platform::error(name + ": defined twice");
  if (set.keys.empty() || set.keys.size() > 255) return platform::error(name + ": needs 1 to 255 keys");
  if (set.threshold == 0 || set.threshold > set.keys.size()) {
    return platform::error(name + ": threshold must be 1 to the number of keys (" + std::to_string(set.keys.size()) +
                           ")");
  }
  for (std::size_t i = 0; i < set.keys.size(); ++i) {
    if (std::find(set.keys.begin() + static_cast<std::ptrdiff_t>(i) + 1, set.keys.end(), set.keys[i]) !=
        set.keys.end()) {
      return platform::error(name + ": key " + std::to_string(i) + " is listed twice");
    }
  }
  _sets.push_back(std::move(set));
  return {};
}

const key_set* key_set_registry::find(std::uint32_t id) const noexcept {
  for (const key_set& set : _sets) {
    if (set.id == id) return &set;
  }
  return nullptr;
}

verdict check_message_structure(const message_view& message, const key_set_registry& sets) noexcept {
  const key_set* set = sets.find(message.key_set());
  if (set == nullptr) return verdict::unknown_key_set;
  const std::uint8_t count = message.signature_count();
  if (count < set->threshold) return verdict::no_quorum;
  int previous = -1;
  for (std::uint8_t i = 0; i < count; ++i) {
    const std::uint8_t index = message.signature(i).signer_index;
    if (index <= previous) return verdict::no_quorum;  // a repeated signer counts once, so the quorum is short
    if (index >= set->keys.size()) return verdict::bad_signature;
    previous = index;
  }
  return verdict::valid;
}

verdict verify_message(const message_view& message, const key_set_registry& sets) noexcept {
  const verdict structure = check_message_structure(message, sets);
  if (structure != verdict::valid) return structure;
  const key_set& set = *sets.find(message.key_set());
  const hash256 digest = signing_digest(message);
  for (std::uint8_t i = 0; i < message.signature_count(); ++i) {
    const signature_view signature = message.signature(i);
    if (!ed25519_verify(signature.signature, digest, set.keys[signature.signer_index])) return verdict::bad_signature;
  }
  return verdict::valid;
}

std::size_t encoded_size(const message_fields& message, std::size_t signatures) noexcept {
  return header_size + message.payload.size() + count_size + signatures * signature_size;
}

std::size_t encode_signed(const message_fields& message, std::span<const signer> signers,
                          std::span<std::byte> out) noexcept {
  const std::size_t size = encoded_size(message, signers.size());
  if (signers.size() > 255 || message.payload.size() > 0xffffffffu || out.size() < size) return 0;
  std::byte* at = out.data();
  at[0] = std::byte{message_version};
  platform::store_be32(at + key_set_at, message.key_set);
  platform::store_be32(at + source_at, message.source);
  platform::store_be32(at + destination_at, message.destination);
  platform::store_be32(at + payload_length_at, static_cast<std::uint32_t>(message.payload.size()));
  if (!message.payload.empty()) std::memcpy(at + header_size, message.payload.data(), message.payload.size());
  at += header_size + message.payload.size();
  *at++ = static_cast<std::byte>(signers.size());
  // the digest signing_digest() takes, over the signed part now in place
  sha256_hasher hasher;
  const hash256 digest = hasher.update(signing_domain).update(out.first(header_size + message.payload.size())).finish();
  for (const signer& s : signers) {
    *at++ = std::byte{s.index};
    const ed25519_signature signature = ed25519_sign(digest, *s.key);
    std::memcpy(at, signature.data(), signature.size());
    at += signature.size();
  }
  return size;
}

}  // namespace ferry::verify::quorum
