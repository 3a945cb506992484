#!/usr/bin/env bash
# Set-up step: the sandbox image. KEEL_SANDBOX_IMAGE, when set, must name a local image. Otherwise the tag is
# keel-sandbox:<first 12 hex of sha256 over scripts/sandbox-image/{Dockerfile,build-offline.sh}>, so editing
# the image sources yields a new tag and a rebuild. It is built with `docker build` when the Dockerfile's base
# image is present locally, else offline from Debian packages. The tag goes to .keel/sandbox-image.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly SOURCES_DIR=scripts/sandbox-image
readonly TAG_FILE=.keel/sandbox-image

if [[ -n ${KEEL_SANDBOX_IMAGE:-} ]]; then
  docker image inspect "$KEEL_SANDBOX_IMAGE" >/dev/null 2>&1 ||
    fail "KEEL_SANDBOX_IMAGE=$KEEL_SANDBOX_IMAGE is not a local image: pull or build it first," \
      "or unset KEEL_SANDBOX_IMAGE to let set-up build one"
  write_line "$TAG_FILE" "$KEEL_SANDBOX_IMAGE"
  log "sandbox image $KEEL_SANDBOX_IMAGE (KEEL_SANDBOX_IMAGE)"
  exit 0
fi

version=$(cat "$SOURCES_DIR/Dockerfile" "$SOURCES_DIR/build-offline.sh" | sha256sum | cut -c1-12)
tag=keel-sandbox:$version

if docker image inspect "$tag" >/dev/null 2>&1; then
  log "sandbox image $tag is present"
else
  base_image=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$SOURCES_DIR/Dockerfile")
  if docker image inspect "$base_image" >/dev/null 2>&1; then
    log "building sandbox image $tag (docker build, from $base_image)"
    output=$(docker build --quiet --tag "$tag" "$SOURCES_DIR" 2>&1) || {
      echo "$output" >&2
      fail "docker build of $SOURCES_DIR failed (output above)"
    }
  else
    log "building sandbox image $tag offline ($base_image is not local; takes about a minute)"
    bash "$SOURCES_DIR/build-offline.sh" "$tag" .keel/sandbox-build
  fi
fi
write_line "$TAG_FILE" "$tag"
