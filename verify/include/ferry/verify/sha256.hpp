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

hash256 hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) noexcept;

// HMAC-SHA-256 over several pieces, reusing one mbedTLS context (allocated once, here): for a thread that tags or
// checks many frames, each under a key of its own. Keying costs two SHA-256 blocks a message.
class hmac_sha256_stream {
 public:
  hmac_sha256_stream();
  ~hmac_sha256_stream();
  hmac_sha256_stream(const hmac_sha256_stream&) = delete;
  hmac_sha256_stream& operator=(const hmac_sha256_stream&) = delete;

  hmac_sha256_stream& start(std::span<const std::byte> key) noexcept;
  hmac_sha256_stream& update(std::span<const std::byte> data) noexcept;
  hash256 finish() noexcept;  // once after each start

 private:
  alignas(8) std::byte _context[32];  // mbedtls_md_context_t, kept opaque so mbedTLS stays out of this header
};

// Compares in time that depends on the size only, not on where the bytes differ (for tags).
bool equal_in_constant_time(std::span<const std::byte> a, std::span<const std::byte> b) noexcept;

}  // namespace ferry::verify
