#!/bin/sh
# docs/tutorial.md: every code block is an extract of a program under examples/. Each fenced
# block must follow a line "<!-- example: NAME.c -->" and appear, verbatim and in one piece, in
# examples/NAME.c, so the tutorial cannot drift from programs that `make check` builds and runs.
set -eu
srcdir=${srcdir:-.}
doc=$srcdir/docs/tutorial.md
[ -f "$doc" ] || { echo "tutorial.sh: no $doc" >&2; exit 1; }
awk -v ex="$srcdir/examples/" '
  function slurp(path,   line, s, n) {
    s = ""; n = 0
    while ((getline line < path) > 0) { s = s line "\n"; n++ }
    close(path)
    return n ? s : ""
  }
  /^<!-- example: [A-Za-z0-9_]+\.c -->$/ { name = $3; next }
  /^```/ {
    if (!inblock) {
      inblock = 1; block = ""; start = NR
      if (name == "") { printf "tutorial.md:%d: a code block with no example marker\n", NR; bad = 1 }
      blockname = name; name = ""
      next
    }
    inblock = 0; blocks++
    if (blockname == "") next
    src = slurp(ex blockname)
    if (src == "") { printf "tutorial.md:%d: no examples/%s\n", start, blockname; bad = 1 }
    else if (index(src, block) == 0) {
      printf "tutorial.md:%d: this block is not in examples/%s as it stands:\n%s", start, blockname, block
      bad = 1
    }
    next
  }
  inblock { block = block $0 "\n"; next }
  { if ($0 != "") name = "" }
  END {
    if (blocks == 0) { print "tutorial.md: no code blocks"; bad = 1 }
    if (!bad) printf "tutorial.sh: %d code blocks, each found in its example\n", blocks
    exit bad
  }' "$doc"
