#!/usr/bin/env bash
# ferry under a flood from many peers, on loopback (all of 127/8 is loopback on Linux: each load generator plays a
# peer from its own address, ferry-loadgen --source). Two ferryds, one after the other, in one run:
#   capacity  ferryd takes FERRY_FLOOD_CAPACITY_COUNT (60000) valid Wormhole VAAs sent flat out by one load
#             generator, into a ring and buffers large enough to hold them all, so that its verify stage works
#             through a backlog. C is its forwarded (= verified: all valid, all routed) messages per second between
#             5% and 95% of them, from `ferryctl stats --json`.
#   flood     ferryd with peers honest-1..3 (127.0.0.11..13) at rate C/10 each, their configured share;
#             flood-1..4 (127.0.0.21..24) at C/20 each; "anyone" (addresses ["*"]) at C/20. The honest peers send
#             valid VAAs at FERRY_FLOOD_HONEST_LOAD (0.8) of their share for FERRY_FLOOD_SECONDS (10), one a
#             datagram, as guardians and relayers send them. From 2 s before them to 2 s after, five flooders
#             (127.0.0.21..24, and 127.0.0.31, which no peer lists: "anyone") send FERRY_FLOOD_FACTOR (10) x C
#             messages a second between them: FERRY_FLOOD_MIX (valid=50,forged=50), all distinct, so that what the
#             limits let through costs a signature check each (a repeat of a valid VAA would cost only a hash),
#             FERRY_FLOOD_MESSAGES_PER_FRAME (1) a datagram. Every load generator signs all it will send first
#             (10 x C x (seconds + 4) messages for the flood: most of the run's time), then they start together on
#             SIGUSR1 (ferry-loadgen --wait-for-signal). Each sends to a sink of its own (a route per Wormhole chain:
#             honest 11..13, flooders 21..25) and counts what reached it.
# Both ferryds: the built-in default's [verify] section (which trusts the demo keys the load generator signs with),
# socket backend, layout "staged" with every stage on the last CPU (cpu = N: one thread polls the io, verify and
# route stages in turn), at nice FERRY_FLOOD_NICE (-20, as root: on this shared machine the scheduler would
# otherwise move other jobs onto the router's core). The load generators run on the other CPUs, as in loopback.sh:
# the flood's senders (other machines, in life) take no CPU from the router but what the kernel spends delivering
# to its socket. C is then what one core verifies with the io and route stages beside it.
# The report (stderr; the last line, on stdout, sums it up):
#   - each honest peer's delivery ratio: valid messages its sink received over those it sent (target 1.0), and how
#     many of its messages its own limit dropped;
#   - each flooding peer's messages sent, received by ferryd, dropped by its limit;
#   - the flood's rate: what the flooders sent over C; in the middle of the flood, the datagrams ferryd read, those
#     the kernel dropped at its socket (`ss -m`), and the CPU ferryd used and waited for;
#   - ferryd's drops by reason during the flood, and whether rx == forwarded + sum(drops) held at the end (exit 1
#     if not); the ring to the verify stage's high-water mark;
#   - ferryd's VmRSS and VmHWM (/proc/<pid>/status) before the flood (after a warm-up), right after, and 5 s after;
#     and that ferryd is still running (exit 1 if not).
#
#   bench/flood.sh                                builds (cmake --preset release) and runs, in two to five minutes
#   FERRY_BUILD_DIR=build/release bench/flood.sh  uses binaries already built there
#   FERRY_FLOOD_CAPACITY=N                        skips the capacity run: C = N messages/s
#   FERRY_FLOOD_CPU (the last CPU), FERRY_FLOOD_LOADGEN_CPUS (the others), FERRY_FLOOD_NICE (-20): where things
#   run; e.g. FERRY_FLOOD_CPU='"none"' FERRY_FLOOD_NICE=0: ferryd's three stage threads unpinned, competing with the
#   load generators for both CPUs
#
# What a user would tune when an honest ratio is below 1.0, by what the report shows (FERRY_FLOOD_<NAME> sets the
# flood ferryd's field; the defaults are ferryd's own). The defaults' run in BENCHMARKS.md needed none of them.
#   - the kernel dropped datagrams at ferryd's socket: ferry never saw them, honest or not, so its limits could not
#     choose. Either the io stage lacked the CPU to read the flood (give ferryd its core, or more io_stages;
#     SOCKET_BUFFER (4194304) only absorbs bursts), or it lacked receive buffers: BUFFERS (1024) must exceed what
#     the rings hold (RING_SIZE x verify stages, plus the route ring), or else a verify stage that falls behind
#     holds every buffer in its ring, the io stage stops receiving, and the kernel drops the excess from every peer
#     alike instead of ferry dropping it as queue_full. (Stages unpinned at nice 0, one message a datagram: ferryd
#     read 11 k of 233 k datagrams/s with 1024 buffers; 240 k, nearly all, with BUFFERS=8192 RING_SIZE=4096.)
#   - queue_full: the verify stage had less than the admitted rate (the peers' rates add up to 0.55 C here): lower
#     peer rates (HONEST_SHARE, FLOOD_SHARE: fractions of C) or give the verify stage its core; a larger RING_SIZE
#     only rides out stalls.
#   - the honest peer's own rate_limited: its sender is burstier than its bucket: HONEST_BURST (ferryd: rate / 10).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

