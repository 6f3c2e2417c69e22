#!/usr/bin/env bash
# Builds the Release configuration's ferry-verify-bench, runs it once, and prints each of verify/'s figures next to
# its ratio to the floor measured in the same run (bench/verify_bench.cpp names the floors). Each figure is the
# median of the repetitions, which are interleaved at random so that a burst of load elsewhere on the machine falls
# on ferry and its floor alike. The last line is the summary:
#   verify_score   13-signature VAAs verified per second by ferry's verifier (no cache), times 13, over
#                  libsecp256k1's raw recoveries per second of the same signatures (1.0: ferry adds nothing).
#   cache_hit_cost the time of a verification the cache answers over the time of a full one (below 0.01: a hit
#                  costs under 1% of the crypto it saves).
#   keccak_ratio   ferry's keccak256() throughput over Crypto++'s Keccak_256, as the geometric mean of the ratios
#                  at 32 B, 256 B and 4 KiB (above 1: ferry is faster). The geometric mean, not the minimum, so
#                  that no one size decides it; the table shows each size, and the minimum is printed above.
# The table also gives the parse cost of each kind in ns a message (instructions: see BENCHMARKS.md), and
# link tags (ferry's HMAC-SHA-256 and keyed BLAKE2b) over frames of 64, 200 and 1472 bytes against mbedTLS's one-call
# HMAC and SHA-256 alone.
#
#   bench/verify.sh                        build (cmake --preset release) and run
#   bench/verify.sh --benchmark_filter=keccak      extra arguments go to the benchmark
#   FERRY_VERIFY_BENCH=/path/to/ferry-verify-bench bench/verify.sh   run an already built binary instead of building
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${FERRY_VERIFY_BENCH:-}" ]]; then
  bench=$FERRY_VERIFY_BENCH
else
  cmake --preset release >&2
  cmake --build --preset release --target ferry-verify-bench >&2
  bench=build/release/bench/ferry-verify-bench
fi

csv=$(mktemp -t ferry-verify-bench.XXXXXX)
trap 'rm -f "$csv"' EXIT

# The console report goes to stderr as progress, the numbers are read from the CSV file.
"$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$csv" --benchmark_out_format=csv "$@" >&2

awk -F, '
  function unquote(s) { gsub(/"/, "", s); return s }
  BEGIN {
    # Per topic: the implementation that is the floor, and the counter compared (higher is better for all so far).
    floor_of["keccak"] = "cryptopp"; counter_of["keccak"] = "bytes_per_second"
    floor_of["verify"] = "secp256k1"; counter_of["verify"] = "items_per_second"
    floor_of["cache"] = "hit"; counter_of["cache"] = "items_per_second"
    floor_of["parse"] = "none"; counter_of["parse"] = "items_per_second"
    floor_of["mac"] = "mbedtls"; counter_of["mac"] = "bytes_per_second"
  }
  !header && /^name,/ {
    header = 1
    for (i = 1; i <= NF; ++i) column[unquote($i)] = i
    next
  }
  !header { next }  # the run context Google Benchmark writes above the CSV header
  {
    name = unquote($1)
    failed = ("error_occurred" in column) && unquote($column["error_occurred"]) == "true"
    if (!failed && name !~ /_median$/) next
    sub(/_median$/, "", name)
    # BM_<topic>_<implementation>/<argument>
    if (!match(name, /^BM_[a-z0-9]+_/)) next
    topic = substr(name, 4, RLENGTH - 4)
    rest = substr(name, RLENGTH + 1)
    slash = index(rest, "/")
    impl = slash ? substr(rest, 1, slash - 1) : rest
    arg = slash ? substr(rest, slash + 1) : "-"
    if (!(topic in floor_of)) next
    key = topic SUBSEP impl SUBSEP arg
    if (!(key in seen)) {
      seen[key] = 1
      # Sorted by topic, then argument, the floor first: the repetitions ran in random order.
      order = sprintf("%s %012d %d %s", topic, arg + 0, impl != floor_of[topic], impl)
      for (j = ++nkeys; j > 1 && sort_key[j - 1] > order; --j) { keys[j] = keys[j - 1]; sort_key[j] = sort_key[j - 1] }
      keys[j] = key
      sort_key[j] = order
    }
    if (failed) { skipped[key] = unquote($column["error_message"]); next }
    c = counter_of[topic]
    if (!(c in column)) {
      print "verify.sh: no " c " column in the benchmark output" > "/dev/stderr"
      bad = 1
      exit 2
    }
    value[key] = $column[c] + 0
  }
  END {
    if (bad) exit 2
    printf "%-8s %-16s %8s %16s %9s\n", "topic", "implementation", "argument", "figure", "vs floor"
    for (k = 1; k <= nkeys; ++k) {
      split(keys[k], part, SUBSEP)
      if (keys[k] in skipped) {
        printf "%-8s %-16s %8s %16s %9s  (%s)\n", part[1], part[2], part[3], "-", "-", skipped[keys[k]]
        continue
      }
      floor_key = part[1] SUBSEP floor_of[part[1]] SUBSEP part[3]
      ratio = (floor_key in value && value[floor_key] > 0) ? value[keys[k]] / value[floor_key] : -1
      if (counter_of[part[1]] == "bytes_per_second") {
        figure = sprintf("%11.1f MB/s", value[keys[k]] / 1e6)
      } else if (part[1] == "parse") {
        figure = sprintf("%11.1f ns/msg", value[keys[k]] > 0 ? 1e9 / value[keys[k]] : 0)
      } else {
        figure = sprintf("%13.0f /s", value[keys[k]])
      }
      printf "%-8s %-16s %8s %16s %9s\n", part[1], part[2], part[3], figure, ratio < 0 ? "-" : sprintf("%.4f", ratio)
      if (part[1] == "verify" && part[2] == "ferry" && ratio > 0) verify_ratio = ratio
      if (part[1] == "cache" && part[2] == "miss" && ratio > 0) cache_ratio = ratio
      if (part[1] == "keccak" && part[2] == "ferry" && ratio > 0) {
        log_sum += log(ratio)
        ++n_keccak
        if (min_keccak == "" || ratio < min_keccak) min_keccak = ratio
      }
    }

    # keccak_ratio: ferry over Crypto++ at all three sizes, or nothing.
    if (n_keccak == 3) {
      keccak = sprintf("keccak_ratio=%.2f", exp(log_sum / n_keccak))
      printf "keccak: minimum ratio over the sizes %.2f\n", min_keccak
    } else {
      print "verify.sh: no keccak figure at all three sizes for both ferry and Crypto++ (filtered out?)" > "/dev/stderr"
      keccak = "keccak_ratio=unavailable"
      status = 1
    }

    if (verify_ratio == "") {
      print "verify.sh: no verify figure for both ferry and libsecp256k1 (filtered out?)" > "/dev/stderr"
      verify = "verify_score=unavailable"
      status = 1
    } else {
      verify = sprintf("verify_score=%.3f", verify_ratio)
    }
    # miss over hit, both in messages per second, is the time of a hit over the time of a full verification
    if (cache_ratio == "") {
      print "verify.sh: no cache figure for both hit and miss (filtered out?)" > "/dev/stderr"
      cache = "cache_hit_cost=unavailable"
      status = 1
    } else {
      cache = sprintf("cache_hit_cost=%.4f", cache_ratio)
    }

    # ---- summary line ----
    print verify " " cache " " keccak
    exit status
  }
' "$csv"
