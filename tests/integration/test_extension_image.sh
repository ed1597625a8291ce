#!/bin/bash
# The extension image, as Docker Desktop would see it: builds it with
# scripts/build-extension.sh (what `make extension` runs), then checks the
# labels Desktop and `docker extension validate` require, metadata.json and
# the files it points at, the image size, and that the backend in a container
# of the image answers GET /api/health on /run/guest-services/backend.sock.
#
# The image is one index for linux/amd64 and linux/arm64: the OCI layout the
# build writes (build/...oci.tar) is checked blob by blob (digests, sizes,
# both platforms, each config's architecture, labels and command, each
# layer's backend built for its architecture), what the engine holds under
# the name is checked against it (the whole index on the containerd image
# store, the native image on the classic one), and the arm64 backend is run
# under Debian's qemu-aarch64-static and answers /api/health.
#
# Docker Desktop itself is not available here: the container is run by a
# plain Docker engine (tests/env/docker-engine.sh) with the mounts Desktop
# would provide (the engine socket, and a host folder as /run/guest-services).
#
# Env: DOCKER_HOST (default: start the private test engine),
#      EXTENSION_IMAGE (default storj-registry-extension:0.1.0),
#      SKIP_BUILD=1 to test an image that is already built (and its layout,
#      EXTENSION_OCI, default build/IMAGE-TAG.oci.tar),
#      EXTENSION_REUSE (default 1: load the layout a run on another engine
#      built from the same sources instead of building again; 0 builds).
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
CID='' QPID=''
cleanup() {
  [ -n "$CID" ] && "$DOCKER" rm -f -v "$CID" >/dev/null 2>&1
  [ -n "$QPID" ] && kill -KILL "$QPID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$ROOT/tests/env/docker-engine.sh" start)" || { t_fail "test Docker engine starts"; t_end; exit; }
  export DOCKER_HOST
fi

