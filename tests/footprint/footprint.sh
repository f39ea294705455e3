#!/usr/bin/env bash
# `make footprint`: what fanout costs on a board, printed as the table README.md shows.
#   footprint.sh SRCDIR BUILDDIR
#
# - Code and data of each object of libfanout.a built for aarch64-linux-gnu with -Os
#   (aarch64-linux-gnu-size), for the core (--without-curl) and the whole library.
# - What a program that uses one module pays: a minimal program per module (module.c) linked
#   statically for aarch64 and for mips-linux-gnu (32-bit, big-endian; core only), and the bytes
#   of libfanout.a its link map shows were pulled in (pulled.awk).
# - The stack each worker thread gets with the library's defaults, read by the thread itself
#   on aarch64 (a static probe run under qemu-aarch64-static).
# - The demo's peak resident memory (VmHWM at its exit, under ptrace): a static -Os build for
#   this machine, since under qemu the figure would be the emulator's.
#
# The builds live in BUILDDIR/footprint/ and are configured once; later runs only rebuild. The
# cross prefix (the target's libcurl on mbedTLS) comes from `./quickstart deps --host=...`,
# which is cached.
#
# configure refuses to build out of a source tree that is itself configured, which it is after
# `./configure && make` in place. Then the builds configure from a clean copy instead,
# BUILDDIR/footprint/src, made again by `make distdir` on every run: the files keep their times,
# so the builds still only rebuild what changed.
set -euo pipefail

src=$(cd "$1" && pwd)
top=$2/footprint
host=aarch64-linux-gnu
jobs=${JOBS:-2}
mkdir -p "$top"

mips='mips-linux-gnu'
for tool in "$host-gcc" "$host-size" "qemu-aarch64-static" "$mips-gcc"; do
  command -v "$tool" >/dev/null ||
    { echo "footprint: $tool is missing: run ./quickstart deps --host=$host and" \
      "./quickstart deps --host=$mips" >&2; exit 1; }
done
tprefix=$("$src/quickstart" deps --host="$host" --print-prefix 2>/dev/null)
nprefix=$("$src/quickstart" deps --print-prefix 2>/dev/null)

# What the builds configure from: the source tree, or a clean copy of it when it is configured.
csrc=$src
if [ -f "$src/config.status" ]; then
  csrc=$top/src
  make -s -C "$2" distdir distdir="$csrc" >/dev/null ||
    { echo "footprint: make distdir failed in $2" >&2; exit 1; }
fi

# configure DIR ARGS...: once, then make keeps it current.
configure() {
  local dir=$top/$1
  shift
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ]; then
    (cd "$dir" && "$csrc/configure" -q "$@" >/dev/null 2>configure.err) ||
      { cat "$dir/configure.err" >&2; echo "footprint: configure failed in $dir" >&2; exit 1; }
  fi
}
cross_pc="$tprefix/lib/pkgconfig:/usr/lib/$host/pkgconfig:/usr/share/pkgconfig"
PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$cross_pc configure core --host="$host" --without-curl \
  --disable-demo CFLAGS=-Os
PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$cross_pc configure whole --host="$host" --disable-demo \
  CFLAGS=-Os
PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=/nonexistent configure core-$mips --host="$mips" \
  --without-curl --disable-demo CFLAGS=-Os
PKG_CONFIG_PATH="$nprefix/lib/pkgconfig" configure native CFLAGS=-Os LDFLAGS=-static
make -s -C "$top/core" -j"$jobs" libfanout.a >/dev/null
make -s -C "$top/core-$mips" -j"$jobs" libfanout.a >/dev/null
make -s -C "$top/whole" -j"$jobs" libfanout.a >/dev/null
make -s -C "$top/native" -j"$jobs" fanout-demo >/dev/null

# The probes: the stack one for the target, the measuring one for this machine.
"$host-gcc" -Os -static -I"$src/include" -I"$top/whole/include" -o "$top/stack-$host" \
  "$src/tests/footprint/stack.c" "$top/whole/libfanout.a" -lpthread
${CC:-cc} -O2 -o "$top/peakrss" "$src/tests/footprint/peakrss.c"

# ---- sizes. "text" is code and read-only data (flash), "data" initialised data and "bss"
# zeroed data (RAM).
# The objects themselves, not the archive's members: the port's files share names with the
# core's (src/cpu/cpu.o, ports/linux/cpu.o). As many as the archive holds, or the tree is stale.
sizes() {
  local objs
  objs=$(cd "$1" && find src ports -name '*.o' ! -name 'libfanout_inject_a-*' | sort)
  [ "$(wc -w <<<"$objs")" = "$("$host-ar" t "$1/libfanout.a" | wc -l)" ] ||
    { echo "footprint: objects in $1 do not match libfanout.a" >&2; exit 1; }
  (cd "$1" && "$host-size" $objs) | awk 'NR > 1 { print $6, $1, $2, $3 }'
}
total() { awk '{ t += $2; d += $3; b += $4 } END { print t, d, b }'; }
line() { printf '| %-24s | %6s | %5s | %5s |\n' "$@"; }

