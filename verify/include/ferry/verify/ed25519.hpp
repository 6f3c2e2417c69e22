#pragma once
// Ed25519 signatures (libsodium, RFC 8032 with libsodium's canonical-encoding and small-order checks).

#include <array>
#include <cstddef>
#include <span>

namespace ferry::verify {

using ed25519_public_key = std::array<std::byte, 32>;
using ed25519_signature = std::array<std::byte, 64>;

// True when `signature` is `public_key`'s over `message`. Costs one libsodium verification (about 50 us).
bool ed25519_verify(std::span<const std::byte, 64> signature, std::span<const std::byte> message,
                    std::span<const std::byte, 32> public_key) noexcept;

// The key pair derived from a 32-byte seed, and signing with it: for the load generator, tests and tools.
struct ed25519_key_pair {
  ed25519_public_key public_key;
  std::array<std::byte, 64> secret_key;  // libsodium's form: seed | public key
};
ed25519_key_pair ed25519_key_pair_from_seed(std::span<const std::byte, 32> seed) noexcept;
ed25519_signature ed25519_sign(std::span<const std::byte> message, const ed25519_key_pair& key) noexcept;

}  // namespace ferry::verify
