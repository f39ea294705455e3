#!/bin/sh
# Fetch in the field, time limits and cancel, with peers or ideals in the same run:
#   fetch_big_slow_defaults      64 MiB through `fanout-demo get` with every option at its default,
#                                from nginx in a network namespace behind a 1 MiB/s tbf qdisc:
#                                time against the ideal 64 s (goal: advantage >= 0.9)
#   fetch_stall_detect           the mirror stops sending after 1 MiB, connection open; the time
#                                from the start (the 1 MiB takes milliseconds on loopback) to the
#                                item's failure, minus the 3 s stall limit: `fanout-demo get
#                                --stall-time 3` against `curl --speed-limit 8 --speed-time 3`
#                                and against the 1 s goal
#   fetch_cancel_latency         50 paced transfers in flight, fo_fetcher_cancel() from another
#                                thread: the worst time to the call's return over 5 rounds, against
#                                the 1 s goal (tests/bench/fetch_cancel_latency.c)
#   fetch_cancel_latency_stalled the same with 50 stalled transfers: no byte arrives, so only
#                                libcurl's own wake-up runs the progress callback, at least once a
#                                second: the floor of the easy-handle engine
# Prints BENCH lines (tests/bench/bench.h's format). DEMO, MIRROR, CANCEL name the binaries.
set -u
demo=${DEMO:-./fanout-demo}
mirror=${MIRROR:-./tests/mirror/fo-mirror}
cancel=${CANCEL:-./tests/bench/fetch_cancel_latency}
nginx=${FO_NGINX:-/usr/sbin/nginx}
for need in "$demo" "$mirror" "$cancel" "$(command -v curl || echo curl)"; do
  [ -x "$need" ] || { echo "bench fetch_field_time: SKIPPED: $need missing"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-field-time.XXXXXX")
pids=
ns=fo-ft-$$
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip link del "ft$$a" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
line() { # name peer ours theirs unit lower_is_better
  awk -v n="$1" -v p="$2" -v o="$3" -v t="$4" -v u="$5" -v l="$6" 'BEGIN {
    a = l ? t / (o > 0.001 ? o : 0.001) : o / t
    printf "BENCH %s vs=%s ours=%.4g theirs=%.4g unit=%s advantage=%.3f\n", n, p, o, t, u, a }'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

# ---------------------------------------------------------------- 64 MiB at 1 MiB/s, defaults
mkdir -p "$tmp/html" "$tmp/tmp" "$tmp/out"
size=$((64 * 1024 * 1024))
if [ ! -x "$nginx" ]; then
  echo "bench fetch_big_slow_defaults: SKIPPED: no nginx at $nginx" >&2
elif ip netns add "$ns" 2>/dev/null && ip link add "ft$$a" type veth peer name "ft$$b" 2>/dev/null &&
  ip link set "ft$$b" netns "$ns" && ip addr add 10.213.9.1/30 dev "ft$$a" && ip link set "ft$$a" up &&
  ip netns exec "$ns" ip addr add 10.213.9.2/30 dev "ft$$b" &&
  ip netns exec "$ns" ip link set "ft$$b" up && ip netns exec "$ns" ip link set lo up &&
  ip netns exec "$ns" tc qdisc add dev "ft$$b" root tbf rate 8mibit burst 64kb latency 200ms; then
  head -c "$size" /dev/urandom >"$tmp/html/big.bin"
  user=
  [ "$(id -u)" -eq 0 ] && user="user root root;"
  cat >"$tmp/ns.conf" <<CONF
daemon off; worker_processes 1; pid $tmp/ns.pid; error_log $tmp/ns.err; $user
events { worker_connections 64; }
http {
  access_log off; sendfile on;
  client_body_temp_path $tmp/tmp; proxy_temp_path $tmp/tmp; fastcgi_temp_path $tmp/tmp;
  uwsgi_temp_path $tmp/tmp; scgi_temp_path $tmp/tmp;
  server { listen 10.213.9.2:8080; root $tmp/html; default_type application/octet-stream; }
}
CONF
  ip netns exec "$ns" "$nginx" -p "$tmp" -c "$tmp/ns.conf" -e "$tmp/ns.err" &
  pids="$pids $!"
  i=0
  until curl -s -o /dev/null -r 0-0 http://10.213.9.2:8080/big.bin; do
    i=$((i + 1)); [ $i -le 100 ] || { echo "bench fetch_field_time: nginx did not start" >&2; exit 1; }
    sleep 0.1
  done
  t0=$(now)
  "$demo" get --output "$tmp/out/big.bin" http://10.213.9.2:8080/big.bin 2>"$tmp/big.err" ||
    echo "bench fetch_big_slow_defaults: the download failed: $(tail -1 "$tmp/big.err")" >&2
  t1=$(now)
  cmp -s "$tmp/out/big.bin" "$tmp/html/big.bin" || echo "bench fetch_big_slow_defaults: the file differs" >&2
  line fetch_big_slow_defaults ideal_1MiBps "$(elapsed "$t0" "$t1")" 64 s 1
  rm -f "$tmp/html/big.bin" "$tmp/out/big.bin"
else
  echo "bench fetch_big_slow_defaults: SKIPPED: no network namespace with tbf here" >&2
fi

# ---------------------------------------------------------------- the mirror
"$mirror" --port 0 --port-file "$tmp/mirror.port" --idle-exit 120 >/dev/null 2>&1 &
pids="$pids $!"
i=0
until grep -q '^[0-9][0-9]*$' "$tmp/mirror.port" 2>/dev/null; do i=$((i + 1)); [ $i -le 100 ] || exit 1; sleep 0.1; done
m="http://127.0.0.1:$(cat "$tmp/mirror.port")"

# ---------------------------------------------------------------- stall detection
stall="$m/blob?size=4194304&stall=1048576&hold=60000"
t0=$(now)
"$demo" get --stall-time 3 "$stall&who=ours" >/dev/null 2>"$tmp/stall.err"
t1=$(now)
grep -q stalled "$tmp/stall.err" || echo "bench fetch_stall_detect: not a stall: $(cat "$tmp/stall.err")" >&2
curl -s -o /dev/null --speed-limit 8 --speed-time 3 "$stall&who=curl"
t2=$(now)
ours=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a - 3 }')
theirs=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.4f", b - a - 3 }')
line fetch_stall_detect curl_speed_time "$ours" "$theirs" s 1
line fetch_stall_detect goal_1s "$ours" 1 s 1

# ---------------------------------------------------------------- cancel latency
"$cancel" fetch_cancel_latency "$m" "size=1073741824&rate=200000" 50 5
"$cancel" fetch_cancel_latency_stalled "$m" "size=1073741824&stall=0&hold=60000" 50 5
