# quickstart deps: the dependency cache. libcurl on mbedTLS (with the target's zlib for a cross
# build) and, for core-only targets, Check, each built from Debian's source into a prefix of
# the cache, staged and under one lock; the cross compilers and the target's multiarch
# packages; and cmd_deps itself. Sourced by ./quickstart.
# shellcheck shell=bash

# Bump when the libcurl build below changes, so a cache built another way is never reused
# (nghttp2: HTTP/2 is in; the static3 caches before it had none).
curl_tag=nghttp2-static4

# The targets --host knows, for the usage error and deb_arch.
known_hosts="aarch64-linux-gnu arm-linux-gnueabihf s390x-linux-gnu mipsel-linux-gnu \
mips-linux-gnu riscv64-linux-gnu $(uname -m)-linux-musl mips-linux-musl"

# Debian architecture of a target triplet ('' for a native build). musl is this machine's
# architecture with musl-gcc as the compiler; mips-linux-musl is musl built here for mips.
deb_arch() {
  case "${1:-}" in
    '') dpkg --print-architecture ;;
    aarch64-linux-gnu) echo arm64 ;;
    arm-linux-gnueabihf) echo armhf ;;
    s390x-linux-gnu) echo s390x ;;
    mipsel-linux-gnu) echo mipsel ;;
    mips-linux-gnu) echo mips ;;
    riscv64-linux-gnu) echo riscv64 ;;
    "$(uname -m)-linux-musl") echo "musl-$(dpkg --print-architecture)" ;;
    mips-linux-musl) echo musl-mips ;;
    *) die "unsupported --host '$1': use one of $known_hosts" ;;
  esac
}

# need_cc COMMAND PACKAGE: the compiler a package just installed is there, or one line saying
# which package brings it.
need_cc() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: install $2 (apt-get install $2)"
}

# The cross compiler, qemu to run the target's test programs, and the target's Check, mbedTLS
# and nghttp2 (libnghttp2-dev ships libnghttp2.a) from Debian's multiarch packages (arm64, armhf,
# s390x, mipsel). Debian 12 has no multiarch for
# mips or riscv64, and no musl libraries: for mips-linux-gnu, x86_64-linux-musl and
# mips-linux-musl the whole stack is built from Debian's sources (board.sh); riscv64 is core only:
# Check is built from source, its prefix printed, and deps ends here.
cross_deps() {
  local arch
  arch=$(deb_arch "$host")
  case "$host" in
    riscv64-linux-gnu)
      apt_what="cross builds for $host" apt_install "gcc-$host" "libc6-dev-$arch-cross" binutils \
        qemu-user-static file
      need_cc "$host-gcc" "gcc-$host"
      core_only_deps "$host-gcc" "--host=$host" "$arch"
      ;;
    mips-linux-gnu | mips-linux-musl)
      apt_what="cross builds for $host" apt_install gcc-mips-linux-gnu libc6-dev-mips-cross \
        binutils qemu-user-static file
      need_cc mips-linux-gnu-gcc gcc-mips-linux-gnu
      return 0
      ;;
    *-linux-musl)
      apt_what="musl builds" apt_install musl-tools
      need_cc musl-gcc musl-tools
      return 0
      ;;
  esac
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    need_root "adding Debian architecture $arch"
    log "adding Debian architecture $arch"
    sudo_ dpkg --add-architecture "$arch"
    apt_update
  fi
  local tls_pkg=("libmbedtls-dev:$arch")
  [ "$tls" = mbedtls2 ] || tls_pkg=()
  apt_what="cross builds for $host" apt_install "gcc-$host" "libc6-dev-$arch-cross" binutils \
    qemu-user-static file "check:$arch" "libnghttp2-dev:$arch" "${tls_pkg[@]}"
  need_cc "$host-gcc" "gcc-$host"
}

# A core-only target: Check built for it by CC (configure argument CONF), then its prefix
# printed and deps done.
core_only_deps() {
  local cc=$1 conf=$2 arch=$3 prefix
  command -v "$cc" >/dev/null || die "$cc not found after installing its package"
  ensure_deb_src
  prefix=$(check_prefix "$arch")
  build_check "$prefix" "$conf"
  log "$host: core only (configure --without-curl); Check for it in $prefix"
  print_prefix "$prefix"
  exit 0
}

