#!/bin/sh
# fanout-demo's lesson subcommands end to end: map's checksum against one computed here, the
# counter's JSON parsed back, every square and cube of the queue received once, whole lines from
# the locked threads; bad flags exit 2 naming the flag; --help fits 80 columns; and no process or
# IPC object is left behind. DEMO names the binary (e.g. a static build, or a script that runs
# it under qemu); every run is bounded by DEMO_TIMEOUT seconds (default 60).
set -u
demo=${DEMO:-./fanout-demo}
limit=${DEMO_TIMEOUT:-60}
fail=0
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 parses the output" >&2; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-demo-lesson.XXXXXX")
mq=
cleanup() {
  [ -n "$mq" ] && umount "$mq" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Every process the demo starts inherits this variable, so any left running can be found.
mark="FANOUT_DEMO_LESSON=$$.$(date +%s)"
leftovers() {
  grep -l -a -F -x -z "$mark" /proc/[0-9]*/environ 2>/dev/null | sed 's|/proc/\([0-9]*\)/.*|\1|'
}

# IPC objects: /dev/shm, and the queues where the mqueue filesystem is visible (mounting a
# private instance needs root; it shows every queue of this IPC namespace).
if grep -q ' /dev/mqueue mqueue ' /proc/self/mounts 2>/dev/null; then
  mqdir=/dev/mqueue
elif mkdir "$work/mq" && mount -t mqueue none "$work/mq" 2>/dev/null; then
  mq=$work/mq mqdir=$mq
else
  mqdir=
  echo "note: cannot mount the mqueue filesystem (not root?); checking /dev/shm only" >&2
fi
# Only names the library could have made count: other programs on the machine have their own.
ipc_list() {
  { ls /dev/shm 2>/dev/null | grep '^fanout-' | sed 's/^/shm:/'
    [ -n "$mqdir" ] && ls "$mqdir" | grep '^fanout-' | sed 's/^/mq:/'; } | sort
}
ipc_list >"$work/ipc.before"

bad() {
  echo "FAIL: $*" >&2
  fail=1
}

# run ARGS...: the demo with a time limit; stdout in $work/out, stderr in $work/err, status in $st.
run() {
  env "$mark" timeout "$limit" "$demo" "$@" >"$work/out" 2>"$work/err"
  st=$?
  left=$(leftovers)
  [ -z "$left" ] || { bad "$*: processes left running: $left"; kill -9 $left 2>/dev/null; }
}

cat >"$work/check.py" <<'PY'
import json, re, sys

kind, path, args = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:] if a.isdigit()]
out = open(path, encoding="utf-8", errors="replace").read()
lines = out.split("\n")
if lines and lines[-1] == "":
    lines.pop()

def no(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)

if kind == "map":  # count procs min_wall_ms
    count, procs, min_ms = args
    want = ["procs %d" % procs, "checksum %d" % sum(i * i for i in range(count)), "failed 0"]
    if lines[:3] != want or len(lines) != 4:
        no("expected %r then a wall line, got %r" % (want, lines))
    m = re.fullmatch(r"wall (\d+\.\d{3}) s", lines[3])
    if not m:
        no("bad wall line %r" % lines[3])
    if float(m.group(1)) * 1000 < min_ms:
        no("wall %s s: below %d ms of sleeping items" % (m.group(1), min_ms))
elif kind == "map-failed":  # count; stderr path follows the counts
    count, err = args[0], open(sys.argv[-1]).read()
    failed = set()
    for a, b in re.findall(r"^error: items? (\d+)(?:-(\d+))?: ", err, re.M):
        failed.update(range(int(a), int(b or a) + 1))
    want = sum(i * i for i in range(count) if i not in failed)
    if not failed or lines[1:3] != ["checksum %d" % want, "failed %d" % len(failed)]:
        no("failed items %s, stdout %r" % (sorted(failed), lines))
