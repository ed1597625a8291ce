#!/bin/bash
# Build the extension image (what `make extension` runs).
#
#   scripts/build-extension.sh [IMAGE]      default storj-registry-extension:0.1.0
#
# Makes sure the base image (debian:bookworm-slim) is there first: when it is
# missing it is made locally with tests/env/base-image.sh (debootstrap, needs
# root), because Docker Hub may not be reachable; set
# STORJ_REGISTRY_PULL_BASE=1 to let `docker build` pull it instead.
# Then: DOCKER_BUILDKIT=0 docker build --network host -t IMAGE .
# (--network host: the build stage reaches Debian's mirror through the host.)
# Prints IMAGE=... and its size. Env: DOCKER (client binary), DOCKER_HOST,
# EXTENSION_IMAGE, VERSION, PROJECT_URL (labels; see the Dockerfile).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${DOCKER:-}" ]; then
  DOCKER=/usr/bin/docker
  [ -x "$DOCKER" ] || DOCKER=$(command -v docker)
fi
VERSION=${VERSION:-0.1.0}
IMAGE=${1:-${EXTENSION_IMAGE:-storj-registry-extension:$VERSION}}
BASE=debian:bookworm-slim

log() { echo "[build-extension $(date +%T)] $*" >&2; }

"$DOCKER" version >/dev/null 2>&1 || { log "ERROR: no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default})"; exit 1; }
if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
  if [ "${STORJ_REGISTRY_PULL_BASE:-0}" = 1 ]; then
    log "$BASE missing; docker build will pull it"
  else
    log "$BASE missing; making it locally"
    DOCKER="$DOCKER" "$ROOT/tests/env/base-image.sh" >/dev/null
  fi
fi

args=(--network host -t "$IMAGE" --build-arg "VERSION=$VERSION")
[ -n "${PROJECT_URL:-}" ] && args+=(--build-arg "PROJECT_URL=$PROJECT_URL")
log "docker build ${args[*]} $ROOT"
t0=$(date +%s)
DOCKER_BUILDKIT=0 "$DOCKER" build "${args[@]}" "$ROOT" >&2
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
log "built $IMAGE in $(($(date +%s) - t0)) s, $(awk -v s="$size" 'BEGIN{printf "%.1f MB", s / 1e6}')"
echo "IMAGE=$IMAGE"
