# quickstart deps for what Debian 12 has no package for, built from Debian's sources into the
# dependency cache: mbedTLS 3.6 LTS from Debian 13's source (--tls=mbedtls3), and for the board
# targets Debian 12 has no multiarch for (mips-linux-gnu, x86_64-linux-musl, mips-linux-musl) the
# whole stack in one prefix: musl for mips, Check, zlib, nghttp2, mbedTLS and libcurl, each static,
# all built by one staged build (deps.sh's staged_build). Sourced by ./quickstart.
# shellcheck shell=bash

# ---------------------------------------------------------------- the targets
# Targets whose stack is built from source (1) or comes from Debian's multiarch packages (0).
from_source() {
  case "$1" in
    mips-linux-gnu | "$(uname -m)-linux-musl" | mips-linux-musl) return 0 ;;
    *) return 1 ;;
  esac
}

# The toolchain of a target, for the builds below: tc_cc, tc_ar, tc_ranlib (what the sources'
# own build systems are given), tc_conf (Check's and libcurl's configure: --host or CC), and
# tc_cflags. Boards build with -Os, as OpenWrt does; the build machine with Debian's -O2. All of
# it position-independent, so it also links into shared objects.
tc_setup() {
  tc_cflags="-O2 -fPIC"
  case "${host:-}" in
    '') tc_cc=gcc tc_ar=ar tc_ranlib=ranlib tc_conf=() ;;
    "$(uname -m)-linux-musl")
      tc_cc=musl-gcc tc_ar=ar tc_ranlib=ranlib tc_conf=("CC=musl-gcc") tc_cflags="-Os -fPIC"
      ;;
    *)
      tc_cc=$host-gcc tc_ar=$host-ar tc_ranlib=$host-ranlib tc_conf=("--host=$host")
      if from_source "$host"; then tc_cflags="-Os -fPIC"; fi
      ;;
  esac
}

# ---------------------------------------------------------------- Debian 13's sources
# apt-get source for Debian 13 (trixie) needs a deb-src entry for it: it lives in the cache with
# its own index, so the machine's apt sources and lists stay as they are.
# On mbedTLS 3.6, libcurl is Debian 13's too (8.14): Debian 12's curl 7.88.1 cannot work there,
# as it calls mbedtls_ssl_setup() before mbedtls_ssl_conf_rng(), and mbedTLS 3.6 refuses a
# configuration without its random generator at setup (MBEDTLS_ERR_SSL_NO_RNG: "mbedTLS:
# ssl_init failed" on every HTTPS request). curl 8 sets the generator first, calls
# psa_crypto_init() as TLS 1.3 needs, and negotiates TLS 1.3 where 7.88.1 stops at 1.2.
trixie_dir() { printf '%s/apt-trixie\n' "$cache"; }
trixie_apt() {
  local tool=$1 d
  shift
  d=$(trixie_dir)
  "$tool" -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" "$@"
}

# The Debian mirror the machine already uses (its first entry for the main archive), so no host
# is named here beyond Debian's own default.
debian_uri() {
  local u
  u=$(sed -n 's|^URIs: *\([^ ]*/debian\)/\{0,1\} *$|\1|p' /etc/apt/sources.list.d/*.sources \
    2>/dev/null | head -n1)
  [ -n "$u" ] || u=$(sed -n 's|^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*/debian\)/\{0,1\} .*|\2|p' \
    /etc/apt/sources.list 2>/dev/null | head -n1)
  printf '%s\n' "${u:-http://deb.debian.org/debian}"
}

trixie_updated=0
trixie_update() {
  [ "$trixie_updated" -eq 0 ] || return 0
  local d uri
  d=$(trixie_dir)
  uri=$(debian_uri)
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' \
    "$uri" >"$d/sources.list"
  log "reading Debian 13's source index from $uri (private apt configuration in $d)"
  trixie_apt apt-get update >>"$apt_log" 2>&1 ||
    die "cannot read Debian 13's source index from $uri: mbedTLS 3.6 is built from it (see $apt_log)"
  trixie_updated=1
  mbedtls_ver=$(trixie_version mbedtls)
  curl3_ver=$(trixie_version curl)
  [ -n "$mbedtls_ver" ] && [ -n "$curl3_ver" ] ||
    die "$uri serves no Debian 13 source of mbedtls or curl (apt-get source mbedtls/trixie, curl/trixie)"
}

