#!/bin/sh
# The fetch engine with many transfers in flight, and HTTP/2, through `fanout-demo get`, peers in
# the same run:
#   fetch_10k_get_50ms_256   10,000 GETs from the local mirror with 50 ms of latency, 256 in
#                            flight on 4 threads (`get --threads 4 --parallel 256 --discard
#                            --urls-file`): wall time against `curl --parallel --parallel-max 256`
#                            (goal 1.0) and against the ideal 10000/256 x 50 ms (goal 0.9); peak
#                            RSS against curl's (goal 1.5)
#   fetch_10k_get_50ms_2000  the same with 2,000 in flight: wall time against the ideal
#                            10000/2000 x 50 ms (goal 0.9), peak RSS against 64 MiB (goal 1.0);
#                            curl stops at 300 in flight, so it has no line here
#   fetch_50_https_h2        the lesson's 50 GETs (the mirror's documents, served by nginx over
#                            HTTPS on loopback with a certificate made here, HTTP/2 on):
#                            connections and full TLS handshakes nginx counted ($connection,
#                            $ssl_session_reused), fanout by default (HTTP/2 where built in)
#                            against fanout --http1.1, against `curl --parallel --http2` and
#                            against the goal of 1; CPU time (user + system) of the fetching
#                            process against the 0.3 engine, one transfer per thread on 50
#                            threads with --http1.1 (goal 3.0); wall time against curl (goal 1.0)
# Lines: BENCH NAME vs=PEER ours=V theirs=V unit=U advantage=X goal=G, advantage = theirs/ours
# (lower is better everywhere here), goal the advantage the engine's issue asks for. Each timed
# case runs in alternating rounds and keeps each side's best. A fanout run is bounded by
# --deadline (FO_BENCH_ENGINE_BOUND seconds, default 30): the engine before many-per-worker runs
# one transfer per thread, 4 in flight, and would take 125 s for 10,000; a run cut by the bound
# adds incomplete=DONE/ALL to its lines, whose advantage is then an upper bound. Missing tools
# or `get --http1.1` print `BENCH NAME vs=PEER skipped: REASON`.
# DEMO, MIRROR, RUNSTAT and FO_NGINX name the binaries. Wall time, CPU and peak RSS come from
# tests/bench/runstat (VmHWM at exit under ptrace; CPU from wait4).
# shellcheck disable=SC3045 # ulimit -n and -H: dash and bash both have them
set -u
demo=${DEMO:-./fanout-demo}
mirror=${MIRROR:-./tests/mirror/fo-mirror}
runstat=${RUNSTAT:-./tests/bench/runstat}
nginx=${FO_NGINX:-/usr/sbin/nginx}
bound=${FO_BENCH_ENGINE_BOUND:-30}
n=10000
latency=50
for need in "$demo" "$mirror" "$runstat"; do
  [ -x "$need" ] ||
    { echo "bench fetch_engine: SKIPPED: $need missing (make bench-build)"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-engine.XXXXXX")
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# line NAME PEER OURS THEIRS UNIT GOAL [EXTRA]: advantage = theirs / ours
line() {
  awk -v n="$1" -v p="$2" -v o="$3" -v t="$4" -v u="$5" -v g="$6" -v x="${7:-}" 'BEGIN {
    a = t / (o > 0 ? o : 1e-9)
    printf "BENCH %s vs=%s ours=%.4g theirs=%.4g unit=%s advantage=%.3f goal=%s%s\n",
      n, p, o, t, u, a, g, x }'
}
skip() { echo "BENCH $1 vs=$2 skipped: $3"; }
note() { echo "bench fetch_engine: $*" >&2; }
field() { cut -d' ' -f"$2" "$1"; } # FILE N: a field of runstat's line
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
# Thousands of connections need as many descriptors, in the client and in the mirror.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4200 ] ||
  note "only $(ulimit -n) descriptors: the 2,000 case may fail for want of them"

# ---------------------------------------------------------------- the mirror and the URLs
mkdir -p "$tmp/html"
"$mirror" --dump "$tmp/html" >"$tmp/ids" || { note "fo-mirror --dump failed"; exit 1; }
"$mirror" --port 0 --port-file "$tmp/mirror.port" --latency-ms $latency --max-conns 4096 \
  --idle-exit 120 >/dev/null 2>"$tmp/mirror.err" &
