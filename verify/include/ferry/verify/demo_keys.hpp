#pragma once
// Demo keys: deterministic key pairs that anyone can derive, so that the built-in default configuration, the load
// generator and the tests can sign messages ferry will verify without shipping secrets. Each secret is
// keccak256("ferry demo <role> <index>"), and Wormhole's is the Tilt devnet guardian's. They are public knowledge:
// never trust them in production.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/ed25519.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/wormhole.hpp"

namespace ferry::verify::demo {

// The keys the default configuration trusts: the devnet guardian set for Wormhole; one Hyperlane validator
// (message-id multisig, threshold 1) for every origin; one required LayerZero DVN with one signer (quorum 1) for
// every source eid; quorum key set `quorum_key_set` with one key (threshold 1).
eth_address hyperlane_validator() noexcept;
eth_address layerzero_dvn() noexcept;
eth_address layerzero_dvn_signer() noexcept;
ed25519_public_key quorum_key() noexcept;
inline constexpr std::uint32_t quorum_key_set = 1;

// Room a signed message needs beyond its payload.
inline constexpr std::size_t max_overhead = 512;

// Signed message bodies, as ferry frames carry them. Each returns the bytes written, or 0 when `out` is too small.
// The VAA names guardian set 0 and carries the devnet guardian's signature (fields.signatures is ignored).
std::size_t write_wormhole(const wormhole::vaa_fields& fields, std::span<std::byte> out) noexcept;
// An envelope with message-id multisig metadata signed by the demo validator.
std::size_t write_hyperlane(const hyperlane::message_fields& message, std::span<std::byte> out) noexcept;
// An envelope whose guid is computed from the packet's fields (fields.guid is ignored), attested by the demo DVN.
std::size_t write_layerzero(const layerzero::packet_fields& packet, std::span<std::byte> out) noexcept;
// A quorum message for key set `quorum_key_set`, signed by the demo key.
std::size_t write_quorum(const quorum::message_fields& message, std::span<std::byte> out) noexcept;

}  // namespace ferry::verify::demo
