#!/bin/bash
# Build the local images the tests need (Docker Hub cannot be reached here).
# Each is built only when missing or when its inputs changed (a label holds
# the hash of what went in).
#
#   tests/env/images.sh [--force] [registry] [registry3] [registry28] [gateway] [base]
#   (default: all; "registry" is registry3 and registry28)
#
# Prints, on stdout, for eval:
#   REGISTRY_IMAGE=storj-registry-test/registry:3
#       The registry every suite runs: distribution v3.0.0, shaped like the
#       official registry:3 (what the product pulls by default), FROM scratch:
#       /bin/registry built from third_party/distribution-v3.0.0.tar.xz with
#       Go 1.23 (bookworm-backports) and cached by the archive's sha256 in
#       $SRT_CACHE (default /tmp/srt/cache); busybox-static as /bin/sh;
#       /entrypoint.sh with the official case statement (a *.yml argument
#       means "registry serve FILE", serve|garbage-collect|help|-* get
#       "registry" prepended), CMD ["/etc/distribution/config.yml"],
#       ENV OTEL_TRACES_EXPORTER=none, VOLUME /var/lib/registry, EXPOSE 5000,
#       the CA bundle. Run it as: docker run IMAGE serve /path/config.yml.
#       Its default config is the official one (filesystem, delete on,
#       inmemory cache, Prometheus on the debug listener, storage health every
#       10 s, log level debug) except the listeners: 127.0.0.1:5000 and
#       127.0.0.1:5001 instead of :5000 and :5001 (test servers listen on
#       loopback). Without the archive (a contributor's clone without LFS,
#       say) the official image is pulled from Docker Hub and tagged instead.
#   REGISTRY28_IMAGE=storj-registry-test/registry:2.8.2
#       FROM scratch: Debian's /usr/bin/docker-registry (distribution 2.8.2),
#       the libraries ldd names, the CA bundle. ENTRYPOINT the binary, so run
#       it as: docker run --network host IMAGE serve /etc/storj-registry/config.yml
#       (default CMD: serve /etc/distribution/config.yml, filesystem storage in
#       /var/lib/registry, http.addr 127.0.0.1:5000). Do not put
#       AWS_CA_BUNDLE in its environment: the S3 driver panics at start.
#       Only the smoke suite (tests/integration/test_smoke28.sh) runs it.
#   GATEWAY_IMAGE=storj-registry-test/gateway-standin:1
#       FROM scratch: tests/standins/gateway/fwd.c, static. A stand-in for
#       storjlabs/gateway: run as "IMAGE run ..."; reads
#       /root/.local/share/storj/gateway/config.yaml; forwards server.address
#       to standin.upstream (default 127.0.0.1:7480, the Ceph RGW), or to
#       standin.front (STORJ_STANDIN_FRONT), the Storj-behaviour S3 front of
#       tests/standins/storjfront.py, with which it registers its key pair and
#       its grant's path cipher at start. The storj suites bake the front's
#       address into a derived image: tests/standins/storjfront.sh gateway-image.
#   BASE_IMAGE=debian:bookworm-slim      (tests/env/base-image.sh)
#
# Env: DOCKER_HOST (default: the engine of tests/env/docker-engine.sh),
#      SRT_WORK_DIR (scratch space, default /tmp/srt/build),
#      SRT_CACHE (built binaries, default /tmp/srt/cache),
#      SRT_GO (default /usr/lib/go-1.23/bin/go).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
WORK=${SRT_WORK_DIR:-/tmp/srt/build}
REGISTRY_IMAGE=storj-registry-test/registry:3
REGISTRY28_IMAGE=storj-registry-test/registry:2.8.2
DIST_ARCHIVE=$HERE/third_party/distribution-v3.0.0.tar.xz
DIST_VERSION=v3.0.0
CACHE=${SRT_CACHE:-/tmp/srt/cache}
GO=${SRT_GO:-/usr/lib/go-1.23/bin/go}
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
    registry) WANT+=(registry3 registry28) ;;
    registry3 | registry28 | gateway | base) WANT+=("$a") ;;
    *) echo "usage: $0 [--force] [registry] [registry3] [registry28] [gateway] [base]" >&2; exit 2 ;;
  esac
