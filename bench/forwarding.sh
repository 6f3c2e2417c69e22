#!/usr/bin/env bash
# The forwarding score: ferry forwarding already-verified frames (marked verified upstream, from a trusted upstream
# address: no crypto) on one core, over dpdk-testpmd --forward-mode=io on one forwarding core, both reading the same
# frames from DPDK's net_pcap device with infinite_rx=1 (and writing to /dev/null), one after the other in the same
# run. Both are counted in Ethernet packets (ferry frames) taken in and forwarded per second, over a window of
# each run: for ferry, frames received while every message received was forwarded (it checks there were no
# drops). ferry regroups the messages of a burst per next hop, so it sends fewer, fuller frames than it receives.
#   forwarding_score  ferry's frames forwarded per second over testpmd's (1.0: ferry as fast as DPDK's own
#                     forwarder, which parses nothing). Target: at least 0.5.
# ferry does more per packet than testpmd: Ethernet/IP/UDP parse and checks, the frame and each message parsed,
# each message routed, a new frame built per next hop with fresh headers and checksums.
#
#   bench/forwarding.sh                 build (cmake --preset release) and run, 10 s each
#   FERRY_FORWARD_SECONDS=20 bench/forwarding.sh
#   FERRY_FORWARD_MESSAGES_PER_FRAME=8 bench/forwarding.sh   up to 8 messages a frame (default 1: a message a packet,
#                                                          as guardians and relayers send them), up to 1472 bytes
#   FERRY_FORWARD_LINK_MAC=blake2b bench/forwarding.sh   the upstream's link key tags with keyed BLAKE2b (default
#                                                          hmac-sha256; chacha20-poly1305 encrypts the frames)
#   FERRY_BUILD_DIR=build/release bench/forwarding.sh     use binaries already built there
#   FERRY_FORWARD_RELOAD_MS=50 bench/forwarding.sh       also measure ferry (same process, right after) while
#                                                          `ferryctl reload` runs every 50 ms: reload_rate_ratio is
#                                                          that rate over the rate without reloads (target >= 0.95)
# Needs root (DPDK); no NIC and no hugepages (--no-huge --no-pci).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

