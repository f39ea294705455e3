#!/bin/sh
# Build the CMake project tests/cmake-consumer/ against an installed fanout the way a user would,
# `find_package(fanout 0.3 REQUIRED)` and fanout::fanout, with neither pkg-config nor
# PKG_CONFIG_PATH, and run it:
#   - an ordinary program: no libcurl.so, no run path, exactly the shared libraries README.md
#     lists (tests/runtime-needs.sh);
#   - with -static: no shared library at all;
# each reporting libcurl on mbedTLS through fo_info_get() when fanout has the fetcher. Then the
# version rule of fanoutConfigVersion.cmake: 0.x takes a request for its own minor only.
#   tests/cmake-consumer.sh PREFIX_OR_STAGE [CC]
# PREFIX_OR_STAGE: an install prefix, or a DESTDIR stage holding one ($stage or
# $stage/usr/local); the package is looked for with CMAKE_PREFIX_PATH, as a user would.
set -eu
where=$1
cc=${2:-${CC:-cc}}
here=$(cd "$(dirname "$0")" && pwd)
fail() {
  echo "cmake-consumer: $*" >&2
  exit 1
}
command -v cmake >/dev/null || fail "cmake is not installed (Debian: cmake)"
cfg=$(find "$where" -path '*/cmake/fanout/fanoutConfig.cmake' | head -n1)
[ -n "$cfg" ] || fail "no cmake/fanout/fanoutConfig.cmake under $where"
cfgdir=$(dirname "$cfg")
prefix=$(dirname "$(dirname "$(dirname "$cfgdir")")")
work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-cmake.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
needs=core
[ -f "$prefix/include/fanout/fetch.h" ] && needs=fetch

# build NAME CMAKE-ARGS...: configure and build the consumer in $work/NAME; the log on failure
build() {
  name=$1
  shift
  if ! env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR CC="$cc" \
    cmake -S "$here/cmake-consumer" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" "$@" \
    >"$work/$name.log" 2>&1 ||
    ! cmake --build "$work/$name" >>"$work/$name.log" 2>&1; then
    cat "$work/$name.log" >&2
    fail "$name: the consumer does not build"
  fi
  found=$(sed -n 's/^fanout_DIR:PATH=//p' "$work/$name/CMakeCache.txt")
  [ "$found" = "$cfgdir" ] || fail "$name: found fanout in $found, not $cfgdir"
}

# check NAME: run it; with the fetcher it must be on mbedTLS
check() {
  out=$("$work/$1/app") || fail "$1: the consumer failed: $out"
  echo "cmake-consumer: $1: $out"
  if [ "$needs" = fetch ]; then
    echo "$out" | grep -q "fetch 1, libcurl '[0-9][0-9.]*' on 'mbedTLS/" ||
      fail "$1: libcurl is not on mbedTLS"
  else
    echo "$out" | grep -q "fetch 0" || fail "$1: reports fetch without libcurl"
  fi
}

build dynamic
d=$(readelf -d "$work/dynamic/app")
if echo "$d" | grep -E 'RPATH|RUNPATH'; then
  fail "dynamic: a run path, where a static library needs none"
fi
sh "$here/runtime-needs.sh" "$needs" "$work/dynamic/app" ||
  fail "dynamic: not README.md's run-time list"
check dynamic

build static -DCMAKE_EXE_LINKER_FLAGS=-static
if readelf -d "$work/static/app" 2>/dev/null | grep NEEDED >&2; then
  fail "static: the program still needs shared objects"
fi
check static

# The version rule, through find_package itself: one configure, one request after another.
mkdir -p "$work/versions"
cat >"$work/versions/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.13)
project(fanout_versions C)
foreach(want IN LISTS WANT)
  unset(fanout_DIR CACHE)
  find_package(fanout ${want} CONFIG QUIET)
  message(STATUS "request ${want}: ${fanout_FOUND}")
endforeach()
CMAKE
version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$cfgdir/fanoutConfigVersion.cmake")
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
patch=${version##*.}
# request:expected (1 found, 0 refused)
cases="$major.$minor:1 $version:1 $major.$minor.$((patch + 1)):0 $major.$((minor + 1)):0
  $((major + 1)).0:0"
if [ "$major" = 0 ]; then
  cases="$cases $major:1"
  [ "$minor" -gt 0 ] && cases="$cases $major.$((minor - 1)):0"
fi
if cmake --version | awk 'NR == 1 { split($3, v, "."); exit !(v[1] > 3 || v[2] >= 19) }'; then
  cases="$cases $major.$minor...<$major.$((minor + 1)):1 $major.$minor...$version:1"
  [ "$patch" -gt 0 ] && cases="$cases $major.$minor...<$version:0"
fi
wants=$(for c in $cases; do printf '%s;' "${c%:*}"; done)
env -u PKG_CONFIG_PATH CC="$cc" cmake -S "$work/versions" -B "$work/versions/b" \
  -DCMAKE_PREFIX_PATH="$prefix" "-DWANT=${wants%;}" >"$work/versions.log" 2>&1 || {
  cat "$work/versions.log" >&2
  fail "the version requests do not configure"
}
for c in $cases; do
  want=${c%:*}
  expect=${c##*:}
  got=$(sed -n "s/^-- request $want: //p" "$work/versions.log")
  case $got in 1 | TRUE) got=1 ;; *) got=0 ;; esac
  [ "$got" = "$expect" ] || fail "find_package(fanout $want) with $version: $got, expected $expect"
done
echo "cmake-consumer: fanout $version answers as expected:" \
  "$(echo "$cases" | tr -s ' \n' '  ')"
