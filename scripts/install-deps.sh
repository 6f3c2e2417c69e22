#!/usr/bin/env bash
# Installs every Debian package that ferry's build, tests and benchmarks need, and nothing that is already there.
# Idempotent; run as root on Debian 12.  Usage: scripts/install-deps.sh [native] [aarch64] [armhf]
# (no argument: native and aarch64, which is what the README's two commands use).
set -euo pipefail

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(native aarch64)

native_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang libclang-rt-14-dev                            # the fuzz leg (libFuzzer) and its sanitizers
  dpdk dpdk-dev libdpdk-dev                           # the DPDK backend, dpdk-testpmd, rte_ring in the ring benchmark
  liburing-dev                                        # the io_uring backend
  iproute2                                            # network namespaces and tap addresses in the DPDK tests
  libconcurrentqueue-dev libreaderwriterqueue-dev     # moodycamel queues in the ring benchmark
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev # configuration, control API, command lines
  libsecp256k1-dev libsodium-dev libmbedtls-dev       # verification: ECDSA recovery, Ed25519, SHA-256 and HMAC
  libcrypto++-dev                                     # the reference Keccak-256 for tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev          # tests and benchmarks
  prometheus                                          # promtool, which lints the /metrics page in the tests
  qemu-user                                           # runs the cross-built tests
)
# The target's libraries for the cross builds (header-only ones come from the host). DPDK is left out:
# libdpdk-dev:arm64 cannot be installed beside the amd64 one (its rdma-core dependency is not multiarch), so cross
# builds go without the DPDK pieces.
cross_libs=(libtomlplusplus-dev liburing-dev libgtest-dev libgmock-dev libbenchmark-dev
            libsecp256k1-dev libsodium-dev libmbedtls-dev libcrypto++-dev)

want=()
foreign=()
for t in "${targets[@]}"; do
  case "$t" in
    native)  want+=("${native_pkgs[@]}") ;;
    aarch64) foreign+=(arm64); want+=(g++-aarch64-linux-gnu qemu-user "${cross_libs[@]/%/:arm64}") ;;
    armhf)   foreign+=(armhf); want+=(g++-arm-linux-gnueabihf qemu-user "${cross_libs[@]/%/:armhf}") ;;
    *) echo "install-deps: unknown target '$t' (expected native, aarch64 or armhf)" >&2; exit 2 ;;
  esac
done

# Present means installed for the architecture asked for: the name's ":arch", else the host's (or "all").
native_arch=$(dpkg --print-architecture)
present() {
  if [[ $1 == *:* ]]; then
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
  else
    dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null | grep -Eq "^install ok installed ($native_arch|all)$"
  fi
}
missing=()
for p in "${want[@]}"; do
  present "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything for ${targets[*]} is present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root to install them" >&2
  exit 1
fi

for arch in "${foreign[@]}"; do
  dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
done

export DEBIAN_FRONTEND=noninteractive
# A mirror in mid-sync makes `apt-get update` fail now and then; try a few times, then go on with the indices
# that did arrive (apt-get install below fails clearly if a package really cannot be found).
for attempt in 1 2 3 4 5; do
  if apt-get update -q; then break; fi
  echo "install-deps: apt-get update failed (attempt $attempt of 5)" >&2
  [ "$attempt" -lt 5 ] && sleep $((attempt * 5))
done
apt-get install -y -q --no-install-recommends "${missing[@]}"
# prometheus is here for promtool only (the metrics tests); its package enables and starts a Prometheus server on
# :9090. When this script installed it, that server is turned off again (an operator's own one is left alone).
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
  systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
echo "install-deps: installed ${#missing[@]} package(s) for ${targets[*]}"
