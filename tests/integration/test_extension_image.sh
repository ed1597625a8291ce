#!/bin/bash
# The extension image, as Docker Desktop would see it: builds it with
# scripts/build-extension.sh (what `make extension` runs), then checks the
# labels Desktop and `docker extension validate` require, metadata.json and
# the files it points at, the image size, and that the backend in a container
# of the image answers GET /api/health on /run/guest-services/backend.sock.
#
# Docker Desktop itself is not available here: the container is run by a
# plain Docker engine (tests/env/docker-engine.sh) with the mounts Desktop
# would provide (the engine socket, and a host folder as /run/guest-services).
#
# Env: DOCKER_HOST (default: start the private test engine),
#      EXTENSION_IMAGE (default storj-registry-extension:0.1.0),
#      SKIP_BUILD=1 to test an image that is already built.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T_NAME=extension_image
# shellcheck source=../lib.sh
source "$ROOT/tests/lib.sh"

DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=${EXTENSION_IMAGE:-storj-registry-extension:0.1.0}
SIZE_GOAL_MB=15 # what we aim for; reported, not enforced
SIZE_MAX_MB=40  # enforced: a regression to a full distribution image fails
REQUIRED_LABELS=(
  org.opencontainers.image.title
  org.opencontainers.image.description
  org.opencontainers.image.vendor
  com.docker.desktop.extension.api.version
  com.docker.desktop.extension.icon
  com.docker.extension.screenshots
  com.docker.extension.detailed-description
  com.docker.extension.publisher-url
  com.docker.extension.additional-urls
  com.docker.extension.changelog
  com.docker.extension.categories
)

# the engine runs without IP forwarding on purpose; its warning is noise here
quiet() { "$@" 2> >(grep -v 'IPv4 forwarding is disabled' >&2); }