elif kind == "counter":  # procs increments
    procs, increments = args
    if len(lines) != 1:
        no("expected one line of JSON, got %r" % lines)
    pairs = json.loads(lines[0], object_pairs_hook=lambda p: p)
    keys = [k for k, _ in pairs]
    if len(pairs) != procs or len(set(keys)) != procs:
        no("expected %d distinct keys, got %r" % (procs, keys))
    for k, v in pairs:
        if not k.isdigit() or int(k) < 2 or v != increments:
            no("entry %r: %r, expected a pid and %d" % (k, v, increments))
elif kind == "queue":  # count
    count = args[0]
    seen = {}
    for line in lines[:-2]:
        m = re.fullmatch(r"(square|cube) (\d+) (\d+)", line)
        if not m:
            no("bad line %r" % line)
        name, i, v = m.group(1), int(m.group(2)), int(m.group(3))
        if v != i ** (2 if name == "square" else 3) or (name, i) in seen:
            no("wrong or repeated: %r" % line)
        seen[(name, i)] = v
    want = {(n, i) for n in ("square", "cube") for i in range(count)}
    if set(seen) != want:
        no("missing: %s" % sorted(want - set(seen))[:10])
    if lines[-2:] != ["received %d" % (2 * count), "failed 0"]:
        no("summary %r" % lines[-2:])
elif kind == "threads":  # count
    count = args[0]
    if sorted(lines) != sorted("thread %d" % i for i in range(count)):
        no("lines not whole or not one per thread: %r" % lines[:20])
elif kind == "threads-nolock":  # count: the same pieces, in any order
    count = args[0]
    if (out.count("thread ") != count or out.count("\n") != count
            or sorted(re.sub(r"thread |\n", "", out)) != sorted("".join(map(str, range(count))))):
        no("pieces missing or extra: %r" % out[:200])
else:
    no("unknown check " + kind)
PY
check() { # KIND ARGS...: the check above on the last run's stdout
  kind=$1
  shift
  python3 "$work/check.py" "$kind" "$work/out" "$@" || bad "$kind $*"
}
ok() { # WHAT: the last run exited 0 with nothing on stderr
  [ "$st" -eq 0 ] || bad "$1: exit $st: $(head -c 300 "$work/err")"
  [ ! -s "$work/err" ] || bad "$1: wrote to stderr: $(head -c 300 "$work/err")"
}

cpus=$("$demo" cpus | sed -n 1p)

# map: the checksum is computed here from scratch, not from the formula the help text gives.
run map
ok "map"
check map 10000 "$cpus" 0
for args in "1 1 0" "0 2 0" "10000 1 0" "12345 2 0" "1000000 2 0" "7 3 20" "40 2 5" "3 256 0"; do
  set -- $args
  run map --count "$1" --procs "$2" --work-ms "$3"
  ok "map $args"
  # Items that sleep: count/procs rounds of work_ms at least.
  check map "$1" "$2" $((($1 + $2 - 1) / $2 * $3))
done
run map --count=500 --procs=2
ok "map with --flag=value"
check map 500 2 0
run map --count 300 --procs 2 --attempts 1 --fail-fast
ok "map --attempts 1 --fail-fast"
check map 300 2 0

