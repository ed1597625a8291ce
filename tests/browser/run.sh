#!/bin/bash
# Browser tests of the tab: Debian's Chromium driven by playwright-core
# (node --test) against the real backend in standalone mode and a real Docker
# engine. Called by `make browser` and `make test`.
#
#   tests/browser/run.sh [node --test args...]
#
# Sets up what it needs: Chromium (apt, as root) when missing, node modules
# (npm ci) when missing, the test engine (tests/env/docker-engine.sh) unless
# DOCKER_HOST is already set, the registry test image (tests/env/images.sh)
# and the backend binary (make). Screenshots land in tests/browser/screenshots/.
# Env: SR_BIN (backend), SR_TEST_REGISTRY_IMAGE, SR_TEST_GATEWAY_IMAGE, CHROMIUM,
# SRT_KEEP_WORK=1, SRT_STANDINS_DIR (another tree's tests/standins), SRT_DEBUG=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
log() { echo "[browser $(date +%T)] $*" >&2; }

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  [ "$(id -u)" = 0 ] || { log "Chromium missing: apt-get install chromium"; exit 1; }
  log "installing Debian's chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  [ "$(id -u)" = 0 ] || { log "node/npm missing: apt-get install nodejs npm"; exit 1; }
  log "installing nodejs and npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >&2
fi
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
  log "npm ci (playwright-core; no browser download)"
  (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
fi

if [ ! -x "${SR_BIN:-$ROOT/backend/storj-registryd}" ]; then
  log "building the backend"
  make -C "$ROOT" >&2
fi

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$ROOT/tests/env/docker-engine.sh" start)"
fi
export DOCKER_HOST
if [ -z "${SR_TEST_REGISTRY_IMAGE:-}" ] || [ -z "${SR_TEST_GATEWAY_IMAGE:-}" ]; then
  eval "$("$ROOT/tests/env/images.sh" registry gateway)"
  export SR_TEST_REGISTRY_IMAGE=${SR_TEST_REGISTRY_IMAGE:-$REGISTRY_IMAGE}
  export SR_TEST_GATEWAY_IMAGE=${SR_TEST_GATEWAY_IMAGE:-$GATEWAY_IMAGE}
fi
# The Storj modes' first runs use the real Ceph RGW behind the stand-ins.
eval "$("$ROOT/tests/env/ceph-s3.sh")"
export S3_ENDPOINT S3_REGION S3_ACCESS_KEY S3_SECRET_KEY CEPH_CONF

mkdir -p "$HERE/screenshots"
cd "$HERE"
# One file, cases in order (they share one backend and its settings).
exec node --test --test-concurrency=1 "$@" tab.test.js