t_begin
WORK=$(mktemp -d /tmp/srt-ext-image.XXXXXX)
CID=
cleanup() {
  [ -n "$CID" ] && "$DOCKER" rm -f -v "$CID" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$ROOT/tests/env/docker-engine.sh" start)" || { t_fail "test Docker engine starts"; t_end; exit; }
  export DOCKER_HOST
fi

# ---- build -------------------------------------------------------------------
[ -f "$ROOT/ui/index.html" ] ||
  echo "# ui/index.html does not exist yet: the UI has not been written; the image cannot be complete"
t_check "ui/index.html exists in the source tree" test -f "$ROOT/ui/index.html"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if ! "$ROOT/scripts/build-extension.sh" "$IMAGE" >"$WORK/build.log" 2>&1; then
    tail -n 25 "$WORK/build.log" | sed 's/^/#   /'
    t_fail "the image builds (scripts/build-extension.sh; log above)"
    t_end
    exit
  fi
  t_ok "the image builds"
fi
if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  t_fail "image $IMAGE exists"
  t_end
  exit
fi

# ---- labels ------------------------------------------------------------------
"$DOCKER" image inspect -f '{{json .Config.Labels}}' "$IMAGE" >"$WORK/labels.json"
label() { python3 -c 'import json,sys; print((json.load(open(sys.argv[1])) or {}).get(sys.argv[2], ""))' "$WORK/labels.json" "$1"; }
for l in "${REQUIRED_LABELS[@]}"; do
  v=$(label "$l")
  t_check "label $l is present and not empty" test -n "$v"
done
t_eq "title label" "Storj Registry" "$(label org.opencontainers.image.title)"
t_eq "categories label" "image-registry" "$(label com.docker.extension.categories)"
t_eq "api.version label is a >= range" ">= 0.3.3" "$(label com.docker.desktop.extension.api.version)"
json_url_list() { # the label is a JSON array of objects that each have an http(s) url
  python3 - "$WORK/labels.json" "$1" "$2" <<'EOF'
import json, sys
v = json.loads(json.load(open(sys.argv[1]))[sys.argv[2]])
key = sys.argv[3]
assert isinstance(v, list) and v, "not a non-empty list"
for o in v:
    assert isinstance(o.get(key), str) and o[key], f"missing {key}"
    assert o["url"].startswith(("https://", "http://")), "url is not http(s)"
EOF
}
t_check "screenshots label is a JSON list of {alt,url}" json_url_list com.docker.extension.screenshots alt
t_check "additional-urls label is a JSON list of {title,url}" json_url_list com.docker.extension.additional-urls title
for l in com.docker.desktop.extension.icon com.docker.extension.publisher-url; do
  t_check "label $l is an http(s) URL" grep -qE '^https?://' <<<"$(label "$l")"
done

# ---- files in the image --------------------------------------------------------
CID=$(quiet "$DOCKER" create --pull never "$IMAGE")
"$DOCKER" export "$CID" | tar -t | sed 's#^\./##; s#/$##' | sort >"$WORK/files"
"$DOCKER" rm -f "$CID" >/dev/null
CID=
in_image() { grep -qxF "${1#/}" "$WORK/files"; }
t_check "/metadata.json is in the image" in_image metadata.json
mkdir -p "$WORK/fs"
CID=$(quiet "$DOCKER" create --pull never "$IMAGE")
"$DOCKER" cp "$CID:/metadata.json" "$WORK/fs/metadata.json" 2>/dev/null
"$DOCKER" cp "$CID:/docker-compose.yaml" "$WORK/fs/docker-compose.yaml" 2>/dev/null
"$DOCKER" rm -f "$CID" >/dev/null
CID=

meta() { python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    m = m.get(k) if isinstance(m, dict) else None
print("" if m is None else m)' "$WORK/fs/metadata.json" "$1" 2>/dev/null; }
t_check "metadata.json is valid JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/fs/metadata.json"
t_check "metadata.json root keys are a subset of icon, ui, vm, host" python3 -c '
import json, sys
extra = set(json.load(open(sys.argv[1]))) - {"icon", "ui", "vm", "host"}
sys.exit(1 if extra else 0)' "$WORK/fs/metadata.json"
ICON=$(meta icon)
ROOTDIR=$(meta ui.dashboard-tab.root)
SRC=$(meta ui.dashboard-tab.src)
COMPOSE=$(meta vm.composefile)
TITLE=$(meta ui.dashboard-tab.title)
t_check "metadata icon is set" test -n "$ICON"
t_check "metadata icon file ($ICON) is in the image" in_image "/$ICON"
t_eq "dashboard tab title" "Storj Registry" "$TITLE"
t_check "title does not contain the word 'extension'" bash -c '! grep -qi extension <<<"$1"' _ "$TITLE"
t_check "ui root ($ROOTDIR) is in the image" in_image "$ROOTDIR"
t_check "ui src ($ROOTDIR/$SRC) is in the image" in_image "$ROOTDIR/$SRC"
t_check "vm.composefile ($COMPOSE) is in the image" in_image "/$COMPOSE"
t_eq "vm.exposes.socket" "backend.sock" "$(meta vm.exposes.socket)"
t_eq "ui backend socket matches vm.exposes.socket" "$(meta vm.exposes.socket)" "$(meta ui.dashboard-tab.backend.socket)"
t_check "compose: image is \${DESKTOP_PLUGIN_IMAGE}" grep -qE 'image: *"?\$\{DESKTOP_PLUGIN_IMAGE\}"?' "$WORK/fs/docker-compose.yaml"
t_check "compose: Docker socket from /var/run/docker.sock.raw" grep -qE -- '- */var/run/docker.sock.raw:/var/run/docker.sock' "$WORK/fs/docker-compose.yaml"
t_check "compose: named volume for /data" grep -qE -- '- *storj-registry-state:/data' "$WORK/fs/docker-compose.yaml"
t_check "compose: host network (registry health checks on 127.0.0.1)" grep -qE 'network_mode: *"?host"?' "$WORK/fs/docker-compose.yaml"
t_check "backend binary is in the image" in_image storj-registryd

# ---- size -----------------------------------------------------------------------
SIZE=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
MB=$(awk -v s="$SIZE" 'BEGIN { printf "%.1f", s / 1e6 }')
echo "# image $IMAGE: $MB MB (goal: under $SIZE_GOAL_MB MB)"
t_check "image is under $SIZE_MAX_MB MB ($MB MB)" test "$SIZE" -lt $((SIZE_MAX_MB * 1000000))

# ---- the backend answers on the extension socket -----------------------------------
case ${DOCKER_HOST:-} in
  unix://*) DOCKER_SOCKET=${DOCKER_HOST#unix://} ;;
  "") DOCKER_SOCKET=/var/run/docker.sock ;;
  *) DOCKER_SOCKET= ;;
