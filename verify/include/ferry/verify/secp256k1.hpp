#pragma once
// secp256k1 ECDSA public-key recovery (libsecp256k1), and the Ethereum addresses the protocols name signers by.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "ferry/verify/keccak.hpp"

namespace ferry::verify {

using eth_address = std::array<std::byte, 20>;

// Which signatures a protocol's verifier accepts beyond the ones any ECDSA verifier does.
enum class s_rule : std::uint8_t {
  any,       // EVM `ecrecover` as called by Wormhole's Messages.sol: s in [1, n-1], high s accepted
  low_only,  // OpenZeppelin ECDSA (Hyperlane, LayerZero): also rejects s > n/2
};

// The address whose key signed `digest` as (r, s) = rs[0:32], rs[32:64], with recovery id 0 or 1 (EVM v - 27).
// Nothing when r or s is zero or not below the group order, the recovery id is not 0 or 1, s is high under
// low_only, or no point recovers. Costs one libsecp256k1 recovery (tens of microseconds) and one Keccak.
std::optional<eth_address> recover_address(const hash256& digest, std::span<const std::byte, 64> rs,
                                           std::uint8_t recovery_id, s_rule rule) noexcept;

// keccak256 of the 64-byte uncompressed public key (x | y), last 20 bytes.
eth_address address_of_public_key(std::span<const std::byte, 64> xy) noexcept;

// The address of a 32-byte secret key, or nothing when the key is not valid (zero, or not below the order).
std::optional<eth_address> address_of_secret_key(std::span<const std::byte, 32> secret) noexcept;

// Signs `digest` with a 32-byte secret key: r | s | recovery id (0 or 1), s always low. Nothing when the key is
// not valid. For the load generator, tests and tools that sign with test keys; never on the data path.
std::optional<std::array<std::byte, 65>> sign_recoverable(const hash256& digest,
                                                          std::span<const std::byte, 32> secret) noexcept;

}  // namespace ferry::verify