seconds=${FERRY_FLOOD_SECONDS:-10}
factor=${FERRY_FLOOD_FACTOR:-10}
flood_mix=${FERRY_FLOOD_MIX:-valid=50,forged=50}
honest_load=${FERRY_FLOOD_HONEST_LOAD:-0.8}
per_frame=${FERRY_FLOOD_MESSAGES_PER_FRAME:-1}
capacity_count=${FERRY_FLOOD_CAPACITY_COUNT:-60000}
ring_size=${FERRY_FLOOD_RING_SIZE:-1024}
buffers=${FERRY_FLOOD_BUFFERS:-1024}
socket_buffer=${FERRY_FLOOD_SOCKET_BUFFER:-4194304}
honest_share_of_c=${FERRY_FLOOD_HONEST_SHARE:-0.1}
flood_share_of_c=${FERRY_FLOOD_FLOOD_SHARE:-0.05}
honest_burst=${FERRY_FLOOD_HONEST_BURST:-}
ready_timeout=${FERRY_FLOOD_SIGN_TIMEOUT:-900}  # seconds the load generators may take to sign

bin=$(release_build_dir ferryd ferryctl ferry-loadgen)
ferryd=$bin/control/ferryd
ferryctl=$bin/control/ferryctl
loadgen=$bin/bench/ferry-loadgen

tmp=$(mktemp -d -t ferry-flood.XXXXXX)
loadgens=()  # the pids of the load generators now running
cleanup() {
  for pid in "${loadgens[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_router
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "flood.sh: $*" >&2; exit 1; }

