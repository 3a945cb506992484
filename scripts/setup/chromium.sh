#!/usr/bin/env bash
# Set-up step (with --tests): a headless browser for the console's tests (test/console.test.ts drives it with
# puppeteer-core). Debian's `chromium` package is installed when missing, on Debian as root; nothing is downloaded
# outside the distribution's packages. Keel itself does not need it. Result the tests read: .keel/tools/chromium-path.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly RESULT=.keel/tools/chromium-path

find_chromium() {
  local name
  for name in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
}

chromium_path=$(find_chromium)
if [[ -z $chromium_path ]]; then
  if ! can_apt_install; then
    fail "Chromium is not installed: the console's tests drive it headless. Install it (on Debian: apt-get install -y" \
      "chromium; on Ubuntu a chromium or google-chrome-stable package), then run set-up again"
  fi
  log "installing Chromium (apt-get install chromium): the console's tests drive it headless"
  apt_install chromium || fail "apt-get install chromium failed: install Chromium by hand"
  chromium_path=$(find_chromium)
  [[ -n $chromium_path ]] || fail "chromium is still missing after apt-get install chromium"
fi
write_line "$RESULT" "$chromium_path"
log "Chromium at $chromium_path"