[[ ${IMAGE##*/} == *:* ]] || IMAGE=$IMAGE:latest
OCI=${EXTENSION_OCI:-$ROOT/build/$(tr '/:' '--' <<<"${IMAGE##*/}").oci.tar}
PLATFORMS="amd64 arm64"

# ---- build -------------------------------------------------------------------
[ -f "$ROOT/ui/index.html" ] ||
  echo "# ui/index.html does not exist yet: the UI has not been written; the image cannot be complete"
t_check "ui/index.html exists in the source tree" test -f "$ROOT/ui/index.html"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # a second engine takes the first one's build when the sources are the same
  if ! EXTENSION_REUSE=${EXTENSION_REUSE:-1} "$ROOT/scripts/build-extension.sh" "$IMAGE" >"$WORK/build.log" 2>&1; then
    tail -n 25 "$WORK/build.log" | sed 's/^/#   /'
    t_fail "the image builds (scripts/build-extension.sh; log above)"
    t_end
    exit
  fi
  if grep -q 'loading it without a build' "$WORK/build.log"; then
    t_ok "the image loads from the layout built from the same sources (EXTENSION_REUSE)"
  else
    t_ok "the image builds"
  fi
  t_eq "the build names the OCI layout it wrote" "OCI=$OCI" "$(grep '^OCI=' "$WORK/build.log")"
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

# ---- one image for linux/amd64 and linux/arm64 --------------------------------------
# The OCI layout the build wrote (what users `docker load` or push): every
# blob matches its digest and size, the index names both platforms, each
# platform's config has the right architecture, the labels and the command,
# and its layer holds a backend for that architecture.
t_check "the build wrote the OCI layout ${OCI#$ROOT/}" test -s "$OCI"
mkdir -p "$WORK/oci"
tar -xf "$OCI" -C "$WORK/oci" 2>/dev/null
"$DOCKER" image inspect -f '{{json .Config.Cmd}}' "$IMAGE" >"$WORK/cmd.json"
NATIVE=$("$DOCKER" version -f '{{.Server.Arch}}')
python3 - "$WORK/oci" "$IMAGE" "$PLATFORMS" "$WORK/labels.json" "$WORK/cmd.json" "$NATIVE" \
  >"$WORK/oci-checks" 2>&1 <<'EOF_PY'
# prints "ok<TAB>what" or "FAIL<TAB>what" per check, "LAYER<TAB>arch<TAB>path" per platform
import gzip, hashlib, json, os, sys
root, image, platforms, labels_file, cmd_file, native = sys.argv[1:]
platforms = platforms.split()
def check(ok, what): print(("ok" if ok else "FAIL") + "\t" + what)
def load(p):
    with open(p, "rb") as f: return f.read()
def blob(desc, what):
    d = desc.get("digest", "")
    p = os.path.join(root, "blobs", *d.split(":", 1))
    if not os.path.isfile(p):
        check(False, f"{what}: blob {d} is in the layout"); return None
    b = load(p)
    check("sha256:" + hashlib.sha256(b).hexdigest() == d and len(b) == desc.get("size"),
          f"{what}: blob matches its digest and size")
    return b
name, tag = image.rsplit(":", 1)
first = name.split("/")[0]
full = (f"docker.io/library/{image}" if "/" not in name else
        image if ("." in first or ":" in first or first == "localhost") else f"docker.io/{image}")
check(json.loads(load(f"{root}/oci-layout")).get("imageLayoutVersion") == "1.0.0", "oci-layout: version 1.0.0")
top = json.loads(load(f"{root}/index.json"))
ms = top.get("manifests", [])
check(len(ms) == 1 and ms[0].get("mediaType") == "application/vnd.oci.image.index.v1+json",
      "index.json: one entry, an image index")
ann = ms[0].get("annotations", {}) if ms else {}
check(ann.get("io.containerd.image.name") == full, f"index.json: named {full}")
check(ann.get("org.opencontainers.image.ref.name") == tag, f"index.json: ref.name {tag}")
idx = json.loads(blob(ms[0], "image index") or b"{}")
check(idx.get("mediaType") == "application/vnd.oci.image.index.v1+json", "image index: OCI index media type")
plats = sorted((m.get("platform") or {}).get("os", "") + "/" + (m.get("platform") or {}).get("architecture", "")
               for m in idx.get("manifests", []))
want = sorted("linux/" + a for a in platforms)
check(plats == want, f"image index: platforms {' '.join(want)} (got {' '.join(plats)})")
labels = json.load(open(labels_file)) or {}
cmd = json.load(open(cmd_file))
configs = {}
for m in idx.get("manifests", []):
    arch = (m.get("platform") or {}).get("architecture", "?")
    man = json.loads(blob(m, f"linux/{arch} manifest") or b"{}")
    check(man.get("mediaType") == "application/vnd.oci.image.manifest.v1+json" and
          man.get("config", {}).get("mediaType") == "application/vnd.oci.image.config.v1+json",
          f"linux/{arch}: OCI manifest and config media types")
    cfg = json.loads(blob(man.get("config", {}), f"linux/{arch} config") or b"{}")
    configs[arch] = man.get("config", {}).get("digest")
    check(cfg.get("architecture") == arch and cfg.get("os") == "linux",
          f"linux/{arch}: config says architecture {arch}, os linux (got {cfg.get('architecture')}/{cfg.get('os')})")
    c = cfg.get("config") or {}
    check(bool(labels) and c.get("Labels") == labels, f"linux/{arch}: config carries the extension labels")
    check(c.get("Cmd") == cmd, f"linux/{arch}: config has the image's command")
    layers = man.get("layers", [])
    check(len(layers) == 1 and layers[0].get("mediaType") == "application/vnd.oci.image.layer.v1.tar+gzip",
          f"linux/{arch}: one gzip layer")
    lb = blob(layers[0], f"linux/{arch} layer") if layers else None
    if lb is not None:
        diff = "sha256:" + hashlib.sha256(gzip.decompress(lb)).hexdigest()
        check(cfg.get("rootfs", {}).get("diff_ids") == [diff], f"linux/{arch}: rootfs.diff_ids is the layer's")
        print(f"LAYER\t{arch}\t{root}/blobs/sha256/{layers[0]['digest'].split(':')[1]}")
# Docker's manifest.json: the classic store loads this machine's platform
try:
    dm = json.loads(load(f"{root}/manifest.json"))
except Exception:
    dm = None
check(isinstance(dm, list) and len(dm) == 1 and dm[0].get("RepoTags") == [image] and
      native in configs and dm[0].get("Config") == "blobs/sha256/" + configs[native].split(":")[1],
      f"manifest.json: {image} is the linux/{native} image (for the classic image store)")
print(f"NATIVECONFIG\t{configs.get(native, '')}")
print(f"INDEX\t{ms[0].get('digest', '') if ms else ''}")
EOF_PY
while IFS=$'\t' read -r kind a b; do
  case $kind in
    ok) t_ok "$a" ;;
    FAIL) t_fail "$a" ;;
    LAYER) mkdir -p "$WORK/rootfs-$a" && tar -xzf "$b" -C "$WORK/rootfs-$a" ;;
    NATIVECONFIG) NATIVE_CONFIG=$a ;;
    INDEX) INDEX_DIGEST=$a ;;
    *) t_fail "OCI layout check: $kind $a $b" ;;
  esac
