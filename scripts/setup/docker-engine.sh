#!/usr/bin/env bash
# Set-up step: a Docker engine for the sandboxes. Uses the one `docker info` reaches (DOCKER_HOST, else the
# default socket). Otherwise, on Debian as root, installs docker.io when needed and starts dockerd in the
# background, detached from this script so it keeps running after set-up exits (log: .keel/dockerd.log).
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly DOCKERD_LOG=$PWD/.keel/dockerd.log
readonly WAIT_SECONDS=60

docker_answers() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

if docker_answers; then
  log "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) at ${DOCKER_HOST:-the default socket}"
  exit 0
fi

case ${DOCKER_HOST:-} in
  '' | unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
  *) fail "DOCKER_HOST=$DOCKER_HOST does not answer \`docker info\`: start that engine, or unset DOCKER_HOST" ;;
esac
if ! can_apt_install; then
  fail "no Docker engine answers \`docker info\`: install and start Docker (docs.docker.com/engine/install)," \
    "or set DOCKER_HOST; on Debian, set-up run as root installs and starts it"
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  log "installing Docker (apt-get install docker.io)"
  apt_install docker.io || fail "apt-get install docker.io failed: install Docker by hand"
fi

if pid=$(cat /var/run/docker.pid 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
  log "dockerd (pid $pid) is running but does not answer yet; waiting up to ${WAIT_SECONDS}s"
else
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  log "starting dockerd in the background (log: .keel/dockerd.log)"
  # setsid + nohup: dockerd gets its own session, so neither the end of set-up nor a Ctrl-C on `npm test`
  # reaches it.
  setsid nohup dockerd --storage-driver=overlay2 </dev/null >>"$DOCKERD_LOG" 2>&1 &
  pid=$!
fi

for ((tick = 0; tick < WAIT_SECONDS * 2; tick++)); do
  docker_answers && { log "Docker engine $(docker version --format '{{.Server.Version}}') started"; exit 0; }
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 15 "$DOCKERD_LOG" >&2 || true
    fail "dockerd exited during start-up (log above, full log: $DOCKERD_LOG)"
  fi
  sleep 0.5
done
fail "dockerd did not answer within ${WAIT_SECONDS}s (log: $DOCKERD_LOG)"
