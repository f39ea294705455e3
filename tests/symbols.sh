#!/bin/sh
# Every symbol libfanout.a defines for the linker starts with fo_ (public) or fo__ (internal):
# a static library exports everything that is not static, so a stray name would collide with
# the firmware it is linked into. And it calls no libatomic function: those stand in for
# atomics the target cannot do in instructions, with locks private to each process, so they are
# wrong on memory shared between processes (src/base/base_internal.h).
set -eu
lib=${1:-./libfanout.a}
nm=${NM:-nm}
bad=$($nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | grep -v '^fo_' || true)
count=$($nm -g --defined-only "$lib" | awk 'NF == 3' | wc -l)
if [ -n "$bad" ]; then
  echo "symbols without the fo_ prefix in $lib:" >&2
  echo "$bad" >&2
  exit 1
fi
[ "$count" -gt 0 ] || { echo "no symbols found in $lib" >&2; exit 1; }
libatomic=$($nm -u "$lib" | awk '{ print $NF }' | grep '^__atomic_' | sort -u || true)
if [ -n "$libatomic" ]; then
  echo "$lib calls libatomic (atomics that are not lock-free on this target):" >&2
  echo "$libatomic" >&2
  exit 1
fi
echo "$count symbols, all prefixed fo_; no libatomic calls"