mpid=$!
pids="$pids $mpid"
i=0
until grep -q '^[0-9][0-9]*$' "$tmp/mirror.port" 2>/dev/null; do
  i=$((i + 1))
  [ $i -le 100 ] || { note "the mirror did not start: $(cat "$tmp/mirror.err")"; exit 1; }
  sleep 0.1
done
mport=$(cat "$tmp/mirror.port")
awk -v n=$n -v b="http://127.0.0.1:$mport/v4/starlink/" '{ id[k++] = $1 }
  END { for (i = 0; i < n; i++) print b id[i % k] }' "$tmp/ids" >"$tmp/urls"
awk '{ printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0 }' "$tmp/urls" >"$tmp/curl.cfg"
# The mirror's own CPU is on the same cores as the client's: printed beside each run with the
# client's, so a result on a small machine can be read for what each side took (the 2,000 case
# needs their sum, over the cores there are, under its ideal time).
tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
mcpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$mpid/stat" 2>/dev/null || echo 0; }
stats_reset() { m0=$(mcpu); curl -s -o /dev/null "http://127.0.0.1:$mport/stats/reset"; }
max_active() { curl -s "http://127.0.0.1:$mport/stats" | sed -n 's/.*"max_active":\([0-9]*\).*/\1/p'; }
# seen: what the mirror saw of the run just ended
seen() {
  echo "the mirror saw $(max_active) connections at once and used" \
    "$(awk -v a="$m0" -v b="$(mcpu)" 'BEGIN { printf "%.2f", b - a }') s of CPU"
}

# ours PARALLEL TAG: one fanout run over the 10,000 URLs; leaves runstat's line in $tmp/TAG.rs,
# the summary in $tmp/TAG.err and the URLs done in $done
ours() {
  stats_reset
  "$runstat" "$tmp/$2.rs" "$demo" get --threads 4 --parallel "$1" --discard --deadline "$bound" \
    --urls-file "$tmp/urls" >/dev/null 2>"$tmp/$2.err" || { note "runstat failed"; exit 1; }
  done=$(sed -n 's/^get: \([0-9]*\) ok, .*/\1/p' "$tmp/$2.err")
  [ -n "$done" ] || { note "$2: no summary line: $(tail -2 "$tmp/$2.err")"; done=0; }
  note "$2: $(grep '^get: ' "$tmp/$2.err"); $(field "$tmp/$2.rs" 2) s of CPU; $(seen)"
}
theirs() { # curl's run: runstat's line in $tmp/curl.rs
  stats_reset
  # curl itself under runstat (a `timeout` in between would be the process measured): each of
  # its transfers is bounded instead; -s alone leaves --parallel's progress meter on
  "$runstat" "$tmp/curl.rs" curl -s --no-progress-meter --fail --max-time 60 --parallel \
    --parallel-max 256 -K "$tmp/curl.cfg" 2>"$tmp/curl.err" || { note "runstat failed"; exit 1; }
  [ "$(field "$tmp/curl.rs" 4)" = 0 ] ||
    note "curl exited $(field "$tmp/curl.rs" 4): $(tail -2 "$tmp/curl.err")"
  note "curl: $(field "$tmp/curl.rs" 1) s, $(field "$tmp/curl.rs" 2) s of CPU; $(seen)"
}

# ---------------------------------------------------------------- 10,000 GETs, 256 in flight
name=fetch_10k_get_50ms_256
ideal=$(awk -v n=$n -v p=256 -v l=$latency 'BEGIN { printf "%.4f", n / p * l / 1000 }')
t_ours='' r_ours='' t_curl='' r_curl='' inc=''
have_curl=0
command -v curl >/dev/null 2>&1 && have_curl=1
for round in 1 2; do
  if [ -z "$inc" ]; then
    ours 256 "p256-$round"
    t_ours=$(min "$t_ours" "$(field "$tmp/p256-$round.rs" 1)")
    r_ours=$(min "$r_ours" "$(field "$tmp/p256-$round.rs" 3)")
    [ "$done" -lt $n ] && inc=" incomplete=$done/$n"
  fi
  if [ $have_curl = 1 ]; then
    theirs
    t_curl=$(min "$t_curl" "$(field "$tmp/curl.rs" 1)")
    r_curl=$(min "$r_curl" "$(field "$tmp/curl.rs" 3)")
  fi
done
if [ $have_curl = 1 ]; then
  line $name curl "$t_ours" "$t_curl" s 1.0 "$inc"
