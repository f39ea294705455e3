#!/bin/sh
# The fetcher on real transfers, through `fanout-demo get`, against nginx on loopback (and in a
# network namespace behind a 2 Mbit/s tbf qdisc) and the local mirror, peers in the same run:
#   fetch_list_wire_bytes     the generated 3,500-document list, bytes nginx sent ($bytes_sent):
#                             gzip against identity and against Python requests
#   fetch_list_2mbit          the same list over 2 Mbit/s, compressed against identity
#   fetch_download_256MiB_rss a 256 MiB file to disk: peak RSS against curl -o and a 16 MiB bound
#   fetch_download_256MiB     its throughput against curl -o, and curl -o then sync of the file
#                             (the file sink fsyncs before its rename; curl -o does not)
#   fetch_resume_bytes        64 MiB cut at half, then resumed: bytes served against the size
#   fetch_zipbomb             1 MiB of gzip inflating to 1 GiB with a 16 MiB cap: peak RSS and
#                             time, against curl --compressed (which inflates it all)
# Prints BENCH lines (tests/bench/bench.h's format). DEMO, MIRROR, GEN name the binaries.
set -u
demo=${DEMO:-./fanout-demo}
mirror=${MIRROR:-./tests/mirror/fo-mirror}
gen=${GEN:-./tests/gen_starlink}
nginx=${FO_NGINX:-/usr/sbin/nginx}
py=/usr/bin/python3 # Debian's, where python3-requests is
for need in "$nginx" /usr/bin/time "$py"; do
  [ -x "$need" ] || { echo "bench fetch_transfers: SKIPPED: $need missing (./quickstart deps)"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-transfers.XXXXXX")
pids=
ns=fo-bench-$$
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip link del "fo$$a" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
line() { # name peer ours theirs unit lower_is_better
  awk -v n="$1" -v p="$2" -v o="$3" -v t="$4" -v u="$5" -v l="$6" 'BEGIN {
    a = l ? t / o : o / t
    printf "BENCH %s vs=%s ours=%.4g theirs=%.4g unit=%s advantage=%.3f\n", n, p, o, t, u, a }'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

mkdir -p "$tmp/html/gz" "$tmp/tmp" "$tmp/out"
"$gen" list 3500 >"$tmp/html/list.json"
head -c 268435456 /dev/urandom >"$tmp/html/big.bin"
head -c 1073741824 /dev/zero | gzip -9 >"$tmp/html/gz/bomb.json"
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"
# conf NAME ADDR PORT: an nginx config serving html/, gzip on for JSON
conf() {
  cat >"$tmp/$1.conf" <<EOF
daemon off; worker_processes 1; pid $tmp/$1.pid; error_log $tmp/$1.err; $user
events { worker_connections 64; }
http {
  log_format sent '\$request_uri \$status \$bytes_sent';
  access_log $tmp/$1.log sent;
  client_body_temp_path $tmp/tmp; proxy_temp_path $tmp/tmp; fastcgi_temp_path $tmp/tmp;
  uwsgi_temp_path $tmp/tmp; scgi_temp_path $tmp/tmp;
  gzip on; gzip_types application/json; gzip_min_length 256; gzip_comp_level 6;
  sendfile on;
  server {
    listen $2:$3; root $tmp/html; default_type application/json;
    types { application/octet-stream bin; } # an image is not gzipped (it would not shrink)
    location /gz/ { gzip off; add_header Content-Encoding gzip; }
  }
}
EOF
}
wait_port() { # ADDR PORT
  i=0
  until curl -s -o /dev/null "http://$1:$2/list.json"; do
    i=$((i + 1)); [ $i -le 100 ] || { echo "bench fetch_transfers: nginx did not start" >&2; exit 1; }
    sleep 0.1
  done
}
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf lo 127.0.0.1 "$port"
"$nginx" -p "$tmp" -c "$tmp/lo.conf" -e "$tmp/lo.err" &
pids="$pids $!"
wait_port 127.0.0.1 "$port"
web="http://127.0.0.1:$port"
# sent LOG URI: bytes nginx sent for the last request of URI
sent() { sleep 0.3; awk -v u="$2" '$1 == u { s = $3 } END { print s + 0 }' "$tmp/$1.log"; }

# ---------------------------------------------------------------- wire bytes
"$demo" get --output "$tmp/out/l1" "$web/list.json" 2>/dev/null || echo "bench: gzip get failed" >&2
gz=$(sent lo /list.json)
"$demo" get --no-compressed --output "$tmp/out/l2" "$web/list.json" 2>/dev/null
id=$(sent lo /list.json)
"$py" -c 'import requests, sys; r = requests.get(sys.argv[1]); r.raise_for_status(); sys.stdout.buffer.write(r.content)' \
  "$web/list.json" >"$tmp/out/l3"
pyb=$(sent lo /list.json)
cmp -s "$tmp/out/l1" "$tmp/html/list.json" && cmp -s "$tmp/out/l3" "$tmp/html/list.json" ||
  echo "bench: a list body differs" >&2
line fetch_list_wire_bytes identity "$gz" "$id" bytes 1
line fetch_list_wire_bytes python_requests "$gz" "$pyb" bytes 1

# ---------------------------------------------------------------- 2 Mbit/s
if ip netns add "$ns" 2>/dev/null && ip link add "fo$$a" type veth peer name "fo$$b" 2>/dev/null &&
  ip link set "fo$$b" netns "$ns" && ip addr add 10.213.7.1/30 dev "fo$$a" && ip link set "fo$$a" up &&
  ip netns exec "$ns" ip addr add 10.213.7.2/30 dev "fo$$b" &&
  ip netns exec "$ns" ip link set "fo$$b" up && ip netns exec "$ns" ip link set lo up &&
  ip netns exec "$ns" tc qdisc add dev "fo$$b" root tbf rate 2mbit burst 32kbit latency 400ms; then
  conf ns 10.213.7.2 8080
  ip netns exec "$ns" "$nginx" -p "$tmp" -c "$tmp/ns.conf" -e "$tmp/ns.err" &
  pids="$pids $!"
  wait_port 10.213.7.2 8080
  t0=$(now); "$demo" get --output "$tmp/out/s1" http://10.213.7.2:8080/list.json 2>/dev/null; t1=$(now)
  "$demo" get --no-compressed --timeout 120 --output "$tmp/out/s2" http://10.213.7.2:8080/list.json 2>/dev/null; t2=$(now)
  line fetch_list_2mbit identity "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" s 1
else
  echo "bench fetch_list_2mbit: SKIPPED: no network namespace with tbf here" >&2
fi

# ---------------------------------------------------------------- 256 MiB to disk
rss() { sed -n 's/^rss=//p' "$1"; }
# Each run starts with no dirty pages: ours fsyncs the file before renaming it (curl -o does
# not), and must not pay for the writeback of the source file or of the other run.
sync
t0=$(now)
/usr/bin/time -f rss=%M -o "$tmp/t1" "$demo" get --timeout 600 --output "$tmp/out/big1" "$web/big.bin" 2>/dev/null
t1=$(now)
sync
t1s=$(now)
/usr/bin/time -f rss=%M -o "$tmp/t2" curl -s -o "$tmp/out/big2" "$web/big.bin"
t2=$(now)
sync "$tmp/out/big2" # what the file sink does before its rename: the durable peer
t2s=$(now)
cmp -s "$tmp/out/big1" "$tmp/html/big.bin" || echo "bench: the 256 MiB file differs" >&2
line fetch_download_256MiB_rss curl "$(rss "$tmp/t1")" "$(rss "$tmp/t2")" KiB 1
line fetch_download_256MiB_rss target_16MiB "$(rss "$tmp/t1")" 16384 KiB 1
mbs() { awk -v d="$1" 'BEGIN { printf "%.4f", 256 / d }'; }
line fetch_download_256MiB curl "$(mbs "$(elapsed "$t0" "$t1")")" "$(mbs "$(elapsed "$t1s" "$t2")")" MiB/s 0
line fetch_download_256MiB curl_then_sync "$(mbs "$(elapsed "$t0" "$t1")")" "$(mbs "$(elapsed "$t1s" "$t2s")")" MiB/s 0
rm -f "$tmp/out/big1" "$tmp/out/big2"

# ---------------------------------------------------------------- resume
"$mirror" --port 0 --port-file "$tmp/mirror.port" --idle-exit 60 >/dev/null 2>&1 &
pids="$pids $!"
i=0
until grep -q '^[0-9][0-9]*$' "$tmp/mirror.port" 2>/dev/null; do i=$((i + 1)); [ $i -le 100 ] || exit 1; sleep 0.1; done
m="http://127.0.0.1:$(cat "$tmp/mirror.port")"
"$demo" get --resume --output "$tmp/out/img" "$m/blob?size=67108864&cut=33554432&n=1" 2>/dev/null
"$demo" get --resume --output "$tmp/out/img" "$m/blob?size=67108864&cut=33554432&n=1" 2>/dev/null ||
  echo "bench: the resumed download failed" >&2
served=$(curl -s "$m/stats" | sed 's/.*"blob_bytes":\([0-9]*\).*/\1/')
line fetch_resume_bytes ideal 67108864 "$served" bytes 0

# ---------------------------------------------------------------- zip bomb
t0=$(now)
/usr/bin/time -f rss=%M -o "$tmp/t3" "$demo" get --max-bytes 16777216 "$web/gz/bomb.json" >/dev/null 2>&1
t1=$(now)
/usr/bin/time -f rss=%M -o "$tmp/t4" curl -s --compressed -o /dev/null "$web/gz/bomb.json"
t2=$(now)
line fetch_zipbomb_rss curl_compressed "$(rss "$tmp/t3")" "$(rss "$tmp/t4")" KiB 1
line fetch_zipbomb_time curl_compressed "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" s 1
