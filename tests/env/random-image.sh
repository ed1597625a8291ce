#!/bin/bash
# Build an image FROM scratch with LAYERS layers of KIB KiB of random data
# each (incompressible, so a push moves about LAYERS*KIB KiB), for push and
# pull tests. Every call makes new, unique layers.
#
#   tests/env/random-image.sh NAME:TAG LAYERS KIB
#
# Prints the image ID (sha256:...) on stdout; it survives a push and a pull,
# so compare it after pulling. The image has no program in it: it can be
# pushed, pulled and inspected, not run.
# Env: DOCKER_HOST (default: the engine of tests/env/docker-engine.sh),
#      SRT_WORK_DIR (scratch space, default /tmp/srt/build).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
WORK=${SRT_WORK_DIR:-/tmp/srt/build}
export DOCKER_BUILDKIT=0

[ $# -eq 3 ] || { echo "usage: $0 NAME:TAG LAYERS KIB" >&2; exit 2; }
NAME=$1 LAYERS=$2 KIB=$3
[[ $LAYERS =~ ^[0-9]+$ && $LAYERS -ge 1 && $LAYERS -le 120 ]] ||
  { echo "random-image: LAYERS must be 1..120" >&2; exit 2; }
[[ $KIB =~ ^[0-9]+$ && $KIB -ge 1 ]] || { echo "random-image: KIB must be >= 1" >&2; exit 2; }
if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$HERE/docker-engine.sh" env)"
  export DOCKER_HOST
fi

mkdir -p "$WORK"
ctx=$(mktemp -d "$WORK/random-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
echo "FROM scratch" >"$ctx/Dockerfile"
for ((i = 1; i <= LAYERS; i++)); do
  head -c $((KIB * 1024)) /dev/urandom >"$ctx/layer$i.bin"
  echo "COPY layer$i.bin /data/layer$i.bin" >>"$ctx/Dockerfile"
done
echo "LABEL org.storj-registry.test.random=\"$(basename "$ctx")\"" >>"$ctx/Dockerfile"
"$DOCKER" build -q -t "$NAME" "$ctx" >/dev/null || { echo "random-image: docker build failed" >&2; exit 1; }
"$DOCKER" image inspect -f '{{.Id}}' "$NAME"
