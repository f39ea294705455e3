# quickstart's deb-src entries, which apt-get source needs for Debian's curl and check sources.
# Sourced by ./quickstart.
# shellcheck shell=bash

# apt-get source needs a deb-src entry; derive it from the existing binary entries so no host is
# named here.
has_deb_src() {
  grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d
}
ensure_deb_src() {
  has_deb_src && return 0
  need_root "adding deb-src entries to /etc/apt/sources.list.d"
  local d=/etc/apt/sources.list.d
  log "adding deb-src entries derived from the existing apt sources"
  local f
  for f in "$d"/*.sources; do
    [ -e "$f" ] || continue
    sed -e 's/^Types:.*/Types: deb-src/' "$f" |
      sudo_ tee "$d/fanout-src-$(basename "$f")" >/dev/null
  done
  if [ -s /etc/apt/sources.list ]; then
    sed -n -e 's/^deb /deb-src /p' /etc/apt/sources.list |
      sudo_ tee "$d/fanout-src.list" >/dev/null
  fi
  apt_update
}
