# Helpers shared by the bench scripts that run ferry's programs. Each script sources this file after changing to
# the repository's top directory (cd "$(dirname "$0")/.."), from where the paths below are taken.

# The build directory whose programs to run: $FERRY_BUILD_DIR when set, else build/release once the targets named
# are built there (cmake --preset release, its output to stderr). Used as bin=$(release_build_dir TARGET...); the
# steps are chained with && because set -e does not stop a command substitution at a failure.
release_build_dir() {
  if [[ -n "${FERRY_BUILD_DIR:-}" ]]; then
    echo "$FERRY_BUILD_DIR"
  else
    cmake --preset release >&2 && cmake --build --preset release --target "$@" >&2 && echo build/release
  fi
}

router=  # the pid of the router now running (ferryd, or a forwarder to compare it with), if any

# Stops the router now running, if any: SIGINT, SIGKILL when it is still there 5 s later; then reaps it.
stop_router() {
  [[ -n "$router" ]] || return 0
  kill -INT "$router" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$router" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$router" 2>/dev/null || true
  wait "$router" 2>/dev/null || true
  router=
}

# Waits (10 s at most) until the router, a ferryd, answers `$ferryctl status` on the control socket $1; fails when
# it exits first or does not answer in time.
wait_for_ferryd() {  # control socket
  for _ in $(seq 1 100); do
    "$ferryctl" --socket "$1" status >/dev/null 2>&1 && return 0
    kill -0 "$router" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
