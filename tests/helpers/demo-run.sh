# Sourced by the demo's end-to-end scripts once their tools are known to be there: the binaries
# (DEMO, MIRROR), a bound on each run ($T), a private temporary directory ($tmp, named after
# $name), the pids to stop at the end ($pids) and bad(), which records a failure in $fail.
demo=${DEMO:-./fanout-demo}
mirror=${MIRROR:-./tests/mirror/fo-mirror}
# -k: a demo that catches the TERM and still does not end is killed
T="timeout -k 10 60"
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
pids=
cleanup() {
  for p in $pids; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
bad() { echo "FAIL: $*" >&2; fail=1; }
# hget URL: GET a URL on loopback with python3 (a fresh machine has no curl), never through a
# proxy of the environment; the body on stdout, a failure for no answer or a 4xx/5xx.
hget() {
  python3 -c 'import sys, urllib.request as u
o = u.build_opener(u.ProxyHandler({}))
sys.stdout.write(o.open(sys.argv[1], timeout=5).read().decode("latin-1"))' "$1"
}
# listening PORT: whether something accepts connections on 127.0.0.1:PORT
listening() {
  python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
    "$1" 2>/dev/null
}
