#!/usr/bin/env bash
# Builds the Release configuration's ferry-ring-bench, runs it, and prints the per-item cost of each queue next to
# its ratio to DPDK's rte_ring (SP/SC) for the same mode and burst, measured in the same run. Each figure is the
# median of the repetitions. The last line, ring_bulk32_ratio=X, is ferry's ns/item over rte_ring's, same thread,
# burst 32 (below 1: ferry is cheaper).
#
#   bench/ring.sh                        build (cmake --preset release) and run
#   bench/ring.sh --benchmark_filter=same_thread   extra arguments go to the benchmark
#   FERRY_RING_BENCH=/path/to/ferry-ring-bench bench/ring.sh   run an already built binary instead of building
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${FERRY_RING_BENCH:-}" ]]; then
  bench=$FERRY_RING_BENCH
else
  cmake --preset release >&2
  cmake --build --preset release --target ferry-ring-bench >&2
  bench=build/release/bench/ferry-ring-bench
fi

csv=$(mktemp -t ferry-ring-bench.XXXXXX)
trap 'rm -f "$csv"' EXIT

# Repetitions tame the noise of a shared machine; the console report goes to stderr as progress, the numbers are
# read from the CSV file.
"$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$csv" --benchmark_out_format=csv "$@" >&2

awk -F, '
  function unquote(s) { gsub(/"/, "", s); return s }
  !header && /^name,/ {
    header = 1
    for (i = 1; i <= NF; ++i) column[unquote($i)] = i
    if (!("ns_per_item" in column)) {
      print "ring.sh: no ns_per_item column in the benchmark output" > "/dev/stderr"
      bad = 1
      exit 2
    }
    next
  }
  !header { next }  # the run context Google Benchmark writes above the CSV header
  {
    name = unquote($1)
    # A benchmark that skipped itself (e.g. two_threads on one CPU) has no aggregates, only its error rows.
    failed = unquote($column["error_occurred"]) == "true"
    if (!failed && name !~ /_median$/) next
    sub(/_median$/, "", name)
    sub(/\/manual_time$/, "", name)
    split(name, part, "/")  # mode/queue/burst
    key = part[1] "/" part[3]
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
    row = part[2] SUBSEP key
    if (!(part[2] in queue_seen)) { queue_seen[part[2]] = 1; queues[++nqueues] = part[2] }
    if (failed) { skipped[row] = unquote($column["error_message"]); next }
    ns[row] = $column["ns_per_item"] + 0
  }
  END {
    if (bad) exit 2
    printf "%-20s %-12s %5s %10s %10s\n", "implementation", "mode", "burst", "ns/item", "vs rte_ring"
    for (k = 1; k <= nkeys; ++k) {
      split(keys[k], kp, "/")
      floor_row = "rte_ring" SUBSEP keys[k]
      for (q = 1; q <= nqueues; ++q) {
        row = queues[q] SUBSEP keys[k]
        if (row in skipped) {
          printf "%-20s %-12s %5s %10s %10s  (%s)\n", queues[q], kp[1], kp[2], "-", "-", skipped[row]
          continue
        }
        if (!(row in ns)) continue
        ratio = (floor_row in ns && ns[floor_row] > 0) ? sprintf("%.2f", ns[row] / ns[floor_row]) : "-"
        printf "%-20s %-12s %5s %10.3f %10s\n", queues[q], kp[1], kp[2], ns[row], ratio
      }
    }
    ferry = "ferry" SUBSEP "same_thread/32"
    floor_row = "rte_ring" SUBSEP "same_thread/32"
    if (ferry in ns && floor_row in ns && ns[floor_row] > 0) {
      printf "ring_bulk32_ratio=%.2f\n", ns[ferry] / ns[floor_row]
    } else {
      print "ring_bulk32_ratio=unavailable"
      print "ring.sh: no same-thread burst-32 figure for ferry and rte_ring (no DPDK, or filtered out)" > "/dev/stderr"
      exit 1
    }
  }
' "$csv"
