#include "ferry/verify/secp256k1.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cstdlib>
#include <cstring>

namespace ferry::verify {

namespace {
// half the group order n: OpenZeppelin's ECDSA refuses s above it
constexpr std::array<std::uint8_t, 32> half_order{
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

const unsigned char* bytes(const std::byte* p) noexcept { return reinterpret_cast<const unsigned char*>(p); }

bool high_s(std::span<const std::byte, 32> s) noexcept {
  return std::memcmp(s.data(), half_order.data(), 32) > 0;  // big-endian, so byte order is numeric order
}

// Recovery and verification need no precomputed context since libsecp256k1 0.2: its tables are static.
// Signing uses a context of its own, randomised once, for side-channel blinding.
const secp256k1_context* signing_context() noexcept {
  static secp256k1_context* const context = [] {
    secp256k1_context* made = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::array<unsigned char, 32> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<unsigned char>(0x5a ^ i);
    if (secp256k1_context_randomize(made, seed.data()) != 1) std::abort();  // only on a null context
    return made;
  }();
  return context;
}

eth_address address_of_pubkey(const secp256k1_pubkey& key) noexcept {
  std::array<unsigned char, 65> serialised;
  std::size_t length = serialised.size();
  secp256k1_ec_pubkey_serialize(secp256k1_context_static, serialised.data(), &length, &key,
                                SECP256K1_EC_UNCOMPRESSED);
  std::array<std::byte, 64> xy;
  std::memcpy(xy.data(), serialised.data() + 1, xy.size());
  return address_of_public_key(xy);
}
}  // namespace

std::optional<eth_address> recover_address(const hash256& digest, std::span<const std::byte, 64> rs,
                                           std::uint8_t recovery_id, s_rule rule) noexcept {
  // recovery ids 2 and 3 (r past the order) are what EVM's ecrecover cannot express: v is only 27 or 28
  if (recovery_id > 1) return std::nullopt;
  if (rule == s_rule::low_only && high_s(rs.subspan<32, 32>())) return std::nullopt;
  secp256k1_ecdsa_recoverable_signature signature;
  // refuses r or s not below the order; the recovery itself refuses zero r or s
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &signature, bytes(rs.data()),
                                                          recovery_id) != 1) {
    return std::nullopt;
  }
  secp256k1_pubkey key;
  if (secp256k1_ecdsa_recover(secp256k1_context_static, &key, &signature, bytes(digest.data())) != 1) {
    return std::nullopt;
  }
  return address_of_pubkey(key);
}

eth_address address_of_public_key(std::span<const std::byte, 64> xy) noexcept {
  const hash256 hash = keccak256(xy);
  eth_address address;
  std::memcpy(address.data(), hash.data() + 12, address.size());
  return address;
}

std::optional<eth_address> address_of_secret_key(std::span<const std::byte, 32> secret) noexcept {
  secp256k1_pubkey key;
  if (secp256k1_ec_pubkey_create(signing_context(), &key, bytes(secret.data())) != 1) return std::nullopt;
  return address_of_pubkey(key);
}

std::optional<std::array<std::byte, 65>> sign_recoverable(const hash256& digest,
                                                          std::span<const std::byte, 32> secret) noexcept {
  secp256k1_ecdsa_recoverable_signature signature;
  if (secp256k1_ecdsa_sign_recoverable(signing_context(), &signature, bytes(digest.data()), bytes(secret.data()),
                                       nullptr, nullptr) != 1) {
    return std::nullopt;
  }
  std::array<unsigned char, 64> compact;
  int recovery_id = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(signing_context(), compact.data(), &recovery_id,
                                                          &signature);
  std::array<std::byte, 65> out;
  std::memcpy(out.data(), compact.data(), compact.size());
  out[64] = static_cast<std::byte>(recovery_id);
  return out;
}

}  // namespace ferry::verify
