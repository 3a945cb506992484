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

# Creates a fresh virtual environment at $2 with the Python $1 (installing Debian's venv module first when it is
# missing and apt can) and installs the pinned requirement $3 into it with pip, keeping pip's log in $2/install.log
# and showing its end when pip fails.
pip_install_into_venv() {
  local python=$1 dir=$2 requirement=$3
  rm -rf "$dir"
  if ! "$python" -m venv "$dir" >/dev/null 2>&1; then
    if can_apt_install; then
      apt_install python3-venv
      "$python" -m venv "$dir"
    else
      fail "$python cannot create a virtual environment: install the venv module (Debian: apt-get install python3-venv)"
    fi
  fi
  local install_log=$dir/install.log
  if ! "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >"$install_log" 2>&1; then
    tail -n 20 "$install_log" >&2
    fail "pip could not install $requirement from PyPI (the end of ${install_log#"$PWD"/} is above)"
  fi
}
