#!/usr/bin/env bash
# Set-up step (with --tests): PostgreSQL's server binaries (initdb, pg_ctl, postgres), which the tests use to start a
# private cluster in a temporary folder on a free port (test/support/postgres.ts); the system's own cluster is never
# started or touched. On Debian as root, Debian's `postgresql` package is installed when missing. Keel itself does
# not need it: a deployment points KEEL_DATABASE_URL at its own PostgreSQL. Result the tests read:
# .keel/tools/postgresql-bin (the folder holding initdb).
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly RESULT=.keel/tools/postgresql-bin

# The newest installed server's bin folder (Debian keeps them in /usr/lib/postgresql/<major>/bin), or nothing.
find_bin_dir() {
  local candidate
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [[ -x $candidate/initdb && -x $candidate/pg_ctl ]]; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

bin_dir=$(find_bin_dir)
if [[ -z $bin_dir ]]; then
  if ! can_apt_install; then
    fail "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: the tests run the control-plane store on a" \
      "private PostgreSQL cluster. Install them (on Debian or Ubuntu: apt-get install -y postgresql), then run set-up again"
  fi
  log "installing PostgreSQL (apt-get install postgresql): the tests start a private cluster with it"
  apt_install postgresql || fail "apt-get install postgresql failed: install PostgreSQL by hand"
  bin_dir=$(find_bin_dir)
  [[ -n $bin_dir ]] || fail "initdb and pg_ctl are still missing after apt-get install postgresql"
fi
if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  # initdb refuses to run as root: the tests run the private cluster as this unprivileged user.
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres ||
    fail "could not create the system user postgres (initdb refuses to run as root)"
fi
write_line "$RESULT" "$bin_dir"
log "PostgreSQL $("$bin_dir/postgres" --version | awk '{print $3}') at $bin_dir"
