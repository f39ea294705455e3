#!/bin/sh
# ./quickstart's own behaviour, without installing or building anything for real:
#   - usage errors exit 2, --help exits 0; so do an unknown --host or --tls and a --tls the
#     target cannot have;
#   - a missing cross compiler or a source package that cannot be fetched: one line that says
#     what to install or reach, and nothing half-built left in the cache;
#   - deps --print-prefix prints the prefix alone on stdout, whatever else the run writes;
#   - a user who is not root and has no sudo is told what is needed, and nothing changes;
#   - an interrupted libcurl build is never used and the next run completes it, one without
#     nghttp2 is refused; two runs at once
#     build once (the compile and source steps replaced by quick stand-ins, the rest real);
#   - the policy-rc.d it puts in place while installing leaves the machine's own as it was;
#   - the skipped-case summary counts and groups the runners' skip lines;
#   - README's table of layers lists exactly the packages of each layer.
# shellcheck shell=bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
qs=$(cd "$(dirname "$0")/.." && pwd)/quickstart
[ -x "$qs" ] || { echo "no quickstart at $qs" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-qs.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT INT TERM
fail=0
bad() {
  echo "FAIL: $*" >&2
  fail=1
}

# ---------------------------------------------------------------- README's layers
readme=$(dirname "$qs")/README.md
for l in demo check bench; do
  want=$(QS=$qs L=$l bash -c 'source "$QS"; eval "printf \"%s \" \"\${layer_$L[@]}\""')
  row=$(sed -n "s/^| $l | [^|]* | \(.*\) |\$/\1/p" "$readme")
  [ "$row " = "$want" ] || bad "README's $l layer lists '$row', quickstart installs '$want'"
done

# ---------------------------------------------------------------- usage
status() { # expected description args...
  local want=$1 what=$2
  shift 2
  FANOUT_CACHE=$work/nocache "$qs" "$@" >"$work/out" 2>"$work/err"
  local got=$?
  [ "$got" -eq "$want" ] || bad "$what: exit $got, expected $want"
}
status 2 "no command"
grep -q 'quickstart demo' "$work/err" || bad "no command: usage not on stderr"
status 2 "unknown command" frobnicate
status 2 "unknown deps flag" deps --frob
status 2 "unknown layer" deps --layer=everything
status 2 "stray check argument" check extra
status 2 "unknown check flag" check -x
status 2 "unknown deps flag beside --print-prefix" deps --print-prefix --frob
[ ! -s "$work/out" ] || bad "a usage error with --print-prefix wrote to stdout: $(cat "$work/out")"
status 2 "unknown layer beside --print-prefix" deps --layer=everything --print-prefix
status 2 "unknown --host" deps --host=vax-linux-gnu
grep -q "unsupported --host 'vax-linux-gnu': use one of .*mips-linux-musl" "$work/err" ||
  bad "unknown --host: does not name the known targets: $(head -n1 "$work/err")"
status 2 "unknown --host beside --print-prefix" deps --host=vax-linux-gnu --print-prefix
[ ! -s "$work/out" ] || bad "an unknown --host with --print-prefix wrote to stdout: $(cat "$work/out")"
status 2 "unknown --tls" deps --tls=openssl
status 2 "mbedTLS 2.28 for a target Debian 12 has none for" deps --host=mips-linux-musl --tls=mbedtls2
grep -q 'Debian 12 has no mbedTLS for mips-linux-musl' "$work/err" ||
  bad "--tls=mbedtls2 for mips-linux-musl: no reason given: $(head -n1 "$work/err")"
status 2 "mbedTLS 3 for a core-only target" deps --host=riscv64-linux-gnu --tls=mbedtls3
status 0 "--help" --help
grep -q -- '--tls=mbedtls2|mbedtls3' "$work/out" || bad "--help does not mention --tls"
grep -q 'quickstart check' "$work/out" || bad "--help: usage not on stdout"
[ ! -e "$work/nocache" ] || bad "a usage error created the cache directory"

# ---------------------------------------------------------------- deps --print-prefix
# A prepared cache: a complete prefix and the stamp of the run that built it. The stamp's key is
# fixed (deps_key reads the package database, which an install beside this test may change), and
# a stand-in for policy_cleanup writes to stdout, as a program deps runs might: that line must
# end up on stderr.
pc=$work/pp-cache
mkdir -p "$pc/curl-test/lib/pkgconfig"
: >"$pc/curl-test/.complete"
: >"$pc/curl-test/lib/libcurl.a"
: >"$pc/curl-test/lib/pkgconfig/libcurl.pc"
printf 'key\n%s\n' "$pc/curl-test" >"$pc/.deps-check-native"
pp() {
  QS=$qs FANOUT_CACHE=$pc bash -c '
    source "$QS"
    deps_key() { echo key; }
    policy_cleanup() { echo noise; }
    main "$@"' _ "$@" >"$work/out" 2>"$work/err"
}
for args in "--layer=check --print-prefix" "--print-prefix --layer=check"; do
  # shellcheck disable=SC2086 # two words
  pp deps $args || bad "deps $args: exit $?: $(cat "$work/err")"
  [ "$(cat "$work/out")" = "$pc/curl-test" ] && [ "$(wc -l <"$work/out")" -eq 1 ] ||
    bad "deps $args: stdout is '$(cat "$work/out")', expected the prefix alone"
  grep -qx noise "$work/err" || bad "deps $args: the other output is not on stderr"
done
pp deps --layer=check || bad "deps: exit $?"
[ "$(tail -n1 "$work/out")" = "$pc/curl-test" ] || bad "deps: the last line is not the prefix"
# A core-only target ends deps early, with Check's prefix: on stdout alone too.
QS=$qs FANOUT_CACHE=$pc bash -c '
  source "$QS"
  policy_cleanup() { :; }
  apt_install() { echo noise; }
  ensure_deb_src() { :; }
  riscv64-linux-gnu-gcc() { :; }
  check_prefix() { printf "%s\n" "$cache/check-test-$1"; }
  build_check() { echo built; }
  main deps --host=riscv64-linux-gnu --print-prefix' >"$work/out" 2>"$work/err" ||
  bad "deps --host=riscv64-linux-gnu --print-prefix: exit $?: $(cat "$work/err")"
[ "$(cat "$work/out")" = "$pc/check-test-riscv64" ] && [ "$(wc -l <"$work/out")" -eq 1 ] ||
  bad "deps --host=riscv64-linux-gnu --print-prefix: stdout is '$(cat "$work/out")', expected Check's prefix alone"
# A from-source target prints its whole stack's prefix, on mbedTLS 3 (built, here, by a stand-in).
QS=$qs FANOUT_CACHE=$pc bash -c '
  source "$QS"
  policy_cleanup() { :; }
  apt_install() { echo noise; }
  ensure_deb_src() { :; }
  trixie_update() { mbedtls_ver=3.6.6-0.1~deb13u1 curl3_ver=8.14.1-2+deb13u5; }
  mips-linux-gnu-gcc() { :; }
  build_curl() { mkdir -p "$1/lib/pkgconfig"; : >"$1/.complete"; : >"$1/lib/libcurl.a"; : >"$1/lib/pkgconfig/libcurl.pc"; }
  main deps --host=mips-linux-musl --print-prefix' >"$work/out" 2>"$work/err" ||
  bad "deps --host=mips-linux-musl --print-prefix: exit $?: $(cat "$work/err")"
[ "$(cat "$work/out")" = "$pc/curl-8.14.1-2_deb13u5-mbedtls3.6.6-0.1_deb13u1-$(QS=$qs bash -c 'source "$QS"; echo "$curl_tag"')-musl-mips" ] ||
  bad "deps --host=mips-linux-musl --print-prefix: stdout is '$(cat "$work/out")', expected the stack's prefix alone"

# ---------------------------------------------------------------- what cannot be had
# The cross compiler missing after its package's install: one line naming the package.
QS=$qs FANOUT_CACHE=$work/cc-cache bash -c '
  source "$QS"
  policy_cleanup() { :; }
  apt_install() { :; }
  command() { if [ "$1" = -v ] && [ "$2" = mips-linux-gnu-gcc ]; then return 1; fi; builtin command "$@"; }
  main deps --host=mips-linux-musl' >"$work/out" 2>"$work/err"
got=$?
[ "$got" -eq 1 ] || bad "missing cross compiler: exit $got, expected 1"
[ "$(wc -l <"$work/err")" -eq 1 ] && grep -q 'mips-linux-gnu-gcc not found: install gcc-mips-linux-gnu' "$work/err" ||
  bad "missing cross compiler: not one line naming its package: $(cat "$work/err")"
# Debian 13's mbedtls source cannot be fetched: one line, no prefix and no stage left.
fc=$work/fetch-cache
mkdir -p "$fc"
QS=$qs bash -c '
  source "$QS"
  cache=$1 tls=mbedtls3 mbedtls_ver=3.6.6-0.1~deb13u1
  trixie_apt() { return 100; }
  build_curl "$cache/curl-test"' _ "$fc" >"$work/out" 2>"$work/err"
got=$?
[ "$got" -eq 1 ] || bad "unfetchable source: exit $got, expected 1"
grep -c 'error:' "$work/err" | grep -qx 1 && grep -q 'apt-get source mbedtls=3.6.6-0.1~deb13u1 failed (.*): it needs dpkg-dev' "$work/err" ||
  bad "unfetchable source: not one error line saying what is needed: $(cat "$work/err")"
[ ! -e "$fc/curl-test" ] || bad "unfetchable source: a prefix was left"
ls -d "$fc"/.stage-* >/dev/null 2>&1 && bad "unfetchable source: its stage was left in the cache"

# ---------------------------------------------------------------- no root, no sudo
# dpkg-query stands in for a machine without the packages; apt-get records any call.
shim=$work/shim
mkdir -p "$shim"
printf '#!/bin/sh\nexit 1\n' >"$shim/dpkg-query"
printf '#!/bin/sh\necho "$@" >>%s/apt-called\nexit 1\n' "$work" >"$shim/apt-get"
chmod 755 "$shim"/*
if command -v sudo >/dev/null 2>&1; then
  echo "SKIP no_root_no_sudo: sudo is installed here (the fresh-machine CI step covers it)" >&2
else
  as=()
  if [ "$(id -u)" -eq 0 ]; then
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  fi
  # a copy, since the checkout may sit where that user cannot read (/root); quickstart reads its
  # parts from build-aux/quickstart/ beside it
  mkdir -p "$work/qs/build-aux"
  cp "$qs" "$work/qs/quickstart" && cp -R "$(dirname "$qs")/build-aux/quickstart" "$work/qs/build-aux/" &&
    chmod -R a+rX "$work/qs" && chmod 755 "$work/qs/quickstart"
  "${as[@]}" env HOME="$work/home" FANOUT_CACHE="$work/nr-cache" PATH="$shim:/usr/bin:/bin" \
    "$work/qs/quickstart" deps >"$work/out" 2>"$work/err"
  got=$?
  [ "$got" -eq 1 ] || bad "non-root without sudo: exit $got, expected 1"
  grep -q 'needs root' "$work/err" || bad "non-root without sudo: does not say it needs root: $(cat "$work/err")"
  grep -q 'build-essential' "$work/err" || bad "non-root without sudo: does not name the packages"
  [ ! -e "$work/apt-called" ] || bad "non-root without sudo: ran apt-get $(cat "$work/apt-called")"
  [ ! -e "$work/nr-cache" ] || bad "non-root without sudo: created the cache directory"
fi

# ---------------------------------------------------------------- interrupted builds
# The functions of quickstart, sourced; only fetching and compiling are stand-ins.
cat >"$work/fake.sh" <<'SH'
source "$QS"
cache=$1
host=""
curl_fetch_source() { mkdir -p "$1/curl-x" && printf '%s\n' "$1/curl-x"; }
curl_compile() {
  echo x >>"$cache/../compiles"
  local d=$3$2
  mkdir -p "$d/lib/pkgconfig" "$d/include/curl"
  printf 'half\n' >"$d/lib/libcurl.a"
  case "$MODE" in
    kill) kill -KILL "$BASHPID" ;;
    slow) sleep 1 ;;
  esac
  printf 'whole\n' >"$d/lib/libcurl.a"
  : >"$d/lib/libcurl.so.4"
  h2=-lnghttp2
  [ "$MODE" != noh2 ] || h2=
  printf 'prefix=%s\nName: libcurl\nLibs: -L${libdir} -lcurl\nLibs.private: %s -lmbedtls -lmbedx509 -lmbedcrypto\n' \
    "$2" "$h2" >"$d/lib/pkgconfig/libcurl.pc"
}
build_curl "$cache/curl-test"
SH
c=$work/cache
mkdir -p "$c"
(QS=$qs MODE=kill bash "$work/fake.sh" "$c"; true) 2>/dev/null
[ ! -e "$c/curl-test" ] || bad "a killed build left its prefix in place"
ls -d "$c"/.stage-* >/dev/null 2>&1 || bad "the killed build left no stage (the stand-in did not run?)"
# An older quickstart built straight into the prefix: one without its stamp must not be used.
mkdir -p "$c/curl-test/lib/pkgconfig"
printf 'half\n' >"$c/curl-test/lib/libcurl.a"
printf 'Name: libcurl\n' >"$c/curl-test/lib/pkgconfig/libcurl.pc"
QS=$qs bash -c 'source "$QS"; curl_usable "$1/curl-test"' _ "$c" && bad "a prefix without its stamp counts as usable"
QS=$qs MODE=ok bash "$work/fake.sh" "$c" 2>/dev/null || bad "the run after the killed one failed"
QS=$qs bash -c 'source "$QS"; curl_usable "$1/curl-test"' _ "$c" || bad "the next run did not complete the prefix"
[ "$(cat "$c/curl-test/lib/libcurl.a" 2>/dev/null)" = whole ] || bad "the completed prefix holds the half-built library"
ls -d "$c"/.stage-* >/dev/null 2>&1 && bad "stages left after a complete run"
ls "$c"/curl-test/lib/*.so* >/dev/null 2>&1 && bad "a shared libcurl left in the prefix"
grep -q '^Libs: .*-lcurl -lnghttp2 -lmbedtls -lmbedx509 -lmbedcrypto$' "$c/curl-test/lib/pkgconfig/libcurl.pc" ||
  bad "libcurl.pc's Libs lacks nghttp2 and its TLS libraries: $(cat "$c/curl-test/lib/pkgconfig/libcurl.pc")"
# A libcurl that came out without nghttp2 is refused, and leaves nothing to be used.
c1=$work/cache-noh2
mkdir -p "$c1"
QS=$qs MODE=noh2 bash "$work/fake.sh" "$c1" 2>"$work/err" && bad "a libcurl without nghttp2 was accepted"
grep -q 'built without nghttp2' "$work/err" || bad "no nghttp2: not said: $(cat "$work/err")"
[ ! -e "$c1/curl-test" ] || bad "a libcurl without nghttp2 left its prefix"
# Two runs at once: the second waits for the first and builds nothing.
c2=$work/cache2
mkdir -p "$c2"
(QS=$qs MODE=slow bash "$work/fake.sh" "$c2" 2>/dev/null) &
p1=$!
sleep 0.3
QS=$qs MODE=slow bash "$work/fake.sh" "$c2" 2>/dev/null || bad "the second concurrent run failed"
wait "$p1" || bad "the first concurrent run failed"
[ "$(wc -l <"$work/compiles")" -eq 4 ] || bad "compiles: $(wc -l <"$work/compiles"), expected 4 (kill, retry, no nghttp2, one of two at once)"

# Check for a target is built the same staged way: killed part-way, nothing is used; the next
# run builds it whole, with check.pc naming -lcheck.
cat >"$work/fake-check.sh" <<'SH'
source "$QS"
cache=$1
jobs=1
export QS_PID=$$
apt-get() { mkdir -p check-0.15.2 && cp "$CONF" check-0.15.2/configure; }
build_check "$cache/check-test" --host=none
SH
cat >"$work/conf" <<'SH'
#!/bin/sh
prefix=; for a; do case $a in --prefix=*) prefix=${a#--prefix=} ;; esac; done
cat >Makefile <<MK
all:
	@:
install:
	mkdir -p \$(DESTDIR)$prefix/lib/pkgconfig
	printf 'half\n' >\$(DESTDIR)$prefix/lib/libcheck.a
	if [ "$MODE" = kill ]; then kill -KILL \$\$QS_PID; exit 1; fi
	printf 'whole\n' >\$(DESTDIR)$prefix/lib/libcheck.a
	printf 'Libs: -L/x -lcheck_pic\n' >\$(DESTDIR)$prefix/lib/pkgconfig/check.pc
MK
SH
chmod 755 "$work/conf"
c3=$work/cache3
mkdir -p "$c3"
(QS=$qs CONF=$work/conf MODE=kill bash "$work/fake-check.sh" "$c3"; true) >/dev/null 2>&1
[ ! -e "$c3/check-test" ] || bad "a killed Check build left its prefix in place"
QS=$qs CONF=$work/conf MODE=ok bash "$work/fake-check.sh" "$c3" >/dev/null 2>&1 ||
  bad "the Check build after the killed one failed"
[ "$(cat "$c3/check-test/lib/libcheck.a" 2>/dev/null)" = whole ] && [ -f "$c3/check-test/.complete" ] ||
  bad "the next run did not complete the Check prefix"
grep -q -- '-lcheck$' "$c3/check-test/lib/pkgconfig/check.pc" || bad "check.pc still names -lcheck_pic"
ls -d "$c3"/.stage-* >/dev/null 2>&1 && bad "stages left after a complete Check build"

# ---------------------------------------------------------------- policy-rc.d
QS=$qs P=$work/policy bash -c '
  source "$QS"; sudo_() { "$@"; }
  policy=$P; policy_saved=$P.fanout-saved
  # none before: none after
  policy_deny; [ "$(sh "$policy"; echo $?)" = 101 ] || exit 11
  policy_restore; [ ! -e "$policy" ] || exit 12
  # the machine has one: it comes back unchanged
  printf "#!/bin/sh\nexit 0\n" >"$policy"; cp "$policy" "$P.orig"
  policy_deny; [ "$(sh "$policy"; echo $?)" = 101 ] || exit 13
  policy_restore; cmp -s "$policy" "$P.orig" || exit 14
  # a run killed while installing left its own in place and the machine one aside
  policy_deny
  policy_deny; policy_restore; cmp -s "$policy" "$P.orig" || exit 15
  [ ! -e "$policy_saved" ] || exit 16
  # a run killed while installing on a machine without a policy: its own is not kept
  rm -f "$policy"; policy_deny
  policy_cleanup; [ ! -e "$policy" ] || exit 17
  policy_deny; policy_restore; [ ! -e "$policy" ] || exit 18
  # another run that is still installing: its policy is in use and stays
  sleep 30 & other=$!
  printf "#!/bin/sh\n%s\n# pid %s\nexit 101\n" "$policy_mark" "$other" >"$policy"
  policy_cleanup; [ -e "$policy" ] || exit 19
  kill "$other"; wait "$other" 2>/dev/null || true
  policy_cleanup; [ ! -e "$policy" ] || exit 20
' || bad "policy-rc.d handling: step $? failed"

# ---------------------------------------------------------------- leftovers
# What demo and check look for when they end: a child still running, or an orphan that carries
# the run's mark.
QS=$qs bash -c '
  source "$QS"
  nginx_mark=/nonexistent/fo-nginx-$$- # test nginx of suites running beside this one do not count
  check_leftovers 2>/dev/null || exit 11
  sleep 30 &
  kid=$!
  check_leftovers 2>/dev/null && exit 12
  kill "$kid"; wait "$kid" || true
  check_leftovers 2>/dev/null || exit 13
  (setsid sleep 30 >/dev/null 2>&1 &)
  sleep 0.2
  left=$(leftovers)
  orphan=${left%% *}
  [ -n "$orphan" ] && [ "$(printf "%s\n" "$left" | wc -l)" -eq 1 ] || exit 14
  grep -q sleep "/proc/$orphan/cmdline" || exit 16
  kill "$orphan"
  sleep 0.2
  check_leftovers 2>/dev/null || exit 15
' || bad "leftover processes: step $? failed"

# ---------------------------------------------------------------- skip summary
b=$work/b
mkdir -p "$b/tests" "$b-nocurl/tests"
printf 'Running suite(s): x\nSKIP numbers_ignore_the_locale: no locale with a decimal comma installed\n' >"$b/tests/check_fanout.log"
printf 'SKIP fixtures_a: real fixtures not found at /x\nSKIP fixtures_b: real fixtures not found at /x\n' >>"$b/tests/check_fanout.log"
printf 'note: cannot mount a tmpfs (not root?): reservation test skipped\n100%%: Checks: 9, Failures: 0\n' >>"$b/tests/check_fanout.log"
printf ':test-result: PASS\n' >"$b/tests/check_fanout.trs"
printf 'SKIP: python3 parses the output\n' >"$b-nocurl/tests/demo-lesson.sh.log"
printf ':test-result: SKIP\n' >"$b-nocurl/tests/demo-lesson.sh.trs"
printf 'SKIP fixtures_a: real fixtures not found at /x\n' >"$b-nocurl/tests/check_fanout.log"
out=$(QS=$qs bash -c 'source "$QS"; skip_summary "$@"' _ "$b" "$b-nocurl" 2>&1)
echo "$out" | grep -q 'skipped cases: 6$' || bad "skip count: $out"
echo "$out" | grep -q '3 x real fixtures not found at /x \[b, b-nocurl\] (fixtures_a, fixtures_b)' ||
  bad "skips not grouped by reason: $out"
echo "$out" | grep -q '1 x whole test demo-lesson.sh' || bad "a skipped test script is not counted: $out"

[ "$fail" -eq 0 ] && echo "quickstart: all cases passed"
exit $fail
