#!/bin/bash
# Make a local debian:bookworm-slim (the extension Dockerfile's base) when the
# engine does not have one: Docker Hub cannot be reached here, so the root
# file system is built with debootstrap --variant=minbase from the host's
# Debian mirror and loaded with docker import (about 25 s, needs root).
#
#   tests/env/base-image.sh          build unless present; prints BASE_IMAGE=...
#   tests/env/base-image.sh --force  rebuild even when present
#
# Env: DOCKER_HOST (default: the engine of tests/env/docker-engine.sh),
#      SRT_BASE_IMAGE (default debian:bookworm-slim),
#      SRT_DEBIAN_MIRROR (default: the bookworm URI in the host's apt sources,
#      else http://deb.debian.org/debian), SRT_DEBIAN_SECURITY_MIRROR,
#      SRT_WORK_DIR (scratch space, default /tmp/srt/build).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=${SRT_BASE_IMAGE:-debian:bookworm-slim}
WORK=${SRT_WORK_DIR:-/tmp/srt/build}
SUITE=bookworm

log() { echo "[base-image $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$HERE/docker-engine.sh" env)"
  export DOCKER_HOST
fi

if [ "${1:-}" != --force ] && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE present"
  echo "BASE_IMAGE=$IMAGE"
  exit 0
fi

# The first URI of the host's apt sources that serves SUITE (or SUITE-security)
# from the Debian archive: deb822 *.sources stanzas and one-line *.list
# entries. Prints nothing when none is found.
host_mirror() { # host_mirror SUITE
  local want=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk -v s="$want" '$1 == "deb" {
        i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v s="$want" 'BEGIN { RS = ""; FS = "\n" } {
        uri = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { split(substr($i, 6), u, " "); for (k in u) if (u[k] != "") { uri = u[k]; break } }
          if ($i ~ /^Suites:/) { n = split(substr($i, 8), v, " "); for (j = 1; j <= n; j++) if (v[j] == s) ok = 1 }
          if ($i ~ /^Types:/ && $i ~ /(^|[ \t])deb([ \t]|$)/) deb = 1
          if ($i ~ /^Enabled: *no/) ok = 0
        }
        if (ok && deb && uri != "") { print uri; exit } }' "$f"
  done | head -n 1
}

MIRROR=${SRT_DEBIAN_MIRROR:-$(host_mirror "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SRT_DEBIAN_SECURITY_MIRROR:-$(host_mirror "$SUITE-security")}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || {
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2
}

mkdir -p "$WORK"
ROOT=$(mktemp -d "$WORK/rootfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
log "debootstrap --variant=minbase $SUITE from $MIRROR (about 25 s)"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed; see $WORK/debootstrap.log"; }

# Make it look like the official slim image: same apt sources layout, no
# documentation, no package caches, and dpkg told to keep it that way.
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$ROOT/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$ROOT/etc/apt/apt.conf.d/docker-no-languages"
find "$ROOT/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$ROOT"/usr/share/{man,info,groff,lintian,linda}/* \
  "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/*.log "$ROOT"/var/log/apt/* \
  "$ROOT"/tmp/* "$ROOT/debootstrap"
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# the container engine provides these at run time
: >"$ROOT/etc/hostname"
: >"$ROOT/etc/resolv.conf"

log "importing as $IMAGE"
tar --numeric-owner -C "$ROOT" -c . |
  "$DOCKER" import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
log "$IMAGE ready ($("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1 / 1e6}'))"
echo "BASE_IMAGE=$IMAGE"
