#!/bin/bash
# The images a team bundle (backend/team.c) names besides registry:3, built
# locally from Debian packages (Docker Hub cannot be reached here), shaped
# like the official images the bundle names so that the bundle runs on them
# unchanged apart from the image names:
#
#   storj-registry-test/haproxy:2   stands in for haproxy:<tag>: Debian's
#       haproxy (2.6) on debian:bookworm-slim, the official image's entrypoint
#       logic (a first argument starting with "-" gets "haproxy" prepended,
#       haproxy runs as "haproxy -W -db ..."), CMD ["haproxy", "-f",
#       "/usr/local/etc/haproxy/haproxy.cfg"], STOPSIGNAL SIGUSR1
#   storj-registry-test/redis:7     stands in for redis:<tag>: Debian's
#       redis-server (7.0), CMD ["redis-server"], EXPOSE 6379
#
#   tests/env/team-images.sh [--force]
#
# Prints, for eval: HAPROXY_IMAGE=... REDIS_IMAGE=...
# Each is rebuilt only when this script changed (a label holds its hash).
# Needs debian:bookworm-slim (tests/env/base-image.sh makes it) and the
# host's Debian mirror (docker build --network host).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
WORK=${SRT_WORK_DIR:-/tmp/srt/build}
HAPROXY_IMAGE=storj-registry-test/haproxy:2
REDIS_IMAGE=storj-registry-test/redis:7
HASH_LABEL=org.storj-registry.test.input-sha256
export DOCKER_BUILDKIT=0

log() { echo "[team-images $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$HERE/docker-engine.sh" env)"
  export DOCKER_HOST
fi
FORCE=0
[ "${1:-}" != --force ] || FORCE=1
"$HERE/base-image.sh" >/dev/null
BASE=${SRT_BASE_IMAGE:-debian:bookworm-slim}
HASH=$(cat "$0" | sha256sum | cut -c1-64)

up_to_date() {
  [ "$FORCE" = 0 ] &&
    [ "$("$DOCKER" image inspect -f "{{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null)" = "$HASH" ]
}

build() { # build IMAGE: the Dockerfile on stdin
  local ctx
  ctx=$(mktemp -d "$WORK/team-image.XXXXXX")
  cat >"$ctx/Dockerfile"
  [ ! -f "$WORK/.team-entry" ] || cp "$WORK/.team-entry" "$ctx/entrypoint.sh"
  log "building $1 (apt-get in the build, about 30 s)"
  "$DOCKER" build -q --network host -t "$1" "$ctx" >"$WORK/team-image-build.log" 2>&1 ||
    { tail -n 20 "$WORK/team-image-build.log" >&2; rm -rf "$ctx"; die "docker build $1 failed"; }
  rm -rf "$ctx"
}

mkdir -p "$WORK"
if up_to_date "$HAPROXY_IMAGE"; then
  log "$HAPROXY_IMAGE present"
else
  # the official image's docker-entrypoint.sh, in substance
  cat >"$WORK/.team-entry" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi
if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi
exec "$@"
EOF
  build "$HAPROXY_IMAGE" <<EOF
FROM $BASE
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
STOPSIGNAL SIGUSR1
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
LABEL org.opencontainers.image.title="haproxy (Debian 12's package) shaped like the official image, for storj-registry tests" \\
      $HASH_LABEL="$HASH"
EOF
  rm -f "$WORK/.team-entry"
fi
if up_to_date "$REDIS_IMAGE"; then
  log "$REDIS_IMAGE present"
else
  build "$REDIS_IMAGE" <<EOF
FROM $BASE
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]
LABEL org.opencontainers.image.title="redis-server (Debian 12's package) for storj-registry tests" \\
      $HASH_LABEL="$HASH"
EOF
fi
echo "HAPROXY_IMAGE=$HAPROXY_IMAGE"
echo "REDIS_IMAGE=$REDIS_IMAGE"
