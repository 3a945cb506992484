#!/usr/bin/env bash
# Builds the Keel sandbox image without a registry: debootstrap a minimal Debian bookworm root filesystem
# from the Debian mirror this machine's apt already uses, add the `agent` user, and `docker import` it.
# The result matches ./Dockerfile (same packages, user, workdir, environment and command).
#
# Usage: build-offline.sh <image tag> <work folder>
# Needs root (debootstrap), a running Docker engine, and apt to install debootstrap when it is missing.
set -euo pipefail

readonly PACKAGES=bash,coreutils,findutils,grep,sed,util-linux,procps,python3,git,ripgrep,ca-certificates
readonly SUITE=bookworm
readonly FALLBACK_MIRROR=http://deb.debian.org/debian

log() { echo "keel setup: $*"; }
fail() {
  echo "keel setup: error: $*" >&2
  exit 1
}

[[ $# -eq 2 ]] || fail "usage: build-offline.sh <image tag> <work folder>"
tag=$1
work_dir=$2

# Prints the first Debian mirror of the apt sources (one-line .list and deb822 .sources files) that serves
# the bookworm suite, or the first one whose URI ends in /debian, or deb.debian.org.
debian_mirror() {
  local files=() file
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for file in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] && files+=("$file")
  done
  [[ ${#files[@]} -gt 0 ]] || { echo "$FALLBACK_MIRROR"; return; }
  awk -v suite="$SUITE" -v fallback="$FALLBACK_MIRROR" '
    function consider(types, uris, suites,   n, i, list) {
      if (types !~ /(^|[ \t])deb([ \t]|$)/) return
      n = split(uris, list, /[ \t]+/)
      for (i = 1; i <= n; i++) {
        if (list[i] !~ /^(https?|file):/) continue
        if (exact == "" && (" " suites " ") ~ (" " suite " ")) exact = list[i]
        if (loose == "" && list[i] ~ /\/debian\/?$/) loose = list[i]
      }
    }
    function flush() { if (uris != "") consider(types, uris, suites); types = ""; uris = ""; suites = "" }
    FNR == 1 { flush() }
    /^[ \t]*#/ { next }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      key = tolower($1); sub(/^[^:]*:[ \t]*/, "")
      if (key == "types:") types = $0
      else if (key == "uris:") uris = $0
      else if (key == "suites:") suites = $0
      next
    }
    {
      line = $0; gsub(/\[[^]]*\]/, "", line)
      n = split(line, field, /[ \t]+/); i = (field[1] == "") ? 2 : 1
      if (n >= i + 2) consider(field[i], field[i + 1], field[i + 2])
    }
    END { flush(); print (exact != "" ? exact : (loose != "" ? loose : fallback)) }
  ' "${files[@]}"
}

# Unmounts whatever debootstrap left mounted under the root filesystem, then deletes it.
remove_rootfs() {
  [[ -d $rootfs ]] || return 0
  local mount_point
  while read -r mount_point; do
    umount -l "$mount_point" 2>/dev/null || true
  done < <(awk -v root="$rootfs" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$rootfs"
}

[[ $(id -u) -eq 0 ]] || fail "building the sandbox image offline needs root (debootstrap); run as root, or set KEEL_SANDBOX_IMAGE to an existing image"

if ! command -v debootstrap >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "debootstrap is missing and apt-get is not available: install debootstrap"
  log "installing debootstrap (apt-get)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

mirror=$(debian_mirror)
mkdir -p "$work_dir/cache"
work_dir=$(cd "$work_dir" && pwd)
rootfs="$work_dir/rootfs"
trap remove_rootfs EXIT
remove_rootfs

log "debootstrap $SUITE (minbase) from $mirror into $rootfs (log: $work_dir/debootstrap.log)"
if ! debootstrap --variant=minbase --components=main --include="$PACKAGES" --cache-dir="$work_dir/cache" \
  "$SUITE" "$rootfs" "$mirror" >"$work_dir/debootstrap.log" 2>&1; then
  tail -n 20 "$work_dir/debootstrap.log" >&2
  fail "debootstrap failed (full log: $work_dir/debootstrap.log)"
fi

log "adding user agent (1000:1000), /workspace, and trimming caches"
grep -q '^agent:' "$rootfs/etc/passwd" || {
  echo 'agent:x:1000:1000:Keel agent:/home/agent:/bin/bash' >>"$rootfs/etc/passwd"
  echo 'agent:x:1000:' >>"$rootfs/etc/group"
  echo 'agent:*:19000:0:99999:7:::' >>"$rootfs/etc/shadow"
  echo 'agent:!::' >>"$rootfs/etc/gshadow"
}
mkdir -p "$rootfs/home/agent" "$rootfs/workspace"
cp -a "$rootfs/etc/skel/." "$rootfs/home/agent/"
chown -R 1000:1000 "$rootfs/home/agent" "$rootfs/workspace"
chmod 0755 "$rootfs/home/agent" "$rootfs/workspace"

# Docker provides these files at run time; the host's copies must not end up in the image.
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/hostname"
[[ -f $rootfs/etc/machine-id ]] && : >"$rootfs/etc/machine-id"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$rootfs/usr" -name __pycache__ -type d -prune -exec rm -rf {} +

log "importing $tag"
tar --numeric-owner --xattrs -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
  docker import \
    --change 'USER 1000:1000' \
    --change 'WORKDIR /workspace' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV HOME=/home/agent' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["sleep","infinity"]' \
    --message "keel sandbox, debootstrap $SUITE from $mirror" \
    - "$tag" >/dev/null
log "built $tag"
