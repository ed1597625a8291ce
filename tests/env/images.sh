#!/bin/bash
# Build the local images the tests need (Docker Hub cannot be reached here).
# Each is built only when missing or when its inputs changed (a label holds
# the hash of what went in).
#
#   tests/env/images.sh [--force] [registry] [gateway] [base]   (default: all)
#
# Prints, on stdout, for eval:
#   REGISTRY_IMAGE=storj-registry-test/registry:2.8.2
#       FROM scratch: Debian's /usr/bin/docker-registry (distribution 2.8.2),
#       the libraries ldd names, the CA bundle. ENTRYPOINT the binary, so run
#       it as: docker run --network host IMAGE serve /etc/storj-registry/config.yml
#       (default CMD: serve /etc/distribution/config.yml, filesystem storage in
#       /var/lib/registry, http.addr 127.0.0.1:5000). Do not put
#       AWS_CA_BUNDLE in its environment: the S3 driver panics at start.
#   GATEWAY_IMAGE=storj-registry-test/gateway-standin:1
#       FROM scratch: tests/standins/gateway/fwd.c, static. A stand-in for
#       storjlabs/gateway: run as "IMAGE run ..."; reads
#       /root/.local/share/storj/gateway/config.yaml; forwards server.address
#       to standin.upstream (default 127.0.0.1:7480, the Ceph RGW).
#   BASE_IMAGE=debian:bookworm-slim      (tests/env/base-image.sh)
#
# Env: DOCKER_HOST (default: the engine of tests/env/docker-engine.sh),
#      SRT_WORK_DIR (scratch space, default /tmp/srt/build).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
WORK=${SRT_WORK_DIR:-/tmp/srt/build}
REGISTRY_IMAGE=storj-registry-test/registry:2.8.2
GATEWAY_IMAGE=storj-registry-test/gateway-standin:1
HASH_LABEL=org.storj-registry.test.input-sha256
export DOCKER_BUILDKIT=0

log() { echo "[images $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$HERE/docker-engine.sh" env)"
  export DOCKER_HOST
fi
"$DOCKER" version >/dev/null 2>&1 || die "no Docker engine at ${DOCKER_HOST} (tests/env/docker-engine.sh start)"

FORCE=0
WANT=()
for a in "$@"; do
  case $a in
    --force) FORCE=1 ;;
    registry | gateway | base) WANT+=("$a") ;;
    *) echo "usage: $0 [--force] [registry] [gateway] [base]" >&2; exit 2 ;;
  esac
done
[ ${#WANT[@]} -gt 0 ] || WANT=(registry gateway base)

# up_to_date IMAGE HASH: the image exists and was built from these inputs
up_to_date() {
  [ "$FORCE" = 0 ] &&
    [ "$("$DOCKER" image inspect -f "{{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null)" = "$2" ]
}

# copy_with_libs CTX FILE...: FILE and every library ldd names (the loader
# too), real contents at the paths the binary looks for
copy_with_libs() {
  local ctx=$1 f lib
  shift
  for f in "$@"; do
    cp -L --parents "$f" "$ctx/"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
      [ -e "$ctx$lib" ] || cp -L --parents "$lib" "$ctx/"
    done
  done
}

size_of() { "$DOCKER" image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f MB", $1 / 1e6}'; }

build_registry() {
  local bin=/usr/bin/docker-registry hash ctx
  if [ ! -x "$bin" ]; then
    [ "$(id -u)" = 0 ] || die "$bin missing: apt-get install docker-registry"
    log "installing docker-registry"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-registry >&2
  fi
  hash=$(cat "$bin" "$0" | sha256sum | cut -c1-64)
  if up_to_date "$REGISTRY_IMAGE" "$hash"; then
    log "$REGISTRY_IMAGE present"
    return 0
  fi
  log "building $REGISTRY_IMAGE from $bin ($("$bin" --version 2>/dev/null | awk '{print $NF}'))"
  ctx=$(mktemp -d "$WORK/registry.XXXXXX")
  mkdir -p "$ctx/rootfs"
  copy_with_libs "$ctx/rootfs" "$bin"
  cp -L --parents /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/"
  mkdir -p "$ctx/rootfs/etc/distribution" "$ctx/rootfs/var/lib/registry" "$ctx/rootfs/tmp"
  chmod 1777 "$ctx/rootfs/tmp"
  printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/nonexistent\n' >"$ctx/rootfs/etc/passwd"
  cat >"$ctx/rootfs/etc/distribution/config.yml" <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
EOF
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
EXPOSE 5000
ENTRYPOINT ["/usr/bin/docker-registry"]
CMD ["serve", "/etc/distribution/config.yml"]
LABEL org.opencontainers.image.title="distribution 2.8.2 (Debian docker-registry) for storj-registry tests" \\
      $HASH_LABEL="$hash"
EOF
  "$DOCKER" build -q -t "$REGISTRY_IMAGE" "$ctx" >/dev/null || die "docker build $REGISTRY_IMAGE failed"
  rm -rf "$ctx"
  log "$REGISTRY_IMAGE built ($(size_of "$REGISTRY_IMAGE"))"
}

build_gateway() {
  local src="$ROOT/tests/standins/gateway/fwd.c" hash ctx
  [ -r "$src" ] || die "$src missing"
  hash=$(cat "$src" "$0" | sha256sum | cut -c1-64)
  if up_to_date "$GATEWAY_IMAGE" "$hash"; then
    log "$GATEWAY_IMAGE present"
    return 0
  fi
  log "building $GATEWAY_IMAGE from $src"
  ctx=$(mktemp -d "$WORK/gateway.XXXXXX")
  mkdir -p "$ctx/rootfs/root/.local/share/storj/gateway" "$ctx/rootfs/tmp"
  ${CC:-gcc} -O2 -Wall -Wextra -Werror -static -pthread -o "$ctx/rootfs/gateway" "$src" ||
    die "compiling $src failed (static glibc: libc6-dev)"
  strip "$ctx/rootfs/gateway" 2>/dev/null || true
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV STORJ_CONFIG_DIR=/root/.local/share/storj/gateway
EXPOSE 7777
ENTRYPOINT ["/gateway"]
CMD ["run"]
LABEL org.opencontainers.image.title="storjlabs/gateway stand-in (TCP forwarder to a local S3) for storj-registry tests" \\
      $HASH_LABEL="$hash"
EOF
  "$DOCKER" build -q -t "$GATEWAY_IMAGE" "$ctx" >/dev/null || die "docker build $GATEWAY_IMAGE failed"
  rm -rf "$ctx"
  log "$GATEWAY_IMAGE built ($(size_of "$GATEWAY_IMAGE"))"
}

mkdir -p "$WORK"
for w in "${WANT[@]}"; do
  case $w in
    registry) build_registry; echo "REGISTRY_IMAGE=$REGISTRY_IMAGE" ;;
    gateway) build_gateway; echo "GATEWAY_IMAGE=$GATEWAY_IMAGE" ;;
    base)
      if [ "$FORCE" = 1 ]; then "$HERE/base-image.sh" --force; else "$HERE/base-image.sh"; fi
      ;;
  esac
done
