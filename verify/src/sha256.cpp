#include "ferry/verify/sha256.hpp"

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#include <cstdlib>
#include <new>

namespace ferry::verify {

namespace {
const unsigned char* bytes(const std::byte* p) noexcept { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* bytes(std::byte* p) noexcept { return reinterpret_cast<unsigned char*>(p); }
}  // namespace

static_assert(sizeof(mbedtls_sha256_context) <= 128 && alignof(mbedtls_sha256_context) <= 8,
              "sha256_hasher's opaque storage no longer fits mbedtls_sha256_context");

hash256 sha256(std::span<const std::byte> data) noexcept {
  hash256 out;
  // with SHA-256 compiled in (Debian's build), the call can only fail on a null output
  if (mbedtls_sha256_ret(bytes(data.data()), data.size(), bytes(out.data()), 0) != 0) std::abort();
  return out;
}

sha256_hasher::sha256_hasher() noexcept {
  auto* context = new (_context) mbedtls_sha256_context;
  mbedtls_sha256_init(context);
  if (mbedtls_sha256_starts_ret(context, 0) != 0) std::abort();
}

sha256_hasher::~sha256_hasher() { mbedtls_sha256_free(std::launder(reinterpret_cast<mbedtls_sha256_context*>(_context))); }

sha256_hasher& sha256_hasher::update(std::span<const std::byte> data) noexcept {
  auto* context = std::launder(reinterpret_cast<mbedtls_sha256_context*>(_context));
  if (mbedtls_sha256_update_ret(context, bytes(data.data()), data.size()) != 0) std::abort();
  return *this;
}

hash256 sha256_hasher::finish() noexcept {
  auto* context = std::launder(reinterpret_cast<mbedtls_sha256_context*>(_context));
  hash256 out;
  if (mbedtls_sha256_finish_ret(context, bytes(out.data())) != 0) std::abort();
  return out;
}

hash256 hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) noexcept {
  hash256 out;
  if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), bytes(key.data()), key.size(),
                      bytes(data.data()), data.size(), bytes(out.data())) != 0) {
    std::abort();
  }
  return out;
}

}  // namespace ferry::verify