check_prefix() {
  local ver
  ver=$(apt-cache showsrc check 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
  [ -n "$ver" ] || ver=unknown
  printf '%s/check-%s-%s\n' "$cache" "${ver//[:~+]/_}" "$1"
}

check_usable() { [ -f "$1/.complete" ] && [ -f "$1/lib/libcheck.a" ]; }

# Check from Debian's own source, static, for the target; its check.pc names -lcheck_pic, the
# shared flavour's library, which a static-only build does not have: it is fixed to -lcheck.
build_check() {
  local prefix=$1
  if check_usable "$prefix"; then
    log "Check already built in $prefix"
    return 0
  fi
  staged_build "$prefix" check_usable check_compile "$2"
}

# check_compile STAGE PREFIX CONF: Check built for PREFIX, installed under STAGE/root.
check_compile() {
  local stage=$1 prefix=$2 conf=$3 src=$1/src
  local dir
  dir=$(fetch_source "$src" check 'check-*')
  log "building Check into $prefix"
  (
    cd "$dir"
    ./configure "$conf" --prefix="$prefix" --disable-shared --enable-static --disable-subunit \
      >"$src/configure.log" 2>&1 || { tail -n 30 "$src/configure.log" >&2; exit 1; }
    make -j"$jobs" SUBDIRS="lib src" >"$src/make.log" 2>&1 || { tail -n 30 "$src/make.log" >&2; exit 1; }
    make install SUBDIRS="lib src" DESTDIR="$stage/root" >"$src/install.log" 2>&1 ||
      { tail -n 20 "$src/install.log" >&2; exit 1; }
  ) || die "Check build failed"
  sed -i 's/-lcheck_pic/-lcheck/' "$stage/root$prefix/lib/pkgconfig/check.pc"
}

# curl-CURLVERSION-mbedtls-TAG-ARCH on Debian 12's mbedTLS 2.28, and
# curl-CURLVERSION-mbedtlsVERSION-TAG-ARCH on mbedTLS built here from Debian 13's source (with the
# whole stack for a from-source target).
curl_prefix() {
  local ver mver=""
  ver=$(apt-cache showsrc curl 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
  [ -n "$ver" ] || ver=unknown
  if [ "$tls" = mbedtls3 ]; then
    ver=$curl3_ver mver=${mbedtls_ver//[:~+]/_}
  fi
  printf '%s/curl-%s-mbedtls%s-%s-%s\n' "$cache" "${ver//[:~+]/_}" "$mver" "$curl_tag" \
    "$(deb_arch "$host")"
}

# A prefix is used only once complete: it appears by rename of a finished build, with the stamp.
curl_usable() {
  [ -f "$1/.complete" ] && [ -f "$1/lib/libcurl.a" ] && [ -f "$1/lib/pkgconfig/libcurl.pc" ]
}

# Debian's curl source into $1 (a new directory), Debian 13's on mbedTLS 3 (board.sh says why);
# prints the source tree.
curl_fetch_source() {
  local dir
  if [ "$tls" = mbedtls3 ]; then
    dir=$(fetch_source "$1" "curl=$curl3_ver" 'curl-*' trixie)
  else
    dir=$(fetch_source "$1" curl 'curl-*')
  fi
  # Debian renames the library for its GnuTLS and NSS flavours; undo that so the build yields a
  # plain libcurl.
  local p
  for p in 99_nss.patch 90_gnutls.patch ZZZgnutls-build.patch; do
    if [ -f "$dir/debian/patches/$p" ]; then
      (cd "$dir" && patch -R -s -p1 <"debian/patches/$p") || die "could not reverse $p"
    fi
  done
  printf '%s\n' "$dir"
}

# The target's zlib for a cross build: Debian's zlib1g-dev for the target, unpacked into DIR
# (not installed; DIR/root is the package's root). Installed through multiarch it needs the
# target's zlib1g at exactly the build machine's version, which a mirror that lags for one
# architecture (its security updates, say) cannot give; unpacked, the target's package of any
# version serves, as it is linked statically.
# Its headers and libz.a then go into the libcurl prefix, where libcurl's link line and fanout's
# configure find them.
zlib_unpack() {
  local dir=$1 deb
  mkdir -p "$dir/root"
  (cd "$dir" && apt-get download -qq "zlib1g-dev:$(deb_arch "$host")" >/dev/null 2>&1) ||
    die "apt-get download zlib1g-dev:$(deb_arch "$host") failed"
  deb=$(find "$dir" -maxdepth 1 -name 'zlib1g-dev_*.deb' | head -n1)
  [ -n "$deb" ] && dpkg-deb -x "$deb" "$dir/root" || die "could not unpack $deb"
  [ -f "$dir/root/usr/lib/$host/libz.a" ] || die "no libz.a for $host in $deb"
  # libz.so points into zlib1g, which is not unpacked: the linker must take libz.a
  rm -f "$dir/root/usr/lib/$host"/libz.so*
}

# curl_compile SRCDIR PREFIX DESTDIR [ZLIB]: libcurl on mbedTLS, HTTP/HTTPS/FILE only, HTTP/2
# through nghttp2, static only and position-independent (so it also links into shared objects),
# installed under DESTDIR; ZLIB is the root zlib_unpack made, for a cross build. With
# --tls=mbedtls3 or a from-source target, mbedTLS (and zlib) are those already built into
# DESTDIR/PREFIX; a from-source target's nghttp2 too, else it is Debian's libnghttp2-dev (the
# target's, through multiarch). The toolchain is tc_setup's.
curl_compile() {
  local dir=$1 prefix=$2 dest=$3 zlib=${4:-} tlsdir="" h2dir=""
  if [ "$tls" = mbedtls3 ] || from_source "$host"; then
    tlsdir=$dest$prefix
  fi
  if from_source "$host"; then
    h2dir=$dest$prefix
  fi
  (
    cd "$dir"
    ./buildconf >/dev/null 2>&1 || autoreconf -fi >/dev/null 2>&1 || true
    if [ -n "$zlib" ]; then
      export CPPFLAGS="-I$zlib/usr/include${CPPFLAGS:+ $CPPFLAGS}"
      export LDFLAGS="-L$zlib/usr/lib/$host${LDFLAGS:+ $LDFLAGS}"
    fi
    if [ -n "$tlsdir" ]; then
      export CPPFLAGS="-I$tlsdir/include${CPPFLAGS:+ $CPPFLAGS}"
      export LDFLAGS="-L$tlsdir/lib${LDFLAGS:+ $LDFLAGS}"
    fi
    # curl finds nghttp2 with pkg-config only; a cross build must read the target's .pc, not
    # the build machine's (--with-nghttp2=DIR reads DIR's alone)
    if [ -n "$host" ] && [ -z "$h2dir" ]; then
      export PKG_CONFIG_PATH="/usr/lib/$host/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    fi
    # only a from-source target names its compiler: the others keep configure's own choice
    if from_source "$host"; then
      export CC="$tc_cc" AR="$tc_ar" RANLIB="$tc_ranlib" CFLAGS="$tc_cflags"
    fi
    ./configure ${host:+--host="$host"} --prefix="$prefix" --enable-static --disable-shared \
      --with-pic --with-mbedtls${tlsdir:+="$tlsdir"} --without-openssl --without-gnutls --without-wolfssl \
      --without-bearssl --without-rustls --without-nss \
      --with-zlib --without-brotli --without-zstd --without-libidn2 --without-libpsl \
      --with-nghttp2${h2dir:+="$h2dir"} --without-ngtcp2 --without-nghttp3 --without-quiche \
      --without-libssh2 --without-libssh --without-librtmp --without-libgsasl \
      --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
      --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
      --disable-gopher --disable-mqtt --disable-ftp --disable-manual --disable-docs \
      ${curl3_ver:+--disable-websockets} \
      --enable-http --enable-file --enable-threaded-resolver --enable-ipv6 \
      --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
      >configure.log 2>&1 || { tail -n 40 configure.log >&2; exit 1; }
    make -j"$jobs" -C lib >make.log 2>&1 || { tail -n 40 make.log >&2; exit 1; }
    {
      make -C lib install DESTDIR="$dest" &&
        make -C include install DESTDIR="$dest" &&
        make install-pkgconfigDATA install-binSCRIPTS DESTDIR="$dest"
    } >install.log 2>&1 || { tail -n 20 install.log >&2; exit 1; }
  )
}

# A static-only libcurl is always linked with its TLS library: make sure libcurl.pc's Libs holds
# what Libs.private names (curl's own .pc does this for a static-only build; be sure), so a plain
# `pkg-config --libs` link line is complete too.
curl_pc_static() {
  local pc=$1 libs w add=""
  libs=" $(sed -n 's/^Libs: *//p' "$pc") "
  # shellcheck disable=SC2013 # words, not lines
  for w in $(sed -n 's/^Libs\.private: *//p' "$pc"); do
    case "$libs" in *" $w "*) ;; *) add="$add $w" ;; esac
  done
  sed -i -e "s|^\(Libs: .*-lcurl\)|\1$add|" "$pc"
}

# staged_build PREFIX USABLE BUILD [ARGS...]: BUILD STAGE PREFIX ARGS... puts the finished tree in
# STAGE/root/PREFIX, a stage directory beside the cache, which is renamed into place with its
# .complete stamp only when whole, so an interrupted build (Ctrl-C, a kill) is never used and the
# next run starts it again. One lock for the cache keeps two runs from building at once; the
# second finds the first's prefix (USABLE PREFIX) and builds nothing.
staged_build() {
  local prefix=$1 usable=$2 build=$3
  shift 3
  mkdir -p "$cache"
  local lock
  exec {lock}>"$cache/.lock"
  flock "$lock"
  if "$usable" "$prefix"; then # built by the run we waited for
    exec {lock}>&-
    return 0
  fi
  # What interrupted runs left: half-built stages, and a prefix without its stamp.
  rm -rf "$cache"/.stage-* "$prefix"
  local stage
  stage=$(mktemp -d "$cache/.stage-XXXXXX")
  mkdir -p "$stage/src" "$stage/root"
  # A build that fails (die) takes its stage with it; one killed outright leaves it for the next
  # run, which removes it above.
  # shellcheck disable=SC2064 # the stage of this build, named now
  trap "rm -rf '$stage'" EXIT
  "$build" "$stage" "$prefix" "$@"
  [ -d "$stage/root$prefix" ] || die "the build installed nothing into its stage"
  touch "$stage/root$prefix/.complete"
  mv -T "$stage/root$prefix" "$prefix"
  rm -rf "$stage"
  trap - EXIT
  exec {lock}>&-
}

build_curl() {
  curl_usable "$1" || staged_build "$1" curl_usable curl_stage
}

# curl_stage STAGE PREFIX: libcurl from Debian's source, with the target's zlib for a cross
# build, as a static-only tree under STAGE/root/PREFIX; before it, for a from-source target, its
# stack (board.sh), and for --tls=mbedtls3 mbedTLS from Debian 13's source.
curl_stage() {
  local stage=$1 prefix=$2
  local built=$stage/root$prefix
  tc_setup
  if from_source "$host"; then
    stack_stage "$stage" "$prefix"
  fi
  if [ "$tls" = mbedtls3 ]; then
    mbedtls_compile "$stage/src" "$built"
  fi
  local dir
  dir=$(curl_fetch_source "$stage/src")
  log "building libcurl on mbedTLS into $prefix (takes a few minutes)"
  local zlib=""
  if [ -n "$host" ] && ! from_source "$host"; then
    zlib_unpack "$stage/zlib"
    zlib=$stage/zlib/root
  fi
  curl_compile "$dir" "$prefix" "$stage/root" "$zlib" || die "libcurl build failed"
  [ -f "$built/lib/libcurl.a" ] || die "libcurl build installed no libcurl.a"
  # the stage's own paths (mbedTLS and zlib built into it) become the prefix's
  local f
  for f in "$built/lib/pkgconfig/libcurl.pc" "$built/bin/curl-config"; do
    [ ! -f "$f" ] || sed -i -e "s|$stage/root||g" "$f"
  done
  if [ -n "$zlib" ]; then
    cp "$zlib/usr/include/zlib.h" "$zlib/usr/include/zconf.h" "$built/include/"
    cp "$zlib/usr/lib/$host/libz.a" "$built/lib/"
    # the unpacked copy goes with the stage: its directory must not stay in the link lines
    sed -i -e "s| -L$zlib/usr/lib/$host||g" -e "s| -I$zlib/usr/include||g" \
      "$built/lib/pkgconfig/libcurl.pc" "$built/bin/curl-config"
  fi
  rm -f "$built"/lib/*.so* "$built"/lib/*.la
  curl_pc_static "$built/lib/pkgconfig/libcurl.pc"
  # a configure that quietly left HTTP/2 out would make a cache named for it without it
  grep -q '^Libs:.*-lnghttp2' "$built/lib/pkgconfig/libcurl.pc" ||
    die "libcurl was built without nghttp2 (its libcurl.pc names no -lnghttp2)"
}

# Old cache prefixes (built another way, before the tag) are left alone, but named in one line.
cache_note_old() {
  local d old=()
  for d in "$cache"/curl-*; do
    if [ ! -d "$d" ] || [ "$d" = "$1" ]; then continue; fi
    case "$d" in *"-$curl_tag-"*) continue ;; esac
    old+=("${d##*/}")
  done
  [ "${#old[@]}" -eq 0 ] ||
    log "note: no longer used, remove to free the space: ${old[*]} (in $cache)"
}

