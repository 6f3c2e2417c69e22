#pragma once
// Link authentication (docs/wire-format.md): a frame between two routers, or from a configured sender, carries
// HMAC-SHA-256 truncated to 16 bytes over every byte before the tag, under a secret the two ends share, named by
// its key id. A peer with keys has every frame checked before anything else is done with it; a frame with a bad or
// missing tag drops whole as bad_mac.
//
// A link has several keys while one replaces another: each is accepted while configured (and, once removed, for a
// grace period), and frames to the peer are tagged with the newest key whose send_from has come, so that both ends
// can install a new key before either sends with it.

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferry/dataplane/frame.hpp"
#include "ferry/verify/sha256.hpp"

namespace ferry::dp {

inline constexpr std::size_t max_link_secret = 64;

// One key of a link: its secret, and the HMAC key made ready from it once (so that a frame costs only its own
// SHA-256 blocks), made together so that the two always agree.
struct link_key {
  link_key() = default;
  // `bytes`: the secret, at most max_link_secret bytes (the config's key files hold 16 to 64); more are not kept.
  link_key(std::uint16_t key_id, std::span<const std::byte> bytes, std::uint64_t sending_from = 0) noexcept;

  std::uint16_t id = 0;            // the frame's key_id, 1 to 65535
  std::uint64_t send_from = 0;     // unix seconds from which frames to the peer may be tagged with it
  std::uint64_t accept_until = 0;  // unix seconds: 0 while configured, else when a removed key stops being accepted

  std::span<const std::byte> secret() const noexcept { return {_secret.data(), _size}; }
  const verify::hmac_sha256_key& hmac() const noexcept { return _hmac; }
  bool accepted(std::uint64_t now_s) const noexcept { return accept_until == 0 || now_s < accept_until; }
  bool same_secret(const link_key& other) const noexcept;

 private:
  std::uint8_t _size = 0;
  std::array<std::byte, max_link_secret> _secret{};
  verify::hmac_sha256_key _hmac;
};

// The keys of one link. Held in a policy snapshot: immutable once published, shared by every stage's thread.
struct link_keys {
  std::vector<link_key> keys;

  bool empty() const noexcept { return keys.empty(); }
  // The key to tag frames to the peer with: the highest id among the configured keys whose send_from has come, or
  // nullptr (then frames go untagged, and the peer drops them as bad_mac).
  const link_key* for_sending(std::uint64_t now_s) const noexcept;
};

// Whether `frame` is authenticated by a key of `keys` accepted at now_s (one whose id is the frame's key_id and
// whose tag matches: while a key id is re-used with a new secret, both are tried). Compares in constant time.
bool authentic(const link_keys& keys, const frame_view& frame, std::uint64_t now_s) noexcept;

// The tag of a frame gathered from `parts` (header first), under `key`.
void link_tag(const link_key& key, std::span<const iovec> parts, std::span<std::byte, link_tag_size> out) noexcept;

// Authenticates a frame built in `buffer` (its first `size` bytes, untagged, as frame_writer::finish() gives it):
// sets the authenticated flag and key_id in its header and appends the tag. Returns the new size, or 0 when the
// buffer has no room for the tag or the frame is shorter than a header (nothing changed). For senders and tools;
// the data plane tags as it gathers (link_tag()).
std::size_t seal(std::span<std::byte> buffer, std::size_t size, const link_key& key) noexcept;

}  // namespace ferry::dp