done <"$WORK/oci-checks"

# the ELF machine of each platform's backend (e_machine: 62 x86-64, 183 AArch64)
# and its program interpreter in the same layer
elf_machine() { od -An -tu2 -j18 -N2 "$1" 2>/dev/null | tr -d ' '; }
for a in $PLATFORMS; do
  R=$WORK/rootfs-$a
  case $a in amd64) m=62 ;; arm64) m=183 ;; esac
  t_eq "linux/$a: storj-registryd is built for $a" "$m" "$(elf_machine "$R/storj-registryd")"
  interp=$(readelf -l "$R/storj-registryd" 2>/dev/null | sed -n 's/.*program interpreter: \(.*\)\]$/\1/p')
  t_check "linux/$a: its loader ${interp:-?} is in the layer" test -n "$interp" -a -e "$R$interp"
  for f in metadata.json docker-compose.yaml icon.svg ui/index.html etc/ssl/certs/ca-certificates.crt; do
    t_check "linux/$a: /$f is in the layer" test -s "$R/$f"
  done
done

# what the engine holds under IMAGE
STORE=classic
"$DOCKER" info -f '{{json .DriverStatus}}' 2>/dev/null | grep -q io.containerd.snapshotter && STORE=containerd
if [ "$STORE" = containerd ]; then
  # the containerd image store keeps the index (API 1.48+: ?manifests=1)
  "$DOCKER" version -f '{{.Server.APIVersion}}' >"$WORK/api"
  curl -s --unix-socket "${DOCKER_HOST#unix://}" \
    "http://localhost/v$(cat "$WORK/api")/images/$IMAGE/json?manifests=1" >"$WORK/engine-image.json"
  t_eq "containerd store: $IMAGE is the image index of the layout" "$INDEX_DIGEST" \
    "$(jq -r '.Descriptor.digest // empty' "$WORK/engine-image.json")"
  for a in $PLATFORMS; do
    t_eq "containerd store: linux/$a is in it, its content available" true "$(jq -r --arg a "$a" \
      '[.Manifests[]? | select(.Kind == "image" and .ImageData.Platform.architecture == $a
        and .ImageData.Platform.os == "linux") | .Available] | any' "$WORK/engine-image.json")"
  done
else
  t_eq "classic store: $IMAGE is the linux/$NATIVE image of the layout" "$NATIVE_CONFIG" \
    "$("$DOCKER" image inspect -f '{{.Id}}' "$IMAGE")"
  t_eq "classic store: its architecture" "$NATIVE" "$("$DOCKER" image inspect -f '{{.Architecture}}' "$IMAGE")"
fi

# ---- the arm64 backend runs (qemu-user-static) ------------------------------------
# Apple silicon Macs run the linux/arm64 image: its backend, with the
# libraries of its own layer (-L: the loader and libc come from there), under
# Debian's qemu-aarch64-static, answers on a Unix socket and on loopback TCP.
R=$WORK/rootfs-arm64
QEMU=$(command -v qemu-aarch64-static || true)
if [ -z "$QEMU" ]; then
  t_fail "qemu-aarch64-static is installed (apt-get install qemu-user-static; scripts/install-deps.sh --test)"
elif [ ! -x "$R/storj-registryd" ]; then
  t_fail "the linux/arm64 layer has the backend"
