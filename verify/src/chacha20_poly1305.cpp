#include "ferry/verify/chacha20_poly1305.hpp"

#include <mbedtls/chachapoly.h>
#include <mbedtls/platform_util.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace ferry::verify {

namespace {
mbedtls_chachapoly_context* context(std::byte* storage) noexcept {
  return std::launder(reinterpret_cast<mbedtls_chachapoly_context*>(storage));
}
const unsigned char* bytes(const std::byte* p) noexcept { return reinterpret_cast<const unsigned char*>(p); }
}  // namespace

static_assert(sizeof(mbedtls_chachapoly_context) <= 256 && alignof(mbedtls_chachapoly_context) <= 16,
              "chacha20_poly1305_key::message's storage no longer fits mbedtls_chachapoly_context");

chacha20_poly1305_key::chacha20_poly1305_key(std::span<const std::byte> key) noexcept {
  if (key.size() != key_size) std::abort();
  std::copy(key.begin(), key.end(), _key.begin());
}

chacha20_poly1305_key::~chacha20_poly1305_key() { mbedtls_platform_zeroize(_key.data(), _key.size()); }

chacha20_poly1305_key::message::message(const chacha20_poly1305_key& key, const nonce& n, direction d,
                                        std::span<const std::byte> additional) noexcept {
  mbedtls_chachapoly_context* c = new (_context) mbedtls_chachapoly_context;
  mbedtls_chachapoly_init(c);
  const mbedtls_chachapoly_mode_t mode = d == direction::encrypt ? MBEDTLS_CHACHAPOLY_ENCRYPT
                                                                  : MBEDTLS_CHACHAPOLY_DECRYPT;
  if (mbedtls_chachapoly_setkey(c, bytes(key._key.data())) != 0 ||
      mbedtls_chachapoly_starts(c, bytes(n.data()), mode) != 0 ||
      mbedtls_chachapoly_update_aad(c, bytes(additional.data()), additional.size()) != 0) {
    std::abort();
  }
}

chacha20_poly1305_key::message::~message() { mbedtls_chachapoly_free(context(_context)); }

chacha20_poly1305_key::message& chacha20_poly1305_key::message::update(std::span<const std::byte> in,
                                                                       std::byte* out) noexcept {
  if (mbedtls_chachapoly_update(context(_context), in.size(), bytes(in.data()),
                                reinterpret_cast<unsigned char*>(out)) != 0) {
    std::abort();
  }
  return *this;
}

mac128 chacha20_poly1305_key::message::finish() noexcept {
  mac128 tag;
  if (mbedtls_chachapoly_finish(context(_context), reinterpret_cast<unsigned char*>(tag.data())) != 0) std::abort();
  return tag;
}

}  // namespace ferry::verify