# served_version PACKAGE [trixie]: the newest version of PACKAGE's source, in Debian 12's index
# or Debian 13's, that the mirror really serves (an index may name a point release or security
# update whose files the mirror does not hold yet): each version's .dsc, a few kilobytes, is
# fetched until one comes.
served_version() {
  local pkg=$1 apt=() v uri tmp
  [ "${2:-}" != trixie ] || apt=(trixie_apt)
  tmp=$(mktemp -d)
  for v in $("${apt[@]}" apt-cache showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p' |
    sort -u -V -r); do
    uri=$(cd "$tmp" && "${apt[@]}" apt-get source --print-uris "$pkg=$v" 2>/dev/null |
      sed -n "s/^'\([^']*\.dsc\)' .*/\1/p")
    if [ -n "$uri" ] && /usr/lib/apt/apt-helper download-file "$uri" "$tmp/dsc" >/dev/null 2>&1; then
      rm -rf "$tmp"
      printf '%s\n' "$v"
      return 0
    fi
  done
  rm -rf "$tmp"
}
trixie_version() { served_version "$1" trixie; }

# fetch_source DIR PACKAGE[=VERSION] NAME-GLOB [trixie]: Debian's source of PACKAGE (without a
# version: the newest the mirror serves) unpacked, Debian's patches applied, into DIR; prints
# the source tree.
fetch_source() {
  local dir=$1 pkg=$2 glob=$3 from=${4:-} which="Debian 12's" apt=() v
  [ -z "$from" ] || which="Debian 13's" apt=(trixie_apt)
  if [ "$pkg" = "${pkg%%=*}" ] && [ -z "$from" ]; then
    v=$(served_version "$pkg")
    [ -z "$v" ] || pkg=$pkg=$v
  fi
  local name=${pkg%%=*}
  log "fetching $which $name source"
  (cd "$dir" && "${apt[@]}" apt-get source -qq "$pkg" >"$dir/$name-source.log" 2>&1) ||
    die "apt-get source $pkg failed ($(grep -m1 '^E:' "$dir/$name-source.log" || echo "no error line")): \
it needs dpkg-dev and Debian's deb-src entry${from:+ for $from} reachable"
  local t
  t=$(find "$dir" -maxdepth 1 -mindepth 1 -type d -name "$glob" | head -n1)
  [ -n "$t" ] || die "no $glob source directory after apt-get source $pkg"
  printf '%s\n' "$t"
}

# ---------------------------------------------------------------- the builds
# build_log DIR NAME COMMAND...: COMMAND in DIR, its output in DIR/NAME.log, the end of that
# shown when it fails.
build_log() {
  local dir=$1 name=$2
  shift 2
  (cd "$dir" && "$@") >"$dir/$name.log" 2>&1 || {
    tail -n 30 "$dir/$name.log" >&2
    return 1
  }
}

# mbedtls_compile SRC ROOT: mbedTLS from Debian 13's source, its three static libraries and
# headers into ROOT (the stage of the prefix), with mbedTLS's own Makefile (the release carries
# its generated files: no cmake or python needed). Threads on, as Debian builds it: libcurl's
# resolver and fanout's pool use one mbedTLS from many threads.
mbedtls_compile() {
  local src=$1 root=$2 dir cfg
  dir=$(fetch_source "$src" "mbedtls=$mbedtls_ver" 'mbedtls-*' trixie)
  cfg=$dir/include/mbedtls/mbedtls_config.h
  sed -i -e 's|^//\(#define MBEDTLS_THREADING_C\)$|\1|' \
    -e 's|^//\(#define MBEDTLS_THREADING_PTHREAD\)$|\1|' "$cfg"
  [ "$(grep -c -E '^#define MBEDTLS_THREADING_(C|PTHREAD)$' "$cfg")" -eq 2 ] ||
    die "could not turn on mbedTLS's threading in $cfg"
  log "building mbedTLS $mbedtls_ver for ${host:-this machine}"
  build_log "$dir/library" make make -j"$jobs" CC="$tc_cc" AR="$tc_ar" CFLAGS="$tc_cflags" \
    static || die "mbedTLS build failed"
  mkdir -p "$root/include" "$root/lib"
  cp -R "$dir/include/mbedtls" "$dir/include/psa" "$root/include/"
  cp "$dir/library/libmbedtls.a" "$dir/library/libmbedx509.a" "$dir/library/libmbedcrypto.a" \
    "$root/lib/"
}

