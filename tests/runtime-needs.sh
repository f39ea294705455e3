#!/bin/sh
# The shared libraries a program linked with libfanout.a, without -static, needs at run time are
# exactly the ones README.md lists under "What a program needs at run time": no libcurl.so,
# nothing more, nothing missing. The list is read from that table, so the README and this test
# cannot drift apart.
#   tests/runtime-needs.sh core|fetch BINARY...
# core: fanout built --without-curl (the rows marked "always"); fetch: with libcurl (every row).
# NEEDED (readelf -d) is compared by library name (libmbedtls); on Debian 12, whose sonames the
# table gives, by soname too (libmbedtls.so.14). ldd must then find every one, and nothing else
# but the dynamic loader.
set -eu
mode=$1
shift
readme=$(dirname "$0")/../README.md
fail() {
  echo "runtime-needs: $*" >&2
  exit 1
}
[ -f "$readme" ] || fail "no $readme"
case $mode in core | fetch) ;; *) fail "core or fetch, not '$mode'" ;; esac

# The table's rows: | `name` | `soname` | package | needed for | with |
rows=$(awk '
  /^### What a program needs at run time/ { on = 1; next }
  on && /^#/ { exit }
  on && /^\| `lib/ { print }' "$readme" |
  awk -F'|' -v mode="$mode" '{
    for (i = 2; i <= 6; i++) { gsub(/^ +| +$|`/, "", $i) }
    if ($6 == "always" || mode == "fetch") print $2, $3 }')
[ -n "$rows" ] || fail "no table under '### What a program needs at run time' in $readme"
want_names=$(echo "$rows" | cut -d' ' -f1 | sort)
want_sonames=$(echo "$rows" | cut -d' ' -f2 | sort)
debian12=no
# shellcheck disable=SC1091 # the machine's own, read only to know its release
if [ -r /etc/os-release ] &&
  (. /etc/os-release && [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]); then
  debian12=yes
fi

# show LABEL LIST: one line, for messages
show() { echo "$1: $(echo "$2" | tr '\n' ' ')"; }

for bin in "$@"; do
  [ -x "$bin" ] || fail "$bin is not a program"
  sonames=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
  names=$(echo "$sonames" | sed 's/\.so.*//' | sort)
  if [ "$names" != "$want_names" ]; then
    show "$bin needs" "$sonames" >&2
    show "README.md lists" "$want_names" >&2
    fail "$bin: NEEDED differs from README.md's list"
  fi
  if [ "$debian12" = yes ] && [ "$sonames" != "$want_sonames" ]; then
    show "$bin needs" "$sonames" >&2
    show "README.md lists" "$want_sonames" >&2
    fail "$bin: the sonames differ from README.md's Debian 12 column"
  fi
  # ldd: each found, and nothing pulled in beyond the list (a library's own dependencies
  # included) but the dynamic loader and the kernel's vDSO.
  out=$(ldd "$bin") || fail "ldd $bin failed: $out"
  if echo "$out" | grep -q 'not found'; then
    echo "$out" >&2
    fail "$bin: a library it needs is not found"
  fi
  loaded=$(echo "$out" | awk '$2 == "=>" { print $1 }' | sort)
  if [ "$loaded" != "$sonames" ]; then
    echo "$out" >&2
    fail "$bin: ldd loads more than its NEEDED list"
  fi
  echo "runtime-needs: $bin: $(echo "$sonames" | tr '\n' ' ')"
done
