#!/bin/sh
# fanout-demo get with credentials against a real nginx on loopback that asks for a client
# certificate (ssl_verify_client on), with a CA, server and client certificates, an encrypted key
# and a CRL made by openssl here: --cert --key --cacert in PEM and DER, --key-password-file
# (right and wrong), no certificate (nginx's 400), --pinnedpubkey (right, wrong, malformed),
# --crlfile revoking the server, and the usage errors of the new flags (exit 2). nginx speaks
# HTTP/2 too: with HTTP/2 in (--version says "http2 yes", as configure found: FO_CURL_HTTP2) a
# get goes over it, with --http1.1 over HTTP/1.1, as nginx's log shows.
# DEMO and FO_NGINX name the binaries.
set -u
nginx=${FO_NGINX:-/usr/sbin/nginx}
if [ ! -x "$nginx" ] || ! command -v openssl >/dev/null 2>&1; then
  [ "${FO_REQUIRE_NGINX:-}" = 1 ] && { echo "FAIL: no nginx at $nginx or no openssl" >&2; exit 1; }
  echo "SKIP: nginx or openssl not found (install nginx-light and openssl)"; exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed for a free port"; exit 77; }
name=demo-get-mtls
. "$(dirname "$0")/helpers/demo-run.sh"

# ---------------------------------------------------------------- certificates
c=$tmp/c
mkdir -p "$c" "$tmp/html" "$tmp/tmp"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
(
  cd "$c" || exit 1
  # shellcheck disable=SC2086
  openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=demo-CA \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >srv.cnf &&
    printf 'extendedKeyUsage=clientAuth\n' >cli.cnf &&
    openssl req $ec -keyout srv.key -out srv.csr -subj /CN=localhost &&
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
      -extfile srv.cnf &&
    openssl req $ec -keyout cli.key -out cli.csr -subj /CN=demo-device &&
    openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 \
      -extfile cli.cnf &&
    openssl x509 -in cli.pem -outform DER -out cli.der &&
    openssl pkey -in cli.key -outform DER -out cli-key.der &&
    printf 'demo-secret\n' >pw && printf 'not-it\n' >wrong-pw &&
    openssl pkey -in cli.key -traditional -aes256 -passout file:pw -out cli-enc.key &&
    printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/idx\ndefault_md=sha256\ndefault_crl_days=2\n' \
      "$PWD" >ca.cnf && : >idx &&
    openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke srv.pem &&
    openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out srv-revoked.crl &&
    openssl x509 -in srv.pem -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | openssl base64 -A >srv.pin
) >"$tmp/openssl.log" 2>&1 || { echo "FAIL: openssl: $(tail -3 "$tmp/openssl.log")" >&2; exit 1; }
pin="sha256//$(cat "$c/srv.pin")"
none="sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

# ---------------------------------------------------------------- nginx
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"
cat >"$tmp/nginx.conf" <<EOF
daemon off; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/error.log; $user
events { worker_connections 64; }
http {
  log_format proto '\$request_uri \$server_protocol \$status';
  access_log $tmp/access.log proto;
  client_body_temp_path $tmp/tmp; proxy_temp_path $tmp/tmp; fastcgi_temp_path $tmp/tmp;
  uwsgi_temp_path $tmp/tmp; scgi_temp_path $tmp/tmp;
  server {
    listen 127.0.0.1:$port ssl http2; server_name localhost; root $tmp/html;
    ssl_certificate $c/srv.pem; ssl_certificate_key $c/srv.key;
    ssl_verify_client on; ssl_client_certificate $c/ca.pem;
    location = /whoami { default_type text/plain; return 200 "\$ssl_client_s_dn \$ssl_client_verify\n"; }
  }
}
EOF
"$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" &
pids="$pids $!"
i=0
until [ -f "$tmp/nginx.pid" ] && python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -le 100 ] || { echo "FAIL: nginx did not start" >&2; cat "$tmp/error.log" >&2; exit 1; }
  sleep 0.1
done
url="https://localhost:$port/whoami"
want="CN=demo-device SUCCESS"

# ---------------------------------------------------------------- client certificates
for form in "--cert $c/cli.pem --key $c/cli.key" "--cert $c/cli.der --key $c/cli-key.der" \
  "--cert $c/cli.pem --key $c/cli-enc.key --key-password-file $c/pw"; do
  # shellcheck disable=SC2086
  out=$($T "$demo" get $form --cacert "$c/ca.pem" "$url" 2>"$tmp/err")
  [ "$out" = "$want" ] || bad "get $form: '$out' $(cat "$tmp/err")"
done
$T "$demo" get --cert "$c/cli.pem" --key "$c/cli-enc.key" --key-password-file "$c/wrong-pw" \
  --cacert "$c/ca.pem" "$url" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "^error: $url: key_password: wrong password" "$tmp/err" ||
  bad "wrong password: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && bad "wrong password: a body came"
