#include "ferry/verify/sha256.hpp"

#include <mbedtls/sha256.h>
#include <sodium/utils.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace ferry::verify {

namespace {
const unsigned char* bytes(const std::byte* p) noexcept { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* bytes(std::byte* p) noexcept { return reinterpret_cast<unsigned char*>(p); }
mbedtls_sha256_context* sha(std::byte* storage) noexcept {
  return std::launder(reinterpret_cast<mbedtls_sha256_context*>(storage));
}
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

sha256_hasher::~sha256_hasher() { mbedtls_sha256_free(sha(_context)); }

sha256_hasher& sha256_hasher::update(std::span<const std::byte> data) noexcept {
  if (mbedtls_sha256_update_ret(sha(_context), bytes(data.data()), data.size()) != 0) std::abort();
  return *this;
}

hash256 sha256_hasher::finish() noexcept {
  hash256 out;
  if (mbedtls_sha256_finish_ret(sha(_context), bytes(out.data())) != 0) std::abort();
  return out;
}

// The states are copied by value: mbedTLS 2.28's context is plain data (what mbedtls_sha256_clone() copies).
static_assert(std::is_trivially_copyable_v<mbedtls_sha256_context>);

hmac_sha256_key::hmac_sha256_key(std::span<const std::byte> key) noexcept {
  constexpr std::size_t block = 64;
  std::array<unsigned char, block> pad{};
  if (key.size() > block) {
    const hash256 digest = sha256(key);
    std::memcpy(pad.data(), digest.data(), digest.size());
  } else if (!key.empty()) {
    std::memcpy(pad.data(), key.data(), key.size());
  }
  for (auto [storage, mask] : {std::pair{_inner, 0x36}, std::pair{_outer, 0x36 ^ 0x5c}}) {
    for (unsigned char& b : pad) b ^= static_cast<unsigned char>(mask);  // key ^ ipad, then key ^ opad
    auto* context = new (storage) mbedtls_sha256_context;
    mbedtls_sha256_init(context);
    if (mbedtls_sha256_starts_ret(context, 0) != 0 || mbedtls_sha256_update_ret(context, pad.data(), block) != 0) {
      std::abort();
    }
  }
  sodium_memzero(pad.data(), pad.size());
}

hmac_sha256_key::~hmac_sha256_key() {
  mbedtls_sha256_free(sha(_inner));  // zeroizes
  mbedtls_sha256_free(sha(_outer));
}

hmac_sha256_key::message::message(const hmac_sha256_key& key) noexcept : _key(key) {
  std::memcpy(_inner, key._inner, sizeof(mbedtls_sha256_context));
}

hmac_sha256_key::message& hmac_sha256_key::message::update(std::span<const std::byte> data) noexcept {
  if (mbedtls_sha256_update_ret(sha(_inner), bytes(data.data()), data.size()) != 0) std::abort();
  return *this;
}

hash256 hmac_sha256_key::message::finish() noexcept {
  hash256 inner;
  if (mbedtls_sha256_finish_ret(sha(_inner), bytes(inner.data())) != 0) std::abort();
  alignas(8) std::byte storage[sizeof(_inner)];
  std::memcpy(storage, _key._outer, sizeof(mbedtls_sha256_context));
  hash256 out;
  if (mbedtls_sha256_update_ret(sha(storage), bytes(inner.data()), inner.size()) != 0 ||
      mbedtls_sha256_finish_ret(sha(storage), bytes(out.data())) != 0) {
    std::abort();
  }
  return out;
}

bool equal_in_constant_time(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ferry::verify