else
  skip $name curl "no curl (apt-get install curl)"
fi
line $name ideal "$t_ours" "$ideal" s 0.9 "$inc"
if [ $have_curl = 1 ]; then
  line $name curl "$r_ours" "$r_curl" KiB_peak_rss 1.5 "$inc"
fi

# ---------------------------------------------------------------- 10,000 GETs, 2,000 in flight
name=fetch_10k_get_50ms_2000
ideal=$(awk -v n=$n -v p=2000 -v l=$latency 'BEGIN { printf "%.4f", n / p * l / 1000 }')
ours 2000 p2000
inc=
[ "$done" -lt $n ] && inc=" incomplete=$done/$n"
line $name ideal "$(field "$tmp/p2000.rs" 1)" "$ideal" s 0.9 "$inc"
line $name target_64MiB "$(field "$tmp/p2000.rs" 3)" 65536 KiB_peak_rss 1.0 "$inc"

# ---------------------------------------------------------------- 50 GETs over HTTPS, HTTP/2
name=fetch_50_https_h2
h2_threads=${FO_BENCH_H2_THREADS:-4}
if [ ! -x "$nginx" ] || ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  skip $name all "needs nginx, openssl and curl (./quickstart deps --layer=bench)"
  exit 0
fi
if ! "$nginx" -V 2>&1 | grep -q -- --with-http_v2_module; then
  skip $name all "this nginx has no HTTP/2 module"
  exit 0
fi
c=$tmp/c
mkdir -p "$c" "$tmp/tmp"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
(
  cd "$c" || exit 1
  # shellcheck disable=SC2086
  openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-CA \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    printf 'subjectAltName=DNS:localhost\n' >srv.cnf &&
    openssl req $ec -keyout srv.key -out srv.csr -subj /CN=localhost &&
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.cnf
) >"$tmp/openssl.log" 2>&1 || { note "openssl failed: $(tail -2 "$tmp/openssl.log")"; exit 1; }
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"
# One worker process, so $connection numbers every connection of the run; sessions may be
# resumed (a cache and tickets), so a full handshake is one a client chose to make.
cat >"$tmp/nginx.conf" <<EOF
daemon off; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/error.log; $user
events { worker_connections 1024; }
http {
  log_format conn '\$arg_run \$connection \$ssl_session_reused \$server_protocol \$status';
  access_log $tmp/access.log conn;
  client_body_temp_path $tmp/tmp; proxy_temp_path $tmp/tmp; fastcgi_temp_path $tmp/tmp;
  uwsgi_temp_path $tmp/tmp; scgi_temp_path $tmp/tmp;
  ssl_certificate $c/srv.pem; ssl_certificate_key $c/srv.key;
  ssl_session_cache shared:fo:1m; ssl_session_tickets on;
  keepalive_requests 100000; http2_max_concurrent_streams 128;
  server {
    listen 127.0.0.1:$hport ssl http2; server_name localhost;
    root $tmp/html; default_type application/json;
  }
}
EOF
"$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" &
pids="$pids $!"
i=0
until curl -sf --cacert "$c/ca.pem" -o /dev/null "https://localhost:$hport/v4/starlink.json"; do
  i=$((i + 1))
  [ $i -le 100 ] || { note "nginx did not start: $(tail -2 "$tmp/error.log")"; exit 1; }
  sleep 0.1