seconds=${FERRY_FORWARD_SECONDS:-10}
reload_ms=${FERRY_FORWARD_RELOAD_MS:-}
per_frame=${FERRY_FORWARD_MESSAGES_PER_FRAME:-1}
link_mac=${FERRY_FORWARD_LINK_MAC:-hmac-sha256}
build=$(release_build_dir ferryd ferryctl ferry-loadgen)
command -v dpdk-testpmd >/dev/null || { echo "forwarding.sh: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }

work=$(mktemp -d -t ferry-forwarding.XXXXXX)
ferryd_pid=""
cleanup() {
  [[ -n "$ferryd_pid" ]] && kill -INT "$ferryd_pid" 2>/dev/null && wait "$ferryd_pid" 2>/dev/null || true
  rm -rf "$work" /var/run/dpdk/ferry-fwd-$$ /var/run/dpdk/testpmd-fwd-$$
}
trap cleanup EXIT

# Forwarding cores: the last allowed core for the forwarder, the first for testpmd's main lcore.
cores=($(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' | while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done))
fwd=${cores[-1]}
main=${cores[0]}
[[ "$fwd" != "$main" ]] || { echo "forwarding.sh: needs two cores (testpmd's main lcore and a forwarding one)" >&2; exit 1; }

# The frames: opaque and quorum messages (the pcap is read again and again, and the kinds a protocol numbers would be
# replays after its first pass: dropped as `replay`, not forwarded), $per_frame messages a frame at most, marked
# verified upstream and authenticated with the link key ferry shares with that upstream, from 10.0.0.1 to ferry at
# 10.0.0.2.
pcap=$work/frames.pcap
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/upstream.key"
chmod 0600 "$work/upstream.key"
"$build/bench/ferry-loadgen" --write-pcap "$pcap" --verified-upstream --link-key "$work/upstream.key" --key-id 1 \
  --link-mac "$link_mac" \
  --count 4096 --mix valid=100 --valid-flows opaque:7:8,opaque:1:2,quorum:5:6 \
  --messages-per-frame "$per_frame" \
  --target 10.0.0.2:7700 --pcap-source 10.0.0.1:7000 --pcap-destination-mac 02:00:00:00:00:02 >&2

cat > "$work/ferry.toml" <<TOML
[control]
socket = "$work/ferryd.sock"

[dataplane]
backend = "dpdk"
listen = "10.0.0.2:7700"
layout = "run-to-completion"
cpu = $fwd
poll = "busy"

[dataplane.dpdk]
eal_args = ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix=ferry-fwd-$$", "-l", "$fwd",
            "--vdev=net_pcap0,rx_pcap=$pcap,infinite_rx=1,tx_pcap=/dev/null"]
next_hop_mac = "02:00:00:00:00:03"

[[peers]]
name = "upstream"
addresses = ["10.0.0.1"]
trust = "verified-upstream"
[[peers.link_keys]]
id = 1
file = "$work/upstream.key"
mac = "$link_mac"

[[routes]]
name = "everything"
kind = "*"
source = "*"
destination = "*"
next_hop = "10.0.0.3:7701"
TOML

# ferry: frames received (rx_datagrams) between two readings, after a second of warm-up, all forwarded.
"$build/control/ferryd" --config "$work/ferry.toml" >"$work/ferryd.out" 2>"$work/ferryd.err" &
ferryd_pid=$!
for _ in $(seq 100); do
  "$build/control/ferryctl" --socket "$work/ferryd.sock" status >/dev/null 2>&1 && break
  sleep 0.1
done
grep -q '(dpdk backend)' "$work/ferryd.err" || { echo "forwarding.sh: ferryd did not run on DPDK:" >&2; cat "$work/ferryd.err" >&2; exit 1; }
sleep 1
read_rx() {
  "$build/control/ferryctl" --socket "$work/ferryd.sock" stats --json |
    sed 's/.*"rx_datagrams":\([0-9]*\).*/\1/'
}
t0=$(date +%s.%N); f0=$(read_rx)
sleep "$seconds"
t1=$(date +%s.%N); f1=$(read_rx)
ferry_pps=$(awk -v a="$f0" -v b="$f1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
echo "ferry (1 core, run to completion, DPDK net_pcap): $ferry_pps frames/s forwarded" >&2
if [[ -n "$reload_ms" ]]; then
  # The same ferryd, at once: a reload (file read, checked, snapshot built and published, the old one reclaimed)
  # every $reload_ms ms from another core, while the data plane forwards.
  ( n=0; while :; do
      "$build/control/ferryctl" --socket "$work/ferryd.sock" reload >/dev/null || { echo failed >"$work/reload.failed"; }
      n=$((n + 1)); echo "$n" >"$work/reloads"
      sleep "$(awk -v ms="$reload_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    done ) &
  reloader=$!
  sleep 1
  t2=$(date +%s.%N); f2=$(read_rx); r2=$(cat "$work/reloads")
  sleep "$seconds"
  t3=$(date +%s.%N); f3=$(read_rx); r3=$(cat "$work/reloads")
  kill "$reloader"; wait "$reloader" 2>/dev/null || true
  [[ ! -e "$work/reload.failed" ]] || { echo "forwarding.sh: a reload failed" >&2; exit 1; }
  reload_pps=$(awk -v a="$f2" -v b="$f3" -v s="$t2" -v e="$t3" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
  reload_every=$(awk -v n=$((r3 - r2)) -v s="$t2" -v e="$t3" 'BEGIN { printf "%.1f", n ? (e - s) * 1000 / n : 0 }')
  echo "ferry with a reload every ${reload_ms} ms ($((r3 - r2)) reloads, one every $reload_every ms measured): $reload_pps frames/s forwarded" >&2
fi
stats=$("$build/control/ferryctl" --socket "$work/ferryd.sock" stats)
if ! grep -q '^  dropped  *0$' <<<"$stats"; then
  echo "forwarding.sh: ferryd dropped messages; the rate would not be a forwarding rate:" >&2; echo "$stats" >&2; exit 1
fi
kill -INT "$ferryd_pid"; wait "$ferryd_pid" || true; ferryd_pid=""
echo "$stats" >&2

# testpmd: io forwarding on one lcore; the average of its per-second Tx-pps after the first two readings.
timeout --preserve-status -s INT $((seconds + 5)) dpdk-testpmd --no-huge -m 512 --no-pci --no-telemetry \
  --file-prefix=testpmd-fwd-$$ -l "$main,$fwd" \
  --vdev="net_pcap0,rx_pcap=$pcap,infinite_rx=1,tx_pcap=/dev/null" \
  -- --forward-mode=io --stats-period 1 --total-num-mbufs=16384 </dev/null >"$work/testpmd.log" 2>&1 || true
testpmd_pps=$(awk '/Tx-pps:/ { n++; if (n > 2) { sum += $2; k++ } } END { if (k) printf "%.0f", sum / k; else print 0 }' \
  "$work/testpmd.log")
if [[ "$testpmd_pps" == 0 ]]; then
  echo "forwarding.sh: no rate from testpmd:" >&2; tail -20 "$work/testpmd.log" >&2; exit 1
fi
echo "dpdk-testpmd --forward-mode=io (1 forwarding core, same device and frames): $testpmd_pps packets/s" >&2
awk -v f="$ferry_pps" -v t="$testpmd_pps" 'BEGIN { printf "forwarding_score=%.2f\n", f / t }'
if [[ -n "$reload_ms" ]]; then
  awk -v r="$reload_pps" -v f="$ferry_pps" 'BEGIN { printf "reload_rate_ratio=%.3f\n", r / f }'
fi
