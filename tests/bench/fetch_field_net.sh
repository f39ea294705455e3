#!/bin/sh
# Byte-rate caps of the fetcher, through `fanout-demo get --limit-rate`, against the local mirror's
# /blob on loopback, peers in the same run:
#   fetch_limit_rate_one   one 20 MiB transfer under a 2 MiB/s cap (10 s): how far the achieved
#                          rate is from the cap, in %, against `curl --limit-rate 2M`
#   fetch_limit_rate_four  four 5 MiB transfers sharing a fetcher-wide 2 MiB/s cap (curl has no
#                          such cap): the same distance against the goal of 5 %
# The achieved rate is bytes over the transfer's own time (the demo's summary line, curl's
# time_total). Lower is better; advantage > 1: closer to the cap than the peer (or the goal).
# Prints BENCH lines (tests/bench/bench.h's format). DEMO and MIRROR name the binaries.
set -u
demo=${DEMO:-./fanout-demo}
mirror=${MIRROR:-./tests/mirror/fo-mirror}
for need in "$demo" "$mirror"; do
  [ -x "$need" ] || { echo "bench fetch_field_net: SKIPPED: $need not built"; exit 0; }
done
command -v curl >/dev/null 2>&1 ||
  { echo "bench fetch_field_net: SKIPPED: curl missing (./quickstart deps --layer=bench)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-net.XXXXXX")
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# distance NAME PEER OURS_RATIO THEIRS_RATIO: |ratio - 1| in %, lower is better (floored at
# 0.01 % so a perfect run does not divide by zero)
distance() {
  awk -v n="$1" -v p="$2" -v o="$3" -v t="$4" 'BEGIN {
    o = o > 1 ? o - 1 : 1 - o; o *= 100; if (o < 0.01) o = 0.01
    if (p != "goal_5pct") { t = t > 1 ? t - 1 : 1 - t; t *= 100; if (t < 0.01) t = 0.01 }
    printf "BENCH %s vs=%s ours=%.4g theirs=%.4g unit=pct_off_cap advantage=%.3f\n", n, p, o, t, t / o }'
}

"$mirror" --port 0 --port-file "$tmp/port" --idle-exit 60 >/dev/null 2>&1 &
pids="$pids $!"
i=0
until grep -q '^[0-9][0-9]*$' "$tmp/port" 2>/dev/null; do
  i=$((i + 1)); [ $i -le 100 ] || { echo "bench fetch_field_net: the mirror did not start" >&2; exit 1; }
  sleep 0.1
done
base="http://127.0.0.1:$(cat "$tmp/port")/blob"
cap=2097152
# ratio: bytes and seconds from the demo's summary line "get: N ok, 0 failed, B bytes, T s"
demo_ratio() {
  awk -v c="$cap" '/^get: .* ok, 0 failed, / { print ($6 / $8) / c; found = 1 }
    END { if (!found) exit 1 }' "$1"
}

"$demo" get --limit-rate 2M --output "$tmp/one.bin" "$base?size=20971520" 2>"$tmp/one.err" ||
  { cat "$tmp/one.err" >&2; exit 1; }
ours=$(demo_ratio "$tmp/one.err") || { cat "$tmp/one.err" >&2; exit 1; }
theirs=$(curl -s -o "$tmp/curl.bin" --limit-rate 2M -w '%{size_download} %{time_total}' \
  "$base?size=20971520&tag=2" | awk -v c="$cap" '{ print ($1 / $2) / c }')
echo "# fetch_limit_rate_one: cap $cap B/s; fanout $(awk -v r="$ours" -v c="$cap" 'BEGIN { printf "%.0f", r * c }') B/s, curl $(awk -v r="$theirs" -v c="$cap" 'BEGIN { printf "%.0f", r * c }') B/s"
distance fetch_limit_rate_one curl_limit_rate "$ours" "$theirs"

# to stdout (one route, so no file names of their own), each held until its turn
"$demo" get --threads 4 --limit-rate 2M --max-bytes 6000000 "$base?size=5242880&tag=a" \
  "$base?size=5242880&tag=b" "$base?size=5242880&tag=c" "$base?size=5242880&tag=d" \
  >/dev/null 2>"$tmp/four.err" || { cat "$tmp/four.err" >&2; exit 1; }
ours=$(demo_ratio "$tmp/four.err") || { cat "$tmp/four.err" >&2; exit 1; }
echo "# fetch_limit_rate_four: cap $cap B/s; fanout $(awk -v r="$ours" -v c="$cap" 'BEGIN { printf "%.0f", r * c }') B/s over four transfers"
distance fetch_limit_rate_four goal_5pct "$ours" 5
