#!/bin/sh
# Run every program under examples/ as built in the build tree: each checks its own result and
# exits 0 only when it is right. sat_list also reads a list from the generator (tests/gen);
# fetch_many runs against the local API mirror on loopback, when fanout was built with libcurl.
set -u
T="timeout 60"
mirror=./tests/mirror/fo-mirror
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fo-examples.XXXXXX")
mpid=
cleanup() {
  [ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

run() {
  name=$1
  shift
  if $T "$@" >"$tmp/out" 2>&1; then
    echo "ok: $name"
  else
    echo "FAIL: $name (exit $?):" >&2
    cat "$tmp/out" >&2
    fail=1
  fi
}

for e in tpool_results ppool_report queue_pipe shmdict_counter json_path sat_list; do
  [ -x "examples/$e" ] || { echo "FAIL: examples/$e was not built" >&2; fail=1; continue; }
  run "$e" "examples/$e"
done
./tests/gen_starlink list 120 >"$tmp/list.json" || fail=1
run "sat_list (120 generated records)" examples/sat_list "$tmp/list.json" 120

if [ -x examples/fetch_many ]; then
  $T "$mirror" --port 0 --port-file "$tmp/port" --latency-ms 10 --idle-exit 20 \
    >/dev/null 2>"$tmp/mirror.err" &
  mpid=$!
  i=0
  until grep -q '^[0-9][0-9]*$' "$tmp/port" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { echo "FAIL: the mirror did not start" >&2; cat "$tmp/mirror.err" >&2; exit 1; }
    sleep 0.1
  done
  run fetch_many examples/fetch_many "http://localhost:$(cat "$tmp/port")"
else
  echo "fetch_many: not built (fanout without libcurl)"
fi
exit $fail
