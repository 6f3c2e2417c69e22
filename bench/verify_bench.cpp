// verify/'s hot-path costs against their floors, all in one binary and one run so that the figures can be read as
// ratios on a noisy machine. bench/verify.sh runs it and computes the ratios.
//
// Naming, which verify.sh relies on: BM_<topic>_<implementation>/<argument>. Within a topic, every implementation
// is compared with the topic's floor at the same argument, and every benchmark of a topic reports the same counter.
//   keccak     ferry's keccak256() against Crypto++'s Keccak_256 (the floor), one digest over <argument> bytes.
//              Counter: bytes_per_second.
// A new topic is a new section below, registered in main(), plus its floor and figure in verify.sh.

#include <benchmark/benchmark.h>

#include <crypto++/keccak.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferry/verify/keccak.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  register_keccak();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
