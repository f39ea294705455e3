#!/bin/sh
# Run every program under examples/ as built in the build tree: each checks its own result and
# exits 0 only when it is right. sat_list also reads a list from the generator (tests/gen);
# fetch_many and download run against the local API mirror on loopback, when fanout was built
# with libcurl; download's expected SHA-256 is made from the mirror's reference body, not by HTTP.
set -u
T="timeout -k 10 60"
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
  base="http://localhost:$(cat "$tmp/port")"
  run fetch_many examples/fetch_many "$base"
  sha=$("$mirror" --blob 1048576 | sha256sum | cut -d' ' -f1)
  mkdir "$tmp/dl"
  run "download (cut at byte 300000, resumed, verified)" examples/download \
    "$base/blob?size=1048576&cut=300000&n=1" "$sha" "$tmp/dl"
else
  echo "fetch_many, download: not built (fanout without libcurl)"
fi
exit $fail
