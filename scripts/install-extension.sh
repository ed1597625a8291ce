#!/bin/bash
# Installs (or updates) the extension image in Docker Desktop.
#   scripts/install-extension.sh [IMAGE]     default storj-registry-extension:0.1.0
set -euo pipefail
IMAGE=${1:-${EXTENSION_IMAGE:-storj-registry-extension:0.1.0}}
if ! docker extension version >/dev/null 2>&1; then
  cat >&2 <<MSG
install-extension: the 'docker extension' command is missing: it comes with
Docker Desktop (4.8 or later). On Docker Desktop, enable extensions in
Settings > Extensions and untick "Allow only extensions distributed through
the Docker Marketplace", then run:
    docker extension install $IMAGE
MSG
  exit 1
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || {
  echo "install-extension: $IMAGE is not built: run 'make extension' first" >&2; exit 1; }
if docker extension ls 2>/dev/null | grep -q "${IMAGE%%:*}"; then
  docker extension update -f "$IMAGE"
else
  docker extension install -f "$IMAGE"
fi
echo "Installed: open the Storj Registry tab in Docker Desktop."
