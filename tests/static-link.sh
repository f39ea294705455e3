#!/bin/sh
# Link a program fully statically against an installed fanout using only what
# `pkg-config --static --libs fanout` says, run it, and check it needs no shared object.
#   tests/static-link.sh PREFIX [CC]
# PKG_CONFIG_PATH must also reach libcurl's .pc when fanout was built with curl.
set -eu
prefix=$1
cc=${2:-${CC:-cc}}
work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-static.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH

with_curl=no
pkg-config --print-requires-private fanout | grep -q libcurl && with_curl=yes

cat >"$work/t.c" <<'C'
#include <stdio.h>
#include <fanout/fanout.h>
#ifdef WITH_CURL
#include <curl/curl.h>
#include <fanout/fetch.h>
#endif
int main(void) {
  int n = fo_cpu_count();
  if (n < 1)
    return 1;
#ifdef WITH_CURL
  /* libcurl and its TLS library must be in the static link, not just named */
  /* the fetcher, its pool and libcurl's share link and start in a static program */
  fo_fetcher *f;
  if (fo_fetch_global_init() != 0 || fo_fetcher_create(&f, NULL) != 0)
    return 1;
  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  printf("fanout %s, %d cpus, libcurl %s on %s\n", FO_VERSION_STRING, n, v->version, v->ssl_version);
#else
  printf("fanout %s, %d cpus\n", FO_VERSION_STRING, n);
#endif
  return 0;
}
C
def=""
[ "$with_curl" = yes ] && def=-DWITH_CURL
# shellcheck disable=SC2046
"$cc" -static $def -o "$work/t" "$work/t.c" $(pkg-config --static --cflags --libs fanout) 2>"$work/ld.err" || {
  cat "$work/ld.err" >&2
  exit 1
}
# glibc warns that getaddrinfo in a static program still loads NSS modules at run time; any
# other warning is shown.
grep -v -e 'getaddrinfo' -e 'statically linked applications requires at runtime' \
  -e 'in function' "$work/ld.err" >&2 || true
if readelf -d "$work/t" 2>/dev/null | grep -q NEEDED; then
  echo "static-link: the program still needs shared objects:" >&2
  readelf -d "$work/t" | grep NEEDED >&2
  exit 1
fi
out=$("$work/t")
echo "static-link: $out"
if [ "$with_curl" = yes ]; then
  echo "$out" | grep -qi mbedtls || { echo "static-link: libcurl is not on mbedTLS" >&2; exit 1; }
fi
