#!/usr/bin/env bash
# ferry's main job on its built-in default: installs what is missing, builds the release configuration, starts
# ferryd on loopback, drives it with ferry-loadgen for a few seconds, and prints what happened: the load generator's
# report (delivered rate, latency percentiles, and ferryd's drops by reason read from its control socket), then
# `ferryctl stats` and ferryd's own summary.
#   FERRY_DEMO_SECONDS (default 5) and FERRY_DEMO_RATE (messages per second, default 5000) tune the run; the load
#   generator signs its rate x seconds messages before it starts (it says how long that took).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh native
cmake --preset release >/dev/null
cmake --build --preset release --target ferryd ferryctl ferry-loadgen
bin=build/release

socket=/run/ferry/ferryd.sock  # the built-in configuration's control socket
log=$(mktemp -t ferryd-demo.XXXXXX)
"$bin/control/ferryd" >"$log" 2>&1 &
ferryd=$!
trap 'kill -9 "$ferryd" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  "$bin/control/ferryctl" --socket "$socket" status >/dev/null 2>&1 && break
  kill -0 "$ferryd" 2>/dev/null || { cat "$log"; echo "demo: ferryd did not start" >&2; exit 1; }
  sleep 0.1
done

# ferryd pins its pipeline to the last CPU; keep the load generator off it, so that neither waits for the other
# to be descheduled.
cpus=$(nproc)
loadgen_cpus=$([ "$cpus" -gt 1 ] && echo "0-$((cpus - 2))" || echo 0)

# Exact repeats of valid messages too, once this ferryd drops them as `duplicate` (a reason it then counts).
mix=valid=85,unroutable=5,malformed=5,forged=5
if "$bin/control/ferryctl" --socket "$socket" stats --json | grep -q '"duplicate"'; then
  mix=valid=85,duplicate=5,unroutable=5,malformed=5,forged=5
fi

echo
echo "== ferry-loadgen -> ferryd (127.0.0.1:7700) -> next hop (127.0.0.1:7701), ${FERRY_DEMO_SECONDS:-5} s =="
taskset -c "$loadgen_cpus" "$bin/bench/ferry-loadgen" --duration "${FERRY_DEMO_SECONDS:-5}" \
  --rate "${FERRY_DEMO_RATE:-5000}" --mix "$mix" --control-socket "$socket"
echo
echo "== ferryctl stats =="
"$bin/control/ferryctl" --socket "$socket" stats
echo
echo "== ferryd =="
kill -INT "$ferryd"
wait "$ferryd" || true
cat "$log"
