# `make footprint`: the bytes of libfanout.a in a program, from its GNU ld link map (-Map):
# prints "text data bss" summed over the input sections that came from the archive. text is code
# and read-only data (.text, .rodata, .eh_frame), as size(1) counts it; data and bss are RAM.
# Sections the link discarded are listed before the memory map and are not counted.
function hex(s,   i, c, v) {
  v = 0; s = tolower(s); sub(/^0x/, "", s)
  for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
  return v
}
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^ \.[^ ]+$/ { name = $1; next }
{
  if ($0 ~ /^ \.[^ ]+ +0x/) { n = $1; size = $3; file = $4 }
  else if ($0 ~ /^ +0x[0-9a-f]+ +0x[0-9a-f]+ / && name != "") { n = name; size = $2; file = $3 }
  else { name = ""; next }
  name = ""
  if (file !~ /libfanout[_a-z]*\.a\(/) next
  if (n ~ /^\.(text|rodata|eh_frame|gcc_except_table)/) t += hex(size)
  else if (n ~ /^\.(s?data|init_array|fini_array)/) d += hex(size)
  else if (n ~ /^\.(s?bss|tbss)/ || n == "COMMON") b += hex(size)
}
END { print t + 0, d + 0, b + 0 }