# A second run with nothing changed asks neither dpkg nor apt: the stamp holds what the last
# complete run saw (the layer, the target, the package database and apt's indexes).
deps_key() {
  printf '%s|%s|%s|%s|%s|%s|%s\n' "$1" "${host:-native}" "$tls" "$curl_tag" \
    "$(layer_packages "$1" | cksum)" \
    "$(stat -c %Y /var/lib/dpkg/status 2>/dev/null)" \
    "$(stat -c %Y /var/lib/apt/lists 2>/dev/null)"
}

# deps prints its prefix on prefix_fd: stdout, or with --print-prefix the stdout it was given,
# while whatever else the run writes to stdout goes to stderr, so that the caller's stdout holds
# the prefix line alone.
prefix_fd=1
print_prefix() { printf '%s\n' "$1" >&"$prefix_fd"; }

host=""
layer=demo
# mbedtls2: Debian 12's libmbedtls-dev (native and multiarch targets only); mbedtls3: mbedTLS 3.6
# LTS built here from Debian 13's source, the only one for the from-source targets.
tls=""
mbedtls_ver=""
curl3_ver=""
cmd_deps() {
  local a only=0
  for a in "$@"; do
    case "$a" in
      --host=*) host=${a#--host=} ;;
      --layer=demo | --layer=check | --layer=bench) layer=${a#--layer=} ;;
      --tls=mbedtls2 | --tls=mbedtls3) tls=${a#--tls=} ;;
      --print-prefix) only=1 ;;
      *)
        log "deps takes --layer=demo|check|bench, --host=TRIPLET, --tls=mbedtls2|mbedtls3 and \
--print-prefix, not '$a'"
        usage
        ;;
    esac
  done
  if [ -n "$host" ]; then
    case " $known_hosts " in
      *" $host "*) ;;
      *)
        log "unsupported --host '$host': use one of $known_hosts"
        usage
        ;;
    esac
  fi
  if [ -n "$host" ] && from_source "$host"; then
    if [ "$tls" = mbedtls2 ]; then
      log "--tls=mbedtls2: Debian 12 has no mbedTLS for $host; its stack is built on mbedtls3"
      usage
    fi
    tls=mbedtls3
  fi
  [ "$host" != riscv64-linux-gnu ] || [ "$tls" != mbedtls3 ] || {
    log "--tls=mbedtls3: $host is core only (no libcurl)"
    usage
  }
  tls=${tls:-mbedtls2}
  if [ "$only" -eq 1 ]; then
    exec {prefix_fd}>&1 1>&2
  fi
  policy_cleanup
  local stamp key
  stamp=$cache/.deps-$layer-$(printf '%s' "${host:-native}" | tr -c 'A-Za-z0-9_-' _)
  [ "$tls" = mbedtls2 ] || stamp=$stamp-$tls
  key=$(deps_key "$layer")
  if [ -f "$stamp" ] && [ "$(sed -n 1p "$stamp")" = "$key" ] && curl_usable "$(sed -n 2p "$stamp")"; then
    print_prefix "$(sed -n 2p "$stamp")"
    return 0
  fi
  local pkgs
  mapfile -t pkgs < <(layer_packages "$layer")
  apt_what="the $layer layer" apt_install "${pkgs[@]}"
  [ -z "$host" ] || cross_deps
  ensure_deb_src
  [ "$tls" != mbedtls3 ] || trixie_update
  local prefix
  prefix=$(curl_prefix)
  cache_note_old "$prefix"
  build_curl "$prefix"
  printf '%s\n%s\n' "$(deps_key "$layer")" "$prefix" >"$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
  print_prefix "$prefix"
}
