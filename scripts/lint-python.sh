#!/usr/bin/env bash
# The Python part of `npm run lint`: Ruff checks and format-checks the programs Keel runs inside the sandbox
# (activities/sandbox/*/python/) and their tests (test/python/), as ruff.toml configures it. The set-up installs Ruff
# with --tests (scripts/setup/ruff.sh), since Keel itself does not need it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly RUFF=.keel/tools/ruff/bin/ruff
if [[ ! -x $RUFF ]]; then
  echo "lint: Ruff, the Python linter, is not installed; install it with 'bash scripts/setup.sh --tests'" \
    "(or only it: 'bash scripts/setup/ruff.sh'), then run npm run lint again" >&2
  exit 1
fi
"$RUFF" check .
"$RUFF" format --check .
