// Verification in the pipeline, against its floor in the same run: how many 13-signature VAAs a second each verify
// stage gets through (real stages, rings and descriptors, sharded as io stages shard them) over libsecp256k1's raw
// recovery rate / 13 on one core; the same with two verify stages (scaling); and a flood of duplicates of one VAA
// with a trickle of new ones (every new one must get through, and the duplicates must cost no crypto).
// bench/pipeline.sh builds and runs it; its last line is `pipeline_verify_score=X scaling_2_cores=Y`.

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/message_desc.hpp"
#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/spsc_ring.hpp"
#include "ferry/dataplane/policy.hpp"
#include "ferry/dataplane/verify_stage.hpp"
#include "ferry/platform/thread.hpp"
#include "support/bench_vaas.hpp"

namespace {

using namespace ferry;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Each VAA as a framed message in its own buffer, as an io stage would hold it.
class message_store {
 public:
  message_store(const std::vector<std::vector<std::byte>>& bodies)
      : _pool(make_pool(bodies.size())) {
    for (const auto& body : bodies) {
      dp::packet_buffer* b = _pool->acquire();
      dp::encode_message_header(static_cast<std::uint8_t>(verify::message_kind::wormhole), 0,
                                static_cast<std::uint16_t>(body.size()),
                                std::span<std::byte, dp::message_header_size>(b->data(), dp::message_header_size));
      std::copy(body.begin(), body.end(), b->data() + dp::message_header_size);
      b->length = static_cast<std::uint32_t>(body.size() + dp::message_header_size);
      _descs.push_back({b, 0, b->length, 2, 0, static_cast<std::uint8_t>(verify::message_kind::wormhole), 0, 0,
                        dp::drop_reason::malformed});
    }
  }
  const std::vector<dp::message_desc>& descs() const { return _descs; }

 private:
  static dp::placed<dp::buffer_pool> make_pool(std::size_t n) {
    auto pool = dp::placed<dp::buffer_pool>::create("bench buffers", platform::page_size::normal,
                                                    static_cast<std::uint32_t>(n), 2048u);
    if (!pool) std::abort();
    return std::move(*pool);
  }

