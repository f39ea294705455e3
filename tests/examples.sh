#!/bin/sh
# Run every program under examples/ as built in the build tree: each checks its own result and
# exits 0 only when it is right. sat_list also reads a list from the generator (tests/gen);
# fetch_many, download and fetch_poll run against the local API mirror on loopback, when fanout
# was built with libcurl; download's expected SHA-256 is made from the mirror's reference body,
# not by HTTP; fetch_poll reads its commands from a here-document and a cancel sent a second
# later, and its output is checked here.
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
  # fetch_poll: commands on stdin while transfers run. A document, one with 1.5 s of latency
  # (the timer ticks meanwhile), a 404, a paced download of 100 s that "cancel 4" typed a second
  # later ends (mid-way; before it starts where the program itself took that second to start,
  # under valgrind); each completion printed once, then the summary.
  mkdir "$tmp/dump"
  id=$("$mirror" --dump "$tmp/dump" | head -n1)
  t0=$(date +%s)
  {
    cat <<EOF
# typed at once
$base/v4/starlink/$id
$base/v4/starlink/$id?delay=1500
$base/v4/starlink/nosuch
$base/blob?size=10000000&rate=100000
EOF
    sleep 1
    echo "cancel 4"
  } | $T examples/fetch_poll >"$tmp/poll" 2>&1
  st=$?
  took=$(($(date +%s) - t0))
  pbad() { echo "FAIL: fetch_poll: $*" >&2; cat "$tmp/poll" >&2; fail=1; }
  if [ $st -ne 0 ]; then
    pbad "exit $st"
  elif ! grep -q '^done 1: 200, ' "$tmp/poll" || ! grep -q '^done 2: 200, ' "$tmp/poll" ||
    ! grep -q '^failed 3: HTTP status 404' "$tmp/poll" || ! grep -q '^failed 4: cancelled' "$tmp/poll" ||
    ! grep -qx 'end: 4 jobs, 2 ok, 2 failed' "$tmp/poll"; then
    pbad "a completion line is missing"
  elif [ "$(grep -c '^\(done\|failed\) ' "$tmp/poll")" -ne 4 ]; then
    pbad "not one completion line per job"
  elif ! awk '/^tick / && !t { t = NR } /^done 2:/ { d = NR } END { exit !(t && t < d) }' "$tmp/poll"; then
    pbad "no tick while the slow document was on its way"
  elif [ "$took" -gt 10 ]; then
    pbad "took $took s: the cancel did not end the download"
  else
    echo "ok: fetch_poll (a poll loop: stdin, a timer, job descriptors; a cancel mid-way)"
  fi
else
  echo "fetch_many, download, fetch_poll: not built (fanout without libcurl)"
fi
exit $fail