else
  v=$("$QEMU" -L "$R" "$R/storj-registryd" --version 2>&1)
  t_check "arm64 backend: --version under qemu ($v)" grep -q '[0-9]' <<<"$v"
  APORT=$((20000 + RANDOM % 20000))
  mkdir -p "$WORK/arm64-state"
  "$QEMU" -L "$R" "$R/storj-registryd" --socket "$WORK/arm64.sock" --listen "127.0.0.1:$APORT" \
    --state-dir "$WORK/arm64-state" --ui "$R/ui" \
    --docker-socket "${DOCKER_HOST#unix://}" >"$WORK/arm64.log" 2>&1 &
  QPID=$!
  t_check "arm64 backend: creates its socket" wait_until 30 test -S "$WORK/arm64.sock"
  code=$(curl -s -o "$WORK/arm64-health.json" -w '%{http_code}' --max-time 10 \
    --unix-socket "$WORK/arm64.sock" http://localhost/api/health)
  t_eq "arm64 backend: GET /api/health over the Unix socket" 200 "$code"
  t_check "arm64 backend: health {\"ok\":true,\"version\":...}" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
sys.exit(0 if h.get("ok") is True and h.get("version") else 1)' "$WORK/arm64-health.json"
  t_eq "arm64 backend: GET /api/health on 127.0.0.1:$APORT" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$APORT/api/health")"
  t_check "arm64 backend: serves the UI of its layer on 127.0.0.1:$APORT" bash -c \
    "curl -sf --max-time 10 'http://127.0.0.1:$APORT/' | cmp -s - '$R/ui/index.html'"
  # libcurl over a Unix socket, as in Desktop's VM: it reaches the engine
  curl -s --max-time 20 --unix-socket "$WORK/arm64.sock" http://localhost/api/status >"$WORK/arm64-status.json"
  t_check "arm64 backend: reaches the Docker engine (GET /api/status)" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if (s.get("docker") or {}).get("reachable") is True else 1)' "$WORK/arm64-status.json"
  t_eq "arm64 backend: runs under $QEMU" "$QEMU" "$(readlink "/proc/$QPID/exe")"
  kill -TERM "$QPID" 2>/dev/null
  gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
  t_check "arm64 backend: stops on SIGTERM" wait_until 15 gone "$QPID"
  kill -KILL "$QPID" 2>/dev/null
  wait "$QPID" 2>/dev/null
  QPID=
  t_check "arm64 backend: and it was the one answering (the socket is dead now)" \
    bash -c "! curl -s --max-time 3 --unix-socket '$WORK/arm64.sock' http://localhost/api/health"
  if [ "$T_FAIL" -gt 0 ]; then
    echo "# arm64 backend log (last lines):"
    tail -n 15 "$WORK/arm64.log" | sed 's/^/#   /'
  fi
