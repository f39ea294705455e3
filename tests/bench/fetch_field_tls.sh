#!/bin/sh
# Credentials on real transfers: HTTPS GETs of a small answer with a client certificate against
# nginx on loopback (ssl_verify_client on), through `fanout-demo get --cert --key --cacert`, peer
# Debian's `curl --cert --key --cacert` (on OpenSSL), and for fresh handshakes one at a time also
# tests/bench/peer_curl_mtls, plain libcurl of the very build fanout links, on the same mbedTLS
# (PEER_MTLS names it) with libcurl's defaults (mbedTLS 2's curve order, P-521 first, which fanout
# changes), which tells what fanout adds from what the TLS library costs; each is
# given the same N URLs in one process:
#   fetch_mtls_handshake   a fresh connection and a full mutual-TLS handshake for every request
#                          (nginx closes each connection, keeps no session cache and no tickets,
#                          and speaks TLS 1.2 only, so neither client resumes a session and both
#                          run the same protocol): requests/s, one at a time (--threads 1 against
#                          curl's sequential URLs) and four at once (--threads 4 against curl
#                          --parallel --parallel-max 4)
#   fetch_mtls_reused      the same with keep-alive: each client keeps its connections (fanout
#                          one per worker, curl one), so this measures requests, not handshakes
# Each figure is the best of three runs. The client key is EC P-256, as the server's.
# Prints BENCH lines (tests/bench/bench.h's format). DEMO names the binary.
set -u
demo=${DEMO:-./fanout-demo}
peer=${PEER_MTLS:-./tests/bench/peer_curl_mtls}
nginx=${FO_NGINX:-/usr/sbin/nginx}
n=${FO_BENCH_MTLS_N:-400}
for need in "$nginx" /usr/bin/curl /usr/bin/openssl /usr/bin/python3; do
  [ -x "$need" ] || { echo "bench fetch_field_tls: SKIPPED: $need missing (./quickstart deps)"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-tls.XXXXXX")
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
line() { # name peer ours theirs unit (higher is better)
  awk -v n="$1" -v p="$2" -v o="$3" -v t="$4" -v u="$5" 'BEGIN {
    printf "BENCH %s vs=%s ours=%.4g theirs=%.4g unit=%s advantage=%.3f\n", n, p, o, t, u, o / t }'
}
now() { date +%s.%N; }

# ---------------------------------------------------------------- certificates
c=$tmp/c
mkdir -p "$c" "$tmp/html" "$tmp/tmp"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
(
  cd "$c" || exit 1
  # shellcheck disable=SC2086
  openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-CA \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    printf 'subjectAltName=DNS:localhost\n' >srv.cnf && printf 'extendedKeyUsage=clientAuth\n' >cli.cnf &&
    openssl req $ec -keyout srv.key -out srv.csr -subj /CN=localhost &&
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.cnf &&
    openssl req $ec -keyout cli.key -out cli.csr -subj /CN=bench-device &&
    openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 -extfile cli.cnf
) >"$tmp/openssl.log" 2>&1 || { echo "bench fetch_field_tls: openssl failed" >&2; exit 1; }

# ---------------------------------------------------------------- nginx: fresh and kept connections
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fresh=$(free_port)
kept=$(free_port)
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"
cat >"$tmp/nginx.conf" <<EOF
daemon off; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/error.log; $user
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $tmp/tmp; proxy_temp_path $tmp/tmp; fastcgi_temp_path $tmp/tmp;
  uwsgi_temp_path $tmp/tmp; scgi_temp_path $tmp/tmp;
  ssl_certificate $c/srv.pem; ssl_certificate_key $c/srv.key;
  ssl_verify_client on; ssl_client_certificate $c/ca.pem;
  ssl_protocols TLSv1.2; ssl_session_cache off; ssl_session_tickets off;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$fresh ssl; server_name localhost; keepalive_timeout 0;
    location / { default_type text/plain; return 200 "\$ssl_client_verify\n"; }
  }
  server {
    listen 127.0.0.1:$kept ssl; server_name localhost; keepalive_timeout 60s;
    location / { default_type text/plain; return 200 "\$ssl_client_verify\n"; }
  }
}
EOF
"$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" &
pids="$pids $!"
cred_curl="--cert $c/cli.pem --key $c/cli.key --cacert $c/ca.pem"
i=0
until curl -sf $cred_curl -o /dev/null "https://localhost:$kept/"; do
  i=$((i + 1)); [ $i -le 100 ] || { echo "bench fetch_field_tls: nginx did not start" >&2; exit 1; }
  sleep 0.1
done

# urls PORT: N URLs, one per line
urls() { seq 1 "$n" | sed "s,^,https://localhost:$1/r?,"; }
urls "$fresh" >"$tmp/fresh.urls"
urls "$kept" >"$tmp/kept.urls"

# rate KIND CMD...: requests/s of the best of three runs of CMD, whose stdout must hold N lines
# "SUCCESS" (every request authenticated by its certificate)
rate() {
  best=0
  for run in 1 2 3; do
    t0=$(now)
    "$@" >"$tmp/out" 2>"$tmp/err" || { echo "bench fetch_field_tls: $1 failed: $(tail -2 "$tmp/err")" >&2; }
    t1=$(now)
    ok=$(grep -c '^SUCCESS$' "$tmp/out")
    [ "$ok" -eq "$n" ] || echo "bench fetch_field_tls: $ok of $n authenticated ($*)" >&2
    best=$(awk -v b="$best" -v a="$t0" -v z="$t1" -v n="$n" 'BEGIN { r = n / (z - a); print (r > b ? r : b) }')
  done
  echo "$best"
}
ours() { # THREADS URLFILE
  # shellcheck disable=SC2046
  "$demo" get --threads "$1" --cert "$c/cli.pem" --key "$c/cli.key" --cacert "$c/ca.pem" $(cat "$2")
}
theirs() { # PARALLEL URLFILE (curl's output of N small bodies goes to stdout, as ours)
  if [ "$1" -gt 1 ]; then
    # shellcheck disable=SC2046,SC2086
    curl -s --tls-max 1.2 $cred_curl --parallel --parallel-max "$1" $(cat "$2")
  else
    # shellcheck disable=SC2046,SC2086
    curl -s --tls-max 1.2 $cred_curl $(cat "$2")
  fi
}

same() { # URLFILE: plain libcurl on fanout's mbedTLS, one URL after another
  # shellcheck disable=SC2046
  "$peer" "$c/cli.pem" "$c/cli.key" "$c/ca.pem" $(cat "$1")
}

o1=$(rate ours 1 "$tmp/fresh.urls"); t1=$(rate theirs 1 "$tmp/fresh.urls")
line fetch_mtls_handshake curl_cert "$o1" "$t1" req/s
if [ -x "$peer" ]; then
  s1=$(rate same "$tmp/fresh.urls")
  line fetch_mtls_handshake libcurl_same_mbedtls "$o1" "$s1" req/s
else
  echo "bench fetch_field_tls: $peer missing (make bench-build): no same-library peer"
fi
o4=$(rate ours 4 "$tmp/fresh.urls"); t4=$(rate theirs 4 "$tmp/fresh.urls")
line fetch_mtls_handshake curl_cert_parallel4 "$o4" "$t4" req/s
k1=$(rate ours 1 "$tmp/kept.urls"); kt=$(rate theirs 1 "$tmp/kept.urls")
line fetch_mtls_reused curl_cert "$k1" "$kt" req/s