# map with workers killed as they run: after three attempts an item is reported failed (with
# --fail-fast, after the first kill, and the items after it are not run), the checksum counts
# the others, and the exit status is 1.
killed_map() { # FLAGS...
  env "$mark" "$demo" map --count 3 --procs 1 --work-ms 1000 "$@" >"$work/out" 2>"$work/err" &
  pid=$!
  i=0
  while [ $i -lt $((limit * 20)) ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null &&
    [ -e /proc/$pid ]; do
    # Only while the map runs: once the report is on stderr the children left are not workers
    # (under LeakSanitizer, the tracer of its exit-time leak check, which must not be killed).
    [ -s "$work/err" ] || for c in $(pgrep -P $pid); do kill -9 "$c" 2>/dev/null; done
    sleep 0.05
    i=$((i + 1))
  done
  kill -9 $pid 2>/dev/null
  wait $pid
  st=$?
  [ "$st" -eq 1 ] || bad "map $* with killed workers: exit $st, expected 1"
  python3 "$work/check.py" map-failed "$work/out" 3 "$work/err" || bad "map $* with killed workers"
  sleep 0.2 # the demo reaped its workers; give a stray one (there should be none) time to show
  left=$(leftovers)
  [ -z "$left" ] || { bad "map with killed workers left processes: $left"; kill -9 $left; }
}
if command -v pgrep >/dev/null 2>&1; then
  killed_map
  killed_map --fail-fast
  grep -q "not run" "$work/err" || bad "map --fail-fast with a killed worker: nothing reported not run"
else
  echo "note: no pgrep; the map with killed workers is not checked" >&2
fi

# counter: one key per process, its pid, each counted to --increments.
run counter
ok "counter"
check counter "$cpus" 10
for args in "1 10" "2 10" "4 1000" "8 1" "3 20000"; do
  set -- $args
  run counter --procs "$1" --increments "$2"
  ok "counter $args"
  check counter "$1" "$2"
done

# queue: every square and cube exactly once.
for n in 5 1 1000 20000; do
  run queue --count $n
  ok "queue $n"
  check queue $n
done
run queue
ok "queue"
check queue 5

# threads: whole lines under the lock; without it, at least the same pieces.
for n in 1 5 64 256; do
  run threads --count $n
  ok "threads $n"
  check threads $n
done
run threads
check threads 5
run threads --no-lock --count 64
ok "threads --no-lock"
check threads-nolock 64

# Bad flags: exit 2, nothing on stdout, and stderr names the flag (or the stray argument).
while IFS='|' read -r name args; do
  set -- $args
  run "$@"
  [ "$st" -eq 2 ] || bad "$args: exit $st, expected 2"
  [ ! -s "$work/out" ] || bad "$args: wrote to stdout"
  grep -q -e "$name" "$work/err" || bad "$args: stderr does not name $name: $(cat "$work/err")"
done <<'EOF'
--procs|map --procs 0
from 1 to 256|map --procs 257
--count|map --count -1
from 0 to 1000000|map --count 1000001
--count|map --count abc
--work-ms|map --work-ms 10001
--count needs a value|map --count
--bogus|map --bogus
extra|map extra
--procs|counter --procs 0
--increments|counter --increments 0
from 1 to 1000000|counter --increments 1000001
--frob|counter --frob
--count|queue --count 0
from 1 to 1000000|queue --count 1000001
--count|queue --count=x
--count|threads --count 0
threads = 257: accepted 0 to 256|threads --count 257
--count|threads --count 4294967296
--no-lock takes no value|threads --no-lock=yes
--fail-fast takes no value|map --fail-fast=yes
extra|cpus extra
--lock|threads --lock
--x|cpus --x
EOF

# --help: exit 0, on stdout, at most 80 columns, starting with the usage line.
for cmd in map counter queue threads cpus; do
  run "$cmd" --help
  ok "$cmd --help"
  head -n1 "$work/out" | grep -q "^usage: fanout-demo $cmd" || bad "$cmd --help: no usage line"
  awk 'length($0) > 80 { exit 1 }' "$work/out" || bad "$cmd --help: a line is over 80 columns"
done
"$demo" --help >"$work/main" || bad "--help"
for cmd in map counter queue threads cpus; do
  grep -q "^  $cmd " "$work/main" || bad "fanout-demo --help does not list $cmd"
done

# IPC objects left behind: the library unlinks its names at once, so a new one that stays is a
# leak. Other test runs may hold one for an instant; only those still there a moment later count.
ipc_list | comm -13 "$work/ipc.before" - >"$work/ipc.new"
if [ -s "$work/ipc.new" ]; then
  sleep 1
  ipc_list | comm -12 "$work/ipc.new" - >"$work/ipc.left"
  [ ! -s "$work/ipc.left" ] || bad "IPC objects left behind: $(tr '\n' ' ' <"$work/ipc.left")"
fi
exit $fail
