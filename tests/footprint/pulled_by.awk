# `make footprint`: the bytes each archive gave a program, from its GNU ld link map (-Map), as
# pulled.awk counts them: prints "name text data bss" per archive, the fetch objects of
# libfanout.a apart from the rest of it, and "objects" for what came from no archive (the
# program's own object, the C library's start files). Sections the link discarded are listed
# before the memory map and are not counted.
function hex(s,   i, c, v) {
  v = 0; s = tolower(s); sub(/^0x/, "", s)
  for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
  return v
}
function owner(file,   a, m) {
  if (match(file, /[^\/]+\.a\(/) == 0) return "objects"
  a = substr(file, RSTART, RLENGTH - 1)
  m = substr(file, RSTART + RLENGTH)
  if (a ~ /^libfanout/) return m ~ /fetch/ ? "libfanout.a(fetch)" : "libfanout.a(rest)"
  return a
}
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^ \.[^ ]+$/ { name = $1; next }
{
  if ($0 ~ /^ \.[^ ]+ +0x/) { n = $1; size = $3; file = $4 }
  else if ($0 ~ /^ +0x[0-9a-f]+ +0x[0-9a-f]+ / && name != "") { n = name; size = $2; file = $3 }
  else { name = ""; next }
  name = ""
  if (file == "") next
  o = owner(file)
  if (!(o in seen)) { seen[o] = 1; order[++k] = o }
  if (n ~ /^\.(text|rodata|eh_frame|gcc_except_table|MIPS\.abiflags)/) t[o] += hex(size)
  else if (n ~ /^\.(s?data|init_array|fini_array|got|tdata)/) d[o] += hex(size)
  else if (n ~ /^\.(s?bss|tbss)/ || n == "COMMON" || n ~ /^\.scommon/) b[o] += hex(size)
}
END { for (i = 1; i <= k; i++) print order[i], t[order[i]] + 0, d[order[i]] + 0, b[order[i]] + 0 }
