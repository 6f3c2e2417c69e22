#include "ferry/verify/verifier.hpp"

namespace ferry::verify {

hash256 cache_key(message_kind kind, std::span<const std::byte> message) noexcept {
  const std::byte prefix{static_cast<std::uint8_t>(kind)};
  keccak256_hasher hasher;
  return hasher.update({&prefix, 1}).update(message).finish();
}

namespace {
// The order every kind follows: the cheap checks, then the cache, then the crypto. A cached message still passes
// the cheap checks, so a key set that expired or was removed since it was cached is refused all the same; one
// that passes is a duplicate, found without any crypto.
template <class Check, class Verify>
verdict verify_cached(verified_cache& cache, std::uint64_t& hits, std::uint64_t& misses, message_kind kind,
                      std::span<const std::byte> message, Check check, Verify full) noexcept {
  const verdict structure = check();
  if (structure != verdict::valid) return structure;
  const hash256 key = cache_key(kind, message);
  if (cache.contains(key)) {
    ++hits;
    return verdict::duplicate;
  }
  ++misses;
  const verdict result = full();
  if (result == verdict::valid) cache.insert(key);
  return result;
}
}  // namespace

verdict verifier::verify(message_kind kind, std::span<const std::byte> message, std::uint64_t now) noexcept {
  switch (kind) {
    case message_kind::wormhole: {
      wormhole::vaa_view vaa;
      if (wormhole::parse_vaa(message, vaa) != parse_status::ok) return verdict::malformed;
      return verify_cached(
          *_cache, _cache_hits, _cache_misses, kind, message,
          [&] { return wormhole::check_vaa_structure(vaa, _keys->wormhole, now); },
          [&] { return wormhole::verify_vaa(vaa, _keys->wormhole, now); });
    }
    case message_kind::hyperlane: {
      hyperlane::envelope_view envelope;
      if (hyperlane::parse_envelope(message, envelope) != parse_status::ok) return verdict::malformed;
      return verify_cached(
          *_cache, _cache_hits, _cache_misses, kind, message,
          [&] { return hyperlane::check_envelope_structure(envelope, _keys->hyperlane); },
          [&] { return hyperlane::verify_envelope(envelope, _keys->hyperlane); });
    }
    case message_kind::layerzero: {
      layerzero::envelope_view envelope;
      if (layerzero::parse_envelope(message, envelope) != parse_status::ok) return verdict::malformed;
      return verify_cached(
          *_cache, _cache_hits, _cache_misses, kind, message,
          [&] { return layerzero::check_envelope_structure(envelope, _keys->layerzero); },
          [&] { return layerzero::verify_envelope(envelope, _keys->layerzero); });
    }
    case message_kind::quorum: {
      quorum::message_view parsed;
      if (quorum::parse_message(message, parsed) != parse_status::ok) return verdict::malformed;
      return verify_cached(
          *_cache, _cache_hits, _cache_misses, kind, message,
          [&] { return quorum::check_message_structure(parsed, _keys->quorum); },
          [&] { return quorum::verify_message(parsed, _keys->quorum); });
    }
    case message_kind::opaque:
      return verdict::valid;
  }
  return verdict::malformed;  // unreachable for a kind made by kind_from_wire()
}

}  // namespace ferry::verify
