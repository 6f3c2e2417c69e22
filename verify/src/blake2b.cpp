#include "ferry/verify/blake2b.hpp"

#include <sodium/crypto_generichash_blake2b.h>
#include <sodium/utils.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "sodium_ready.hpp"

namespace ferry::verify {

namespace {
crypto_generichash_blake2b_state* state(std::byte* storage) noexcept {
  return std::launder(reinterpret_cast<crypto_generichash_blake2b_state*>(storage));
}
}  // namespace

static_assert(sizeof(crypto_generichash_blake2b_state) == 384 && alignof(crypto_generichash_blake2b_state) <= 64,
              "blake2b_key's storage no longer fits crypto_generichash_blake2b_state");
static_assert(crypto_generichash_blake2b_KEYBYTES_MIN == blake2b_key::min_size &&
              crypto_generichash_blake2b_KEYBYTES_MAX == blake2b_key::max_size);
static_assert(crypto_generichash_blake2b_BYTES_MIN <= sizeof(mac128));

blake2b_key::blake2b_key(std::span<const std::byte> key) noexcept {
  if (key.size() < min_size || key.size() > max_size) std::abort();
  ensure_sodium();  // else every message runs BLAKE2b's portable compression
  auto* s = new (_state) crypto_generichash_blake2b_state;
  if (crypto_generichash_blake2b_init(s, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                                      sizeof(mac128)) != 0) {
    std::abort();
  }
}

blake2b_key::~blake2b_key() { sodium_memzero(_state, sizeof(_state)); }

blake2b_key::message::message(const blake2b_key& key) noexcept { std::memcpy(_state, key._state, sizeof(_state)); }

blake2b_key::message& blake2b_key::message::update(std::span<const std::byte> data) noexcept {
  if (crypto_generichash_blake2b_update(state(_state), reinterpret_cast<const unsigned char*>(data.data()),
                                        data.size()) != 0) {
    std::abort();
  }
  return *this;
}

mac128 blake2b_key::message::finish() noexcept {
  mac128 out;
  if (crypto_generichash_blake2b_final(state(_state), reinterpret_cast<unsigned char*>(out.data()), out.size()) != 0) {
    std::abort();
  }
  return out;
}

}  // namespace ferry::verify
