#!/usr/bin/env bash
# Set-up step: Node dependencies. Runs `npm ci` when node_modules is missing or was installed from another
# package-lock.json. npm's hidden lockfile (node_modules/.package-lock.json) lists what is installed; it
# never equals package-lock.json byte for byte (no root entry, no optional packages for other platforms),
# so the check compares entries: installed ones must match the lock, and only optional ones may be absent.
# Either way the patches in patches/ are applied (patch-package; it leaves a package already patched as it is).
set -euo pipefail
source "$(dirname "$0")/common.sh"

command -v npm >/dev/null 2>&1 || fail "npm not found: install Node.js 20.19 or newer"
[[ -f package-lock.json ]] || fail "package-lock.json is missing: run npm install once and commit the lock file"

installed_matches_lock() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  node -e '
    const { readFileSync } = require("node:fs");
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8")).packages ?? {};
    const installed = JSON.parse(readFileSync("node_modules/.package-lock.json", "utf8")).packages ?? {};
    const same = (left, right) => JSON.stringify(left) === JSON.stringify(right);
    const stale = Object.keys(installed).some((key) => !same(installed[key], lock[key]));
    const missing = Object.keys(lock).some((key) => key !== "" && !(key in installed) && !lock[key].optional);
    process.exit(stale || missing ? 1 : 0);
  '
}

if installed_matches_lock; then
  log "node_modules matches package-lock.json"
  # npm ci applies patches/ itself (postinstall); a tree installed before a patch was added gets it here.
  if ! patched=$(node_modules/.bin/patch-package --error-on-fail --error-on-warn 2>&1); then
    printf '%s\n' "$patched" >&2
    fail "patching node_modules failed (see above and patches/README.md)"
  fi
else
  log "installing Node dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed; run it by hand to see why"
fi