# zlib_compile SRC ROOT PREFIX: Debian 12's zlib, static, into ROOT, with the zlib.pc that
# libcurl 8's libcurl.pc requires (naming PREFIX, where ROOT ends up).
zlib_compile() {
  local src=$1 root=$2 prefix=$3 dir
  dir=$(fetch_source "$src" zlib 'zlib-*')
  log "building zlib for $host"
  build_log "$dir" configure env CC="$tc_cc" AR="$tc_ar" RANLIB="$tc_ranlib" \
    CFLAGS="$tc_cflags" ./configure --static --prefix=/ || die "zlib configure failed"
  build_log "$dir" make make -j"$jobs" libz.a || die "zlib build failed"
  mkdir -p "$root/include" "$root/lib"
  cp "$dir/zlib.h" "$dir/zconf.h" "$root/include/" && cp "$dir/libz.a" "$root/lib/"
  mkdir -p "$root/lib/pkgconfig"
  # shellcheck disable=SC2016 # the .pc file's own variables
  printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: zlib\nDescription: zlib compression library\nVersion: %s\nLibs: -L${libdir} -lz\nCflags: -I${includedir}\n' \
    "$prefix" "$(sed -n 's/^#define ZLIB_VERSION "\(.*\)"/\1/p' "$dir/zlib.h")" >"$root/lib/pkgconfig/zlib.pc"
}

