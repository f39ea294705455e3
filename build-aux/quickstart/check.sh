# quickstart build, check and bench: configure (reused while nothing it read changed) and build
# one tree, `make check` with the results on the terminal, the processes a run left running,
# and the summary of skipped cases. Sourced by ./quickstart.
# shellcheck shell=bash

# The configure run of a build directory is reused while what it read is unchanged: its
# arguments, the compiler environment, the libcurl prefix, configure itself and the packages.
configure_key() {
  printf '%s\n' "$@" "CC=${CC:-}" "CFLAGS=${CFLAGS:-}" "CPPFLAGS=${CPPFLAGS:-}" \
    "LDFLAGS=${LDFLAGS:-}" "LIBS=${LIBS:-}" "PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-}" \
    "$(stat -c '%Y %s' "$here/configure" /var/lib/dpkg/status 2>/dev/null)" | cksum
}

# configure_build LAYER DIR [CONFIGURE-ARGS...]: configure (when needed) and build one tree.
configure_build() {
  local lay=$1 dir=$2
  shift 2
  local prefix
  prefix=$(cmd_deps --layer="$lay" | tail -n1)
  if [ ! -x "$here/configure" ] || [ "$here/configure.ac" -nt "$here/configure" ]; then
    log "autoreconf"
    (cd "$here" && autoreconf -fi >/dev/null 2>"$cache/autoreconf.log") ||
      { cat "$cache/autoreconf.log" >&2; die "autoreconf failed"; }
  fi
  local key
  key=$(configure_key "$prefix" "$@")
  mkdir -p "$dir"
  (
    cd "$dir"
    if [ ! -f Makefile ] || [ ! -f .quickstart-configured ] ||
      [ "$(cat .quickstart-configured)" != "$key" ]; then
      rm -f .quickstart-configured
      PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
        "$here/configure" "$@" >configure.out 2>&1 || { tail -n 30 configure.out >&2; exit 1; }
      # the summary and any warning configure ends with
      sed -n '/^configure: *$/,$p' configure.out >&2
      printf '%s\n' "$key" >.quickstart-configured
    fi
    # the compiler's warnings and errors show; the list of files built goes to the log
    make -j"$jobs" -s >quickstart-make.log || { tail -n 20 quickstart-make.log >&2; exit 1; }
  )
}

cmd_build() { configure_build demo "$build" "$@"; }

