#!/bin/sh
# Every installed header compiles alone: a file whose first line is `#include <fanout/X.h>`,
# built with the project's compiler at -Wall -Wextra -Werror, in the compiler's default C and in
# strict C99, so a program may include any header first, and by itself, in either. The file uses
# what every header's comments name without saying where it comes from: FO_FOREVER, the errno
# codes (-EINVAL, -EAGAIN, ...) and fanout's own codes (version.h: its version number).
# FO_HEADERS (from Makefile.am) lists the installed headers; FO_INCLUDES where they are found.
set -eu
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fanout-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
for h in ${FO_HEADERS:?}; do
  name=$(basename "$h")
  use="FO_FOREVER + EINVAL + EAGAIN + ETIMEDOUT + FO_ETOOBIG"
  # version.h is the one header below fanout.h: it holds the version and nothing else
  [ "$name" != version.h ] || use="FO_VERSION_NUMBER"
  printf '#include <fanout/%s>\nint fo_headers_check(void);\nint fo_headers_check(void) { return %s; }\n' \
    "$name" "$use" >"$tmp/t.c"
  for std in "" "-std=c99 -Wpedantic"; do
    # shellcheck disable=SC2086 # FO_INCLUDES and std hold several flags
    if ! $cc $std -Wall -Wextra -Werror -Wmissing-prototypes ${FO_INCLUDES:?} -c "$tmp/t.c" \
      -o "$tmp/t.o" 2>"$tmp/err"; then
      echo "fanout/$name does not compile alone (${std:-default C}):" >&2
      cat "$tmp/err" >&2
      exit 1
    fi
  done
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no headers given" >&2; exit 1; }
echo "$n headers each compile alone, in default C and C99"
