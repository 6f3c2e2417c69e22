#include "ferry/dataplane/link_auth.hpp"

#include <sodium/randombytes.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ferry/platform/endian.hpp"

namespace ferry::dp {

namespace {
link_key::ready_key ready(link_mac algorithm, std::span<const std::byte> secret) noexcept {
  if (algorithm == link_mac::blake2b) return verify::blake2b_key(secret);
  if (algorithm == link_mac::chacha20_poly1305) return verify::chacha20_poly1305_key(secret);
  return verify::hmac_sha256_key(secret);
}

using aead = verify::chacha20_poly1305_key;

aead::nonce nonce_of(std::span<const std::byte> bytes) noexcept {
  aead::nonce n;
  std::copy_n(bytes.begin(), n.size(), n.begin());
  return n;
}

// The first link_tag_size bytes of the MAC of what feed(message) gives it.
template <class Key, class Feed>
std::array<std::byte, link_tag_size> tag_of(const Key& key, Feed&& feed) noexcept {
  std::array<std::byte, link_tag_size> out{};
  if constexpr (!std::is_same_v<Key, aead>) {
    typename Key::message mac(key);
    feed(mac);
    const auto whole = mac.finish();
    std::memcpy(out.data(), whole.data(), link_tag_size);
  }
  return out;
}
}  // namespace

std::optional<link_mac> link_mac_named(std::string_view name) noexcept {
  if (name == "hmac-sha256") return link_mac::hmac_sha256;
  if (name == "blake2b") return link_mac::blake2b;
  if (name == "chacha20-poly1305") return link_mac::chacha20_poly1305;
  return std::nullopt;
}

static_assert(std::variant_size_v<link_key::ready_key> == 3 && static_cast<std::size_t>(link_mac::blake2b) == 1 &&
                  static_cast<std::size_t>(link_mac::chacha20_poly1305) == 2,
              "link_key::mac() reads the variant's index");
static_assert(aead::tag_size == link_tag_size && aead::nonce_size == link_nonce_size);

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

std::array<std::byte, link_tag_size> link_key::encrypt(std::span<const std::byte, frame_header_size> header,
                                                       const aead::nonce& nonce, std::span<const iovec> messages,
                                                       std::byte* out) const noexcept {
  const auto* key = std::get_if<aead>(&_ready);
  if (key == nullptr) return {};
  aead::message sealing(*key, nonce, aead::message::direction::encrypt, header);
  for (const iovec& part : messages) {
    sealing.update({static_cast<const std::byte*>(part.iov_base), part.iov_len}, out);
    out += part.iov_len;
  }
  return sealing.finish();
}

bool link_key::decrypt(std::span<const std::byte, frame_header_size> header, const aead::nonce& nonce,
                       std::span<std::byte> text, std::span<const std::byte> tag) const noexcept {
  const auto* key = std::get_if<aead>(&_ready);
  if (key == nullptr) return false;
  aead::message opening(*key, nonce, aead::message::direction::decrypt, header);
  opening.update(text, text.data());
  if (verify::equal_in_constant_time(opening.finish(), tag)) return true;
  // Not this key (another secret under the same id, during its grace): the stream cipher undone, for the next.
  aead::message(*key, nonce, aead::message::direction::encrypt, header).update(text, text.data());
  return false;
}

std::size_t link_keys::overhead() const noexcept {
  std::size_t most = 0;
  for (const link_key& k : keys) most = std::max(most, k.overhead());
  return most;
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
    if (k.id != frame.header().key_id || !k.accepted(now_s) || k.encrypts()) continue;
    good = good || verify::equal_in_constant_time(k.tag(frame.tagged_bytes()), tag);
  }
  return good;
}

bool open(const link_keys& keys, std::span<std::byte> datagram, const frame_view& frame, std::uint64_t now_s) noexcept {
  const std::span<const std::byte> tag = frame.tag();
  if (!frame.encrypted() || tag.size() != link_tag_size) return false;
  const std::span<std::byte> text = datagram.subspan(static_cast<std::size_t>(frame.sealed().data() - datagram.data()),
                                                     frame.sealed().size());
  const aead::nonce nonce = nonce_of(frame.nonce());
  const std::span<const std::byte, frame_header_size> header = datagram.first<frame_header_size>();
  for (const link_key& k : keys.keys) {
    if (k.id != frame.header().key_id || !k.accepted(now_s)) continue;
    if (k.decrypt(header, nonce, text, tag)) return true;
  }
  return false;
}

std::size_t seal(std::span<std::byte> buffer, std::size_t size, const link_key& key) noexcept {
  if (size < frame_header_size || size > buffer.size() || buffer.size() - size < key.overhead()) return 0;
  buffer[3] |= std::byte{frame_flag::authenticated};
  platform::store_be16(buffer.data() + 6, key.id);
  if (key.encrypts()) {
    buffer[3] |= std::byte{frame_flag::encrypted};
    std::byte* messages = buffer.data() + frame_header_size;
    const std::size_t length = size - frame_header_size;
    std::memmove(messages + link_nonce_size, messages, length);
    aead::nonce nonce;
    randombytes_buf(nonce.data(), nonce.size());  // 96 random bits: no two frames of a tool share one
    std::copy(nonce.begin(), nonce.end(), messages);
    const iovec text{messages + link_nonce_size, length};
    const auto tag = key.encrypt(buffer.first<frame_header_size>(), nonce, {&text, 1}, messages + link_nonce_size);
    std::copy(tag.begin(), tag.end(), messages + link_nonce_size + length);
    return size + key.overhead();
  }
  const std::array<std::byte, link_tag_size> tag = key.tag(std::span<const std::byte>(buffer.first(size)));
  std::copy(tag.begin(), tag.end(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
  return size + link_tag_size;
}

}  // namespace ferry::dp
