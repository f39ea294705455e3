#!/bin/sh
# Build the simdjson peer with g++ (simdjson is C++; nothing else of fanout is) and run it:
#   peer_simdjson.sh DIR FILE KERNEL ROUNDS FIELDS
# The program is kept in $TMPDIR (default /tmp) as fanout-peer-simdjson-UID and built again only
# when its source is newer. Debian: libsimdjson-dev, g++. Exits 127 when either is missing.
set -eu
dir=$1 file=$2 kernel=$3 rounds=$4 fields=$5
command -v g++ >/dev/null 2>&1 || exit 127
[ -r /usr/include/simdjson.h ] || exit 127
bin=${TMPDIR:-/tmp}/fanout-peer-simdjson-$(id -u)
if [ ! -x "$bin" ] || [ "$dir/peer_simdjson.cpp" -nt "$bin" ]; then
  trap 'rm -f "$bin.$$"' EXIT INT TERM
  g++ -O3 -std=c++17 -o "$bin.$$" "$dir/peer_simdjson.cpp" -lsimdjson
  mv "$bin.$$" "$bin"
fi
exec "$bin" "$file" "$kernel" "$rounds" "$fields"
