#!/usr/bin/env bash
# ferry's forwarding path on loopback against the kernel's floor, in one run: the same ferry-loadgen load through
#   floor   ferry-udp-forwarder: recvmmsg, then sendmmsg of every datagram unchanged (no parsing)
#   socket  ferryd, backend = "socket" (recvmmsg/sendmmsg)
#   uring   ferryd, backend = "io_uring"
# each on one thread pinned to the last CPU (ferryd's layout "run-to-completion") with the load generator on the
# others, all polling "adaptive" (ferryd's default). An io_uring run that ferryd refuses, or that falls back to
# sockets, is reported as skipped with ferryd's reason, and the ratios that need it are n/a.
# The load is opaque-kind messages, which need no signature on either side, so that the figures are of moving
# messages, not of crypto. Each router gets two runs:
#   rate  --rate 0: as fast as the load generator sends; the figure is messages delivered per second up to the last
#         one's arrival (what the router forwarded, whatever the kernel dropped in front of it)
#   p99   a fixed rate it keeps up with; the figure is the 99th percentile latency, sender to sink
# The last line is the summary:
#   uring_over_socket_rate  io_uring's delivered rate over the socket backend's (above 1: io_uring is faster)
#   uring_over_socket_p99   io_uring's p99 over the socket backend's (below 1: io_uring is quicker)
#   ferry_p99_over_floor    the socket backend's p99 over the forwarder's: what ferry adds to the same kernel path
#                           (1.0: nothing)
#
#   bench/loopback.sh                                builds (cmake --preset release) and runs, in about a minute
#   FERRY_BUILD_DIR=/path/to/build bench/loopback.sh  uses binaries already built there instead of building
#   FERRY_LOOPBACK_COUNT (1000000), FERRY_LOOPBACK_RATE (20000 messages/s) and FERRY_LOOPBACK_SECONDS (5) size
#   the two runs; FERRY_LOOPBACK_MESSAGES_PER_FRAME (8) the frames.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

count=${FERRY_LOOPBACK_COUNT:-1000000}
rate=${FERRY_LOOPBACK_RATE:-20000}
seconds=${FERRY_LOOPBACK_SECONDS:-5}
per_frame=${FERRY_LOOPBACK_MESSAGES_PER_FRAME:-8}

bin=$(release_build_dir ferryd ferryctl ferry-loadgen ferry-udp-forwarder)
ferryd=$bin/control/ferryd
ferryctl=$bin/control/ferryctl
loadgen=$bin/bench/ferry-loadgen
forwarder=$bin/bench/ferry-udp-forwarder

tmp=$(mktemp -d -t ferry-loopback.XXXXXX)
loadgen_pid=  # the pid of the load generator now running, if any
trap '[[ -z "$loadgen_pid" ]] || kill -TERM "$loadgen_pid" 2>/dev/null || true; stop_router; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# A UDP port nothing on this machine listens on now.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Hlun 2>/dev/null | awk '{print $4}' | grep -q ":$port\$"; then
      echo "$port"
      return
    fi
  done
}
listen_port=$(free_port)
sink_port=$(free_port)
while [[ "$sink_port" == "$listen_port" ]]; do sink_port=$(free_port); done

cpus=$(nproc)
router_cpu=$((cpus - 1))
loadgen_cpus=$([ "$cpus" -gt 1 ] && echo "0-$((cpus - 2))" || echo 0)

