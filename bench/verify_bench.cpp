// verify/'s hot-path costs against their floors, all in one binary and one run so that the figures can be read as
// ratios on a noisy machine. bench/verify.sh runs it and computes the ratios.
//
// Naming, which verify.sh relies on: BM_<topic>_<implementation>/<argument>. Within a topic, every implementation
// is compared with the topic's floor at the same argument, and every benchmark of a topic reports the same counter.
//   keccak     ferry's keccak256() against Crypto++'s Keccak_256 (the floor), one digest over <argument> bytes.
//              Counter: bytes_per_second.
//   verify     ferry's verifier on a Wormhole VAA with <argument> signatures from a 19-guardian set, no cache,
//              against libsecp256k1's raw recovery of the same signatures (the floor). Counter: items_per_second,
//              one item a signature, so the ratio is the verification score.
//   cache      the same verifier with the verified-digest cache: hit (the same VAA again: the floor of this topic)
//              and miss (the full verification). Counter: items_per_second, one item a message, so miss over hit is
//              what a hit costs as a fraction of a full verification.
//   parse      the zero-copy parser of each kind on a typical message (<argument> = payload bytes). Counter:
//              items_per_second, one item a message; no floor (ns a message is printed).
//   mac        a link tag of a frame of <argument> bytes under a 32-byte key, as a link check computes it: ferry's
//              HMAC-SHA-256 (hmac) and keyed BLAKE2b (blake2b), against mbedTLS's one-call mbedtls_md_hmac (the
//              floor), with SHA-256 alone over the same bytes (sha256) for what no HMAC can beat; and the
//              ChaCha20-Poly1305 encryption of an encrypting link (aead), with mbedTLS's one call for it
//              (aead_mbedtls), the AEAD's own floor. Counter: bytes_per_second.
// A new topic is a new section below, registered in main(), plus its floor and figure in verify.sh.

#include <benchmark/benchmark.h>

#include <crypto++/keccak.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <cstdlib>
#include <ctime>
#include <string>

#include "ferry/verify/blake2b.hpp"
#include "ferry/verify/chacha20_poly1305.hpp"
#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/hyperlane.hpp"
#include "ferry/verify/keccak.hpp"
#include "ferry/verify/layerzero.hpp"
#include "ferry/verify/quorum.hpp"
#include "ferry/verify/secp256k1.hpp"
#include "ferry/verify/sha256.hpp"
#include "ferry/verify/verifier.hpp"
#include "ferry/verify/wormhole.hpp"
#include "support/bench_vaas.hpp"

