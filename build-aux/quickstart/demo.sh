# quickstart demo: the local API mirror started for the tour of fanout-demo's topics, or
# fanout-demo run with the given arguments. Sourced by ./quickstart.
# shellcheck shell=bash

mirror_pid=""
mirror_tmp=""
stop_mirror() {
  if [ -n "$mirror_pid" ]; then
    kill "$mirror_pid" 2>/dev/null || true
    wait "$mirror_pid" 2>/dev/null || true
  fi
  [ -z "$mirror_tmp" ] || rm -rf "$mirror_tmp"
  mirror_pid=""
  mirror_tmp=""
}

cmd_demo() {
  configure_build demo "$build"
  local demo=$build/fanout-demo
  if [ "$#" -gt 0 ]; then
    exec "$demo" "$@"
  fi
  # With no arguments: the demo's topics, one after another, the network part against the local
  # API mirror so it runs the same with no internet.
  "$demo" --version
  make -C "$build" -s tests/mirror/fo-mirror >"$build/quickstart-make.log" ||
    die "building the local API mirror failed (see $build/quickstart-make.log)"
  mirror_tmp=$(mktemp -d "${TMPDIR:-/tmp}/fanout-demo.XXXXXX")
  trap stop_mirror EXIT
  # A real API answers in 100 to 200 ms; the mirror waits 150 ms before each answer.
  "$build/tests/mirror/fo-mirror" --port 0 --port-file "$mirror_tmp/port" --latency-ms 150 \
    --idle-exit 30 >/dev/null &
  mirror_pid=$!
  local i=0
  until grep -qs '^[0-9][0-9]*$' "$mirror_tmp/port"; do
    i=$((i + 1))
    [ "$i" -le 100 ] || die "the local API mirror did not start"
    sleep 0.1
  done
  local api
  api="http://127.0.0.1:$(cat "$mirror_tmp/port")/v4"
  log "fanout-demo starlink --compare --api $api"
  log "  (the lesson's 50 satellites from the local mirror, one by one, then on 50 threads)"
  "$demo" starlink --compare --api "$api" || log "starlink exited with status $?"
  local cmd
  for cmd in map counter queue; do
    if "$demo" "$cmd" --help >/dev/null 2>&1; then
      log "fanout-demo $cmd"
      "$demo" "$cmd" || log "$cmd exited with status $?"
    fi
  done
  log "fanout-demo cpus  (CPUs this process may use)"
  "$demo" cpus
  stop_mirror
  check_leftovers "$build" || exit 1
}