# Waits (bounded) until something listens on the UDP port $1.
wait_bound() {
  for _ in $(seq 1 100); do
    ss -Hlun 2>/dev/null | awk '{print $4}' | grep -q ":$1\$" && return 0
    kill -0 "$router" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

write_config() {  # backend, path
  cat >"$2" <<EOF
[control]
socket = "$tmp/ferryd.sock"

[dataplane]
backend = "$1"
layout = "run-to-completion"
listen = "127.0.0.1:$listen_port"
cpu = $router_cpu
poll = "adaptive"

[[routes]]
name = "opaque-to-sink"
kind = "opaque"
source = "*"
destination = "*"
next_hop = "127.0.0.1:$sink_port"
EOF
}

json_number() {  # field, json: the first "field":number in it
  sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" <<<"$2" | head -n 1
}

# Runs the load generator against the router on listen_port; its JSON report goes to $tmp/report.json. In the
# background and waited for, so that a signal to this script stops it at once (the EXIT trap ends the run).
drive() {
  taskset -c "$loadgen_cpus" "$loadgen" --target "127.0.0.1:$listen_port" --sink "127.0.0.1:$sink_port" \
    --valid-flows opaque:7:8 --mix valid=100 --messages-per-frame "$per_frame" --json "$@" \
    >"$tmp/report.json" 2>"$tmp/loadgen.err" &
  loadgen_pid=$!
  if ! wait "$loadgen_pid"; then
    loadgen_pid=
    cat "$tmp/loadgen.err" >&2
    echo "loopback: ferry-loadgen $* failed" >&2
    return 1
  fi
  loadgen_pid=
}

declare -A rate_of p99_of
measure() {  # name, description
  local name=$1 what=$2 fast steady
  drive --rate 0 --count "$count" --drain-ms 300
  fast=$(<"$tmp/report.json")
  drive --rate "$rate" --duration "$seconds"
  steady=$(<"$tmp/report.json")
  rate_of[$name]=$(json_number delivery_rate "$fast")
  p99_of[$name]=$(json_number p99 "$steady")
  printf '%-7s %-36s %10.0f msg/s   p50 %7.1f us   p99 %7.1f us   p99.9 %7.1f us   (%s of %s delivered)\n' \
    "$name" "$what" "${rate_of[$name]}" "$(json_number p50 "$steady")" "${p99_of[$name]}" \
    "$(json_number p999 "$steady")" "$(json_number delivered "$steady")" \
    "$(sed -n 's/.*"valid":\([0-9]*\).*/\1/p' <<<"$steady")"
}

echo "loopback: 127.0.0.1:$listen_port -> 127.0.0.1:$sink_port, router on CPU $router_cpu, load generator on" \
  "$loadgen_cpus; rate: $count messages flat out, p99: $rate/s for $seconds s, $per_frame messages a frame" >&2

"$forwarder" --listen "127.0.0.1:$listen_port" --to "127.0.0.1:$sink_port" --cpu "$router_cpu" \
  >"$tmp/forwarder.log" 2>&1 &
router=$!
wait_bound "$listen_port" || { cat "$tmp/forwarder.log" >&2; echo "loopback: the forwarder did not start" >&2; exit 1; }
measure floor "ferry-udp-forwarder (recvmmsg/sendmmsg)"
stop_router

run_ferryd() {  # backend, name, description
  local config=$tmp/ferryd-$1.toml
  write_config "$1" "$config"
  if ! "$ferryd" --check-config "$config" >"$tmp/check.log" 2>&1; then
    printf '%-7s %-36s skipped: %s\n' "$2" "$3" "$(sed "s|^$config:||" "$tmp/check.log" | head -n 1)"
    return 0
  fi
  "$ferryd" --config "$config" >"$tmp/ferryd-$1.log" 2>&1 &
  router=$!
  local status running
  if ! wait_for_ferryd "$tmp/ferryd.sock" || ! status=$("$ferryctl" --socket "$tmp/ferryd.sock" status 2>&1); then
    cat "$tmp/ferryd-$1.log" >&2
    echo "loopback: ferryd ($1) did not start" >&2
    exit 1
  fi
  running=$(sed -n 's/.*"backend": *"\([^"]*\)".*/\1/p' <<<"$status" | head -n 1)
  if [[ "$running" != "$1" ]]; then
    printf '%-7s %-36s skipped: ferryd fell back to %s: %s\n' "$2" "$3" "$running" \
      "$(grep -m 1 -i "$1" "$tmp/ferryd-$1.log" || true)"
    stop_router
    return 0
  fi
  measure "$2" "$3"
  stop_router
}
run_ferryd socket socket 'ferryd, backend = "socket"'
run_ferryd io_uring uring 'ferryd, backend = "io_uring"'

ratio() {  # a, b: a / b with two decimals, or n/a when either is missing or b is 0
  awk -v a="${1:-}" -v b="${2:-}" \
    'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'
}
echo "uring_over_socket_rate=$(ratio "${rate_of[uring]:-}" "${rate_of[socket]:-}")" \
  "uring_over_socket_p99=$(ratio "${p99_of[uring]:-}" "${p99_of[socket]:-}")" \
  "ferry_p99_over_floor=$(ratio "${p99_of[socket]:-}" "${p99_of[floor]:-}")"