done
head -n 50 "$tmp/ids" >"$tmp/ids50"
# urls TAG: the 50 URLs, tagged for the log
urls() { sed "s,.*,https://localhost:$hport/v4/starlink/&?run=$1," "$tmp/ids50"; }
# counts TAG: "CONNECTIONS FULL_HANDSHAKES REQUESTS_OVER_HTTP/2 OK" from nginx's log
counts() {
  sleep 0.2
  awk -v r="$1" '$1 == r { if (!($2 in seen)) { seen[$2] = 1; c++; if ($3 != "r") f++ }
                           if ($4 == "HTTP/2.0") h++; if ($5 == 200) ok++ }
                 END { printf "%d %d %d %d\n", c, f, h, ok }' "$tmp/access.log"
}
# fan TAG ARGS...: one fanout run of the 50; runstat's line in $tmp/TAG.rs, counts in TAG.n
fan() {
  tag=$1
  shift
  urls "$tag" >"$tmp/$tag.urls"
  "$runstat" "$tmp/$tag.rs" "$demo" get "$@" --cacert "$c/ca.pem" --discard --deadline 60 \
    --urls-file "$tmp/$tag.urls" >/dev/null 2>"$tmp/$tag.err" || { note "runstat failed"; exit 1; }
  grep -q '^get: 50 ok, 0 failed' "$tmp/$tag.err" ||
    note "$tag: $(grep -v '^error' "$tmp/$tag.err" | tail -2)"
  counts "$tag" >"$tmp/$tag.n"
}
curl_h2() {
  tag=$1
  urls "$tag" | awk '{ printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0 }' >"$tmp/$tag.cfg"
  "$runstat" "$tmp/$tag.rs" curl -s --no-progress-meter --fail --max-time 60 --http2 --parallel \
    --parallel-max 50 --cacert "$c/ca.pem" -K "$tmp/$tag.cfg" 2>"$tmp/$tag.err" ||
    { note "runstat failed"; exit 1; }
  [ "$(field "$tmp/$tag.rs" 4)" = 0 ] || note "curl exited $(field "$tmp/$tag.rs" 4)"
  counts "$tag" >"$tmp/$tag.n"
}
h11=0
"$demo" get --help 2>/dev/null | grep -q -- --http1.1 && h11=1
worst() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b > a) ? b : a }'; }
w_h2='' c_h2='' w_curl='' c_old=''
conn_h2='' hs_h2='' conn_11='' hs_11='' conn_old='' hs_old='' conn_curl='' hs_curl=''
for round in 1 2 3; do
  fan "h2-$round" --threads "$h2_threads" --parallel 50
  w_h2=$(min "$w_h2" "$(field "$tmp/h2-$round.rs" 1)")
  c_h2=$(min "$c_h2" "$(field "$tmp/h2-$round.rs" 2)")
  conn_h2=$(worst "$conn_h2" "$(field "$tmp/h2-$round.n" 1)")
  hs_h2=$(worst "$hs_h2" "$(field "$tmp/h2-$round.n" 2)")
  curl_h2 "curl-$round"
  w_curl=$(min "$w_curl" "$(field "$tmp/curl-$round.rs" 1)")
  conn_curl=$(worst "$conn_curl" "$(field "$tmp/curl-$round.n" 1)")
  hs_curl=$(worst "$hs_curl" "$(field "$tmp/curl-$round.n" 2)")
  if [ $h11 = 1 ]; then
    fan "h11-$round" --threads "$h2_threads" --parallel 50 --http1.1
    conn_11=$(worst "$conn_11" "$(field "$tmp/h11-$round.n" 1)")
    hs_11=$(worst "$hs_11" "$(field "$tmp/h11-$round.n" 2)")
    # the 0.3 engine: a transfer per thread, a connection per transfer
    fan "old-$round" --threads 50 --parallel 50 --http1.1
    c_old=$(min "$c_old" "$(field "$tmp/old-$round.rs" 2)")
    conn_old=$(worst "$conn_old" "$(field "$tmp/old-$round.n" 1)")
    hs_old=$(worst "$hs_old" "$(field "$tmp/old-$round.n" 2)")
  fi
done
note "fanout default ($h2_threads threads, 50 in flight): $(cut -d' ' -f3 "$tmp/h2-1.n") of 50" \
  "requests over HTTP/2"
note "curl --http2: $(cut -d' ' -f3 "$tmp/curl-1.n") of 50 requests over HTTP/2"
line $name goal_1 "$conn_h2" 1 connections 1.0
if [ $h11 = 1 ]; then
  line $name http1.1 "$conn_h2" "$conn_11" connections 1.0
  line $name http1.1 "$hs_h2" "$hs_11" full_handshakes 1.0
  line $name engine_0.3 "$conn_h2" "$conn_old" connections 1.0
  line $name engine_0.3 "$hs_h2" "$hs_old" full_handshakes 1.0
  line $name engine_0.3 "$c_h2" "$c_old" cpu_s 3.0
else
  skip $name http1.1 "fanout-demo get has no --http1.1 (no HTTP/2 in this build)"
  skip $name engine_0.3 "fanout-demo get has no --http1.1 to run the 0.3 engine's HTTP/1.1"
fi
line $name curl_http2 "$conn_h2" "$conn_curl" connections 1.0
line $name curl_http2 "$hs_h2" "$hs_curl" full_handshakes 1.0
line $name curl_http2 "$w_h2" "$w_curl" s 1.0
exit 0