done
[ ${#WANT[@]} -gt 0 ] || WANT=(registry3 registry28 gateway base)

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

build_registry28() {
  local bin=/usr/bin/docker-registry hash ctx
  if [ ! -x "$bin" ]; then
    [ "$(id -u)" = 0 ] || die "$bin missing: apt-get install docker-registry"
    log "installing docker-registry"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-registry >&2
  fi
  hash=$(cat "$bin" "$0" | sha256sum | cut -c1-64)
  if up_to_date "$REGISTRY28_IMAGE" "$hash"; then
    log "$REGISTRY28_IMAGE present"
    return 0
  fi
  log "building $REGISTRY28_IMAGE from $bin ($("$bin" --version 2>/dev/null | awk '{print $NF}'))"
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
  "$DOCKER" build -q -t "$REGISTRY28_IMAGE" "$ctx" >/dev/null || die "docker build $REGISTRY28_IMAGE failed"
  rm -rf "$ctx"
  log "$REGISTRY28_IMAGE built ($(size_of "$REGISTRY28_IMAGE"))"
}

# registry3_binary: prints the path of a static distribution v3.0.0 binary,
# built once per archive (keyed by its sha256) with the recipe of
# third_party/README.md; returns 1 when there is no archive to build from
registry3_binary() {
  local sha dir bin src out
  [ -r "$DIST_ARCHIVE" ] || return 1
  sha=$(sha256sum "$DIST_ARCHIVE" | cut -c1-64)
  dir=$CACHE/distribution-$sha
  bin=$dir/registry
  # the lead's shared build of the same release, when there is one
  if [ ! -x "$bin" ] && [ -x "$CACHE/registry-$DIST_VERSION/registry" ] &&
    "$CACHE/registry-$DIST_VERSION/registry" --version 2>/dev/null | grep -q "$DIST_VERSION"; then
    echo "$CACHE/registry-$DIST_VERSION/registry"
    return 0
  fi
  mkdir -p "$dir"
  # one build at a time per cache (several test runs may share it)
  exec 8>"$dir/.lock"
  flock 8
  if [ ! -x "$bin" ]; then
    [ -x "$GO" ] || die "$GO missing: scripts/install-deps.sh --test (golang-1.23-go from bookworm-backports)"
    log "building distribution $DIST_VERSION from $(basename "$DIST_ARCHIVE") with $("$GO" version | awk '{print $3}') (about 80 s)"
    src=$(mktemp -d "$WORK/distribution.XXXXXX")
    tar -xJf "$DIST_ARCHIVE" -C "$src"
    # go.mod asks for 1.23.7; Debian's 1.23 builds it, and there is no
    # network to fetch a newer toolchain
    sed -i 's/^go 1\.23\.[0-9]*$/go 1.23/' "$src/go.mod"
    out=$dir/registry.tmp.$$
    (cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=vendor CGO_ENABLED=0 GOCACHE="$WORK/go-cache" \
      "$GO" build -trimpath \
      -ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=$DIST_VERSION" \
      -o "$out" ./cmd/registry) >&2 || { rm -rf "$src" "$out"; die "building distribution failed"; }
    rm -rf "$src"
    "$out" --version | grep -q "$DIST_VERSION" || { rm -f "$out"; die "the built registry is not $DIST_VERSION"; }
    mv "$out" "$bin"
  fi
  exec 8>&-
  echo "$bin"
}

build_registry3() {
  local bin busybox=/bin/busybox hash ctx
  if ! bin=$(registry3_binary); then
    # no archive: the official image, when Docker Hub answers
    if [ -n "$("$DOCKER" image ls -q "$REGISTRY_IMAGE")" ] && [ "$FORCE" = 0 ]; then
      log "$REGISTRY_IMAGE present (no $DIST_ARCHIVE)"
      return 0
    fi
    log "$DIST_ARCHIVE missing: pulling registry:3 from Docker Hub"
    "$DOCKER" pull registry:3 >&2 || die "no $DIST_ARCHIVE and registry:3 cannot be pulled"
    "$DOCKER" tag registry:3 "$REGISTRY_IMAGE"
    return 0
  fi
  if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "a static $busybox is needed: apt-get install busybox-static"
    log "installing busybox-static"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends busybox-static >&2
  fi
  hash=$(cat "$bin" "$busybox" "$0" | sha256sum | cut -c1-64)
  if up_to_date "$REGISTRY_IMAGE" "$hash"; then
    log "$REGISTRY_IMAGE present"
    return 0
  fi
  log "building $REGISTRY_IMAGE from $bin ($("$bin" --version | awk '{print $NF}'))"
  ctx=$(mktemp -d "$WORK/registry3.XXXXXX")
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc/distribution" "$ctx/rootfs/var/lib/registry" "$ctx/rootfs/tmp"
  cp "$bin" "$ctx/rootfs/bin/registry"
  cp "$busybox" "$ctx/rootfs/bin/busybox"
  ln -s busybox "$ctx/rootfs/bin/sh"
  cp -L --parents /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/"
  chmod 1777 "$ctx/rootfs/tmp"
  printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ctx/rootfs/etc/passwd"
  # the official entrypoint (distribution-library-image), word for word
  cat >"$ctx/rootfs/entrypoint.sh" <<'EOF'
#!/bin/sh

set -e

case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac

exec "$@"
EOF
  chmod 755 "$ctx/rootfs/entrypoint.sh"
  cat >"$ctx/rootfs/etc/distribution/config.yml" <<'EOF'
version: 0.1
log:
  level: debug
  fields:
    service: registry
storage:
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  # official image: :5000 and :5001; loopback here (test servers never
  # listen elsewhere); override with REGISTRY_HTTP_ADDR
  addr: 127.0.0.1:5000
  debug:
    addr: 127.0.0.1:5001
    prometheus:
      enabled: true
      path: /metrics
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    OTEL_TRACES_EXPORTER=none
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/entrypoint.sh"]
CMD ["/etc/distribution/config.yml"]
LABEL org.opencontainers.image.title="distribution $DIST_VERSION shaped like registry:3, for storj-registry tests" \\
      org.opencontainers.image.version="$DIST_VERSION" \\
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
    registry3) build_registry3; echo "REGISTRY_IMAGE=$REGISTRY_IMAGE" ;;
    registry28) build_registry28; echo "REGISTRY28_IMAGE=$REGISTRY28_IMAGE" ;;
    gateway) build_gateway; echo "GATEWAY_IMAGE=$GATEWAY_IMAGE" ;;
    base)
      if [ "$FORCE" = 1 ]; then "$HERE/base-image.sh" --force; else "$HERE/base-image.sh"; fi
      ;;
  esac
done
