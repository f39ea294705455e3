#!/bin/sh
# The layering of the library, read from its objects: which file uses a function or variable that
# which other file defines (nm). Fails on
#   - a cycle of files (two files, or more in a ring, that call each other),
#   - a cycle of modules (a module is a folder: src/base, src/tpool, ...; every port and
#     ports/common count as one module, "ports"),
#   - a port that calls into src/ anywhere but src/base (ports/port.h: a port uses only the base
#     below it), or the base calling anything above it.
# What the compiler inlines (static inline helpers, types, macros) is not seen: the private
# headers carry those, one per module.
#   tests/layering.sh [BUILDDIR]   (default: $FO_BUILDDIR, else .)
set -eu
top=${1:-${FO_BUILDDIR:-.}}
NM=${NM:-nm}
work=$(mktemp -d "${TMPDIR:-/tmp}/fanout-layering.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
fail() {
  echo "layering: $*" >&2
  exit 1
}

# The objects of libfanout.a (the fault-injection copy has a prefix of its own; the demo, tests
# and benchmarks are not the library).
(cd "$top" && find src ports -name '*.o' ! -name 'libfanout_inject_a-*' | sort) >"$work/objs"
[ -s "$work/objs" ] || fail "no object of the library under $top (build it first)"
nobj=$(wc -l <"$work/objs")
narch=$("${AR:-ar}" t "$top/libfanout.a" | wc -l)
[ "$nobj" -eq "$narch" ] || fail "$nobj objects under $top, $narch in libfanout.a: a stale tree"

# "D file symbol" for each definition, "U file symbol" for each use.
while read -r o; do
  f=${o%.o}
  "$NM" -g --defined-only "$top/$o" | awk -v f="$f" 'NF == 3 && $2 ~ /[TDBRCGS]/ { print "D", f, $3 }'
  "$NM" -u "$top/$o" | awk -v f="$f" '{ print "U", f, $NF }'
done <"$work/objs" >"$work/syms"

# file edges "user definer", then module edges
awk '$1 == "D" { def[$3] = $2; next }
     { use[NR] = $2 " " $3 }
     END { for (i in use) { split(use[i], a, " "); d = def[a[2]]
             if (d != "" && d != a[1]) print a[1], d } }' "$work/syms" | sort -u >"$work/files"
module() { sed -e 's#^ports/[^ ]*#ports#' -e 's#^\(src/[^/ ]*\)/[^ ]*#\1#'; }
awk '{ print $1 }' "$work/files" | module >"$work/m1"
awk '{ print $2 }' "$work/files" | module >"$work/m2"
paste -d' ' "$work/m1" "$work/m2" | awk '$1 != $2' | sort -u >"$work/modules"

# tsort names one loop per message; every message is a failure.
cycles() {
  tsort "$1" 2>&1 >/dev/null | sed -n 's/^tsort: //p' | grep -v 'input contains a loop' || true
}
bad=0
c=$(cycles "$work/files")
if [ -n "$c" ]; then
  echo "layering: files that call each other (a loop):" >&2
  echo "$c" | sed 's/^/  /' >&2
  bad=1
fi
c=$(cycles "$work/modules")
if [ -n "$c" ]; then
  echo "layering: modules that call each other (a loop):" >&2
  echo "$c" | sed 's/^/  /' >&2
  bad=1
fi
up=$(awk '$1 == "ports" && $2 != "src/base"' "$work/modules")
if [ -n "$up" ]; then
  echo "layering: a port calls above the base: $up" >&2
  bad=1
fi
up=$(awk '$1 == "src/base"' "$work/modules")
if [ -n "$up" ]; then
  echo "layering: the base calls another module: $up" >&2
  bad=1
fi
[ "$bad" -eq 0 ] || exit 1

# The modules in an order that respects every edge, bottom first, with what each uses.
echo "layering: $nobj files, $(wc -l <"$work/files") file edges, no loop; modules bottom up:"
tsort "$work/modules" | tac | while read -r m; do
  printf '  %-12s uses %s\n' "$m" "$(awk -v m="$m" '$1 == m { printf "%s ", $2 }' "$work/modules")"
done