# nghttp2_compile SRC ROOT PREFIX: Debian 12's nghttp2, its library alone, static, into ROOT with
# a libnghttp2.pc naming PREFIX (where ROOT ends up), by which libcurl finds it and which its own
# .pc then requires. Debian's source carries no configure (Debian runs autoreconf, which needs
# libtool, and configure wants a C++ compiler for the programs): the library is plain C whose
# only build settings are the four system headers and calls below and its version header, so
# it is compiled here directly, like mbedTLS's library with its Makefile.
nghttp2_compile() {
  local src=$1 root=$2 prefix=$3 dir ver num f
  dir=$(fetch_source "$src" nghttp2 'nghttp2-*')
  ver=$(sed -n 's/^AC_INIT(\[nghttp2\], \[\([0-9.]*\)\].*/\1/p' "$dir/configure.ac")
  [ -n "$ver" ] || die "no version in nghttp2's configure.ac"
  # 1.52.0 -> 0x013400, as its configure computes NGHTTP2_VERSION_NUM
  # shellcheck disable=SC2046 # the three parts of the version
  num=$(printf '0x%02x%02x%02x' $(printf '%s\n' "$ver" | tr . ' '))
  sed -e "s/@PACKAGE_VERSION@/$ver/" -e "s/@PACKAGE_VERSION_NUM@/$num/" \
    "$dir/lib/includes/nghttp2/nghttp2ver.h.in" >"$dir/lib/includes/nghttp2/nghttp2ver.h"
  log "building nghttp2 $ver's library for $host"
  mkdir -p "$dir/lib/obj"
  for f in "$dir"/lib/*.c; do
    build_log "$dir/lib" "cc-$(basename "$f" .c)" "$tc_cc" $tc_cflags -DBUILDING_NGHTTP2 \
      -DHAVE_ARPA_INET_H=1 -DHAVE_NETINET_IN_H=1 -DHAVE_TIME_H=1 -DHAVE_CLOCK_GETTIME=1 \
      -Iincludes -c "$f" -o "obj/$(basename "$f" .c).o" || die "nghttp2 build failed ($f)"
  done
  (cd "$dir/lib" && "$tc_ar" rcs libnghttp2.a obj/*.o) || die "nghttp2 archive failed"
  mkdir -p "$root/include/nghttp2" "$root/lib/pkgconfig"
  cp "$dir"/lib/includes/nghttp2/nghttp2.h "$dir"/lib/includes/nghttp2/nghttp2ver.h \
    "$root/include/nghttp2/" && cp "$dir/lib/libnghttp2.a" "$root/lib/" ||
    die "could not install nghttp2's library"
  # shellcheck disable=SC2016 # the .pc file's own variables
  printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: libnghttp2\nDescription: HTTP/2 C library\nVersion: %s\nLibs: -L${libdir} -lnghttp2\nCflags: -I${includedir}\n' \
    "$prefix" "$ver" >"$root/lib/pkgconfig/libnghttp2.pc"
}

# musl_compile SRC ROOT: musl for 32-bit big-endian MIPS from Debian 12's source, built by
# Debian's mips cross compiler, static only, into ROOT; then ROOT/bin holds mips-linux-musl-gcc
# (that compiler with musl's specs file, as musl's own musl-gcc wrapper does) and the binutils
# names configure looks for.
musl_compile() {
  local src=$1 root=$2 dir
  dir=$(fetch_source "$src" musl 'musl-*')
  log "building musl for $host"
  build_log "$dir" configure env CC=mips-linux-gnu-gcc CROSS_COMPILE=mips-linux-gnu- \
    CFLAGS=-Os ./configure --target=mips-linux-musl --prefix=/ --disable-shared \
    --disable-wrapper || die "musl configure failed"
  build_log "$dir" make make -j"$jobs" || die "musl build failed"
  build_log "$dir" install make install DESTDIR="$root" || die "musl install failed"
  cp "$dir/VERSION" "$root/lib/musl-version"
  # The specs name musl's directories through the environment (gcc's %:getenv), which the
  # wrapper sets from where it lies: the prefix is built in a stage and then renamed, and works
  # from both places.
  # A getenv's value and the text after it are separate words to gcc, so each file's whole path
  # goes in the call, and -L takes its directory as the next word.
  sh "$dir/tools/musl-gcc.specs.sh" @INC@ @LIB@ /lib/ld-musl-mips.so.1 | sed -e 's|-L@LIB@|-L @LIB@|g' \
    -e 's|@LIB@/\([A-Za-z0-9_.]*\)|%:getenv(FO_MUSL_PREFIX /lib/\1)|g' \
    -e 's|@LIB@|%:getenv(FO_MUSL_PREFIX /lib)|g' -e 's|@INC@|%:getenv(FO_MUSL_PREFIX /include)|g' \
    >"$root/lib/musl-gcc.specs" || die "could not write musl's specs file"
  mkdir -p "$root/bin"
  # Links are static unless -shared: this prefix has no shared musl, and qemu-user runs static
  # programs only.
  cat >"$root/bin/mips-linux-musl-gcc" <<'SH'
#!/bin/sh
# Debian's mips-linux-gnu-gcc compiling and linking against the musl beside this script.
FO_MUSL_PREFIX=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export FO_MUSL_PREFIX
static=-static
for a; do [ "$a" = -shared ] && static=; done
exec mips-linux-gnu-gcc "$@" $static -specs "$FO_MUSL_PREFIX/lib/musl-gcc.specs"
SH
  chmod 755 "$root/bin/mips-linux-musl-gcc"
  ln -sf mips-linux-musl-gcc "$root/bin/mips-linux-musl-cc"
  local t p
  for t in ar ranlib nm strip objdump objcopy readelf size strings ld as addr2line; do
    p=$(command -v "mips-linux-gnu-$t") || die "mips-linux-gnu-$t not found: install binutils-mips-linux-gnu"
    ln -sf "$p" "$root/bin/mips-linux-musl-$t"
  done
}

# stack_stage STAGE PREFIX: everything a from-source target needs beside its compiler, in
# STAGE/root/PREFIX: musl (mips-linux-musl), Check, zlib, nghttp2; mbedTLS and libcurl follow in
# curl_stage.
stack_stage() {
  local stage=$1 prefix=$2 root=$1/root$2
  mkdir -p "$root"
  if [ "$host" = mips-linux-musl ]; then
    musl_compile "$stage/src" "$root"
    # the stage's compiler, for what follows
    PATH=$root/bin:$PATH
    command -v mips-linux-musl-gcc >/dev/null || die "no mips-linux-musl-gcc in $root/bin"
  fi
  check_compile "$stage" "$prefix" "${tc_conf[@]}"
  zlib_compile "$stage/src" "$root" "$prefix"
  nghttp2_compile "$stage/src" "$root" "$prefix"
}
