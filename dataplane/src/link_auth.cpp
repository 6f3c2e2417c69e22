#include "ferry/dataplane/link_auth.hpp"

#include <algorithm>
#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::dp {

link_key::link_key(std::uint16_t key_id, std::span<const std::byte> bytes, std::uint64_t sending_from) noexcept
    : id(key_id),
      send_from(sending_from),
      _size(static_cast<std::uint8_t>(std::min(bytes.size(), max_link_secret))),
      _hmac(bytes.first(_size)) {
  std::copy_n(bytes.begin(), _size, _secret.begin());
}

bool link_key::same_secret(const link_key& other) const noexcept {
  return verify::equal_in_constant_time(secret(), other.secret());
}

const link_key* link_keys::for_sending(std::uint64_t now_s) const noexcept {
  const link_key* best = nullptr;
  for (const link_key& k : keys) {
    if (k.accept_until != 0 || k.send_from > now_s) continue;
    if (best == nullptr || k.id > best->id) best = &k;
  }
  return best;
}

bool authentic(const link_keys& keys, const frame_view& frame, std::uint64_t now_s) noexcept {
  const std::span<const std::byte> tag = frame.tag();
  if (tag.size() != link_tag_size) return false;  // not marked authenticated
  bool good = false;
  for (const link_key& k : keys.keys) {
    if (k.id != frame.header().key_id || !k.accepted(now_s)) continue;
    const verify::hash256 mac = verify::hmac_sha256_key::message(k.hmac()).update(frame.tagged_bytes()).finish();
    good = good || verify::equal_in_constant_time({mac.data(), link_tag_size}, tag);
  }
  return good;
}

void link_tag(const link_key& key, std::span<const iovec> parts, std::span<std::byte, link_tag_size> out) noexcept {
  verify::hmac_sha256_key::message hmac(key.hmac());
  for (const iovec& part : parts) hmac.update({static_cast<const std::byte*>(part.iov_base), part.iov_len});
  const verify::hash256 mac = hmac.finish();
  std::memcpy(out.data(), mac.data(), link_tag_size);
}

std::size_t seal(std::span<std::byte> buffer, std::size_t size, const link_key& key) noexcept {
  if (size < frame_header_size || size > buffer.size() || buffer.size() - size < link_tag_size) return 0;
  buffer[3] |= std::byte{frame_flag::authenticated};
  platform::store_be16(buffer.data() + 6, key.id);
  const iovec whole{buffer.data(), size};
  link_tag(key, {&whole, 1}, buffer.subspan(size).first<link_tag_size>());
  return size + link_tag_size;
}

}  // namespace ferry::dp
