#!/usr/bin/env bash
# Prepares this machine for Keel: Node dependencies, the web console's bundle (.keel/console), git, the temporal CLI,
# a Docker engine, the sandbox image and the tools of the workspace disk quota (losetup, mkfs.ext4);
# with --tests (what `npm test` passes) also the tools only the tests use: PostgreSQL's server binaries and
# SeaweedFS, an S3-compatible store, Chromium for the console's browser tests, Schemathesis, the API fuzzer, and Ruff,
# the linter of the Python programs that run inside the sandbox.
# `npm start`, `npm test` and `npm run bench` run it first. It is idempotent and takes well under a second
# when everything is already in place. Results the TypeScript code reads: .keel/tools/temporal-path and
# .keel/sandbox-image (one line each); for the tests .keel/tools/postgresql-bin, .keel/tools/seaweedfs/bin/weed and
# .keel/tools/chromium-path; .keel/tools/schemathesis/bin/schemathesis; .keel/tools/ruff/bin/ruff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup/common.sh

with_tests=false
for argument in "$@"; do
  case $argument in
    --tests) with_tests=true ;;
    *) fail "unknown argument $argument (the only one is --tests: also set up what the tests need)" ;;
  esac
done

mkdir -p .keel
# Two set-ups at once (say, `npm test` in two terminals) would install and build twice; the second one waits.
exec {lock_fd}>.keel/setup.lock
if ! flock --nonblock "$lock_fd"; then
  log "another set-up is running; waiting for it"
  flock "$lock_fd"
fi

# Each step runs without the lock's descriptor, so a dockerd it starts does not hold the lock after set-up ends.
run_step() { bash "scripts/setup/$1.sh" {lock_fd}>&-; }

run_step node-deps
run_step console
run_step git
run_step temporal-cli
run_step docker-engine
run_step sandbox-image
run_step workspace-disks
if $with_tests; then
  run_step postgresql
  run_step seaweedfs
  run_step chromium
  run_step schemathesis
  run_step ruff
fi
