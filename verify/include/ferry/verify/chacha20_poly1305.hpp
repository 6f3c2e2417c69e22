#pragma once
// ChaCha20-Poly1305 (RFC 8439, mbedTLS): the AEAD of links that encrypt their frames (dataplane/link_auth.hpp).
// What it encrypts stays secret and, with the additional data it authenticates in clear, cannot be altered
// unnoticed. Chosen over AES-GCM because it is fast without AES instructions, as on the small ARM boxes ferry ships
// on.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/blake2b.hpp"

namespace ferry::verify {

class chacha20_poly1305_key {
 public:
  static constexpr std::size_t key_size = 32, nonce_size = 12, tag_size = 16;
  using nonce = std::array<std::byte, nonce_size>;

  // `key`: exactly key_size bytes (another size aborts: the configuration checks the key files). Copyable;
  // immutable once made, so threads may share it. Wiped when it goes.
  explicit chacha20_poly1305_key(std::span<const std::byte> key) noexcept;
  ~chacha20_poly1305_key();
  chacha20_poly1305_key(const chacha20_poly1305_key&) = default;
  chacha20_poly1305_key& operator=(const chacha20_poly1305_key&) = default;

  // One message, encrypted or decrypted: the additional data (authenticated in clear) at the start, then the text
  // in pieces through update(), then finish() for the tag. A nonce must never serve two messages under one key.
  class message {
   public:
    enum class direction : std::uint8_t { encrypt, decrypt };

    message(const chacha20_poly1305_key& key, const nonce& n, direction d,
            std::span<const std::byte> additional) noexcept;
    ~message();
    message(const message&) = delete;
    message& operator=(const message&) = delete;

    // Encrypts or decrypts `in` into `out` (in.size() bytes; `out` may be in.data(): in place).
    message& update(std::span<const std::byte> in, std::byte* out) noexcept;
    // The tag over the additional data and the ciphertext (what update() was given to decrypt, or gave out when
    // encrypting). Once. A decrypting caller compares it in constant time (equal_in_constant_time) and trusts
    // nothing it decrypted unless it matches.
    mac128 finish() noexcept;

   private:
    alignas(16) std::byte _context[256];  // mbedtls_chachapoly_context, opaque: mbedTLS stays out of this header
  };

 private:
  std::array<std::byte, key_size> _key;
};

}  // namespace ferry::verify
