# shellcheck shell=bash
# Shared helpers for the set-up steps; sourced, never run. The caller's working folder is the project root.

# Prints one line of set-up progress.
log() { echo "keel setup: $*"; }

# Prints an error that says what to do, and stops; several arguments are joined with spaces.
fail() {
  echo "keel setup: error: $*" >&2
  exit 1
}

# True when this machine can install Debian packages itself: Debian or a derivative, apt-get, and root.
can_apt_install() {
  [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1 && [[ -f /etc/debian_version ]]
}

# Installs Debian packages quietly (apt-get update first, once per set-up run).
apt_install() {
  if [[ -z ${KEEL_SETUP_APT_UPDATED:-} ]]; then
    apt-get update -qq >/dev/null
    export KEEL_SETUP_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Writes one line to a file, only when it changes.
write_line() {
  local file=$1 value=$2
  [[ -f $file && $(<"$file") == "$value" ]] && return 0
  mkdir -p "$(dirname "$file")"
  printf '%s\n' "$value" >"$file"
}
