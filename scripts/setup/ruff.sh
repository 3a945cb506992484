#!/usr/bin/env bash
# Set-up step: Ruff, the Python linter and formatter that checks the programs Keel runs inside the sandbox
# (activities/sandbox/*/python/*.py and their tests in test/python/), run by `npm run lint` and by
# `test/sandbox-programs.test.ts`. Installed from PyPI into its own virtual environment, .keel/tools/ruff, with a pinned
# version; a stamp file (.keel/tools/ruff/keel-version) names the version, so later runs skip the install. Keel itself
# does not need it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly VERSION=0.17.6
readonly TOOLS_DIR=$PWD/.keel/tools/ruff
readonly BINARY=$TOOLS_DIR/bin/ruff
readonly STAMP=$TOOLS_DIR/keel-version

if [[ -x $BINARY && -f $STAMP && $(<"$STAMP") == "$VERSION" ]]; then
  log "Ruff $VERSION at ${BINARY#"$PWD"/}"
  exit 0
fi

python=$(command -v python3 || true)
[[ -n $python ]] || fail "no python3 found: the Python lint runs Ruff, installed from PyPI with pip;" \
  "install Python 3 (Debian: apt-get install python3 python3-venv) and run the set-up again"

log "installing Ruff $VERSION into .keel/tools/ruff (pip; a few seconds the first time)"
started=$SECONDS
pip_install_into_venv "$python" "$TOOLS_DIR" "ruff==$VERSION"
"$BINARY" --version >/dev/null 2>&1 || fail "the Ruff just installed does not run: $BINARY --version failed"
write_line "$STAMP" "$VERSION"
log "Ruff $VERSION installed in $((SECONDS - started)) s at ${BINARY#"$PWD"/}"
