#!/usr/bin/env bash
# Set-up step: a Docker engine for the sandboxes. Uses the one `docker info` reaches (DOCKER_HOST, else the
# default socket). Otherwise, on Debian as root, installs docker.io when needed and starts dockerd in the
# background, detached from this script so it keeps running after set-up exits (log: .keel/dockerd.log).
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly DOCKERD_LOG=$PWD/.keel/dockerd.log
readonly WAIT_SECONDS=180

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

readonly STALE_TASKS=/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby
readonly ATTEMPTS=5

# Starts dockerd detached: setsid + nohup give it its own session, so neither the end of set-up nor a Ctrl-C on
# `npm test` reaches it. Prints its pid.
start_dockerd() {
  setsid nohup dockerd --storage-driver=overlay2 </dev/null >>"$DOCKERD_LOG" 2>&1 &
  echo $!
}

# Waits until the engine answers (exit 0), dockerd exits (exit 1) or WAIT_SECONDS pass (exit 2).
wait_for_engine() {
  local pid=$1 tick
  for ((tick = 0; tick < WAIT_SECONDS * 2; tick++)); do
    docker_answers && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 2
}

if pid=$(cat /var/run/docker.pid 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
  log "dockerd (pid $pid) is running but does not answer yet; waiting up to ${WAIT_SECONDS}s"
else
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  log "starting dockerd in the background (log: .keel/dockerd.log)"
  pid=$(start_dockerd)
fi

for ((attempt = 1; ; attempt++)); do
  status=0
  wait_for_engine "$pid" || status=$?
  case $status in
    0) log "Docker engine $(docker version --format '{{.Server.Version}}') started"; exit 0 ;;
    2) fail "dockerd did not answer within ${WAIT_SECONDS}s (log: $DOCKERD_LOG)" ;;
  esac
  # An engine stopped without its containers stopping (a killed machine, a killed dockerd) leaves their tasks
  # behind; the containerd dockerd starts cleans each one up before it answers, and dockerd waits for it only so long. With
  # hundreds left, that is not enough: each attempt cleans some, so start again.
  if ((attempt < ATTEMPTS)) && tail -n 5 "$DOCKERD_LOG" | grep -q 'timeout waiting for containerd to start'; then
    left=$(find "$STALE_TASKS" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    log "containerd timed out cleaning up the tasks a previous engine left ($left still to clean);" \
      "starting dockerd again (attempt $((attempt + 1)) of $ATTEMPTS)"
    pid=$(start_dockerd)
    continue
  fi
  tail -n 15 "$DOCKERD_LOG" >&2 || true
  fail "dockerd exited during start-up (log above, full log: $DOCKERD_LOG)"
done
