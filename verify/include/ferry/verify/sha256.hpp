#pragma once
// SHA-256 and HMAC-SHA-256 (mbedTLS).

#include <cstddef>
#include <span>

#include "ferry/verify/keccak.hpp"

namespace ferry::verify {

hash256 sha256(std::span<const std::byte> data) noexcept;

// The same digest over several pieces.
class sha256_hasher {
 public:
  sha256_hasher() noexcept;
  ~sha256_hasher();
  sha256_hasher(const sha256_hasher&) = delete;
  sha256_hasher& operator=(const sha256_hasher&) = delete;

  sha256_hasher& update(std::span<const std::byte> data) noexcept;
  hash256 finish() noexcept;  // once

 private:
  alignas(8) std::byte _context[128];  // mbedtls_sha256_context, kept opaque so mbedTLS stays out of this header
};

// An HMAC-SHA-256 key made ready once (RFC 2104's inner and outer hash states after the key's ipad and opad
// blocks), so that each message it authenticates costs only the SHA-256 blocks of the message and of the outer
// hash's last one: two blocks fewer than keying each time. Copyable; immutable once made, so threads may share it.
// The states stand for the key: they are wiped when it goes.
class hmac_sha256_key {
 public:
  explicit hmac_sha256_key(std::span<const std::byte> key = {}) noexcept;
  ~hmac_sha256_key();
  hmac_sha256_key(const hmac_sha256_key&) = default;
  hmac_sha256_key& operator=(const hmac_sha256_key&) = default;

  // One message's HMAC, over the pieces given to update() in turn.
  class message {
   public:
    explicit message(const hmac_sha256_key& key) noexcept;
    message(const message&) = delete;
    message& operator=(const message&) = delete;

    message& update(std::span<const std::byte> data) noexcept;
    hash256 finish() noexcept;  // once

   private:
    const hmac_sha256_key& _key;
    alignas(8) std::byte _inner[128];  // mbedtls_sha256_context
  };

 private:
  alignas(8) std::byte _inner[128];  // mbedtls_sha256_context after the ipad block
  alignas(8) std::byte _outer[128];  // and after the opad block
};

// Compares in time that depends on the size only, not on where the bytes differ (for tags).
bool equal_in_constant_time(std::span<const std::byte> a, std::span<const std::byte> b) noexcept;

}  // namespace ferry::verify
