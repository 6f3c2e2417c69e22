#pragma once
// Link authentication (docs/wire-format.md): a frame between two routers, or from a configured sender, carries a
// 16-byte tag over every byte before it, under a secret the two ends share, named by its key id: HMAC-SHA-256
// truncated to 16 bytes (the default), or keyed BLAKE2b-128 where the key says so. Where the key is a
// ChaCha20-Poly1305 one the messages are encrypted too (the header stays in clear, authenticated), and the tag is
// the AEAD's. A peer with keys has every frame checked before anything else is done with it; a frame with a bad or
// missing tag, or one that cannot be opened, drops whole as bad_mac.
//
// A link has several keys while one replaces another: each is accepted while configured (and, once removed, for a
// grace period), and frames to the peer are tagged with the newest key whose send_from has come, so that both ends
// can install a new key before either sends with it.

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "ferry/dataplane/frame.hpp"
#include "ferry/verify/blake2b.hpp"
#include "ferry/verify/chacha20_poly1305.hpp"
#include "ferry/verify/sha256.hpp"

namespace ferry::dp {

inline constexpr std::size_t max_link_secret = 64;

// How a link key makes its tags. Both ends of a link configure the same for each key.
enum class link_mac : std::uint8_t {
  hmac_sha256,        // HMAC-SHA-256 (mbedTLS), its first 16 bytes: the default
  blake2b,            // keyed BLAKE2b with a 16-byte output (libsodium): faster than HMAC-SHA-256 (BENCHMARKS.md)
  chacha20_poly1305,  // the AEAD (mbedTLS): the messages are encrypted, the tag is Poly1305's; a 32-byte secret
};

// The names the configuration and tools give them: "hmac-sha256", "blake2b", "chacha20-poly1305".
inline constexpr std::string_view link_mac_names = R"("hmac-sha256", "blake2b" or "chacha20-poly1305")";
std::optional<link_mac> link_mac_named(std::string_view name) noexcept;

// One key of a link: its secret, and the MAC key made ready from it once (so that a frame costs only its own
// blocks), made together so that the two always agree.
struct link_key {
  link_key() = default;
  // `bytes`: the secret, at most max_link_secret bytes (the config's key files hold 16 to 64); more are not kept.
  // blake2b needs at least 16, chacha20_poly1305 exactly 32.
  link_key(std::uint16_t key_id, std::span<const std::byte> bytes, std::uint64_t sending_from = 0,
           link_mac algorithm = link_mac::hmac_sha256) noexcept;

  std::uint16_t id = 0;            // the frame's key_id, 1 to 65535
  std::uint64_t send_from = 0;     // unix seconds from which frames to the peer may be tagged with it
  std::uint64_t accept_until = 0;  // unix seconds: 0 while configured, else when a removed key stops being accepted

  std::span<const std::byte> secret() const noexcept { return {_secret.data(), _size}; }
  link_mac mac() const noexcept { return static_cast<link_mac>(_ready.index()); }
  bool accepted(std::uint64_t now_s) const noexcept { return accept_until == 0 || now_s < accept_until; }
  bool encrypts() const noexcept { return mac() == link_mac::chacha20_poly1305; }
  // What a frame sealed with it carries beyond its header and messages: the tag, and the nonce when it encrypts.
  std::size_t overhead() const noexcept { return link_tag_size + (encrypts() ? link_nonce_size : 0); }
  // The same secret, compared in constant time, and the same MAC.
  bool same_key(const link_key& other) const noexcept;
  // Of a key that does not encrypt: the tag of a frame gathered from `parts` (header first), or of one whole in
  // memory. (Of one that does: zeros.)
  std::array<std::byte, link_tag_size> tag(std::span<const iovec> parts) const noexcept;
  std::array<std::byte, link_tag_size> tag(std::span<const std::byte> bytes) const noexcept;
  // Of a key that encrypts: encrypts the messages gathered from `messages` into `out` (as many bytes as they hold)
  // under `nonce`, with the frame's `header` authenticated in clear, and returns the tag. (Of one that does not:
  // zeros, `out` untouched.) The caller never gives one nonce twice under a key.
  std::array<std::byte, link_tag_size> encrypt(std::span<const std::byte, frame_header_size> header,
                                               const verify::chacha20_poly1305_key::nonce& nonce,
                                               std::span<const iovec> messages, std::byte* out) const noexcept;
  // Of a key that encrypts: decrypts `text` in place when `tag` is its tag over `header` and `text` under `nonce`,
  // and says so; when not (or the key does not encrypt), `text` is left as it came.
  bool decrypt(std::span<const std::byte, frame_header_size> header, const verify::chacha20_poly1305_key::nonce& nonce,
               std::span<std::byte> text, std::span<const std::byte> tag) const noexcept;

  // In link_mac's order.
  using ready_key = std::variant<verify::hmac_sha256_key, verify::blake2b_key, verify::chacha20_poly1305_key>;

 private:
  std::uint8_t _size = 0;
  std::array<std::byte, max_link_secret> _secret{};
  ready_key _ready;
};

// The keys of one link. Held in a policy snapshot: immutable once published, shared by every stage's thread.
struct link_keys {
  std::vector<link_key> keys;

  bool empty() const noexcept { return keys.empty(); }
  // The most that sealing a frame with any of them adds to it (link_key::overhead()).
  std::size_t overhead() const noexcept;
  // The key to tag frames to the peer with: the highest id among the configured keys whose send_from has come, or
  // nullptr (then frames go untagged, and the peer drops them as bad_mac).
  const link_key* for_sending(std::uint64_t now_s) const noexcept;
};

// Whether `frame` (not encrypted) is authenticated by a key of `keys` accepted at now_s (one that does not encrypt,
// whose id is the frame's key_id and whose tag matches: while a key id is re-used with a new secret, both are
// tried). Compares in constant time.
bool authentic(const link_keys& keys, const frame_view& frame, std::uint64_t now_s) noexcept;

// Whether an encrypted `frame` (parsed from `datagram`) is opened by a key of `keys` accepted at now_s (one that
// encrypts, whose id is the frame's key_id and whose tag matches, tried as authentic() tries them). When it is, its
// messages lie decrypted where they were in `datagram`, for parse_opened(); when not, `datagram` is as it came.
bool open(const link_keys& keys, std::span<std::byte> datagram, const frame_view& frame, std::uint64_t now_s) noexcept;

// Authenticates a frame built in `buffer` (its first `size` bytes, untagged, as frame_writer::finish() gives it):
// sets the authenticated flag and key_id in its header and appends the tag. With a key that encrypts, it also sets
// the encrypted flag, moves the messages on to make room for a random nonce and encrypts them. Returns the new
// size, or 0 when the buffer has no room for key.overhead() more bytes or the frame is shorter than a header
// (nothing changed). For senders and tools; the data plane tags and encrypts as it gathers (link_key::tag(),
// link_key::encrypt()).
std::size_t seal(std::span<std::byte> buffer, std::size_t size, const link_key& key) noexcept;

}  // namespace ferry::dp
