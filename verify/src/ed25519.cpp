#include "ferry/verify/ed25519.hpp"

#include <sodium.h>

#include <cstdlib>

#include "sodium_ready.hpp"

namespace ferry::verify {

namespace {
const unsigned char* bytes(const std::byte* p) noexcept { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* bytes(std::byte* p) noexcept { return reinterpret_cast<unsigned char*>(p); }
}  // namespace

bool ed25519_verify(std::span<const std::byte, 64> signature, std::span<const std::byte> message,
                    std::span<const std::byte, 32> public_key) noexcept {
  ensure_sodium();
  return crypto_sign_verify_detached(bytes(signature.data()), bytes(message.data()), message.size(),
                                     bytes(public_key.data())) == 0;
}

ed25519_key_pair ed25519_key_pair_from_seed(std::span<const std::byte, 32> seed) noexcept {
  ensure_sodium();
  ed25519_key_pair pair;
  crypto_sign_seed_keypair(bytes(pair.public_key.data()), bytes(pair.secret_key.data()), bytes(seed.data()));
  return pair;
}

ed25519_signature ed25519_sign(std::span<const std::byte> message, const ed25519_key_pair& key) noexcept {
  ensure_sodium();
  ed25519_signature signature;
  crypto_sign_detached(bytes(signature.data()), nullptr, bytes(message.data()), message.size(),
                       bytes(key.secret_key.data()));
  return signature;
}

}  // namespace ferry::verify