# Processes this run started that are still alive: they carry its mark in their environment,
# run a program of the build trees, or are a test nginx (its prefix under /tmp/fo-nginx-).
run_mark=FANOUT_QUICKSTART_RUN=$$-$(date +%s%N)
# nginx drops its environment, so a test nginx is known by its prefix (tests/check_fetch_tls.c);
# one of another test run at the same moment counts too.
nginx_mark=/tmp/fo-nginx-
export "${run_mark?}"
ppid_of() { sed -e 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2; }
# The processes of this very look (a subshell and its commands) carry the mark too: skip those.
ours() {
  local p=$1 i=0
  while [ -n "$p" ] && [ "$p" -gt 1 ] && [ "$i" -lt 64 ]; do
    [ "$p" = "$2" ] && return 0
    p=$(ppid_of "$p")
    i=$((i + 1))
  done
  return 1
}
leftovers() {
  local pid exe d me=$BASHPID hit
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
    hit=0
    if grep -qzxF "$run_mark" "/proc/$pid/environ" 2>/dev/null ||
      grep -qzF "$nginx_mark" "/proc/$pid/cmdline" 2>/dev/null; then
      hit=1
    fi
    for d in "$@"; do
      case "$exe" in "$d"/*) hit=1 ;; esac
    done
    if [ "$hit" -eq 1 ] && { [ "$pid" = "$$" ] || ! ours "$pid" "$me"; }; then
      [ "$pid" = "$$" ] || printf '%s %s\n' "$pid" "$exe"
    fi
  done
}
check_leftovers() {
  local left
  left=$(leftovers "$@")
  if [ -n "$left" ]; then
    log "still running after the run (pid, program):"
    printf '  %s\n' "$left" >&2
    return 1
  fi
}

# Skipped cases of one build's `make check`: the runners say why on stderr ("SKIP name: why",
# "skip: why", "... skipped"), and a test script that skips as a whole exits 77.
skips_of() {
  local dir=$1 trs
  for trs in "$dir"/tests/*.trs; do
    [ -e "$trs" ] || continue
    if grep -q '^:test-result: SKIP' "$trs"; then
      printf 'whole test %s: %s\n' "$(basename "${trs%.trs}")" \
        "$(grep -iE 'skip' "${trs%.trs}.log" | head -n1)"
    fi
  done
  cat "$dir"/tests/*.log 2>/dev/null | grep -iE '(^|[^a-z])skip(ped)?([^a-z]|$)' |
    grep -vE '^(# )?(SKIP|XFAIL|XPASS):' || true
}
skip_summary() {
  local all n
  all=$(for d in "$@"; do skips_of "$d" | sed "s|^|$(basename "$d"): |"; done)
  n=$(printf '%s' "$all" | grep -c . || true)
  log "skipped cases: $n"
  [ "$n" -gt 0 ] || return 0
  # Grouped by reason: "SKIP name: reason" counts under its reason with the names listed.
  printf '%s\n' "$all" | sed -E -e 's/^([^:]+): (fetch_tls: )?(SKIP(PED)?:?|skip:|note:) */\1: /' |
    awk '{
      build = $1; sub(/:$/, "", build); $1 = ""; line = substr($0, 2)
      name = ""
      if (match(line, /^[A-Za-z0-9_.-]+: /)) { name = substr(line, 1, RLENGTH - 2); line = substr(line, RLENGTH + 1) }
      key = line
      if (!(key in count)) order[++k] = key
      count[key]++
      if (name != "" && index(names[key], name) == 0) names[key] = names[key] (names[key] ? ", " : "") name
      if (index(builds[key], build) == 0) builds[key] = builds[key] (builds[key] ? ", " : "") build
    }
    END {
      for (i = 1; i <= k; i++) {
        key = order[i]
        printf "  %3d x %s [%s]%s\n", count[key], key, builds[key], names[key] ? " (" names[key] ")" : ""
      }
    }' >&2
}

# make_check DIR: the results and the summary on the terminal, the rest in DIR/quickstart-check.log
make_check() {
  local rc=0
  make -C "$1" -s check -j"$jobs" >"$1/quickstart-check.log" 2>&1 || rc=$?
  grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):|^# [A-Z]+: ' "$1/quickstart-check.log" >&2 || true
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$1/quickstart-check.log" >&2
    # the failing checks themselves, which a machine that is thrown away keeps nowhere else
    grep -hE ':[FE]:|^(FAIL|ERROR|not ok)' "$1"/tests/*.log 2>/dev/null | head -n 40 >&2
    return 1
  fi
}

cmd_check() {
  local fail=0
  configure_build check "$build" "$@"
  log "make check (linux port)"
  make_check "$build" || fail=1
  log "make check (posix port)"
  configure_build check "$build-posix" --with-port=posix "$@"
  make_check "$build-posix" || fail=1
  log "make check (--without-curl)"
  configure_build check "$build-nocurl" --without-curl "$@"
  make_check "$build-nocurl" || fail=1
  skip_summary "$build" "$build-posix" "$build-nocurl"
  check_leftovers "$build" "$build-posix" "$build-nocurl" || fail=1
  if [ "$fail" -ne 0 ]; then
    log "FAILED: see test-suite.log in the build directories above"
    exit 1
  fi
  log "all checks passed"
}

cmd_bench() {
  configure_build bench "$build" "$@"
  make -C "$build" -s bench
}
