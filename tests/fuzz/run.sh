#!/bin/sh
# Run the JSON fuzzer for a bounded time on a seed corpus made at run time by the document
# generator (no data files in the tree). Findings go to fuzz-artifacts/ in the current
# directory; the growing corpus stays in fuzz-corpus/FUZZER so the next run starts where this
# ended.
#   run.sh FUZZER GEN_STARLINK SECONDS [DICT]
set -eu
fuzzer=$1 gen=$2 seconds=$3 dict=${4:-}
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT INT TERM
"$gen" corpus "$seeds"
corpus=fuzz-corpus/$(basename "$fuzzer")
mkdir -p "$corpus" fuzz-artifacts
set -- -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix=fuzz-artifacts/
[ -n "$dict" ] && set -- "$@" -dict="$dict"
# A single worker: the machines that run this are shared.
"$fuzzer" "$@" "$corpus" "$seeds"
