#pragma once
// One entry point that verifies a message of any kind against the key sets, with the verified-digest cache in
// front of the crypto. What a verify stage runs for each message.

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferry/verify/hyperlane_ism.hpp"
#include "ferry/verify/layerzero_dvn.hpp"
#include "ferry/verify/message_kind.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/verdict.hpp"
#include "ferry/verify/verified_cache.hpp"
#include "ferry/verify/wormhole_verifier.hpp"

namespace ferry::verify {

// Every key a router verifies against. Built by the control plane, read-only once a verifier uses it.
struct key_sets {
  wormhole::guardian_registry wormhole;
  hyperlane::validator_registry hyperlane;
  layerzero::dvn_registry layerzero;
  quorum::key_set_registry quorum;
};

// Whether messages of a kind carry proofs to check (every kind but opaque).
constexpr bool is_verified_kind(message_kind kind) noexcept { return kind != message_kind::opaque; }

class verifier {
 public:
  // `keys` and `cache` must outlive the verifier; `cache` belongs to the verifier's thread.
  verifier(const key_sets& keys, verified_cache& cache) noexcept : _keys(&keys), _cache(&cache) {}

  // Verifies against `keys` from now on (a new snapshot of them); they must outlive their use.
  void use(const key_sets& keys) noexcept { _keys = &keys; }

  // The verdict on one message (its bytes as carried in a frame) at unix time `now`. Parses it, runs the cheap
  // checks (key set known and current, signature counts and order), then, unless the cache holds the message,
  // the signatures; a valid message enters the cache. One the cache holds is `duplicate` (it passed the cheap
  // checks again, and its signatures were checked when it was first seen). Opaque messages are valid without checks.
  verdict verify(message_kind kind, std::span<const std::byte> message, std::uint64_t now) noexcept;

  std::uint64_t cache_hits() const noexcept { return _cache_hits; }
  std::uint64_t cache_misses() const noexcept { return _cache_misses; }

 private:
  const key_sets* _keys;
  verified_cache* _cache;
  std::uint64_t _cache_hits = 0;
  std::uint64_t _cache_misses = 0;
};

// The cache key of a message: keccak256(kind | bytes).
hash256 cache_key(message_kind kind, std::span<const std::byte> message) noexcept;

}  // namespace ferry::verify