esac
mkdir -p "$WORK/guest-services"
if [ -z "$DOCKER_SOCKET" ] || [ ! -S "$DOCKER_SOCKET" ]; then
  t_fail "the engine is reachable through a Unix socket to mount (DOCKER_HOST=${DOCKER_HOST:-})"
else
  # what Desktop provides: the engine socket and /run/guest-services
  CID=$(quiet "$DOCKER" run --pull never -d --network host \
    -v "$DOCKER_SOCKET:/var/run/docker.sock" \
    -v "$WORK/guest-services:/run/guest-services" \
    --mount type=volume,dst=/data \
    "$IMAGE")
  SOCK="$WORK/guest-services/backend.sock"
  t_check "backend creates /run/guest-services/backend.sock" wait_until 20 test -S "$SOCK"
  code=$(curl -s -o "$WORK/health.json" -D "$WORK/health.hdr" -w '%{http_code}' --max-time 5 \
    --unix-socket "$SOCK" http://localhost/api/health)
  t_eq "GET /api/health over the socket" 200 "$code"
  t_check "health: JSON content type" grep -qi '^content-type: *application/json' "$WORK/health.hdr"
  t_check "health: {\"ok\":true,\"version\":...}" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
sys.exit(0 if h.get("ok") is True and isinstance(h.get("version"), str) and h["version"] else 1)' "$WORK/health.json"
  code=$(curl -s -o "$WORK/status.json" -w '%{http_code}' --max-time 5 \
    --unix-socket "$SOCK" http://localhost/api/status)
  t_eq "GET /api/status over the socket" 200 "$code"
  t_check "status: the backend reaches the mounted Docker engine" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if (s.get("docker") or {}).get("reachable") is True else 1)' "$WORK/status.json"
  t_eq "container still running" true "$("$DOCKER" inspect -f '{{.State.Running}}' "$CID" 2>/dev/null)"

  # the shipped binary does real work: a registry started from inside the
  # extension container (host network here, as the test engine has no bridge)
  eval "$("$ROOT/tests/env/images.sh" registry 2>/dev/null)"
  "$DOCKER" rm -f $("$DOCKER" ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1
  mkdir -p "$WORK/gs2"
  CID2=$(quiet "$DOCKER" run --pull never -d --network host \
    -e SR_NETWORK=host -e SR_REGISTRY_IMAGE="$REGISTRY_IMAGE" \
    -v "$DOCKER_SOCKET:/var/run/docker.sock" -v "$WORK/gs2:/run/guest-services" \
    --mount type=volume,dst=/data "$IMAGE")
  S2="$WORK/gs2/backend.sock"
  wait_until 20 test -S "$S2"
  RPORT=$((20000 + RANDOM % 20000))
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S2" -X PUT \
    -H 'Content-Type: application/json' --data "{\"mode\":\"local\",\"port\":$RPORT}" http://localhost/api/config)
  t_eq "the shipped backend saves settings in its volume" 200 "$code"
  curl -s -o /dev/null --unix-socket "$S2" -X POST http://localhost/api/registry/start
  running() { curl -s --unix-socket "$S2" http://localhost/api/status | grep -q '"state":"running"'; }
  t_check "the shipped backend starts a registry that answers" wait_until 60 running
  t_check "  on 127.0.0.1:$RPORT" curl -sf "http://127.0.0.1:$RPORT/v2/"
  RID=$("$ROOT/tests/env/random-image.sh" "srt-src/ext:1" 1 64 2>/dev/null)
  "$DOCKER" tag srt-src/ext:1 "localhost:$RPORT/ext:1"
  t_check "  and takes a docker push" bash -c "'$DOCKER' push 'localhost:$RPORT/ext:1' >/dev/null 2>&1"
  curl -s -o /dev/null --unix-socket "$S2" -X DELETE 'http://localhost/api/registry?purge=true'
  stopped() { curl -s --unix-socket "$S2" http://localhost/api/status | grep -q '"state":"stopped"'; }
  t_check "and removes it again" wait_until 60 stopped
  "$DOCKER" rm -f "$CID2" >/dev/null 2>&1
  "$DOCKER" rmi "localhost:$RPORT/ext:1" srt-src/ext:1 >/dev/null 2>&1
  if [ "$T_FAIL" -gt 0 ]; then
    echo "# backend log (last lines):"
    "$DOCKER" logs --tail 20 "$CID" 2>&1 | sed 's/^/#   /'
  fi
fi

t_end
