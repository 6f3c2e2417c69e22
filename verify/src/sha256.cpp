#include "ferry/verify/sha256.hpp"

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <sodium/utils.h>

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

static_assert(sizeof(mbedtls_md_context_t) <= 32 && alignof(mbedtls_md_context_t) <= 8,
              "hmac_sha256_stream's opaque storage no longer fits mbedtls_md_context_t");

namespace {
mbedtls_md_context_t* md(std::byte* storage) noexcept {
  return std::launder(reinterpret_cast<mbedtls_md_context_t*>(storage));
}
}  // namespace

hmac_sha256_stream::hmac_sha256_stream() {
  auto* context = new (_context) mbedtls_md_context_t;
  mbedtls_md_init(context);
  // fails only when out of memory (or SHA-256 is not compiled in, which Debian's build has)
  if (mbedtls_md_setup(context, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) != 0) throw std::bad_alloc();
}

hmac_sha256_stream::~hmac_sha256_stream() { mbedtls_md_free(md(_context)); }

hmac_sha256_stream& hmac_sha256_stream::start(std::span<const std::byte> key) noexcept {
  if (mbedtls_md_hmac_starts(md(_context), bytes(key.data()), key.size()) != 0) std::abort();
  return *this;
}

hmac_sha256_stream& hmac_sha256_stream::update(std::span<const std::byte> data) noexcept {
  if (mbedtls_md_hmac_update(md(_context), bytes(data.data()), data.size()) != 0) std::abort();
  return *this;
}

hash256 hmac_sha256_stream::finish() noexcept {
  hash256 out;
  if (mbedtls_md_hmac_finish(md(_context), bytes(out.data())) != 0) std::abort();
  return out;
}

bool equal_in_constant_time(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ferry::verify
