#!/bin/sh
# fanout-demo starlink end to end against the local API mirror: every output format parsed back
# and compared with the documents the mirror serves (read independently, from fo-mirror --dump),
# the sequential, compared and list-only runs giving the same rows, faults on some documents
# (exit 1, one error line per failed item, the other rows intact), the list failing (exit 3),
# bad flags (exit 2, naming the flag), and every command's --help within 80 columns.
# DEMO and MIRROR name the binaries (default: the ones in the build tree).
set -u
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed to parse the output"; exit 77; }
name=demo-starlink
. "$(dirname "$0")/helpers/demo-run.sh"
[ -x "$mirror" ] || { echo "FAIL: no mirror at $mirror" >&2; exit 1; }
docs=100

# start_mirror NAME ARGS...: a mirror on a free loopback port; its base URL goes to $api.
start_mirror() {
  name=$1
  shift
  $T "$mirror" --port 0 --port-file "$tmp/$name.port" --docs $docs --idle-exit 20 "$@" \
    >/dev/null 2>"$tmp/$name.err" &
  pids="$pids $!"
  i=0
  until grep -q '^[0-9][0-9]*$' "$tmp/$name.port" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { echo "FAIL: mirror $name did not start" >&2; cat "$tmp/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  api="http://127.0.0.1:$(cat "$tmp/$name.port")/v4"
}

# What the mirror serves, written out by the mirror itself, read back by Python's json below.
mkdir "$tmp/dump" && $T "$mirror" --dump "$tmp/dump" --docs $docs >/dev/null || { echo "FAIL: fo-mirror --dump" >&2; exit 1; }

cat >"$tmp/check.py" <<'EOF'
# check.py FORMAT OUTPUT DUMP COUNT [MISSING]: the rows in OUTPUT (one format) must be the first
# COUNT documents of the dumped list, in list order, less the ids in the file MISSING.
import csv, io, json, os, sys

fmt, out, dump, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
missing = set(open(sys.argv[5]).read().split()) if len(sys.argv) > 5 else set()
with open(os.path.join(dump, "v4", "starlink.json"), encoding="utf-8") as f:
    ids = [d["id"] for d in json.load(f)][:count]
want = []
for i in ids:
    if i in missing:
        continue
    with open(os.path.join(dump, "v4", "starlink", i), encoding="utf-8") as f:
        st = json.load(f).get("spaceTrack") or {}
    want.append([i, st.get("OBJECT_NAME"), st.get("LAUNCH_DATE"), st.get("DECAY_DATE")])
raw = open(out, "rb").read()
text = raw.decode("utf-8")
keys = ["id", "object_name", "launch_date", "decay_date"]
if fmt == "json":
    doc = json.loads(text)
    assert isinstance(doc, list), "not an array"
    for o in doc:
        assert sorted(o) == sorted(keys), "keys %r" % sorted(o)
    got = [[o[k] for k in keys] for o in doc]
elif fmt == "csv":
    assert text == "" or text.endswith("\r\n"), "records must end in CRLF"
    assert "\n" not in text.replace("\r\n", ""), "bare LF"
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows[0] == keys, "header %r" % rows[0]
    # an empty field is a null; an empty string would read the same here, so compare alike
    got = [[v if v != "" else None for v in r] for r in rows[1:]]
    want = [[v if v != "" else None for v in r] for r in want]
else:
    lines = text.split("\n")
    assert lines[-1] == "", "no final newline"
    lines = lines[:-1]
    head = lines[0]
    cols = ["ID", "OBJECT_NAME", "LAUNCH_DATE", "DECAY_DATE"]
    pos = [head.index(c) for c in cols]
    assert pos[0] == 0 and pos == sorted(pos), "header %r" % head
    got = []
    for ln in lines[1:]:
        assert ln == ln.rstrip(), "trailing blanks: %r" % ln
        cells = [ln[pos[k]:pos[k + 1] if k + 1 < len(pos) else None] for k in range(len(pos))]
        for k in range(1, len(pos)):
            assert ln[pos[k] - 2:pos[k]] == "  ", "column %d not aligned: %r" % (k, ln)
        got.append([None if c.strip() == "-" else c.rstrip() for c in cells])
if got != want:
    for g, w in zip(got, want):
        if g != w:
            print("first difference: got %r, want %r" % (g, w), file=sys.stderr)
            break
    sys.exit("%s: %d rows, expected %d" % (fmt, len(got), len(want)))
print(len(got))
EOF

# check FORMAT OUTPUT COUNT [MISSING]: the output parsed back and compared, with a message.
check() {
  if ! n=$(python3 "$tmp/check.py" "$1" "$2" "$tmp/dump" "$3" ${4:+"$4"} 2>"$tmp/check.err"); then
    bad "$1 output differs from the mirror's documents: $(cat "$tmp/check.err")"
    return 1
  fi
}

start_mirror clean --latency-ms 20
count=60

# Each format, threaded (the default), parsed back and compared.
for fmt in table csv json; do
  $T "$demo" starlink --api "$api" --count $count --format $fmt >"$tmp/$fmt.out" 2>"$tmp/$fmt.err"
  rc=$?
  [ "$rc" -eq 0 ] || bad "$fmt: exit $rc: $(cat "$tmp/$fmt.err")"
  check $fmt "$tmp/$fmt.out" $count
  grep -q "^starlink: $count satellites, 0 errors, .* s wall time, 50 threads\$" "$tmp/$fmt.err" ||
    bad "$fmt: no summary line on stderr: $(cat "$tmp/$fmt.err")"
  ! grep -q '^error:' "$tmp/$fmt.err" || bad "$fmt: error lines on a clean run"
done
# The table: a header and one line per satellite, nothing else on stdout.
[ "$(wc -l <"$tmp/table.out")" -eq $((count + 1)) ] || bad "table: $(wc -l <"$tmp/table.out") lines"

# On a terminal (script(1) gives it one) a progress bar is drawn on stderr; stdout still holds
# only the rows.
if command -v script >/dev/null 2>&1; then
  $T script -qec "'$demo' starlink --api '$api' --count $count --format csv >'$tmp/tty.out'" \
    /dev/null >"$tmp/tty.err" </dev/null
  grep -q "] $count/$count" "$tmp/tty.err" || bad "no progress bar on a terminal: $(cat "$tmp/tty.err")"
  cmp -s "$tmp/tty.out" "$tmp/csv.out" || bad "rows differ with stderr on a terminal"
fi

# One thread, both runs, the list alone: the same bytes on stdout.
for mode in sequential compare from-list; do
  $T "$demo" starlink --api "$api" --count $count --format csv --$mode >"$tmp/$mode.out" \
    2>"$tmp/$mode.err"
  rc=$?
  [ "$rc" -eq 0 ] || bad "--$mode: exit $rc: $(cat "$tmp/$mode.err")"
  cmp -s "$tmp/$mode.out" "$tmp/csv.out" || bad "--$mode: rows differ from the threaded run"
done
grep -q '1 thread$' "$tmp/sequential.err" || bad "--sequential: summary is not for 1 thread"
grep -q '^starlink: speed-up [0-9.]*x' "$tmp/compare.err" || bad "--compare: no speed-up line"
grep -q '^starlink: sequential: ' "$tmp/compare.err" && grep -q '^starlink: threaded: ' \
  "$tmp/compare.err" || bad "--compare: not both wall times: $(cat "$tmp/compare.err")"
grep -q '1 request$' "$tmp/from-list.err" || bad "--from-list: summary is not for 1 request"

# More than the list holds: the whole list. --threads and --rate as flags with = values.
$T "$demo" starlink --api="$api/" --count=1000 --threads=7 --rate=2000 --format=json \
  >"$tmp/all.out" 2>"$tmp/all.err" || bad "--count 1000: exit $?: $(cat "$tmp/all.err")"
check json "$tmp/all.out" 1000
grep -q "^starlink: $docs satellites, 0 errors, .* 7 threads\$" "$tmp/all.err" ||
  bad "--threads 7: summary $(cat "$tmp/all.err")"

# Faults on about a third of the documents, no retries: exit 1, an error line per failed item
# naming its id, and every other row exactly right. A drip (one byte per 100 ms) meets --timeout.
for kind in 500 trunc drip; do
  start_mirror "fault-$kind" --fault-rate 0.3 --fault $kind --seed 7
  for fmt in json csv table; do
    out=$tmp/f-$kind-$fmt
    $T "$demo" starlink --api "$api" --count $docs --retries 0 --timeout 2 --format $fmt \
      >"$out.out" 2>"$out.err"
    rc=$?
    [ "$rc" -eq 1 ] || bad "fault $kind ($fmt): exit $rc, expected 1"
    sed -n 's/^error: \([0-9a-f]\{24\}\): .\{1,\}$/\1/p' "$out.err" >"$out.missing"
    nerr=$(wc -l <"$out.missing")
    [ "$nerr" -ge 5 ] && [ "$nerr" -le 60 ] || bad "fault $kind ($fmt): $nerr error lines"
    [ "$(grep -c '^error:' "$out.err")" -eq "$nerr" ] || bad "fault $kind ($fmt): malformed error line"
    grep -q "^starlink: $((docs - nerr)) satellites, $nerr errors," "$out.err" ||
      bad "fault $kind ($fmt): summary $(grep '^starlink:' "$out.err")"
    check $fmt "$out.out" $docs "$out.missing"
  done
done
grep -q '^error: [0-9a-f]*: HTTP status 500' "$tmp/f-500-json.err" || bad "a 500 is not named"
grep -q '^error: [0-9a-f]*: .*timed out' "$tmp/f-drip-json.err" || bad "a timeout is not named"
# Not a terminal: no progress bar, nothing but error and summary lines on stderr.
! grep -q -v -e '^error: ' -e '^starlink: ' "$tmp/f-drip-csv.err" "$tmp/compare.err" ||
  bad "stderr holds more than errors and summaries (a progress bar off a terminal?)"

# With retries the same faults (drawn at random per request) mostly go away: fewer errors. Cut
# bodies, as in the trunc runs above, which fail at once (drips would each wait out a timeout).
start_mirror fault-trunc-retried --fault-rate 0.3 --fault trunc --seed 7
$T "$demo" starlink --api "$api" --count $docs --retries 5 --format csv >"$tmp/r.out" 2>"$tmp/r.err"
rc=$?
[ "$rc" -le 1 ] || bad "--retries 5: exit $rc"
[ "$(grep -c '^error:' "$tmp/r.err")" -lt "$(wc -l <"$tmp/f-trunc-csv.missing")" ] ||
  bad "--retries 5 did not retry: $(grep -c '^error:' "$tmp/r.err") errors"

# The list itself failing: an HTTP error, a cut body, nobody listening. Exit 3, nothing on stdout.
list_fails() { # what, api
  $T "$demo" starlink --api "$2" --retries 0 --timeout 5 >"$tmp/l.out" 2>"$tmp/l.err"
  rc=$?
  [ "$rc" -eq 3 ] || bad "list $1: exit $rc, expected 3: $(cat "$tmp/l.err")"
  [ ! -s "$tmp/l.out" ] || bad "list $1: output on stdout"
  grep -q 'list' "$tmp/l.err" || bad "list $1: the message does not say the list failed"
}
start_mirror list
# The mirror's per-request faults ride on the query string, which the list URL then carries.
list_fails 500 "$api/starlink?fault=500&x="
list_fails truncated "$api/starlink?fault=trunc&x="
list_fails 404 "$api/nowhere"
list_fails "HTML page" "$api/starlink?fault=challenge200&x="
port=$(cat "$tmp/list.port")
kill $pids 2>/dev/null
wait 2>/dev/null
pids=
list_fails refused "http://127.0.0.1:$port/v4"

# Text that CSV must quote and JSON must escape. The mirror's documents are plain ASCII, so a
# small server (Python's http.server) answers the same two routes with documents whose strings
# use JSON escapes, commas, quotes, line breaks, non-ASCII, an empty string and nulls. The
# expected rows are what Python's json reads from those very bodies.
cat >"$tmp/odd.py" <<'EOF'
# odd.py PORTFILE: serve /v4/starlink and /v4/starlink/ID for a few awkward documents.
import http.server, json, sys
names = ['STARLINK, "QUOTED"', "\u00e9\u00fc \U0001F600 back\\slash /", "LINE\r\nBREAK\tTAB",
         "", None, "CR\rONLY \x01"]
dates = ["2019-05-24", None, "2020-10-13T02:56:59.566560", "", "2020-06-19 21:46:09", None]
docs = []
for i, name in enumerate(names):
    st = {"OBJECT_NAME": name, "LAUNCH_DATE": dates[i], "DECAY_DATE": dates[-1 - i]}
    doc = {"spaceTrack": st, "id": "%024x" % (0x5eed770f096e590006985600 + i)}
    # half of them with every non-ASCII character written as a \u escape
    docs.append(json.dumps(doc, ensure_ascii=(i % 2 == 0), separators=(",", ":")))
bodies = {"/v4/starlink": "[" + ",".join(docs) + "]"}
for d in docs:
    bodies["/v4/starlink/" + json.loads(d)["id"]] = d
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = bodies.get(self.path)
        data = (body if body is not None else "Not Found").encode("utf-8")
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
with open(sys.argv[1] + ".list", "w", encoding="utf-8") as f:
    f.write(bodies["/v4/starlink"])
srv.serve_forever()
EOF
cat >"$tmp/oddcheck.py" <<'EOF'
# oddcheck.py FORMAT OUTPUT LIST: the rows must be the list's, field for field; in CSV a null
# is an empty field and an empty string the quoted "", in the table a null is -.
import json, sys
fmt, out, listfile = sys.argv[1:4]
want = []
for d in json.load(open(listfile, encoding="utf-8")):
    st = d.get("spaceTrack") or {}
    want.append([d["id"], st.get("OBJECT_NAME"), st.get("LAUNCH_DATE"), st.get("DECAY_DATE")])
text = open(out, "rb").read().decode("utf-8")
if fmt == "json":
    got = [[o["id"], o["object_name"], o["launch_date"], o["decay_date"]] for o in json.loads(text)]
elif fmt == "table":
    # aligned by characters; a null shows as -, a control character as ?
    lines = text.split("\n")[:-1]
    pos = [lines[0].index(c) for c in ("ID", "OBJECT_NAME", "LAUNCH_DATE", "DECAY_DATE")] + [None]
    got = [[ln[pos[k]:pos[k + 1]].rstrip() for k in range(4)] for ln in lines[1:]]
    want = [["-" if v is None else "".join("?" if ord(c) < 32 else c for c in v) for v in w]
            for w in want]
else:
    # RFC 4180 by hand, so that a quoted empty field ("") reads apart from an empty one (null)
    rows, row, i = [], [], 0
    while i < len(text):
        if text[i] == '"':
            j, v = i + 1, ""
            while True:
                k = text.index('"', j)
                v += text[j:k]
                if text[k + 1:k + 2] == '"':
                    v, j = v + '"', k + 2
                else:
                    i = k + 1
                    break
        else:
            k = min([x for x in (text.find(",", i), text.find("\r\n", i)) if x >= 0])
            v = text[i:k] if k > i else None
            assert v is None or not any(c in v for c in '"\r\n'), "unquoted %r" % v
            i = k
        row.append(v)
        if text.startswith("\r\n", i):
            rows.append(row)
            row, i = [], i + 2
        else:
            assert text[i] == ",", "junk after a field at %d" % i
            i += 1
    assert rows[0] == ["id", "object_name", "launch_date", "decay_date"], rows[0]
    got = rows[1:]
if got != want:
    sys.exit("%s: got %r\nwant %r" % (fmt, got, want))
EOF
$T python3 "$tmp/odd.py" "$tmp/odd.port" 2>"$tmp/odd.err" &
pids="$pids $!"
i=0
until [ -s "$tmp/odd.port" ]; do
  i=$((i + 1))
  [ "$i" -le 100 ] || { echo "FAIL: the test server did not start: $(cat "$tmp/odd.err")" >&2; exit 1; }
  sleep 0.1
done
odd="http://127.0.0.1:$(cat "$tmp/odd.port")/v4"
for fmt in table csv json; do
  for flag in --threads=3 --from-list; do
    $T "$demo" starlink --api "$odd" --format $fmt $flag >"$tmp/odd.out" 2>"$tmp/odd.err"
    rc=$?
    [ "$rc" -eq 0 ] || bad "awkward text ($fmt, $flag): exit $rc: $(cat "$tmp/odd.err")"
    python3 "$tmp/oddcheck.py" $fmt "$tmp/odd.out" "$tmp/odd.port.list" 2>"$tmp/check.err" ||
      bad "awkward text ($fmt, $flag): $(cat "$tmp/check.err")"
  done
done

# Bad flags: exit 2, the flag named on stderr, nothing on stdout.
usage() { # flag-to-find args...
  want=$1
  shift
  $T "$demo" starlink "$@" >"$tmp/u.out" 2>"$tmp/u.err"
  rc=$?
  [ "$rc" -eq 2 ] || bad "starlink $*: exit $rc, expected 2"
  [ ! -s "$tmp/u.out" ] || bad "starlink $*: output on stdout"
  grep -q -e "$want" "$tmp/u.err" || bad "starlink $*: message does not name $want: $(cat "$tmp/u.err")"
}
usage --count --count 0
usage --count --count many
usage --count --count
usage --threads --threads 1000
usage 'threads = 1000: accepted 0 to 256' --threads 1000
usage 'retries = 99: accepted 0 to 20' --retries 99
usage 'rate = 2000000: accepted 0 to 1000000' --rate 2e6
usage --format --format xml
usage 'table, csv, json' --format=yaml
usage --timeout --timeout -1
usage --retries --retries 99
usage --rate --rate 0
usage --api --api ''
usage --bogus --bogus
usage --sequential --sequential=yes
usage --compare --sequential --compare
usage --from-list --from-list --compare
usage extra extra

# --help for the program and every command it lists: exit 0, on stdout, within 80 columns.
help_fits() {
  $T "$demo" "$@" --help >"$tmp/h.out" 2>"$tmp/h.err"
  rc=$?
  [ "$rc" -eq 0 ] && [ -s "$tmp/h.out" ] || bad "$* --help: exit $rc or no text"
  awk 'length($0) > 80 { exit 1 }' "$tmp/h.out" || bad "$* --help: a line is wider than 80 columns"
}
help_fits
cmds=$("$demo" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
case " $(echo $cmds) " in *" starlink "*) ;; *) bad "starlink is not in fanout-demo --help" ;; esac
for c in $cmds; do
  help_fits "$c"
done
exit $fail
