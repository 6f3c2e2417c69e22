#include "ferry/dataplane/link_auth.hpp"

#include <algorithm>
#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::dp {

namespace {
link_key::ready_key ready(link_mac algorithm, std::span<const std::byte> secret) noexcept {
  if (algorithm == link_mac::blake2b) return verify::blake2b_key(secret);
  return verify::hmac_sha256_key(secret);
}

// The first link_tag_size bytes of the MAC of what feed(message) gives it.
template <class Key, class Feed>
std::array<std::byte, link_tag_size> tag_of(const Key& key, Feed&& feed) noexcept {
  typename Key::message mac(key);
  feed(mac);
  const auto whole = mac.finish();
  std::array<std::byte, link_tag_size> out;
  std::memcpy(out.data(), whole.data(), link_tag_size);
  return out;
}
}  // namespace

static_assert(std::variant_size_v<link_key::ready_key> == 2 && static_cast<std::size_t>(link_mac::blake2b) == 1,
              "link_key::mac() reads the variant's index");

link_key::link_key(std::uint16_t key_id, std::span<const std::byte> bytes, std::uint64_t sending_from,
                   link_mac algorithm) noexcept
    : id(key_id),
      send_from(sending_from),
      _size(static_cast<std::uint8_t>(std::min(bytes.size(), max_link_secret))),
      _ready(ready(algorithm, bytes.first(_size))) {
  std::copy_n(bytes.begin(), _size, _secret.begin());
}

bool link_key::same_key(const link_key& other) const noexcept {
  return verify::equal_in_constant_time(secret(), other.secret()) && mac() == other.mac();
}

std::array<std::byte, link_tag_size> link_key::tag(std::span<const iovec> parts) const noexcept {
  return std::visit(
      [parts](const auto& key) {
        return tag_of(key, [parts](auto& mac) {
          for (const iovec& part : parts) mac.update({static_cast<const std::byte*>(part.iov_base), part.iov_len});
        });
      },
      _ready);
}

std::array<std::byte, link_tag_size> link_key::tag(std::span<const std::byte> bytes) const noexcept {
  return std::visit([bytes](const auto& key) { return tag_of(key, [bytes](auto& mac) { mac.update(bytes); }); },
                    _ready);
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
    good = good || verify::equal_in_constant_time(k.tag(frame.tagged_bytes()), tag);
  }
  return good;
}

std::size_t seal(std::span<std::byte> buffer, std::size_t size, const link_key& key) noexcept {
  if (size < frame_header_size || size > buffer.size() || buffer.size() - size < link_tag_size) return 0;
  buffer[3] |= std::byte{frame_flag::authenticated};
  platform::store_be16(buffer.data() + 6, key.id);
  const std::array<std::byte, link_tag_size> tag = key.tag(std::span<const std::byte>(buffer.first(size)));
  std::copy(tag.begin(), tag.end(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
  return size + link_tag_size;
}

}  // namespace ferry::dp
