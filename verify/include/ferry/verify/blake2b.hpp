#pragma once
// Keyed BLAKE2b with a 16-byte output (libsodium's crypto_generichash): a MAC faster than HMAC-SHA-256 (through
// mbedTLS's portable SHA-256), for links that choose it (dataplane/link_auth.hpp).

#include <array>
#include <cstddef>
#include <span>

namespace ferry::verify {

using mac128 = std::array<std::byte, 16>;

// A BLAKE2b key made ready once (the hash state with the key block absorbed), so that each message starts from a
// copy of it. Copyable; immutable once made, so threads may share it. Wiped when it goes.
class blake2b_key {
 public:
  static constexpr std::size_t min_size = 16, max_size = 64;  // BLAKE2b's key sizes

  // `key`: min_size to max_size bytes (a shorter or longer key aborts: the callers' key files are checked to hold
  // 16 to 64 bytes).
  explicit blake2b_key(std::span<const std::byte> key) noexcept;
  ~blake2b_key();
  blake2b_key(const blake2b_key&) = default;
  blake2b_key& operator=(const blake2b_key&) = default;

  // One message's MAC, over the pieces given to update() in turn.
  class message {
   public:
    explicit message(const blake2b_key& key) noexcept;
    message(const message&) = delete;
    message& operator=(const message&) = delete;

    message& update(std::span<const std::byte> data) noexcept;
    mac128 finish() noexcept;  // once

   private:
    alignas(64) std::byte _state[384];  // crypto_generichash_blake2b_state
  };

 private:
  alignas(64) std::byte _state[384];
};

}  // namespace ferry::verify
