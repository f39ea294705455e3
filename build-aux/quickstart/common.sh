# quickstart's shared helpers: messages (log, die), the usage text, and becoming root (sudo_,
# need_root). Sourced by ./quickstart, which sets $qs_file to its own path first.
# shellcheck shell=bash

log() { printf 'quickstart: %s\n' "$*" >&2; }
die() {
  printf 'quickstart: error: %s\n' "$*" >&2
  exit 1
}

# usage [STATUS]: the comment at the top of ./quickstart, on stderr for a mistake (2), on stdout
# for --help (0).
usage() {
  local st=${1:-2}
  if [ "$st" -eq 0 ]; then
    sed -n '2,/^set -e/p' "$qs_file" | sed -e '$d' -e 's/^# \{0,1\}//'
  else
    sed -n '2,/^set -e/p' "$qs_file" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  fi
  exit "$st"
}

is_root() { [ "$(id -u)" -eq 0 ]; }
sudo_() { if is_root; then "$@"; else sudo "$@"; fi; }

# Called before the first change to the system: stop here, having changed nothing, when there is
# no way to become root.
need_root() {
  is_root && return 0
  command -v sudo >/dev/null 2>&1 && return 0
  die "$* needs root: run ./quickstart as root, or install sudo and run it as a user who may use it"
}
