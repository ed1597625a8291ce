#!/bin/bash
# Installs (or updates) the extension image in Docker Desktop.
#   scripts/install-extension.sh [IMAGE]     default storj-registry-extension:0.1.0
# When the engine does not have IMAGE, it loads the multi-platform OCI layout
# that `make extension` writes (build/IMAGE-TAG.oci.tar) if it is there.
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
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  # the multi-platform image that `make extension` wrote, e.g. on another machine
  OCI=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/$(tr '/:' '--' <<<"${IMAGE##*/}").oci.tar
  if [ -s "$OCI" ]; then
    echo "install-extension: loading $IMAGE from $OCI"
    docker load -i "$OCI"
  else
    echo "install-extension: $IMAGE is not built: run 'make extension' first" >&2
    exit 1
  fi
fi
if docker extension ls 2>/dev/null | grep -q "${IMAGE%%:*}"; then
  docker extension update -f "$IMAGE"
else
  docker extension install -f "$IMAGE"
fi
echo "Installed: open the Storj Registry tab in Docker Desktop."
