#!/bin/sh
# configure must warn when the libcurl it finds is not built on mbedTLS. Present it a libcurl.pc
# that links the real (mbedTLS) library but whose curl-config claims another TLS library, and
# one that says mbedTLS; only the first may warn.
#   tests/configure-tls-warning.sh SRCDIR CURL_PREFIX
set -eu
src=$(cd "$1" && pwd)
real=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-tls.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

fake() { # name backend
  d=$work/$1
  mkdir -p "$d/bin" "$d/lib/pkgconfig" "$d/build"
  sed -e "s|^prefix=.*|prefix=$d|" -e "s|^libdir=.*|libdir=$real/lib|" \
    -e "s|^includedir=.*|includedir=$real/include|" "$real/lib/pkgconfig/libcurl.pc" \
    >"$d/lib/pkgconfig/libcurl.pc"
  printf '#!/bin/sh\necho %s\n' "$2" >"$d/bin/curl-config"
  chmod +x "$d/bin/curl-config"
  (cd "$d/build" && PKG_CONFIG_PATH="$d/lib/pkgconfig" "$src/configure" >"$d/out" 2>&1)
}

fake openssl OpenSSL
fake mbedtls mbedTLS
grep -q 'uses OpenSSL, not mbedTLS' "$work/openssl/out" ||
  { echo "no warning for a libcurl on OpenSSL" >&2; exit 1; }
grep -q 'TLS backend \.* OpenSSL' "$work/openssl/out" ||
  { echo "summary does not name OpenSSL" >&2; exit 1; }
if grep -q 'not mbedTLS' "$work/mbedtls/out"; then
  echo "warning for a libcurl on mbedTLS" >&2
  exit 1
fi
echo "configure warns for OpenSSL and not for mbedTLS"
