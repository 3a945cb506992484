#!/usr/bin/env bash
# Set-up step: SeaweedFS (`weed`), the S3-compatible object store the tests run the S3 blob store against
# (`test/support/seaweedfs.ts`). Built from source with Go into .keel/tools/seaweedfs/bin/weed; a stamp file
# (.keel/tools/seaweedfs/version) names the version built, so later runs skip the build. Keel itself does not need
# it: a deployment points KEEL_S3_ENDPOINT at its own object store.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly MODULE=github.com/seaweedfs/seaweedfs
readonly VERSION=v0.0.0-20261109003541-7506e5f91cd6
readonly TOOLS_DIR=$PWD/.keel/tools/seaweedfs
readonly BINARY=$TOOLS_DIR/bin/weed
readonly STAMP=$TOOLS_DIR/version

if [[ -x $BINARY && -f $STAMP && $(<"$STAMP") == "$VERSION" ]]; then
  log "SeaweedFS $VERSION at ${BINARY#"$PWD"/}"
  exit 0
fi

command -v go >/dev/null 2>&1 ||
  fail "Go not found: the tests need SeaweedFS (an S3-compatible store), which set-up builds from source with" \
    "Go 1.26.6 or newer; install Go (https://go.dev/doc/install) and run npm test again"

log "building SeaweedFS $VERSION into .keel/tools/seaweedfs (go build; several minutes the first time)"
started=$SECONDS
mkdir -p "$TOOLS_DIR/bin"
rm -f "$STAMP"
# Go's progress (a few hundred "go: downloading" lines) goes to a log, shown when something fails.
build_log=$TOOLS_DIR/build.log
: >"$build_log"
# `go install module/weed@version` refuses this module: its go.mod has a replace directive (go-bip39), which only
# applies to a main module. So the module's source comes from the Go module proxy (`go mod download`), and `weed`
# is built inside it as the main module, with its own go.mod and go.sum.
download=$(go mod download -json "$MODULE@$VERSION" 2>>"$build_log") ||
  fail "could not download $MODULE@$VERSION from the Go module proxy:" \
    "$(sed -n 's/.*"Error": "\(.*\)".*/\1/p' <<<"$download")"
source_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$download")
[[ -d $source_dir ]] || fail "go mod download gave no source folder for $MODULE@$VERSION"

partial=$BINARY.partial
if ! (cd "$source_dir" && CGO_ENABLED=0 GOFLAGS='-trimpath -mod=readonly -buildvcs=false' \
  go build -ldflags '-s -w' -o "$partial" ./weed) >>"$build_log" 2>&1; then
  tail -n 20 "$build_log" >&2
  fail "building SeaweedFS failed (the end of .keel/tools/seaweedfs/build.log is above);" \
    "it needs Go 1.26.6 or newer (found $(go env GOVERSION))"
fi
mv "$partial" "$BINARY"
"$BINARY" version >/dev/null 2>&1 || fail "the SeaweedFS just built does not run: $BINARY version failed"
write_line "$STAMP" "$VERSION"
log "SeaweedFS $VERSION built in $((SECONDS - started)) s at ${BINARY#"$PWD"/}"