namespace {

using namespace ferry;

// Deterministic bytes of the given size. The contents do not matter to a hash's speed; that they are the same
// for every implementation does.
std::vector<std::byte> message(std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((i * 131 + 17) & 0xff);
  return out;
}

// ---- keccak -------------------------------------------------------------------------------------------------

constexpr std::array<std::int64_t, 3> keccak_sizes{32, 256, 4096};

void BM_keccak_ferry(benchmark::State& state) {
  const auto data = message(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    verify::hash256 digest = verify::keccak256(data);
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// Crypto++ at its cheapest: one hasher made before the loop, CalculateDigest (Update, then Final, which restarts
// the hasher) per digest.
void BM_keccak_cryptopp(benchmark::State& state) {
  const auto data = message(static_cast<std::size_t>(state.range(0)));
  CryptoPP::Keccak_256 hasher;
  for (auto _ : state) {
    std::array<CryptoPP::byte, CryptoPP::Keccak_256::DIGESTSIZE> digest;
    hasher.CalculateDigest(digest.data(), reinterpret_cast<const CryptoPP::byte*>(data.data()), data.size());
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void register_keccak() {
  for (auto* bench : {benchmark::RegisterBenchmark("BM_keccak_ferry", BM_keccak_ferry),
                      benchmark::RegisterBenchmark("BM_keccak_cryptopp", BM_keccak_cryptopp)}) {
    for (const std::int64_t size : keccak_sizes) bench->Arg(size);
  }
}

// ---- verify, cache ------------------------------------------------------------------------------------------

constexpr std::int64_t vaa_signatures = bench::vaa_signer::signatures;  // mainnet's quorum of 19

// A mainnet-shaped VAA (bench/support/bench_vaas.hpp), with the keys that trust it and its signing digest.
struct signed_vaa {
  verify::key_sets keys;
  std::vector<std::byte> bytes;
  verify::hash256 digest;
};

const signed_vaa& bench_vaa() {
  static const signed_vaa made = [] {
    const bench::vaa_signer signer;
    signed_vaa out{signer.keys(), signer.sign(92254), {}};
    verify::wormhole::vaa_view view;
    if (verify::wormhole::parse_vaa(out.bytes, view) != verify::parse_status::ok) std::abort();
    out.digest = verify::wormhole::signing_digest(view);
    return out;
  }();
  return made;
}

const auto bench_now = static_cast<std::uint64_t>(std::time(nullptr));

void BM_verify_ferry(benchmark::State& state) {
  const signed_vaa& vaa = bench_vaa();
  verify::verified_cache no_cache(0);
  verify::verifier verifier(vaa.keys, no_cache);
  for (auto _ : state) {
    if (verifier.verify(verify::message_kind::wormhole, vaa.bytes, bench_now) != verify::verdict::valid) {
      state.SkipWithError("the benchmark VAA did not verify");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * vaa_signatures);
}

// The floor: what the libsecp256k1 calls alone cost for the same 13 signatures (parse, recover), without the
// address, the digest or any of the VAA's checks.
void BM_verify_secp256k1(benchmark::State& state) {
  const signed_vaa& vaa = bench_vaa();
  verify::wormhole::vaa_view view;
  if (verify::wormhole::parse_vaa(vaa.bytes, view) != verify::parse_status::ok) std::abort();
  const auto* digest = reinterpret_cast<const unsigned char*>(vaa.digest.data());
  for (auto _ : state) {
    for (std::uint8_t i = 0; i < vaa_signatures; ++i) {
      const auto rsv = view.signature(i).rsv;
      secp256k1_ecdsa_recoverable_signature signature;
      secp256k1_pubkey key;
      const int ok = secp256k1_ecdsa_recoverable_signature_parse_compact(
                         secp256k1_context_static, &signature, reinterpret_cast<const unsigned char*>(rsv.data()),
                         std::to_integer<int>(rsv[64])) &&
                     secp256k1_ecdsa_recover(secp256k1_context_static, &key, &signature, digest);
      benchmark::DoNotOptimize(key);
      if (!ok) std::abort();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * vaa_signatures);
}

void BM_cache_hit(benchmark::State& state) {
  const signed_vaa& vaa = bench_vaa();
  verify::verified_cache cache(65536);
  verify::verifier verifier(vaa.keys, cache);
  if (verifier.verify(verify::message_kind::wormhole, vaa.bytes, bench_now) != verify::verdict::valid) std::abort();
  for (auto _ : state) {
    benchmark::DoNotOptimize(verifier.verify(verify::message_kind::wormhole, vaa.bytes, bench_now));
  }
  if (verifier.cache_misses() != 1) state.SkipWithError("repeats missed the cache");
  if (verifier.verify(verify::message_kind::wormhole, vaa.bytes, bench_now) != verify::verdict::duplicate) {
    state.SkipWithError("a repeat was not found a duplicate");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_cache_miss(benchmark::State& state) {
  const signed_vaa& vaa = bench_vaa();
  verify::verified_cache no_cache(0);
  verify::verifier verifier(vaa.keys, no_cache);
  for (auto _ : state) {
    benchmark::DoNotOptimize(verifier.verify(verify::message_kind::wormhole, vaa.bytes, bench_now));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void register_verify() {
  for (auto* bench : {benchmark::RegisterBenchmark("BM_verify_ferry", BM_verify_ferry),
                      benchmark::RegisterBenchmark("BM_verify_secp256k1", BM_verify_secp256k1),
                      benchmark::RegisterBenchmark("BM_cache_hit", BM_cache_hit),
                      benchmark::RegisterBenchmark("BM_cache_miss", BM_cache_miss)}) {
    bench->Arg(vaa_signatures);
  }
}

// ---- parse --------------------------------------------------------------------------------------------------

template <class Parse>
void parse_loop(benchmark::State& state, const std::vector<std::byte>& message, Parse parse) {
  for (auto _ : state) {
    auto status = parse(message);
    benchmark::DoNotOptimize(status);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

std::vector<std::byte> demo_message(verify::message_kind kind, std::size_t payload_size) {
  const std::vector<std::byte> payload(payload_size, std::byte{0x17});
  std::vector<std::byte> out(payload_size + verify::demo::max_overhead);
  std::size_t size = 0;
  switch (kind) {
    case verify::message_kind::wormhole: {
      verify::wormhole::vaa_fields vaa;
      vaa.payload = payload;
      size = verify::demo::write_wormhole(vaa, out);
      break;
    }
    case verify::message_kind::hyperlane: {
      verify::hyperlane::message_fields message;
      message.body = payload;
      size = verify::demo::write_hyperlane(message, out);
      break;
    }
    case verify::message_kind::layerzero: {
      verify::layerzero::packet_fields packet;
      packet.message = payload;
      size = verify::demo::write_layerzero(packet, out);
      break;
    }
    case verify::message_kind::quorum:
      size = verify::demo::write_quorum({verify::demo::quorum_key_set, 1, 2, payload}, out);
      break;
    case verify::message_kind::opaque:
      break;
  }
  out.resize(size);
  return out;
}

void BM_parse_wormhole(benchmark::State& state) {
  verify::wormhole::vaa_view view;
  parse_loop(state, bench_vaa().bytes, [&](const auto& m) { return verify::wormhole::parse_vaa(m, view); });
}
void BM_parse_hyperlane(benchmark::State& state) {
  verify::hyperlane::envelope_view view;
  parse_loop(state, demo_message(verify::message_kind::hyperlane, static_cast<std::size_t>(state.range(0))),
             [&](const auto& m) { return verify::hyperlane::parse_envelope(m, view); });
}
void BM_parse_layerzero(benchmark::State& state) {
  verify::layerzero::envelope_view view;
  parse_loop(state, demo_message(verify::message_kind::layerzero, static_cast<std::size_t>(state.range(0))),
             [&](const auto& m) { return verify::layerzero::parse_envelope(m, view); });
}
void BM_parse_quorum(benchmark::State& state) {
  verify::quorum::message_view view;
  parse_loop(state, demo_message(verify::message_kind::quorum, static_cast<std::size_t>(state.range(0))),
             [&](const auto& m) { return verify::quorum::parse_message(m, view); });
}

void register_parse() {
  for (auto* bench : {benchmark::RegisterBenchmark("BM_parse_wormhole", BM_parse_wormhole),
                      benchmark::RegisterBenchmark("BM_parse_hyperlane", BM_parse_hyperlane),
                      benchmark::RegisterBenchmark("BM_parse_layerzero", BM_parse_layerzero),
                      benchmark::RegisterBenchmark("BM_parse_quorum", BM_parse_quorum)}) {
    bench->Arg(100);
  }
}

// ---- mac ----------------------------------------------------------------------------------------------------

// A one-message frame, a small full frame, and a frame of 8 messages filling a 1472-byte datagram.
constexpr std::array<std::int64_t, 3> mac_sizes{64, 200, 1472};

const std::array<std::byte, 32> mac_key = [] {
  std::array<std::byte, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::byte>(0xa0 + i);
  return key;
}();

void mac_loop(benchmark::State& state, auto&& mac) {
  const auto data = message(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto tag = mac(std::span<const std::byte>(data));
    benchmark::DoNotOptimize(tag);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

const unsigned char* mbedtls_bytes(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }

void BM_mac_hmac(benchmark::State& state) {
  const verify::hmac_sha256_key key(mac_key);
  mac_loop(state, [&](std::span<const std::byte> data) {
    return verify::hmac_sha256_key::message(key).update(data).finish();
  });
}

void BM_mac_blake2b(benchmark::State& state) {
  const verify::blake2b_key key(mac_key);
  mac_loop(state,
           [&](std::span<const std::byte> data) { return verify::blake2b_key::message(key).update(data).finish(); });
}

// The AEAD of encrypting links: a frame's messages encrypted after a 16-byte header authenticated in clear, as
// tx_batch seals them (ferry's key), and the same through mbedTLS's one call (its floor).
const std::array<std::byte, 16> aead_header{};
const verify::chacha20_poly1305_key::nonce aead_nonce{};

void BM_mac_aead(benchmark::State& state) {
  const verify::chacha20_poly1305_key key(mac_key);
  std::vector<std::byte> out(static_cast<std::size_t>(state.range(0)));
  mac_loop(state, [&](std::span<const std::byte> data) {
    using aead = verify::chacha20_poly1305_key;
    return aead::message(key, aead_nonce, aead::message::direction::encrypt, aead_header)
        .update(data, out.data())
        .finish();
  });
}

void BM_mac_aead_mbedtls(benchmark::State& state) {
  std::vector<unsigned char> out(static_cast<std::size_t>(state.range(0)));
  mac_loop(state, [&](std::span<const std::byte> data) {
    verify::mac128 tag;
    mbedtls_chachapoly_context context;
    mbedtls_chachapoly_init(&context);
    if (mbedtls_chachapoly_setkey(&context, mbedtls_bytes(mac_key.data())) != 0 ||
        mbedtls_chachapoly_encrypt_and_tag(&context, data.size(), mbedtls_bytes(aead_nonce.data()),
                                           mbedtls_bytes(aead_header.data()), aead_header.size(),
                                           mbedtls_bytes(data.data()), out.data(),
                                           reinterpret_cast<unsigned char*>(tag.data())) != 0) {
      std::abort();
    }
    mbedtls_chachapoly_free(&context);
    return tag;
  });
}

void BM_mac_mbedtls(benchmark::State& state) {
  const mbedtls_md_info_t* sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  mac_loop(state, [&](std::span<const std::byte> data) {
    verify::hash256 out;
    if (mbedtls_md_hmac(sha256, mbedtls_bytes(mac_key.data()), mac_key.size(), mbedtls_bytes(data.data()),
                        data.size(), reinterpret_cast<unsigned char*>(out.data())) != 0) {
      std::abort();
    }
    return out;
  });
}

void BM_mac_sha256(benchmark::State& state) {
  mac_loop(state, [](std::span<const std::byte> data) {
    verify::hash256 out;
    if (mbedtls_sha256_ret(mbedtls_bytes(data.data()), data.size(), reinterpret_cast<unsigned char*>(out.data()),
                           0) != 0) {
      std::abort();
    }
    return out;
  });
}

void register_mac() {
  for (auto* bench : {benchmark::RegisterBenchmark("BM_mac_hmac", BM_mac_hmac),
                      benchmark::RegisterBenchmark("BM_mac_blake2b", BM_mac_blake2b),
                      benchmark::RegisterBenchmark("BM_mac_aead", BM_mac_aead),
                      benchmark::RegisterBenchmark("BM_mac_aead_mbedtls", BM_mac_aead_mbedtls),
                      benchmark::RegisterBenchmark("BM_mac_mbedtls", BM_mac_mbedtls),
                      benchmark::RegisterBenchmark("BM_mac_sha256", BM_mac_sha256)}) {
    for (const std::int64_t size : mac_sizes) bench->Arg(size);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_keccak();
  register_verify();
  register_parse();
  register_mac();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
