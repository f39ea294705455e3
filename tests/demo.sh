#!/bin/sh
# fanout-demo's command line: help and version succeed, usage errors exit 2, cpus prints the
# library's count (the same number as nproc, or fewer under a cgroup quota).
set -u
demo=${DEMO:-./fanout-demo}
fail=0
expect() { # expected-status description command...
  want=$1 what=$2
  shift 2
  "$@" >/dev/null 2>&1
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want" >&2
    fail=1
  fi
}
expect 0 "--help" "$demo" --help
expect 0 "--version" "$demo" --version
expect 2 "no command" "$demo"
expect 2 "unknown command" "$demo" frobnicate
expect 2 "stray argument" "$demo" cpus extra
expect 0 "cpus --help" "$demo" cpus --help
"$demo" --version | grep -q '^fanout-demo [0-9]' || { echo "FAIL: version line" >&2; fail=1; }
n=$("$demo" cpus)
case "$n" in
  '' | *[!0-9]*) echo "FAIL: cpus printed '$n'" >&2; fail=1 ;;
  *) [ "$n" -ge 1 ] && [ "$n" -le "$(nproc)" ] || { echo "FAIL: cpus $n vs nproc $(nproc)" >&2; fail=1; } ;;
esac
exit $fail