$T "$demo" get --cert "$c/cli.pem" --key "$c/cli-enc.key" --cacert "$c/ca.pem" "$url" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "key_password is not set" "$tmp/err" || bad "no password: $(cat "$tmp/err")"
$T "$demo" get --cert "$c/none.pem" --key "$c/cli.key" --cacert "$c/ca.pem" "$url" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "client_cert: cannot read" "$tmp/err" || bad "missing --cert: $(cat "$tmp/err")"
$T "$demo" get --cacert "$c/ca.pem" "$url" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "HTTP status 400" "$tmp/err" || bad "no client certificate: $(cat "$tmp/err")"
$T "$demo" get --cert "$c/cli.pem" --key "$c/cli.key" "$url" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || bad "the system's CAs trusted the test CA"
# with --cacert the system's CAs are not read at all (libcurl keeps its default directory
# beside a CA file unless told otherwise: every system CA would be trusted too)
if command -v strace >/dev/null 2>&1; then
  # (LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks in the other runs)
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    $T strace -f -qq -e trace=open,openat -o "$tmp/trace" "$demo" get --cert "$c/cli.pem" \
    --key "$c/cli.key" --cacert "$c/ca.pem" "$url" >/dev/null 2>"$tmp/err" ||
    bad "--cacert under strace: $(cat "$tmp/err")"
  grep -q "$c/ca.pem" "$tmp/trace" || bad "strace saw no open of the CA file"
  grep -q '/etc/ssl/certs' "$tmp/trace" && bad "--cacert still read $(grep -c /etc/ssl/certs "$tmp/trace") system CA files"
else
  echo "strace not found: the check that --cacert replaces the system's CAs is skipped"
fi

# ---------------------------------------------------------------- pins and CRL
cred="--cert $c/cli.pem --key $c/cli.key --cacert $c/ca.pem"
# shellcheck disable=SC2086
out=$($T "$demo" get $cred --pinnedpubkey "$none;$pin" "$url" 2>"$tmp/err")
[ "$out" = "$want" ] || bad "right pin: '$out' $(cat "$tmp/err")"
# shellcheck disable=SC2086
$T "$demo" get $cred --pinnedpubkey "$none" "$url" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "pinned_pubkey" "$tmp/err" || bad "wrong pin: $(cat "$tmp/err")"
# shellcheck disable=SC2086
$T "$demo" get $cred --crlfile "$c/srv-revoked.crl" "$url" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "revoked by crl_file" "$tmp/err" || bad "--crlfile: $(cat "$tmp/err")"

# ---------------------------------------------------------------- HTTP/2 and --http1.1
h2=$("$demo" --version | sed -n 's/^http2 //p')
case "${FO_CURL_HTTP2:-}" in
  yes | no) [ "$h2" = "$FO_CURL_HTTP2" ] || bad "--version says http2 '$h2', configure found $FO_CURL_HTTP2" ;;
esac
proto=HTTP/1.1
[ "$h2" = yes ] && proto=HTTP/2.0
# nginx writes a request's line after its answer: wait for it, bounded
logged() {
  i=0
  until grep -qx "$1" "$tmp/access.log"; do
    i=$((i + 1))
    [ "$i" -le 50 ] || return 1
    sleep 0.1
  done
}
# shellcheck disable=SC2086
out=$($T "$demo" get $cred "$url?v=default" 2>"$tmp/err")
[ "$out" = "$want" ] || bad "get over $proto: '$out' $(cat "$tmp/err")"
logged "/whoami?v=default $proto 200" || bad "default get: nginx logged $(grep 'v=default' "$tmp/access.log"), not $proto"
# shellcheck disable=SC2086
out=$($T "$demo" get $cred --http1.1 "$url?v=1.1" 2>"$tmp/err")
[ "$out" = "$want" ] || bad "get --http1.1: '$out' $(cat "$tmp/err")"
logged "/whoami?v=1.1 HTTP/1.1 200" || bad "get --http1.1: nginx logged $(grep 'v=1.1' "$tmp/access.log")"

# ---------------------------------------------------------------- usage
for args in "--cert $c/cli.pem $url" "--key $c/cli.key $url" \
  "--key-password-file $c/pw $url" "--pinnedpubkey sha256//abc $url" \
  "--pinnedpubkey $pin; $url" "$cred --key-password-file $c/none $url" "--crlfile= $url"; do
  # shellcheck disable=SC2086
  $T "$demo" get $args >/dev/null 2>"$tmp/err"
  [ $? -eq 2 ] || bad "get $args: not exit 2"
  [ -s "$tmp/err" ] || bad "get $args: no message"
done
exit $fail
