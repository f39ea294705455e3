# quickstart's Debian packages: a layer's package list, apt-get update and install (named first,
# dpkg's output to the log), and the service guard around an install: a policy-rc.d that refuses
# every start, then nothing left enabled at boot or running. Sourced by ./quickstart, which
# holds the layers' lists.
# shellcheck shell=bash

layer_packages() {
  case "$1" in
    demo) printf '%s\n' "${layer_demo[@]}" ;;
    check) printf '%s\n' "${layer_demo[@]}" "${layer_check[@]}" ;;
    bench) printf '%s\n' "${layer_demo[@]}" "${layer_check[@]}" "${layer_bench[@]}" ;;
    *) usage ;;
  esac
}

apt_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      printf '%s\n' "$p"
  done
}

apt_updated=0
# A mirror caught mid-sync fails one index now and then; the indexes that did download are still
# good, and apt-get install says clearly if a package is really missing.
apt_update() {
  mkdir -p "$cache"
  sudo_ apt-get update >>"$apt_log" 2>&1 ||
    log "apt-get update reported errors (see $apt_log); going on with the indexes it has"
  apt_updated=1
}

# Service links of the boot (systemd wants, SysV start links), to see what an install enabled.
service_links() {
  find /etc/systemd/system /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d -mindepth 1 \
    \( -path '*.wants/*' -o -name 'S[0-9]*' \) 2>/dev/null | sort
}

policy=/usr/sbin/policy-rc.d
policy_saved=$policy.fanout-saved
policy_mark='# ./quickstart: no service starts while it installs packages'
# What a run killed while installing left: its own policy in place, the machine's aside.
# The run that wrote our policy-rc.d, if it is still going: its policy is then in use, not left
# over (two quickstart runs may overlap; apt itself waits for dpkg's lock).
policy_owner_alive() {
  local pid
  pid=$(sed -n 's/^# pid \([0-9][0-9]*\)$/\1/p' "$policy" 2>/dev/null)
  [ -n "$pid" ] && [ "$pid" != "$$" ] && [ -d "/proc/$pid" ]
}
policy_cleanup() {
  if grep -qxF "$policy_mark" "$policy" 2>/dev/null && policy_owner_alive; then
    return 0
  fi
  if [ -e "$policy_saved" ]; then
    need_root "putting back $policy"
    sudo_ mv -f "$policy_saved" "$policy"
  elif [ -e "$policy" ] && grep -qxF "$policy_mark" "$policy" 2>/dev/null; then
    need_root "removing the $policy an interrupted run left"
    sudo_ rm -f "$policy"
  fi
}
# While packages install, a policy-rc.d that refuses every start (invoke-rc.d and
# deb-systemd-invoke ask it), so nginx and the like never run, nor fail on a taken port. One the
# machine already has is put back afterwards, also after an interrupted run.
policy_deny() {
  policy_cleanup
  if [ -e "$policy" ]; then
    sudo_ mv -f "$policy" "$policy_saved"
  fi
  printf '#!/bin/sh\n%s\n# pid %s\nexit 101\n' "$policy_mark" "$$" | sudo_ tee "$policy" >/dev/null
  sudo_ chmod 755 "$policy"
}
policy_restore() {
  if [ -e "$policy_saved" ]; then
    sudo_ mv -f "$policy_saved" "$policy"
  else
    sudo_ rm -f "$policy"
  fi
}

# services_settle LINKS-BEFORE PACKAGE...: disable what the install enabled at boot, and check
# that no program of the packages it set up runs.
services_settle() {
  local before=$1
  shift
  local link name done_sysv=" "
  while read -r link; do
    [ -n "$link" ] || continue
    name=$(basename "$link")
    case "$link" in
      */rc?.d/*)
        name=${name#S[0-9][0-9]}
        # one call turns the start links of every runlevel into stop links
        case "$done_sysv" in *" $name "*) continue ;; esac
        done_sysv+="$name "
        log "disabling $name at boot (SysV)"
        sudo_ update-rc.d "$name" disable >>"$apt_log" 2>&1 || sudo_ rm -f "$link"
        ;;
      *)
        log "disabling $name at boot"
        if command -v deb-systemd-helper >/dev/null 2>&1; then
          sudo_ deb-systemd-helper disable "$name" >>"$apt_log" 2>&1 || sudo_ rm -f "$link"
        else
          sudo_ rm -f "$link"
        fi
        ;;
    esac
  done < <(comm -13 <(printf '%s\n' "$before") <(service_links))
  local left
  left=$(comm -13 <(printf '%s\n' "$before") <(service_links))
  [ -z "$left" ] || die "still enabled at boot after the install: $left"
  # The programs of the packages that bring a service: none may be running in this root (the
  # policy above refused their starts).
  # Daemons live in sbin; a package with a unit or an init script may run any of its programs.
  local p files progs="" pid exe me
  for p in "$@"; do
    files=$(dpkg -L "$p" 2>/dev/null || true)
    if printf '%s\n' "$files" | grep -E '^(/usr)?/lib/systemd/system/[^/]+\.service$|^/etc/init\.d/' >/dev/null; then
      progs+=$(printf '%s\n' "$files" | grep -E '^/(usr/)?s?bin/' || true)$'\n'
    else
      progs+=$(printf '%s\n' "$files" | grep -E '^/(usr/)?sbin/' || true)$'\n'
    fi
  done
  [ -n "$progs" ] || return 0
  me=$(readlink /proc/self/root)
  for pid in /proc/[0-9]*; do
    [ "$(readlink "$pid/root" 2>/dev/null)" = "$me" ] || continue
    exe=$(readlink "$pid/exe" 2>/dev/null) || continue
    if printf '%s\n' "$progs" | grep -qxF "$exe"; then
      die "$exe (pid ${pid#/proc/}) is running after the install; stop it and disable its service"
    fi
  done
}

# apt_install PACKAGE...: install what is missing, named first (as for $apt_what), dpkg's output
# to the log.
apt_install() {
  local what=${apt_what:-the build}
  local missing
  mapfile -t missing < <(apt_missing "$@")
  [ "${#missing[@]}" -gt 0 ] || return 0
  need_root "installing ${missing[*]}"
  mkdir -p "$cache"
  log "installing for $what (${#missing[@]}): ${missing[*]}"
  [ "$apt_updated" -eq 1 ] || apt_update
  # an install killed half-way leaves packages unconfigured, and apt refuses to go on until
  # they are
  sudo_ dpkg --configure -a >>"$apt_log" 2>&1 || true
  local before t0 lines rc=0
  before=$(service_links)
  t0=$(date +%s)
  touch "$apt_log"
  lines=$(wc -l <"$apt_log")
  policy_deny
  trap 'policy_restore; exit 130' INT TERM HUP
  printf '\n==== %s: apt-get install %s\n' "$(date -u +%FT%TZ)" "${missing[*]}" >>"$apt_log"
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >>"$apt_log" 2>&1 || rc=$?
  policy_restore
  trap - INT TERM HUP
  if [ "$rc" -ne 0 ]; then
    tail -n 20 "$apt_log" >&2
    die "apt-get install failed (status $rc); the whole output is in $apt_log"
  fi
  local setup
  mapfile -t setup < <(tail -n +"$((lines + 1))" "$apt_log" | sed -n 's/^Setting up \([^ ]*\) .*/\1/p')
  log "installed ${#missing[@]} requested, ${#setup[@]} packages set up in $(($(date +%s) - t0)) s (log: $apt_log)"
  services_settle "$before" "${missing[@]}" "${setup[@]}"
}
