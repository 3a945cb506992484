#!/usr/bin/env bash
# Set-up step: the tools that give each sandbox workspace its disk quota (KEEL_SANDBOX_DISK_QUOTA, on by default):
# losetup and flock (util-linux, mount) and mkfs.ext4 and debugfs (e2fsprogs). On Debian as root they are installed
# when missing. Elsewhere, and on a host without loop devices, set-up only warns: the worker checks the quota when it
# starts and stops with what is missing, unless KEEL_SANDBOX_DISK_QUOTA=off.
set -euo pipefail
source "$(dirname "$0")/common.sh"

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
missing_packages() {
  command -v losetup >/dev/null 2>&1 || echo mount
  command -v flock >/dev/null 2>&1 || echo util-linux
  { command -v mkfs.ext4 >/dev/null 2>&1 && command -v debugfs >/dev/null 2>&1; } || echo e2fsprogs
}

packages=$(missing_packages | sort -u | tr '\n' ' ')
if [[ -n ${packages// /} ]]; then
  if can_apt_install; then
    log "installing ${packages}(apt-get): workers give each sandbox workspace a disk quota with them"
    # shellcheck disable=SC2086
    apt_install $packages || fail "apt-get install ${packages}failed: install them by hand"
    packages=$(missing_packages | sort -u | tr '\n' ' ')
    [[ -z ${packages// /} ]] || fail "still missing after apt-get install: ${packages}"
  else
    log "warning: ${packages}not installed: workers need losetup, flock, mkfs.ext4 and debugfs for the workspace" \
      "disk quota; install them, or set KEEL_SANDBOX_DISK_QUOTA=off"
  fi
fi
if [[ ! -e /dev/loop-control ]]; then
  log "warning: this host has no loop devices (/dev/loop-control): workers cannot give workspaces a disk quota" \
    "here; run them on a host that has, or set KEEL_SANDBOX_DISK_QUOTA=off"
fi
