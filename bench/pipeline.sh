#!/usr/bin/env bash
# Verification in the pipeline, against its floor in the same run (bench/pipeline_bench.cpp):
#   pipeline_verify_score  13-signature VAAs per second through one verify stage (its rings, descriptors, cache and
#                          all), over libsecp256k1's raw parse + recover rate / 13 on one core (1.0: the stage adds
#                          nothing to the crypto).
#   scaling_2_cores        VAAs per second through two verify stages (messages sharded by their bytes, as io stages
#                          shard them, each stage pinned to its own core) over one.
# It also floods one verify stage with copies of one VAA and a trickle of new ones, and fails unless every new one
# passes and signatures were checked once per distinct VAA (duplicates cost a hash and a lookup, no crypto).
# Run it on an otherwise idle machine: the two-stage figure needs both cores.
#
#   bench/pipeline.sh                      build (cmake --preset release) and run
#   bench/pipeline.sh --vaas 4000          extra arguments go to ferry-pipeline-bench (--vaas, --flood, --trickle)
#   FERRY_PIPELINE_BENCH=/path/to/ferry-pipeline-bench bench/pipeline.sh   run an already built binary
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${FERRY_PIPELINE_BENCH:-}" ]]; then
  bench=$FERRY_PIPELINE_BENCH
else
  cmake --preset release >&2
  cmake --build --preset release --target ferry-pipeline-bench >&2
  bench=build/release/bench/ferry-pipeline-bench
fi

"$bench" "$@"