fi

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
  # extension container as Docker Desktop runs it (the container in the host
  # network, the registry published on the engine's bridge, its events
  # posted to the backend at the bridge's gateway)
  eval "$("$ROOT/tests/env/images.sh" registry 2>/dev/null)"
  "$DOCKER" rm -f $("$DOCKER" ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1
  mkdir -p "$WORK/gs2"
  CID2=$(quiet "$DOCKER" run --pull never -d --network host \
    -e SR_NETWORK=publish -e SR_REGISTRY_IMAGE="$REGISTRY_IMAGE" \
    -v "$DOCKER_SOCKET:/var/run/docker.sock" -v "$WORK/gs2:/run/guest-services" \
    --mount type=volume,dst=/data "$IMAGE")
  S2="$WORK/gs2/backend.sock"
  wait_until 20 test -S "$S2"
  RPORT=$((20000 + RANDOM % 20000))
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S2" -X PUT \
    -H 'Content-Type: application/json' --data "{\"mode\":\"local\",\"port\":$RPORT}" http://localhost/api/config)
  t_eq "the shipped backend saves settings in its volume" 200 "$code"
  curl -s -o /dev/null --unix-socket "$S2" -X POST http://localhost/api/registry/start
  # the registry's state, not a container's ("containers":[{"state":"running"}]
  # matches as soon as the container runs, before the registry answers)
  running() { curl -s --unix-socket "$S2" http://localhost/api/status | jq -e '.state == "running"' >/dev/null; }
  t_check "the shipped backend starts a registry that answers" wait_until 60 running
  t_check "  on 127.0.0.1:$RPORT" curl -sf -o /dev/null "http://127.0.0.1:$RPORT/v2/"
  RID=$("$ROOT/tests/env/random-image.sh" "srt-src/ext:1" 1 64 2>/dev/null)
  "$DOCKER" tag srt-src/ext:1 "localhost:$RPORT/ext:1"
  t_check "  and takes a docker push" bash -c "'$DOCKER' push 'localhost:$RPORT/ext:1' >/dev/null 2>&1"
  indexed() { # indexed REPO TAG: the shipped backend's index lists it
    curl -s --unix-socket "$S2" "http://localhost/api/repositories?source=index&q=$1" |
      jq -e --arg r "$1" --arg t "$2" '.repositories[] | select(.name == $r) | .tags[] | select(.tag == $t)' >/dev/null
  }
  t_check "  the push reaches the shipped backend's index (the registry's events, SQLite linked in)" \
    wait_until 20 indexed ext 1
  if [ "$STORE" = containerd ]; then
    # what users do with the built image: push it; both platforms go
    "$DOCKER" tag "$IMAGE" "localhost:$RPORT/storj-registry-extension:multi"
    t_check "  the extension image (both platforms) pushes to it" bash -c \
      "'$DOCKER' push 'localhost:$RPORT/storj-registry-extension:multi' >'$WORK/push.log' 2>&1"
    curl -s -H 'Accept: application/vnd.oci.image.index.v1+json' \
      "http://127.0.0.1:$RPORT/v2/storj-registry-extension/manifests/multi" >"$WORK/pushed.json"
    t_eq "  the registry holds the index with linux/amd64 and linux/arm64" "linux/amd64 linux/arm64" \
      "$(jq -r '[.manifests[]?.platform | "\(.os)/\(.architecture)"] | sort | join(" ")' "$WORK/pushed.json")"
    plats() {
      curl -s --unix-socket "$S2" "http://localhost/api/repositories?source=index&q=storj-registry-extension" |
        jq -r '[.repositories[0].tags[0].platforms[]? | select(.size > 0 and (.platform | startswith("unknown") | not)) | .platform] | sort | join(" ")'
    }
    both() { [ "$(plats)" = "linux/amd64 linux/arm64" ]; }
    t_check "  the backend's index lists both platforms with their sizes" wait_until 20 both
    "$DOCKER" rmi "localhost:$RPORT/storj-registry-extension:multi" >/dev/null 2>&1
  fi
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

# ---- make install-extension ------------------------------------------------------
# Docker Desktop's `docker extension` CLI plugin does not exist here: a
# stand-in `docker` (it says so) answers `docker extension ...` and records
# the call, everything else goes to the real client. On a machine where the
# engine lacks the image, install-extension.sh loads the layout the build wrote.
if [ -n "$CID" ]; then "$DOCKER" rm -f -v "$CID" >/dev/null 2>&1; CID=; fi
mkdir -p "$WORK/shim"
cat >"$WORK/shim/docker" <<EOF_SHIM
#!/bin/bash
# stand-in for Docker Desktop's docker extension plugin (test_extension_image.sh)
if [ "\$1" = extension ]; then echo "\$*" >>"$WORK/shim/calls"; echo "stand-in: docker \$*"; exit 0; fi
exec "$DOCKER" "\$@"
EOF_SHIM
chmod +x "$WORK/shim/docker"
"$DOCKER" rmi "$IMAGE" >/dev/null 2>&1
t_check "install-extension: $IMAGE removed from the engine first" bash -c "! '$DOCKER' image inspect '$IMAGE' >/dev/null 2>&1"
PATH="$WORK/shim:$PATH" "$ROOT/scripts/install-extension.sh" "$IMAGE" >"$WORK/install.log" 2>&1
t_check "install-extension: loads $IMAGE from ${OCI#$ROOT/}" grep -q "loading $IMAGE from" "$WORK/install.log"
t_check "install-extension: $IMAGE is in the engine again" bash -c "'$DOCKER' image inspect '$IMAGE' >/dev/null"
t_check "install-extension: runs docker extension install -f $IMAGE" grep -qx "extension install -f $IMAGE" "$WORK/shim/calls"

t_end
