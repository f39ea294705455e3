#!/bin/sh
# Link programs against an installed fanout using only what pkg-config says, and run them with the
# libcurl they were built against out of reach:
#   - `cc -static ... $(pkg-config --static --cflags --libs fanout)`: fully static, no NEEDED;
#   - `cc ... $(pkg-config --cflags --libs fanout)`: an ordinary program, which must not need a
#     libcurl.so (the machine's could be another build, on OpenSSL or GnuTLS) nor a run path;
#   - the installed fanout-demo, likewise.
# Each runs with the libcurl prefix hidden (a private mount namespace with an empty tmpfs over
# it) and must report libcurl on mbedTLS through fo_info_get(), with HTTP/2 when libcurl's
# static link line names nghttp2 (as the libcurl ./quickstart deps builds does). The two that
# are not static must need exactly the shared libraries README.md lists (tests/runtime-needs.sh).
#   tests/static-link.sh PREFIX [CC]
# PREFIX may be a staged one ($stage/usr/local after `make install DESTDIR=$stage`): pkg-config
# is asked with --define-prefix, as README.md says to, which changes nothing for a real prefix.
# PKG_CONFIG_PATH must also reach libcurl's .pc when fanout was built with curl.
set -eu
prefix=$1
cc=${2:-${CC:-cc}}
here=$(dirname "$0")
work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-static.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
fail() {
  echo "static-link: $*" >&2
  exit 1
}
pkg_config() { pkg-config --define-prefix "$@"; }

with_curl=no
pkg_config --print-requires fanout | grep -q libcurl && with_curl=yes
hide=""
if [ "$with_curl" = yes ]; then
  hide=$(pkg_config --variable=prefix libcurl)
  [ -d "$hide" ] || fail "libcurl's prefix $hide is not a directory"
fi

# run PROGRAM ARGS...: with libcurl's prefix hidden, where a mount namespace can be had.
# shellcheck disable=SC2016 # the inner shell expands $0 and $@
run() {
  if [ -z "$hide" ]; then
    "$@"
  elif [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
    unshare -m sh -c 'mount -t tmpfs none "$0" && [ -z "$(ls -A "$0")" ] && exec "$@"' "$hide" "$@"
  elif unshare -rm true 2>/dev/null; then
    unshare -rm sh -c 'mount -t tmpfs none "$0" && [ -z "$(ls -A "$0")" ] && exec "$@"' "$hide" "$@"
  else
    echo "static-link: no mount namespace here: $1 runs with $hide in place" >&2
    "$@"
  fi
}

cat >"$work/t.c" <<'C'
#include <stdio.h>
#include <fanout/fanout.h>
#ifdef WITH_CURL
#include <fanout/fetch.h>
#endif
int main(void) {
  int n = fo_cpu_count();
  if (n < 1)
    return 1;
  fo_info info;
  if (fo_info_get(&info) != 0)
    return 1;
#ifdef WITH_CURL
  /* the fetcher, its pool and libcurl's share link and start */
  fo_fetcher *f;
  if (fo_fetch_global_init() != 0 || fo_fetcher_create(&f, NULL) != 0)
    return 1;
  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
#endif
  printf("fanout %s, %d cpus, fetch %d, libcurl '%s' on '%s', http2 %d\n", info.version, n,
         info.fetch, info.curl_version, info.tls_backend, info.http2);
  return 0;
}
C
def=""
needs=core
[ "$with_curl" = yes ] && def=-DWITH_CURL needs=fetch
h2=0
case " $(pkg_config --static --libs libcurl 2>/dev/null) " in *" -lnghttp2 "*) h2=1 ;; esac

# check NAME OUTPUT: the report of a program that ran
check() {
  echo "static-link: $1: $2"
  if [ "$with_curl" = yes ]; then
    echo "$2" | grep -q "fetch 1, libcurl '[0-9][0-9.]*' on 'mbedTLS/" ||
      fail "$1: libcurl is not on mbedTLS"
    echo "$2" | grep -q ", http2 $h2\$" || fail "$1: http2 is not $h2 (nghttp2 in the link line)"
  else
    echo "$2" | grep -q "fetch 0" || fail "$1: reports fetch without libcurl"
  fi
}

# no_cache_refs NAME BINARY: a dynamic program needs no libcurl.so and no path into the cache,
# and the shared libraries it needs are README.md's list
no_cache_refs() {
  d=$(readelf -d "$2")
  if echo "$d" | grep NEEDED | grep -q 'libcurl'; then
    fail "$1 needs a shared libcurl: $(echo "$d" | grep NEEDED | tr -s ' ')"
  fi
  if [ -n "$hide" ] && echo "$d" | grep -E 'RPATH|RUNPATH' | grep -qF "$hide"; then
    fail "$1 has a run path into $hide"
  fi
  sh "$here/runtime-needs.sh" "$needs" "$2" || fail "$1: not README.md's run-time list"
}

# 1. fully static
# shellcheck disable=SC2046
"$cc" -static $def -o "$work/t-static" "$work/t.c" $(pkg_config --static --cflags --libs fanout) \
  2>"$work/ld.err" || {
  cat "$work/ld.err" >&2
  exit 1
}
# glibc warns that getaddrinfo in a static program still loads NSS modules at run time; any
# other warning is shown.
grep -v -e 'getaddrinfo' -e 'statically linked applications requires at runtime' \
  -e 'in function' "$work/ld.err" >&2 || true
if readelf -d "$work/t-static" 2>/dev/null | grep -q NEEDED; then
  echo "static-link: the program still needs shared objects:" >&2
  readelf -d "$work/t-static" | grep NEEDED >&2
  exit 1
fi
check "cc -static, pkg-config --static" "$(run "$work/t-static")"

# 2. an ordinary program, plain `pkg-config --libs`
# shellcheck disable=SC2046
"$cc" $def -o "$work/t-dynamic" "$work/t.c" $(pkg_config --cflags --libs fanout) ||
  fail "cc with pkg-config --libs fanout (no --static) does not link"
no_cache_refs "cc, pkg-config --libs" "$work/t-dynamic"
check "cc, pkg-config --libs" "$(run "$work/t-dynamic")"

# 3. the installed demo
demo=$prefix/bin/fanout-demo
if [ -x "$demo" ]; then
  no_cache_refs "installed fanout-demo" "$demo"
  out=$(run "$demo" --version) || fail "installed fanout-demo does not run: $out"
  echo "static-link: installed fanout-demo --version: $(echo "$out" | tr '\n' ' ')"
  if [ "$with_curl" = yes ]; then
    echo "$out" | grep -q '^tls mbedTLS/' || fail "installed fanout-demo is not on mbedTLS"
    [ "$h2" = 0 ] || echo "$out" | grep -qx 'http2 yes' || fail "installed fanout-demo: no HTTP/2"
  else
    echo "$out" | grep -qx 'fetch: not built' || fail "installed fanout-demo: no 'fetch: not built'"
  fi
fi
