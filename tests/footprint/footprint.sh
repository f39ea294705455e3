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
# - OpenWrt's ABI (mips-linux-musl, the whole stack at -Os): the fetch objects, what each
#   archive gives a minimal program that uses only the fetcher (pulled_by.awk), the static demo,
#   and the peak resident memory of `fanout-demo get` writing 64 MiB to a file under qemu.
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
# OpenWrt's ABI: its prefix's bin/ holds mips-linux-musl-gcc and the binutils under its names.
mm=mips-linux-musl
mmprefix=$("$src/quickstart" deps --host="$mm" --print-prefix 2>/dev/null) ||
  { echo "footprint: run ./quickstart deps --host=$mm" >&2; exit 1; }
PATH=$mmprefix/bin:$PATH
for tool in "$mm-gcc" "$mm-size" "$mm-strip" qemu-mips-static python3; do
  command -v "$tool" >/dev/null || { echo "footprint: $tool is missing" >&2; exit 1; }
done
mm_pc=$mmprefix/lib/pkgconfig
mm_libs=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$mm_pc pkg-config --static --libs libcurl)
mm_curl=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$mm_pc pkg-config --modversion libcurl)
mm_h2=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$mm_pc pkg-config --modversion libnghttp2)
mm_tls=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$mmprefix/include/mbedtls/build_info.h")
mm_musl=$(cat "$mmprefix/lib/musl-version" 2>/dev/null || echo "(Debian 12's)")

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
PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$mm_pc configure "whole-$mm" --host="$mm" CFLAGS=-Os \
  LDFLAGS=-static
make -s -C "$top/whole-$mm" -j"$jobs" libfanout.a fanout-demo >/dev/null

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
line() { printf '| %-26s | %6s | %5s | %5s |\n' "$@"; }

echo "libfanout.a for $host, -Os ($("$host-gcc" -dumpfullversion)), bytes:"
echo
line object text data bss
line -------------------------- -----: ----: ----:
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
echo "The fetcher on 32-bit MIPS: see mips-linux-musl below."
echo

# ---- OpenWrt's ABI: mips-linux-musl with the fetcher, its whole stack at -Os (musl, zlib,
# nghttp2, mbedTLS 3.6 and libcurl from ./quickstart deps --host=mips-linux-musl, whose bin/
# holds the compiler).
echo "OpenWrt's ABI, $mm at -Os: musl $mm_musl, mbedTLS $mm_tls, nghttp2 $mm_h2, libcurl $mm_curl,"
echo "bytes:"
echo
fline() { printf '| %-40s | %8s | %6s | %6s |\n' "$@"; }
fline "what" text data bss
fline ---------------------------------------- -------: -----: -----:
read -r t d b < <(cd "$top/whole-$mm" && "$mm-size" src/fetch/*.o | awk 'NR > 1 { print $6, $1, $2, $3 }' | total)
fline "fetch objects of libfanout.a (all)" "$t" "$d" "$b"
# The minimal program that uses only the fetcher, and what each archive gave it.
fexe=$top/fetch-only-$mm
"$mm-gcc" -Os -static -I"$src/include" -I"$top/whole-$mm/include" -DFP_MODULE_FETCH \
  -o "$fexe" "$src/tests/footprint/module.c" "$top/whole-$mm/libfanout.a" $mm_libs \
  -Wl,-Map="$fexe.map" 2>"$fexe.log" ||
  { cat "$fexe.log" >&2; echo "footprint: the fetch-only program does not link for $mm" >&2; exit 1; }
while read -r name t d b; do
  case $name in
    'libfanout.a(fetch)') name="fanout's fetch objects, as linked" ;;
    'libfanout.a(rest)') name="fanout's other objects, as linked" ;;
    objects) name="start files, the program's own, the GOT" ;;
    *) name="$name, as linked" ;;
  esac
  fline "$name" "$t" "$d" "$b"
done < <(awk -f "$src/tests/footprint/pulled_by.awk" "$fexe.map")
read -r t d b < <("$mm-size" "$fexe" | awk 'NR > 1 { print $1, $2, $3 }')
"$mm-strip" -o "$fexe.stripped" "$fexe"
fline "minimal program using only the fetcher" "$t" "$d" "$b"
fline "  its file, stripped" "$(wc -c <"$fexe.stripped")" "" ""
read -r t d b < <("$mm-size" "$top/whole-$mm/fanout-demo" | awk 'NR > 1 { print $1, $2, $3 }')
"$mm-strip" -o "$top/fanout-demo-$mm.stripped" "$top/whole-$mm/fanout-demo"
fline "fanout-demo, static" "$t" "$d" "$b"
fline "  its file, stripped" "$(wc -c <"$top/fanout-demo-$mm.stripped")" "" ""
echo

# Peak resident memory of `fanout-demo get` writing 64 MiB to a file, from nginx on loopback,
# under qemu-mips-static: the figure is the emulator's process, so the same emulator running
# `fanout-demo --version` is given beside it.
rss=$top/rss-$mm
rm -rf "$rss" && mkdir -p "$rss/html" "$rss/tmp"
head -c $((64 << 20)) /dev/urandom >"$rss/html/64m.bin"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"
cat >"$rss/nginx.conf" <<NGX
daemon off; worker_processes 1; pid $rss/nginx.pid; error_log $rss/error.log; $user
events { worker_connections 16; }
http {
  access_log off; client_body_temp_path $rss/tmp; proxy_temp_path $rss/tmp;
  fastcgi_temp_path $rss/tmp; uwsgi_temp_path $rss/tmp; scgi_temp_path $rss/tmp;
  server { listen 127.0.0.1:$port; root $rss/html; }
}
NGX
"${FO_NGINX:-/usr/sbin/nginx}" -p "$rss" -c "$rss/nginx.conf" -e "$rss/error.log" &
ngx=$!
for _ in $(seq 100); do [ -f "$rss/nginx.pid" ] && break; sleep 0.1; done
read -r kb_get st_get < <("$top/peakrss" "$(command -v qemu-mips-static)" "$top/whole-$mm/fanout-demo" \
  get --output "$rss/out.bin" "http://127.0.0.1:$port/64m.bin")
kill "$ngx" 2>/dev/null; wait "$ngx" 2>/dev/null || true
[ "$st_get" = 0 ] && cmp -s "$rss/html/64m.bin" "$rss/out.bin" ||
  { echo "footprint: fanout-demo get under qemu exited with $st_get or wrote another file" >&2; exit 1; }
read -r kb_ver _ < <("$top/peakrss" "$(command -v qemu-mips-static)" "$top/whole-$mm/fanout-demo" --version)
rm -rf "$rss"
echo "Peak resident memory under qemu-mips-static (VmHWM of the emulator's process, KiB):"
echo
printf '| %-48s | %9s |\n' command "VmHWM KiB"
printf '| %-48s | %9s |\n' ------------------------------------------------ --------:
printf '| %-48s | %9s |\n' "fanout-demo get, 64 MiB from nginx to a file" "$kb_get"
printf '| %-48s | %9s |\n' "fanout-demo --version (the emulator's own floor)" "$kb_ver"
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