echo "libfanout.a for $host, -Os ($("$host-gcc" -dumpfullversion)), bytes:"
echo
line object text data bss
line ------------------------ -----: ----: ----:
core=$(sizes "$top/core")
whole=$(sizes "$top/whole")
while read -r obj t d b; do
  line "$obj" "$t" "$d" "$b"
done < <(sort <<<"$whole")
read -r t d b < <(total <<<"$core")
line "core (without curl)" "$t" "$d" "$b"
read -r t d b < <(total <<<"$whole")
line "whole" "$t" "$d" "$b"
read -r t d b < <(host=$mips sizes "$top/core-$mips" | total)
line "core, $mips" "$t" "$d" "$b"
echo

# ---- per module: pulled TRIPLET TREE MODULE LIBS...: the module's minimal program linked
# statically against TREE's libfanout.a; prints the archive's "text data bss" in it.
pulled() {
  local triplet=$1 tree=$2 module=$3
  shift 3
  local exe=$top/module-$triplet-$module
  "$triplet-gcc" -Os -static -I"$src/include" -I"$tree/include" -DFP_MODULE_"$module" \
    -o "$exe" "$src/tests/footprint/module.c" "$tree/libfanout.a" "$@" -lpthread \
    -Wl,-Map="$exe.map" 2>"$exe.log" ||
    { cat "$exe.log" >&2; echo "footprint: $module does not link for $triplet" >&2; exit 1; }
  awk -f "$src/tests/footprint/pulled.awk" "$exe.map"
}
curl_static=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$cross_pc pkg-config --static --libs libcurl)
echo "What a program using one module links in: bytes of libfanout.a in a minimal static program"
echo "(-Os; each also names fo_strerror):"
echo
mrow() { printf '| %-22s | %12s | %5s | %5s | %9s | %5s | %5s |\n' "$@"; }
mrow module "${host%%-*} text" data bss "${mips%%-*} text" data bss
mrow ---------------------- -----------: ----: ----: --------: ----: ----:
for m in "TPOOL:thread pool" "PPOOL:process pool" "QUEUE:message queue" "PIPE:pipe" \
  "SHM:shared memory" "SHMDICT:shared dict" "PROC:process" "JSON:JSON" "SAT:satellites" \
  "FETCH:fetch (libcurl)"; do
  IFS=: read -r id name <<<"$m"
  if [ "$id" = FETCH ]; then
    # shellcheck disable=SC2086
    read -r t d b < <(pulled "$host" "$top/whole" "$id" $curl_static)
    mrow "$name" "$t" "$d" "$b" - - -
  else
    read -r t d b < <(pulled "$host" "$top/core" "$id")
    read -r mt md mb < <(pulled "$mips" "$top/core-$mips" "$id")
    mrow "$name" "$t" "$d" "$b" "$mt" "$md" "$mb"
  fi
done
echo
echo "libfanout.a for $mips has no fetcher here: Debian has no mbedTLS for it to build libcurl on."
echo

# ---- stacks
echo "Stack reserved per worker thread (library defaults, read by the thread on $host):"
echo
row() { printf '| %-16s | %12s | %13s | %9s |\n' "$@"; }
row pool "default KiB" "reserved KiB" "guard KiB"
row ---------------- ----------: -----------: --------:
while read -r what asked size guard; do
  case $what in
    tpool) what='fo_tpool' ;;
    fetch) what="fo_fetcher's own" ;;
  esac
  row "$what" $((asked / 1024)) $((size / 1024)) $((guard / 1024))
done < <(qemu-aarch64-static "$top/stack-$host")
echo
echo "Reserved: what the thread got; a default below PTHREAD_STACK_MIN is raised to it."
echo "Process-pool workers are processes (fork), not threads: no stack is reserved for them."
echo

# ---- the demo
echo "fanout-demo peak resident memory (VmHWM at exit, static -Os, $(uname -m)):"
echo
printf '| %-24s | %9s |\n' command "VmHWM KiB"
printf '| %-24s | %9s |\n' ------------------------ --------:
# The lesson's commands that need no network, with their defaults (the parent's memory; map's,
# counter's and queue's children are the same program forked).
for cmd in "cpus" "map" "counter" "queue" "threads"; do
  read -r kb status < <("$top/peakrss" "$top/native/fanout-demo" $cmd)
  [ "$status" = 0 ] || { echo "footprint: fanout-demo $cmd exited with $status" >&2; exit 1; }
  printf '| %-24s | %9s |\n' "fanout-demo $cmd" "$kb"
done
