#!/usr/bin/env bash
# Set-up step: Schemathesis, the OpenAPI fuzzer the HTTP API's fuzzing test runs against /openapi.json
# (`test/openapi-fuzzing.test.ts`). Installed from PyPI into its own virtual environment, .keel/tools/schemathesis, with
# a pinned version; a stamp file (.keel/tools/schemathesis/keel-version) names the version and the Python it runs on,
# so later runs skip the install. Keel itself does not need it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly VERSION=4.32.5
readonly TOOLS_DIR=$PWD/.keel/tools/schemathesis
readonly BINARY=$TOOLS_DIR/bin/schemathesis
readonly STAMP=$TOOLS_DIR/keel-version

# Python 3.12 or newer where there is one: on 3.11 (up to 3.11.7 at least) Hypothesis, which Schemathesis draws its
# cases with, can fail on a CPython bug ("AST constructor recursion depth mismatch") in the middle of a run.
find_python() {
  local candidate
  for candidate in python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      command -v "$candidate"
      return
    fi
  done
  for candidate in python3 python3.11 python3.10; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
      log "warning: no Python 3.12 or newer found; Schemathesis runs on $("$candidate" --version 2>&1), which may fail" \
        "now and then on a CPython 3.11 bug" >&2
      command -v "$candidate"
      return
    fi
  done
}

python=$(find_python)
[[ -n $python ]] || fail "no Python 3.10 or newer found: the tests fuzz the API with Schemathesis, a Python tool;" \
  "install Python 3.12 or newer (Debian: apt-get install python3 python3-venv) and run npm test again"
readonly STAMP_VALUE="$VERSION on $("$python" --version 2>&1)"

if [[ -x $BINARY && -f $STAMP && $(<"$STAMP") == "$STAMP_VALUE" ]]; then
  log "Schemathesis $VERSION at ${BINARY#"$PWD"/}"
  exit 0
fi

log "installing Schemathesis $VERSION into .keel/tools/schemathesis (pip; a minute the first time)"
started=$SECONDS
pip_install_into_venv "$python" "$TOOLS_DIR" "schemathesis==$VERSION"
"$BINARY" --version >/dev/null 2>&1 || fail "the Schemathesis just installed does not run: $BINARY --version failed"
write_line "$STAMP" "$STAMP_VALUE"
log "Schemathesis $STAMP_VALUE installed in $((SECONDS - started)) s at ${BINARY#"$PWD"/}"
