#!/bin/bash
# Build the extension image for linux/amd64 and linux/arm64 (what
# `make extension` runs): ONE image index, without buildx.
#
#   scripts/build-extension.sh [IMAGE]      default storj-registry-extension:0.1.0
#
# 1. Makes sure the base image (debian:bookworm-slim) is there: when it is
#    missing it is made locally with tests/env/base-image.sh (debootstrap,
#    as root on Debian/Ubuntu), because Docker Hub may not be reachable;
#    elsewhere (a Mac, no root), or with STORJ_REGISTRY_PULL_BASE=1,
#    `docker build` pulls it. Nothing else is needed on this machine: the
#    compilers and libraries of both architectures live in the build stage.
# 2. DOCKER_BUILDKIT=0 docker build --network host --target meta: the
#    Dockerfile's build stage compiles the backend for every architecture
#    (natively and with Debian's cross compiler) and lays out each one's file
#    system; the meta stage carries the labels and the command.
#    (--network host: the build stage reaches Debian's mirror through the host.)
# 3. scripts/oci-image.sh, in a container of that stage (no network), packs
#    them into an OCI image layout: build/IMAGENAME-TAG.oci.tar (an image index
#    with one image per platform, each config with the labels).
# 4. docker load of that tar: an engine with the containerd image store (what
#    Docker Desktop uses on new installs) keeps the whole index under IMAGE;
#    one with the classic store loads the image of its own architecture.
#
# Prints IMAGE=..., OCI=... and the size. Env: DOCKER (client binary),
# DOCKER_HOST, EXTENSION_IMAGE, VERSION, PROJECT_URL (labels; see the
# Dockerfile), EXTENSION_ARCHES (default "amd64 arm64", Debian names),
# EXTENSION_REUSE=1 (load build/...oci.tar without building when it was made
# from the same sources: a second test engine reuses the first one's build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${DOCKER:-}" ]; then
  DOCKER=/usr/bin/docker
  [ -x "$DOCKER" ] || DOCKER=$(command -v docker) || DOCKER=docker
fi
VERSION=${VERSION:-0.1.0}
IMAGE=${1:-${EXTENSION_IMAGE:-storj-registry-extension:$VERSION}}
ARCHES=${EXTENSION_ARCHES:-amd64 arm64}
BASE=debian:bookworm-slim
case $IMAGE in *@* | *[!a-z0-9._/:-]*) echo "build-extension: IMAGE must be NAME[:TAG], got $IMAGE" >&2; exit 2 ;; esac
[[ ${IMAGE##*/} == *:* ]] || IMAGE=$IMAGE:latest
OUTDIR=$ROOT/build
OCI=$OUTDIR/$(tr '/:' '--' <<<"${IMAGE##*/}").oci.tar
BUILD_IMAGE=${IMAGE%:*}-build:${IMAGE##*:}

log() { echo "[build-extension $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v "$DOCKER" >/dev/null ||
  die "no docker client: install Docker Desktop, or on Debian/Ubuntu: sudo apt-get install docker.io"
"$DOCKER" version >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default})"

SHA256=(sha256sum)
command -v sha256sum >/dev/null || SHA256=(shasum -a 256) # macOS

# what the image is made from: the files the build context takes, the
# Dockerfile and the build arguments (not the base image: each test engine
# makes its own copy of it)
inputs_hash() {
  (
    cd "$ROOT"
    printf '%s\n' "$IMAGE" "$VERSION" "${PROJECT_URL:-}" "$ARCHES"
    find Dockerfile .dockerignore Makefile metadata.json docker-compose.yaml icon.svg \
      scripts/oci-image.sh backend ui -type f ! -name '*.o' ! -name '*.d' ! -name storj-registryd \
      ! -name .DS_Store -print0 | LC_ALL=C sort -z | xargs -0 "${SHA256[@]}"
  ) | "${SHA256[@]}" | cut -d' ' -f1
}
HASH=$(inputs_hash)

load() {
  local out
  out=$("$DOCKER" load -i "$OCI" 2>&1) || { echo "$out" >&2; die "docker load -i $OCI failed"; }
  echo "$out" | sed 's/^/  /' >&2
}

containerd_store() { "$DOCKER" info -f '{{json .DriverStatus}}' 2>/dev/null | grep -q io.containerd.snapshotter; }

t0=$(date +%s)
if [ "${EXTENSION_REUSE:-0}" = 1 ] && [ -s "$OCI" ] && [ "$(cat "$OCI.inputs" 2>/dev/null)" = "$HASH" ]; then
  log "$OCI is up to date with the sources: loading it without a build"
else
  if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
    if [ "${STORJ_REGISTRY_PULL_BASE:-0}" = 1 ]; then
      log "$BASE missing; docker build will pull it"
    elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      # debootstrap needs root and Debian's tools (not on a Mac): Docker Hub then
      log "$BASE missing; making it locally needs root on Debian/Ubuntu:" \
        "docker build pulls it from Docker Hub instead (STORJ_REGISTRY_PULL_BASE=1 says so quietly)"
    else
      log "$BASE missing; making it locally"
      DOCKER="$DOCKER" "$ROOT/tests/env/base-image.sh" >/dev/null
    fi
  fi
  args=(--network host --target meta -t "$BUILD_IMAGE" --build-arg "VERSION=$VERSION" --build-arg "ARCHES=$ARCHES")
  [ -n "${PROJECT_URL:-}" ] && args+=(--build-arg "PROJECT_URL=$PROJECT_URL")
  log "DOCKER_BUILDKIT=0 docker build ${args[*]} $ROOT"
  DOCKER_BUILDKIT=0 "$DOCKER" build "${args[@]}" "$ROOT" >&2

  # every file and the images' creation time from the last commit: the same
  # sources give the same image digests
  epoch=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || true)
  [ -n "$epoch" ] || epoch=$(date +%s)
  mkdir -p "$OUTDIR"
  log "packing $(wc -w <<<"$ARCHES") platforms into $OCI"
  "$DOCKER" image inspect -f '{{json .Config}}' "$BUILD_IMAGE" |
    "$DOCKER" run --rm -i --network none -e "ARCHES=$ARCHES" "$BUILD_IMAGE" \
      /usr/local/bin/oci-image "$IMAGE" "$epoch" >"$OCI.tmp" ||
    { rm -f "$OCI.tmp"; die "packing the image failed"; }
  mv "$OCI.tmp" "$OCI"
  echo "$HASH" >"$OCI.inputs"
fi

log "docker load -i $OCI"
load
if containerd_store; then
  log "containerd image store: $IMAGE is the image index (linux/${ARCHES// /, linux\/})"
else
  log "classic image store: $IMAGE is the image for this machine's architecture only;" \
    "the multi-platform image is $OCI"
fi
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE") || die "$IMAGE is not there after docker load"
log "$IMAGE ready after $(($(date +%s) - t0)) s: $(awk -v s="$size" 'BEGIN{printf "%.1f MB", s / 1e6}'), $OCI $(awk -v s="$(wc -c <"$OCI")" 'BEGIN{printf "%.1f MB", s / 1e6}')"
echo "IMAGE=$IMAGE"
echo "OCI=$OCI"
