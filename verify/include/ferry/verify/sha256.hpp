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

}  // namespace ferry::verify
