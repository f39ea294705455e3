#!/bin/sh
# fanout-demo's command line: help and version succeed, usage errors exit 2, cpus prints the
# library's count (the same number as nproc, or fewer under a cgroup quota), then the machine's.
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
# --version: the library's own report (fo_info_get), one item a line, as the man page shows it.
# FO_CURL_TLS is the TLS library configure found libcurl on ("none" without libcurl): the binary
# must run on that one, whatever libcurl the machine has.
ver=$("$demo" --version)
printf '%s\n' "$ver" | sed -n 1p | grep -q '^fanout-demo [0-9][0-9.]*$' || { echo "FAIL: version line: $ver" >&2; fail=1; }
printf '%s\n' "$ver" | grep -qx 'port \(linux\|posix\)' || { echo "FAIL: no port line: $ver" >&2; fail=1; }
case "${FO_CURL_TLS:-}" in
  none) want='fetch: not built' ;;
  '' | unknown) want='tls .*' ;;
  *) want="tls $FO_CURL_TLS/.*" ;;
esac
if [ "${FO_CURL_TLS:-}" != none ]; then
  printf '%s\n' "$ver" | grep -qx 'libcurl [0-9][0-9.]*' || { echo "FAIL: no libcurl line: $ver" >&2; fail=1; }
fi
printf '%s\n' "$ver" | grep -qx "$want" || { echo "FAIL: --version lacks '$want': $ver" >&2; fail=1; }
# http2: yes or no as configure found libcurl built (FO_CURL_HTTP2), the one linked in
case "${FO_CURL_TLS:-}:${FO_CURL_HTTP2:-}" in
  none:*) h2='' ;;
  *:yes | *:no) h2="http2 $FO_CURL_HTTP2" ;;
  *) h2='http2 \(yes\|no\)' ;;
esac
if [ -n "$h2" ]; then
  printf '%s\n' "$ver" | grep -qx "$h2" || { echo "FAIL: --version lacks '$h2': $ver" >&2; fail=1; }
elif printf '%s\n' "$ver" | grep -q '^http2'; then
  echo "FAIL: --version names http2 without libcurl: $ver" >&2; fail=1
fi
cpus=$("$demo" cpus)
n=$(printf '%s\n' "$cpus" | sed -n 1p)
case "$n" in
  '' | *[!0-9]*) echo "FAIL: cpus printed '$n'" >&2; fail=1 ;;
  *) [ "$n" -ge 1 ] && [ "$n" -le "$(nproc)" ] || { echo "FAIL: cpus $n vs nproc $(nproc)" >&2; fail=1; } ;;
esac
# The second line is the machine's total: CPUs online, at least the usable count.
total=$(printf '%s\n' "$cpus" | sed -n 's/^total \([0-9][0-9]*\)$/\1/p')
online=$(getconf _NPROCESSORS_ONLN)
if [ "$total" != "$online" ] || [ "$(printf '%s\n' "$cpus" | wc -l)" -ne 2 ]; then
  echo "FAIL: cpus printed '$cpus', expected the usable count then 'total $online'" >&2
  fail=1
elif [ "$n" -gt "$total" ] 2>/dev/null; then
  echo "FAIL: cpus: usable $n above total $total" >&2
  fail=1
fi
# Held to one CPU by its affinity mask, it may use 1 while the machine keeps its total (the
# linux port reads the mask; the posix port has no portable way to).
first=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/status 2>/dev/null)
if [ -n "$first" ] && command -v taskset >/dev/null 2>&1 &&
  "$demo" --version | grep -qx 'port linux'; then
  one=$(taskset -c "$first" "$demo" cpus)
  [ "$one" = "$(printf '1\ntotal %s' "$online")" ] ||
    { echo "FAIL: cpus under taskset -c $first printed '$one'" >&2; fail=1; }
fi
exit $fail
