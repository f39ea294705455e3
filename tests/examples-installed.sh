#!/bin/sh
# Install fanout into a scratch DESTDIR and build every installed example from there, as a user
# would: cc x.c $(pkg-config --static --cflags --libs fanout), with pkg-config pointed at the
# DESTDIR, so nothing of the build tree is used. Also checks that the
# manual and the tutorial are installed where the overview says, and that `man` finds a page.
# MAKE and the build directory come from the environment `make check` gives (FO_MAKE, FO_BUILDDIR);
# so does the build's CFLAGS (FO_CFLAGS): a library built with a sanitizer needs its runtime in
# the programs that link it, as a user's program would.
set -u
make=${FO_MAKE:-make}
builddir=${FO_BUILDDIR:-.}
cc=${CC:-cc}
cflags=${FO_CFLAGS:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fo-installed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
dest=$tmp/dest
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

$make -C "$builddir" install DESTDIR="$dest" >"$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log" >&2
  echo "FAIL: make install DESTDIR=... failed" >&2
  exit 1
}
pc=$(find "$dest" -name fanout.pc | head -n1)
[ -n "$pc" ] || { echo "FAIL: no fanout.pc installed" >&2; exit 1; }
# The installed fanout.pc with its absolute directories moved into the DESTDIR (a sysroot would
# move libcurl's too, which is not under it); libcurl's own .pc is found where configure found it.
mkdir "$tmp/pc"
sed -E "s#^(prefix|exec_prefix|libdir|includedir)=/#\1=$dest/#" "$pc" >"$tmp/pc/fanout.pc"
PKG_CONFIG_PATH="$tmp/pc${FO_PKG_CONFIG_PATH:+:$FO_PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
# a build configured with PKG_CONFIG_LIBDIR alone (a musl or cross prefix) found libcurl there
if [ -n "${FO_PKG_CONFIG_LIBDIR:-}" ]; then
  PKG_CONFIG_LIBDIR=$FO_PKG_CONFIG_LIBDIR
  export PKG_CONFIG_LIBDIR
fi
pkgconfig=${PKG_CONFIG:-pkg-config}
flags=$($pkgconfig --static --cflags --libs fanout) || { echo "FAIL: pkg-config --static fanout" >&2; exit 1; }
case "$flags" in
*"$dest"*) ;;
*) bad "pkg-config does not point into the DESTDIR: $flags" ;;
esac

exdir=$(find "$dest" -type d -path '*/doc/fanout/examples' | head -n1)
[ -n "$exdir" ] || { echo "FAIL: no share/doc/fanout/examples installed" >&2; exit 1; }
[ -f "$exdir/../tutorial.md" ] || bad "docs/tutorial.md is not installed beside the examples"
man3=$(find "$dest" -type d -path '*/man/man3' | head -n1)
[ -n "$man3" ] && [ -f "$man3/fo_ppool_map.3" ] && [ -f "$man3/fanout.3" ] ||
  bad "the section-3 pages are not installed"
if command -v man >/dev/null 2>&1 && [ -n "$man3" ]; then
  man -M "$(dirname "$man3")" 3 fo_tpool_submit_timed 2>/dev/null | grep -q 'fo_tpool_submit_timed' ||
    bad "man -M ... fo_tpool_submit_timed does not show its page (.so link)"
fi

n=0
for src in "$exdir"/*.c; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .c)
  # shellcheck disable=SC2086 # $cflags and $flags are lists of flags
  if $cc $cflags -o "$tmp/$name" "$src" $flags >"$tmp/cc.log" 2>&1
  then
    n=$((n + 1))
  else
    bad "$name does not build from the installed fanout:"
    cat "$tmp/cc.log" >&2
  fi
done
[ "$n" -ge 6 ] || bad "only $n examples built from the install"
# One run from the install, to show the program built there is the real thing.
[ -x "$tmp/json_path" ] && { "$tmp/json_path" >/dev/null || bad "installed json_path failed"; }
[ "$fail" -eq 0 ] && echo "examples-installed: $n examples built from a DESTDIR install"
exit $fail
