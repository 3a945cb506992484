#!/usr/bin/env bash
# Set-up step: the web console (console/), bundled with esbuild into .keel/console/, which `keel server` and `keel up`
# serve at /console. It rebuilds only when the console's sources or package-lock.json changed since the last build
# (a hash of them is kept in .keel/console/.source-hash), so it costs nothing when everything is in place.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly OUT=.keel/console
readonly STAMP=$OUT/.source-hash

source_hash=$( (
  find console -type f -print0 | sort -z | xargs -0 sha256sum
  sha256sum package-lock.json scripts/setup/console.sh
) | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(<"$STAMP") == "$source_hash" && -f $OUT/console.js ]]; then
  log "console is built"
  exit 0
fi

[[ -x node_modules/.bin/esbuild ]] || fail "esbuild is missing from node_modules: run npm ci, then set-up again"
log "building the console (esbuild console/main.tsx into $OUT)"
building=$OUT.building
rm -rf "$building"
mkdir -p "$building"
node_modules/.bin/esbuild console/main.tsx --bundle --minify --sourcemap --format=esm --platform=browser \
  --target=es2022 --tsconfig=console/tsconfig.json --log-level=warning --outfile="$building/console.js" ||
  fail "the console did not build: see esbuild's message above"
cp console/index.html console/console.css "$building/"
printf '%s\n' "$source_hash" >"$building/.source-hash"
rm -rf "$OUT"
mv "$building" "$OUT"
