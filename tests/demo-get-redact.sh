#!/bin/sh
# fanout-demo get's error lines against the hostile server (tests/hostile/fo-hostile): a URL's
# password and query never appear (user:***@, ?***), and a server's Content-Type with escape
# sequences reaches the terminal as \xNN text, not as bytes that set the title or clear it.
# DEMO and HOSTILE name the binaries.
set -u
name=demo-get-redact
. "$(dirname "$0")/helpers/demo-run.sh"
hostile=${HOSTILE:-./tests/hostile/fo-hostile}
[ -x "$hostile" ] || { echo "SKIP: no $hostile"; exit 77; }
"$hostile" --idle-exit 20 >"$tmp/port" &
pids="$pids $!"
i=0
while ! grep -q PORT "$tmp/port" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/^PORT //p' "$tmp/port")
[ -n "$port" ] || { echo "FAIL: fo-hostile did not start" >&2; exit 1; }

$T "$demo" get "http://alice:s3cret@127.0.0.1:$port/ctype404?token=t0ken#frag" \
  "http://127.0.0.1:$port/status2000?sig=abc" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || bad "not exit 1"
grep -q "^error: http://alice:\*\*\*@127.0.0.1:$port/ctype404?\*\*\*: HTTP status 404" "$tmp/err" ||
  bad "no redacted error line for the 404"
grep -q "^error: http://127.0.0.1:$port/status2000?\*\*\*: " "$tmp/err" ||
  bad "no redacted error line for status 2000"
grep -q 'text/plain\\x1b\]0;owned\\x07\\x1b\[2J' "$tmp/err" || bad "the server's type is not escaped"
grep -q 's3cret\|t0ken\|sig=\|frag' "$tmp/err" && bad "a secret reached the error line"
LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$tmp/err" && bad "a control byte reached stderr"
[ $fail -eq 0 ] || cat -v "$tmp/err" >&2
exit $fail