# UDP ports nothing on this machine listens on now, all different: listen, then a sink per load generator.
ports=()
while [[ ${#ports[@]} -lt 10 ]]; do
  port=$((20000 + RANDOM % 40000))
  ss -Hlun 2>/dev/null | awk '{print $4}' | grep -q ":$port\$" && continue
  [[ " ${ports[*]} " == *" $port "* ]] && continue
  ports+=("$port")
done
listen=127.0.0.1:${ports[0]}

json_number() {  # field, json: the first "field":number in it (in `stats --json`, the whole router's)
  grep -o "\"$1\":[-0-9.e+]*" <<<"$2" | head -n 1 | cut -d: -f2
}
# A peer's counter from `ferryctl peers --json`: name, counter (rx, rate_limited), json.
peer_counter() {
  sed 's/{"name":/\n/g' <<<"$3" | grep "^\"$1\"" | sed -n "s/.*\"counters\":{[^}]*\"$2\":\([0-9]*\).*/\1/p"
}
# ferryd's totals from `ferryctl stats --json`: the first "drops" object is the whole router's.
drops_of() { grep -o '"drops":{[^}]*}' <<<"$1" | head -n 1 | sed 's/"drops":{//; s/}//; s/"//g' | tr ',' '\n'; }
stats() { "$ferryctl" --socket "$tmp/ferryd.sock" stats --json; }
# The kernel's count of datagrams it dropped at ferryd's socket (what `ss -m` shows as d): ferryd's rx_lost is the
# count stamped on the last datagram it received, so it misses drops after that one was queued.
kernel_drops() {
  ss -Huamn "sport = :${ports[0]}" 2>/dev/null | grep -o 'skmem:([^)]*)' | sed -n 's/.*,d\([0-9]*\)).*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }'
}
rss() { awk '/^VmRSS|^VmHWM/ { printf "%s %s kB  ", $1, $2 }' "/proc/$router/status"; }
# ferryd's CPU time (user + system), and its threads' time on a CPU and waiting for one, in seconds.
cpu_times() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f ", ($14 + $15) / hz }' "/proc/$router/stat"
  cat /proc/"$router"/task/*/schedstat |
    awk '{ ran += $1; waited += $2 } END { printf "%.3f %.3f\n", ran / 1e9, waited / 1e9 }'
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$router/status"; }

# The built-in default's [verify] section and key sets: the demo keys ferry-loadgen signs with.
verify_section=$("$ferryd" --print-default-config | sed -n '/^\[verify\]/,$p')
[[ -n "$verify_section" ]] || fail "no [verify] section in ferryd --print-default-config"

start_router() {  # config, log
  nice -n "$ferryd_nice" "$ferryd" --config "$1" >"$2" 2>&1 &
  router=$!
  wait_for_ferryd "$tmp/ferryd.sock" && return 0
  cat "$2" >&2
  fail "ferryd did not start"
}

dataplane() {  # ring_size, buffers, socket_buffer
  cat <<EOF
[control]
socket = "$tmp/ferryd.sock"

[dataplane]
backend = "socket"
listen = "$listen"
layout = "staged"
cpu = $ferryd_cpu
ring_size = $1
buffers = $2
socket_buffer = $3
EOF
}
route() {  # wormhole chain, sink port
  printf '\n[[routes]]\nname = "wormhole-%s"\nkind = "wormhole"\nsource = %s\ndestination = "*"\n' "$1" "$1"
  printf 'next_hop = "127.0.0.1:%s"\n' "$2"
}

cpus=$(nproc)
ferryd_cpu=${FERRY_FLOOD_CPU:-$((cpus - 1))}
loadgen_cpus=${FERRY_FLOOD_LOADGEN_CPUS:-$([[ $cpus -gt 1 ]] && echo "0-$((cpus - 2))" || echo 0)}
ferryd_nice=${FERRY_FLOOD_NICE:--20}
[[ $(id -u) -eq 0 ]] || ferryd_nice=0
echo "flood.sh: $cpus CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), kernel $(uname -r);" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >&2

# ---- Capacity: one load generator, valid VAAs flat out into a ring that holds them all.
if [[ -n "${FERRY_FLOOD_CAPACITY:-}" ]]; then
  capacity=$FERRY_FLOOD_CAPACITY
  echo "capacity: given, C = $capacity messages/s" >&2
else
  cap_ring=1
  while [[ $cap_ring -lt $capacity_count ]]; do cap_ring=$((cap_ring * 2)); done
  { dataplane "$cap_ring" $((capacity_count / 8 + 64)) 16777216
    route 2 "${ports[1]}"
    echo
    echo "$verify_section"; } >"$tmp/capacity.toml"
  start_router "$tmp/capacity.toml" "$tmp/ferryd-capacity.log"
  taskset -c "$loadgen_cpus" "$loadgen" --target "$listen" --sink "127.0.0.1:${ports[1]}" --mix valid=100 \
    --valid-flows wormhole:2:0 --rate 0 --count "$capacity_count" --messages-per-frame 8 --drain-ms 5000 --json \
    >"$tmp/capacity.json" 2>"$tmp/capacity.err" &
  loadgens=($!)
  # Forwarded (= verified: every message is valid and routed) sampled every 0.2 s; C over 5% to 95% of the count.
  t_a='' f_a='' t_b='' f_b=''
  deadline=$((SECONDS + 600))
  while [[ $SECONDS -lt $deadline ]]; do
    s=$(stats); t=$(date +%s.%N); f=$(json_number forwarded "$s")
    if [[ -z "$t_a" ]] && ((f * 20 >= capacity_count)); then t_a=$t f_a=$f; fi
    if [[ -n "$t_a" ]] && ((f * 20 >= capacity_count * 19)); then t_b=$t f_b=$f; break; fi
    if ! kill -0 "${loadgens[0]}" 2>/dev/null && [[ $f -eq 0 ]]; then
      cat "$tmp/capacity.err" >&2
      fail "capacity: ferry-loadgen failed"
    fi
    sleep 0.2
  done
  [[ -n "$t_b" ]] || fail "capacity: ferryd did not verify 95% of $capacity_count messages in time"
  wait "${loadgens[0]}" || { cat "$tmp/capacity.err" >&2; fail "capacity: ferry-loadgen failed"; }
  loadgens=()
  s=$(stats)
  capacity=$(awk -v a="$f_a" -v b="$f_b" -v s="$t_a" -v e="$t_b" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
  echo "capacity: $capacity_count valid VAAs flat out; ferryd verified and forwarded $(json_number forwarded "$s")" \
    "(dropped: $(drops_of "$s" | grep -v ':0$' | tr '\n' ' ')), $f_a to $f_b at C = $capacity messages/s;" \
    "the sink saw $(json_number delivery_rate "$(<"$tmp/capacity.json")") messages/s" >&2
  stop_router
fi
((capacity > 0)) || fail "capacity is 0"

# ---- The flood.
rate_of() { awk -v c="$capacity" -v f="$1" 'BEGIN { r = c * f; printf (r >= 10 ? "%.0f" : "%.2f"), r }'; }
honest_share=$(rate_of "$honest_share_of_c")
flood_share=$(rate_of "$flood_share_of_c")
honest_rate=$(rate_of "$(awk -v l="$honest_load" -v h="$honest_share_of_c" 'BEGIN { print l * h }')")
flooder_rate=$(rate_of "$(awk -v f="$factor" 'BEGIN { print f / 5 }')")
flood_seconds=$((seconds + 4))

honest_names=(honest-1 honest-2 honest-3)
honest_addresses=(127.0.0.11 127.0.0.12 127.0.0.13)
flood_names=(flood-1 flood-2 flood-3 flood-4 anyone)
flood_addresses=(127.0.0.21 127.0.0.22 127.0.0.23 127.0.0.24 127.0.0.31)
{ dataplane "$ring_size" "$buffers" "$socket_buffer"
  for i in 0 1 2; do
    printf '\n[[peers]]\nname = "%s"\naddresses = ["%s"]\nrate = %s\n' "${honest_names[$i]}" "${honest_addresses[$i]}" \
      "$honest_share"
    [[ -z "$honest_burst" ]] || echo "burst = $honest_burst"
  done
  for i in 0 1 2 3; do
    printf '\n[[peers]]\nname = "%s"\naddresses = ["%s"]\nrate = %s\n' "${flood_names[$i]}" "${flood_addresses[$i]}" \
      "$flood_share"
  done
  printf '\n[[peers]]\nname = "anyone"\naddresses = ["*"]\nrate = %s\n' "$flood_share"
  route 10 "${ports[2]}"  # the warm-up's chain
  for i in 0 1 2; do route $((11 + i)) "${ports[$((2 + i))]}"; done
  for i in 0 1 2 3 4; do route $((21 + i)) "${ports[$((5 + i))]}"; done
  echo
  echo "$verify_section"; } >"$tmp/flood.toml"
"$ferryd" --check-config "$tmp/flood.toml" >/dev/null || fail "the flood's configuration is refused (above)"
start_router "$tmp/flood.toml" "$tmp/ferryd-flood.log"
flood_pid=$router

drive() {  # name, source, chain, sink port, rate, seconds, mix, messages a datagram: a load generator on SIGUSR1
  taskset -c "$loadgen_cpus" "$loadgen" --wait-for-signal --source "$2" --target "$listen" --sink "127.0.0.1:$4" \
    --valid-flows "wormhole:$3:0" --rate "$5" --duration "$6" --mix "$7" --messages-per-frame "$8" --drain-ms 3000 \
    --json >"$tmp/$1.json" 2>"$tmp/$1.err" &
  loadgens+=($!)
}
wait_ready() {  # pid, name
  local deadline=$((SECONDS + ready_timeout))
  until grep -q 'ready' "$tmp/$2.err" 2>/dev/null; do
    kill -0 "$1" 2>/dev/null || { cat "$tmp/$2.err" >&2; fail "ferry-loadgen $2 failed"; }
    [[ $SECONDS -lt $deadline ]] || fail "ferry-loadgen $2 was not ready in ${ready_timeout} s"
    sleep 0.2
  done
}
wait_done() {  # pid, name, seconds
  local deadline=$((SECONDS + $3))
  while kill -0 "$1" 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || fail "ferry-loadgen $2 did not finish in $3 s"
    sleep 0.2
  done
  wait "$1" || { cat "$tmp/$2.err" >&2; fail "ferry-loadgen $2 failed"; }
}

# Warm-up: honest-1 alone at its rate for 2 s, so that the RSS before the flood is that of a ferryd in use. On a
# Wormhole chain of its own (10): each load generator numbers its channel's VAAs from 0, so on honest-1's chain the
# run's first 2 s of VAAs would be replays of the warm-up's (refused as `replay`, counted against honest-1).
drive warmup 127.0.0.11 10 "${ports[2]}" "$honest_rate" 2 valid=100 1
wait_ready "${loadgens[0]}" warmup
kill -USR1 "${loadgens[0]}"
wait_done "${loadgens[0]}" warmup 30
loadgens=()
[[ $(json_number delivered "$(<"$tmp/warmup.json")") -gt 0 ]] || fail "warm-up: nothing reached the sink"

echo "flood: C = $capacity/s; honest peers' share $honest_share/s each, sending $honest_rate/s for $seconds s;" \
  "flooding peers' share $flood_share/s each; 5 flooders at $flooder_rate/s each for $flood_seconds s" \
  "($flood_mix, $per_frame message(s) a datagram): signing $(awk -v r="$flooder_rate" -v s="$flood_seconds" \
  'BEGIN { printf "%.0f", 5 * r * s }') messages..." >&2
for i in 0 1 2 3 4; do
  drive "${flood_names[$i]}" "${flood_addresses[$i]}" $((21 + i)) "${ports[$((5 + i))]}" "$flooder_rate" \
    "$flood_seconds" "$flood_mix" "$per_frame"
done
for i in 0 1 2; do
  drive "${honest_names[$i]}" "${honest_addresses[$i]}" $((11 + i)) "${ports[$((2 + i))]}" "$honest_rate" \
    "$seconds" valid=100 1
done
names=("${flood_names[@]}" "${honest_names[@]}")
for i in "${!names[@]}"; do wait_ready "${loadgens[$i]}" "${names[$i]}"; done

sleep 1
rss_before=$(rss); rss_before_kib=$(rss_kib)
stats_before=$(stats); kernel_before=$(kernel_drops)
peers_before=$("$ferryctl" --socket "$tmp/ferryd.sock" peers --json)
echo "flood: all load generators signed; ferryd before the flood: $rss_before; load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" >&2

kill -USR1 "${loadgens[@]:0:5}"
sleep 2
kill -USR1 "${loadgens[@]:5:3}"
# The middle of the flood, every peer sending: from 1 s after the honest peers start to 1 s before they stop.
sleep 1
t0=$(date +%s.%N); mid0=$("$ferryctl" --socket "$tmp/ferryd.sock" peers --json); k0=$(kernel_drops); s0=$(stats)
c0=$(cpu_times)
sleep $((seconds - 2))
t1=$(date +%s.%N); mid1=$("$ferryctl" --socket "$tmp/ferryd.sock" peers --json); k1=$(kernel_drops); s1=$(stats)
c1=$(cpu_times)
for i in 0 1 2 3 4; do
  kill -0 "${loadgens[$i]}" 2>/dev/null || fail "${flood_names[$i]} stopped before the honest peers did"
done
for i in "${!names[@]}"; do wait_done "${loadgens[$i]}" "${names[$i]}" $((flood_seconds + 30)); done
loadgens=()
kill -0 "$flood_pid" 2>/dev/null || fail "ferryd is not running after the flood"
rss_after=$(rss); rss_after_kib=$(rss_kib)
sleep 5
kill -0 "$flood_pid" 2>/dev/null || fail "ferryd is not running 5 s after the flood"
rss_later=$(rss); rss_later_kib=$(rss_kib)
stats_after=$(stats); kernel_after=$(kernel_drops)
peers_after=$("$ferryctl" --socket "$tmp/ferryd.sock" peers --json)
status_after=$("$ferryctl" --socket "$tmp/ferryd.sock" status)

# The flood's rate: what the flooders sent (their own count: every sendmmsg the kernel took) over C; and, in the
# middle of the flood, what arrived at ferryd's socket (datagrams it read plus those the kernel dropped there) and
# how much CPU ferryd had.
window=$(awk -v s="$t0" -v e="$t1" 'BEGIN { printf "%.3f", e - s }')
per_second() { awk -v n="$1" -v w="$window" 'BEGIN { printf "%.0f", n / w }'; }
sum_of() { grep -o "\"$1\":[0-9]*" <<<"$2" | cut -d: -f2 | awk '{ n += $1 } END { print n + 0 }'; }
flood_rx=0
for name in "${flood_names[@]}"; do
  flood_rx=$((flood_rx + $(peer_counter "$name" rx "$mid1") - $(peer_counter "$name" rx "$mid0")))
done
read_datagrams=$(( $(sum_of rx_datagrams "$s1") - $(sum_of rx_datagrams "$s0") ))
lost=$((k1 - k0))
sent_rate=0 sent_datagram_rate=0
for name in "${flood_names[@]}"; do
  j=$(<"$tmp/$name.json")
  sent_rate=$(awk -v a="$sent_rate" -v b="$(json_number sent_per_second "$j")" 'BEGIN { print a + b }')
  sent_datagram_rate=$(awk -v a="$sent_datagram_rate" -v d="$(json_number datagrams "$j")" \
    -v s="$(json_number seconds "$j")" 'BEGIN { print a + d / s }')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
read -r cpu0 ran0 waited0 <<<"$c0"
read -r cpu1 ran1 waited1 <<<"$c1"

echo >&2
echo "flood: the flooders sent $(printf '%.0f' "$sent_rate") messages/s = $(ratio "$sent_rate" "$capacity") x C," \
  "in $(printf '%.0f' "$sent_datagram_rate") datagrams/s" >&2
echo "in the middle ${window} s: ferryd read $(per_second "$read_datagrams") datagrams/s" \
  "($(per_second "$flood_rx") messages/s from the flooding peers) and the kernel dropped $(per_second "$lost")/s" \
  "at its socket; ferryd used $(awk -v a="$cpu0" -v b="$cpu1" -v w="$window" 'BEGIN { printf "%.2f", (b - a) / w }')" \
  "CPUs (its threads ran $(awk -v a="$ran0" -v b="$ran1" -v w="$window" 'BEGIN { printf "%.2f", (b - a) / w }')" \
  "and waited for a CPU $(awk -v a="$waited0" -v b="$waited1" -v w="$window" 'BEGIN { printf "%.2f", (b - a) / w }')" \
  "s a second)" >&2
printf '%-9s %-11s %8s %8s %9s %7s %12s\n' peer address share sent delivered ratio rate_limited >&2
min_ratio=1
for i in 0 1 2; do
  j=$(<"$tmp/${honest_names[$i]}.json")
  sent=$(json_number valid "$j"); delivered=$(json_number delivered "$j")
  r=$(awk -v d="$delivered" -v s="$sent" 'BEGIN { printf "%.4f", s ? d / s : 0 }')
  min_ratio=$(awk -v a="$min_ratio" -v b="$r" 'BEGIN { print (b < a ? b : a) }')
  limited=$(( $(peer_counter "${honest_names[$i]}" rate_limited "$peers_after") -
              $(peer_counter "${honest_names[$i]}" rate_limited "$peers_before") ))
  printf '%-9s %-11s %8s %8s %9s %7s %12s\n' "${honest_names[$i]}" "${honest_addresses[$i]}" "$honest_share" "$sent" \
    "$delivered" "$r" "$limited" >&2
done
for i in 0 1 2 3 4; do
  j=$(<"$tmp/${flood_names[$i]}.json")
  rx=$(( $(peer_counter "${flood_names[$i]}" rx "$peers_after") -
          $(peer_counter "${flood_names[$i]}" rx "$peers_before") ))
  limited=$(( $(peer_counter "${flood_names[$i]}" rate_limited "$peers_after") -
              $(peer_counter "${flood_names[$i]}" rate_limited "$peers_before") ))
  printf '%-9s %-11s %8s %8s %9s %7s %12s   (ferryd received %s)\n' "${flood_names[$i]}" "${flood_addresses[$i]}" \
    "$flood_share" "$(json_number messages "$j")" "$(json_number delivered "$j")" - "$limited" "$rx" >&2
done

# Drops by reason over the flood (from before the flooders started to the end), and the invariant at the end.
echo "ferryd during the flood: received $(( $(json_number rx "$stats_after") - $(json_number rx "$stats_before") ))," \
  "forwarded $(( $(json_number forwarded "$stats_after") - $(json_number forwarded "$stats_before") ));" \
  "the kernel dropped $((kernel_after - kernel_before)) datagrams at its socket (ferryd's rx_lost says" \
  "$(( $(json_number rx_lost "$stats_after") - $(json_number rx_lost "$stats_before") ))); ferryd dropped:" >&2
paste -d' ' <(drops_of "$stats_before") <(drops_of "$stats_after") |
  awk -F'[: ]' '{ n = $4 - $2; if (n) printf "  %-20s %10d\n", $1, n }' >&2
rx=$(json_number rx "$stats_after"); forwarded=$(json_number forwarded "$stats_after")
dropped=$(drops_of "$stats_after" | awk -F: '{ n += $2 } END { print n + 0 }')
balanced=$([[ $((forwarded + dropped)) -eq $rx ]] && echo yes || echo no)
echo "accounting at the end: rx $rx, forwarded $forwarded + dropped $dropped = $((forwarded + dropped)):" \
  "balanced=$balanced" >&2
echo "rings to the verify stages, most descriptors waiting (of $ring_size):" \
  "$(sed 's/{"name":/\n/g' <<<"$stats_after" |
    sed -n 's/^"\(verify[0-9]*\)".*"ring_high_water":\([0-9]*\).*/\1 \2/p' | tr '\n' ' ')" >&2
echo "ferryd RSS: before the flood $rss_before" >&2
echo "            right after     $rss_after" >&2
echo "            5 s after       $rss_later" >&2
echo "ferryd (pid $flood_pid) is running: $(sed -n 's/.*"uptime_s": *\([0-9.]*\).*/up \1 s/p' <<<"$status_after")" >&2

flood_ratio=$(ratio "$sent_rate" "$capacity")
if awk -v r="$flood_ratio" -v f="$factor" 'BEGIN { exit !(r < 0.9 * f) }'; then
  echo "flood.sh: the flood reached $flood_ratio x C of the $factor asked: its senders were short of CPU" >&2
fi
echo "capacity=$capacity flood_over_capacity=$flood_ratio honest_delivery_min=$(printf '%.4f' "$min_ratio")" \
  "kernel_dropped=$((kernel_after - kernel_before)) rss_before_kib=$rss_before_kib rss_after_kib=$rss_after_kib" \
  "rss_5s_after_kib=$rss_later_kib balanced=$balanced"
[[ $balanced == yes ]] || fail "rx != forwarded + sum(drops)"
