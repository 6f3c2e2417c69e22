#!/usr/bin/env bash
# Every test leg, as CI runs it: installs what is missing, then for each leg configures, builds and runs its tests.
#   dev      native, debug, warnings as errors: every test (fast, stress, e2e)
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer: every test
#   tsan     ThreadSanitizer: every test (the stress tests are the ones written for it)
#   aarch64  cross-built, every test under qemu-aarch64
#   fuzz     clang + libFuzzer: each fuzz target for a bounded number of runs over its seed corpus
# Usage: scripts/test-all.sh [leg ...]   (default: all of them, in that order)
set -euo pipefail
cd "$(dirname "$0")/.."

legs=("$@")
[ ${#legs[@]} -gt 0 ] || legs=(dev asan tsan aarch64 fuzz)

scripts/install-deps.sh native aarch64

jobs=$(nproc)
summary=()
for leg in "${legs[@]}"; do
  echo "== $leg =="
  start=$(date +%s)
  cmake --preset "$leg" >/dev/null
  cmake --build --preset "$leg" -j "$jobs"
  ctest --preset "$leg" -j "$jobs"
  tests=$(ctest --preset "$leg" -N | sed -n 's/^Total Tests: //p')
  summary+=("$leg: $tests tests passed in $(( $(date +%s) - start )) s")
done

echo "== all legs passed =="
printf '  %s\n' "${summary[@]}"
