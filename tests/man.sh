#!/bin/sh
# The manual (man/): every function libfanout.a exports has a page or a .so link named after it,
# every synopsis line is a prototype of a public header, every EXAMPLE compiles against the
# headers, and every page passes `mandoc -Tlint` with nothing to say. The lint alone is skipped
# (exit 77 at the end, after the other checks) when mandoc is not installed.
set -eu
srcdir=${srcdir:-.}
man=$srcdir/man
lib=${1:-./libfanout.a}
nm=${NM:-nm}
cc=${CC:-cc}
includes=${FO_INCLUDES:--I$srcdir/include}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "man.sh: $*" >&2; fail=1; }

# Real pages and links: a link is one line, ".so man3/PAGE.3", naming a real page.
pages=
for f in "$man"/*.3; do
  if head -n1 "$f" | grep -q '^\.so '; then
    target=$(sed -n '1s/^\.so man3\///p' "$f")
    [ "$(wc -l <"$f")" -eq 1 ] || bad "$f: a link holds one .so line and nothing else"
    [ -n "$target" ] && [ -f "$man/$target" ] || bad "$f: links to a missing page ($target)"
    [ -n "$target" ] && head -n1 "$man/$target" | grep -q '^\.so ' && bad "$f: links to a link"
  else
    pages="$pages $f"
  fi
done

# Every page is installed and shipped.
listed=$(tr -s ' \\\t' '\n\n\n' <"$man/pages.am" | grep '^man/' || true)
for f in "$man"/*.3; do
  echo "$listed" | grep -qx "man/$(basename "$f")" ||
    bad "$f is not listed in man/pages.am (so not installed)"
done

# Every exported function has a page.
syms=$($nm --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^fo_/ && $3 !~ /^fo__/ { print $3 }' |
  sort -u)
[ -n "$syms" ] || bad "no fo_ functions found in $lib"
for s in $syms; do
  [ -f "$man/$s.3" ] || bad "$s is exported by $(basename "$lib") but has no page man/$s.3"
done

# Synopsis lines against the headers (whitespace folded), and each page's EXAMPLE compiled.
cat "$srcdir"/include/fanout/*.h | tr -s ' \n\t' '   ' >"$tmp/headers"
for f in $pages; do
  sed -n '/^\.SH SYNOPSIS/,/^\.SH/s/^\.BI "\(.*\)"$/\1/p' "$f" | sed 's/\\(dq/"/g' |
    while IFS= read -r proto; do
      grep -qF -- "$proto" "$tmp/headers" || echo "$f: synopsis is not in the headers: $proto"
    done >"$tmp/protos"
  if [ -s "$tmp/protos" ]; then
    cat "$tmp/protos" >&2
    fail=1
  fi
  for sec in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS EXAMPLE "SEE ALSO"; do
    grep -q "^\.SH $sec\$" "$f" || bad "$f: no $sec section"
  done
  sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$f" | sed -n '/^\.EX$/,/^\.EE$/p' | sed -e '/^\.E[XE]$/d' \
    -e 's/\\e/\\/g' >"$tmp/example.c"
  [ -s "$tmp/example.c" ] || {
    bad "$f: EXAMPLE has no .EX block"
    continue
  }
  # shellcheck disable=SC2086 # $includes is a list of flags
  if ! $cc -std=gnu11 -Wall -Wextra -Werror $includes -c -o "$tmp/example.o" "$tmp/example.c" \
    2>"$tmp/cc.log"; then
    bad "$f: its EXAMPLE does not compile:"
    cat "$tmp/cc.log" >&2
  fi
done

# Every code of FO_ERRNO_MAP is in fanout-errors(3).
for code in $(sed -n 's/^ *XX(\([A-Z]*\),.*/\1/p' "$srcdir/include/fanout/fanout.h"); do
  grep -q "FO_$code\\b" "$man/fanout-errors.3" || bad "FO_$code is missing from fanout-errors(3)"
done

if command -v mandoc >/dev/null 2>&1; then
  for f in $pages; do
    out=$(mandoc -Tlint "$f" 2>&1) || true
    [ -z "$out" ] || bad "mandoc -Tlint $f:
$out"
  done
fi

n=$(echo "$syms" | wc -l)
if [ "$fail" -ne 0 ]; then
  exit 1
fi
if ! command -v mandoc >/dev/null 2>&1; then
  echo "man.sh: $n functions have pages and every example compiles; SKIP of the lint: mandoc is not installed (Debian: apt-get install mandoc)"
  exit 77
fi
echo "man.sh: $n exported functions have pages; every page lint-clean, every example compiles"
