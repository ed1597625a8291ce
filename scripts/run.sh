#!/bin/bash
# `make run`: the backend in standalone mode against the local Docker engine,
# serving the tab and the API on a loopback port.
#   scripts/run.sh LISTEN STATE_DIR [extra backend flags...]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LISTEN=$1 STATE=$2; shift 2
DOCKER_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
if [ -n "${DOCKER_HOST:-}" ] && [[ $DOCKER_HOST == unix://* ]]; then DOCKER_SOCK=${DOCKER_HOST#unix://}; fi
if ! curl -sf --max-time 3 --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null; then
  cat >&2 <<MSG
make run: no Docker engine answers on $DOCKER_SOCK.
  Install and start one:  sudo apt-get install docker.io && sudo systemctl start docker
  (or point DOCKER_SOCK / DOCKER_HOST=unix:///path at a running engine; you may
  need root or membership of the docker group to use the socket).
MSG
  exit 1
fi
mkdir -p "$STATE"
echo "Storj Registry: open http://$LISTEN in a browser (Ctrl-C stops the backend;"
echo "the registry container keeps running until you press Stop)."
exec "$ROOT/backend/storj-registryd" --socket '' --listen "$LISTEN" --ui "$ROOT/ui" \
  --state-dir "$STATE" --docker-socket "$DOCKER_SOCK" "$@"