  dp::placed<dp::buffer_pool> _pool;
  std::vector<dp::message_desc> _descs;
};

std::uint32_t ring_capacity_for(std::size_t n) {
  std::uint32_t c = 2;
  while (c < n) c *= 2;
  return c;
}

struct stage_run {
  double seconds = 0;
  std::uint64_t passed = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t crypto = 0;  // cache misses: messages whose signatures were checked
};

// Shards `stream` over `stages` verify stages exactly as io stages do, fills their input rings, then starts the
// stages (each a thread pinned to its own core) and times them until every descriptor has come out.
stage_run run_stages(const std::vector<dp::message_desc>& stream, std::uint32_t stages, const verify::key_sets& keys,
                     const std::vector<unsigned>& cores) {
  const std::uint32_t capacity = ring_capacity_for(stream.size());
  std::vector<dp::placed<dp::spsc_ring<dp::message_desc>>> inputs, outputs;
  std::vector<dp::stage_counters> counters(stages);
  std::vector<std::unique_ptr<dp::verify_stage>> verify;
  // A policy of keys alone: no route, so verification is all the stages do (no route state to tell).
  auto rules = std::make_unique<dp::policy>();
  rules->generation = 1;
  rules->keys = std::make_shared<const verify::key_sets>(keys);
  dp::policy_store policies(std::move(rules), stages);
  for (std::uint32_t s = 0; s < stages; ++s) {
    for (auto* rings : {&inputs, &outputs}) {
      auto ring = dp::placed<dp::spsc_ring<dp::message_desc>>::create("ring", platform::page_size::normal, capacity);
      if (!ring) std::abort();
      rings->push_back(std::move(*ring));
    }
    verify.push_back(std::make_unique<dp::verify_stage>(32, std::vector{inputs.back().get()},
                                                        std::vector{outputs.back().get()}, policies, s, nullptr,
                                                        65536, counters[s]));
  }
  for (const dp::message_desc& d : stream) {
    const std::uint32_t shard = dp::shard_of(d.encoded().subspan(dp::message_header_size), stages);
    if (!inputs[shard]->push(d)) std::abort();
  }
  std::atomic<bool> go{false};
  std::atomic<std::uint32_t> done{0};
  std::vector<std::thread> threads;
  for (std::uint32_t s = 0; s < stages; ++s) {
    threads.emplace_back([&, s] {
      (void)platform::pin_current_thread(cores[s % cores.size()]);
      while (!go.load(std::memory_order_acquire)) {
      }
      while (verify[s]->poll_once() != 0) {
      }
      done.fetch_add(1, std::memory_order_release);
    });
  }
  const auto start = clock_type::now();
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  stage_run run;
  run.seconds = seconds_since(start);
  for (std::uint32_t s = 0; s < stages; ++s) {
    const dp::counter_values c = counters[s].read();
    run.passed += c.forwarded;
    run.duplicates += c.drops[static_cast<std::size_t>(dp::drop_reason::duplicate)];
    run.crypto += verify[s]->cache_misses();
  }
  return run;
}

// The floor: libsecp256k1's parse + recover of the signatures of these VAAs, one core, signatures a second.
double raw_recover_rate(const std::vector<std::vector<std::byte>>& vaas, double min_seconds) {
  std::uint64_t recovered = 0;
  const auto start = clock_type::now();
  while (seconds_since(start) < min_seconds) {
    for (const auto& bytes : vaas) {
      verify::wormhole::vaa_view view;
      if (verify::wormhole::parse_vaa(bytes, view) != verify::parse_status::ok) std::abort();
      const verify::hash256 digest = verify::wormhole::signing_digest(view);
      for (std::uint8_t i = 0; i < view.signature_count(); ++i) {
        const auto rsv = view.signature(i).rsv;
        secp256k1_ecdsa_recoverable_signature signature;
        secp256k1_pubkey key;
        if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &signature,
                                                                 reinterpret_cast<const unsigned char*>(rsv.data()),
                                                                 std::to_integer<int>(rsv[64])) ||
            !secp256k1_ecdsa_recover(secp256k1_context_static, &key, &signature,
                                     reinterpret_cast<const unsigned char*>(digest.data()))) {
          std::abort();
        }
        ++recovered;
      }
    }
  }
  return static_cast<double>(recovered) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-pipeline-bench: verify stages against libsecp256k1's raw rate, in one run"};
  std::size_t count = 2000;
  std::size_t flood = 200000;
  std::size_t trickle = 200;
  app.add_option("--vaas", count, "distinct 13-signature VAAs per measurement");
  app.add_option("--flood", flood, "duplicates of one VAA in the flood");
  app.add_option("--trickle", trickle, "new VAAs among the flood");
  CLI11_PARSE(app, argc, argv);

  const std::vector<unsigned> cores = platform::allowed_cpus();
  const bench::vaa_signer signer;
  std::fprintf(stderr, "signing %zu VAAs (13 signatures each)...\n", count + trickle);
  std::vector<std::vector<std::byte>> vaas;
  for (std::size_t i = 0; i < count + trickle; ++i) vaas.push_back(signer.sign(1000 + i));
  const message_store store(vaas);
  const std::vector<dp::message_desc> distinct(store.descs().begin(), store.descs().begin() + static_cast<std::ptrdiff_t>(count));

  const double raw = raw_recover_rate({vaas.begin(), vaas.begin() + 200}, 2.0);
  const double floor_vaas = raw / static_cast<double>(bench::vaa_signer::signatures);
  const stage_run one = run_stages(distinct, 1, signer.keys(), cores);
  const stage_run two = run_stages(distinct, 2, signer.keys(), cores);
  const double rate_one = static_cast<double>(one.passed) / one.seconds;
  const double rate_two = static_cast<double>(two.passed) / two.seconds;
  if (one.passed != count || two.passed != count) {
    std::fprintf(stderr, "verify stages passed %llu and %llu of %zu valid VAAs\n",
                 static_cast<unsigned long long>(one.passed), static_cast<unsigned long long>(two.passed), count);
    return 1;
  }
  std::printf("raw libsecp256k1 (parse + recover), 1 core: %.0f signatures/s = %.0f VAAs/s\n", raw, floor_vaas);
  std::printf("1 verify stage:  %zu VAAs in %.3f s = %.0f VAAs/s per verify core\n", count, one.seconds, rate_one);
  std::printf("2 verify stages: %zu VAAs in %.3f s = %.0f VAAs/s (%.0f per verify core, %zu cores)\n", count,
              two.seconds, rate_two, rate_two / 2, cores.size());

  // The flood: one VAA `flood` times, with a new VAA every flood/trickle copies, through one verify stage.
  std::vector<dp::message_desc> stream;
  const dp::message_desc& repeated = store.descs()[0];
  for (std::size_t i = 0; i < flood; ++i) {
    stream.push_back(repeated);
    if (i % (flood / trickle) == 0 && stream.size() < flood + trickle) {
      stream.push_back(store.descs()[count + (i / (flood / trickle)) % trickle]);
    }
  }
  const stage_run mixed = run_stages(stream, 1, signer.keys(), cores);
  const std::uint64_t new_ones = mixed.passed - 1;  // the first copy of the repeated VAA passes too
  const double ns_per_duplicate =
      (mixed.seconds - static_cast<double>(mixed.crypto) / rate_one) * 1e9 / static_cast<double>(mixed.duplicates);
  std::printf("flood: %zu messages (%llu duplicates of one VAA, %zu new) in %.3f s: %llu new passed of %zu, "
              "%llu duplicates dropped, signatures checked for %llu messages; ~%.0f ns a duplicate\n",
              stream.size(), static_cast<unsigned long long>(mixed.duplicates), trickle, mixed.seconds,
              static_cast<unsigned long long>(new_ones), trickle, static_cast<unsigned long long>(mixed.duplicates),
              static_cast<unsigned long long>(mixed.crypto), ns_per_duplicate);
  if (new_ones != trickle || mixed.crypto != trickle + 1) {
    std::fprintf(stderr, "the flood let through %llu of %zu new VAAs, or checked signatures for %llu messages\n",
                 static_cast<unsigned long long>(new_ones), trickle, static_cast<unsigned long long>(mixed.crypto));
    return 1;
  }
  std::printf("pipeline_verify_score=%.3f scaling_2_cores=%.2f\n", rate_one / floor_vaas, rate_two / rate_one);
  return 0;
}
