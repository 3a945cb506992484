#!/usr/bin/env bash
# Set-up step: git on this machine. Workers clone sessions' github_repository resources with the host's git (the
# token stays out of the sandbox), and the tests serve repositories with git http-backend. On Debian as root it is
# installed when missing; elsewhere set-up stops and says how to install it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if command -v git >/dev/null 2>&1; then
  exit 0
fi
if ! can_apt_install; then
  fail "git is not installed: workers need it to clone github_repository resources." \
    "Install git (on Debian or Ubuntu: apt-get install -y git), then run set-up again"
fi
log "installing git (apt-get install git): workers clone github_repository resources with it"
apt_install git || fail "apt-get install git failed: install git by hand"
command -v git >/dev/null 2>&1 || fail "git is still not on PATH after apt-get install git"
log "git $(git --version | cut -d' ' -f3) installed"
