# Helpers for the integration suites: a backend per test on its own socket
# and state folder, talking to the test engine of tests/env/docker-engine.sh.
# Source after tests/lib.sh. Every listener is on 127.0.0.1, a Unix socket,
# or the host address $HOST_IP (198.18.0.1) that containers on the engine's
# bridge reach the host at.
#
# Network mode of the backend: SR_TEST_NETWORK, default publish (what Docker
# Desktop users get: the registry port published on 127.0.0.1 through
# docker-proxy); a suite sets SR_TEST_NETWORK=host to test the host mode.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${SR_BIN:-$ROOT/backend/storj-registryd}
DOCKER=${DOCKER:-/usr/bin/docker}
REG_IMAGE=${SR_TEST_REGISTRY_IMAGE:-storj-registry-test/registry:3}
GW_IMAGE=${SR_TEST_GATEWAY_IMAGE:-storj-registry-test/gateway-standin:1}
WORK=${SR_TEST_WORK:-/tmp/srt/it}
# Under valgrind CI wraps the backend: SR_WRAP="valgrind --error-exitcode=99 ..."
SR_WRAP=${SR_WRAP:-}
mkdir -p "$WORK"
# the real sample grant of Storj's gateway docs (storj.md 1.2): eu1, no
# caveats, structurally valid; it opens nothing
SAMPLE_GRANT=12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2Bty7iGDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyHZGrmRBtwkv1gXrogjtkbzUovXG

: "${DOCKER_HOST:?DOCKER_HOST must point at the test engine (tests/env/docker-engine.sh)}"
export DOCKER_HOST
DOCKER_SOCK=${DOCKER_HOST#unix://}
# where containers reach services on the host (RGW, stand-ins)
if [ -z "${HOST_IP:-}" ]; then
  eval "$("$ROOT/tests/env/host-ip.sh")" || { echo "no host address (tests/env/host-ip.sh)" >&2; exit 1; }
fi
export HOST_IP
SR_TEST_NETWORK=${SR_TEST_NETWORK:-publish}

# start_backend NAME [extra flags...]: sets API_SOCK, STATE, BLOG, BPID
start_backend() {
  local name=$1; shift
  API_SOCK=$WORK/$name.sock
  STATE=${STATE_OVERRIDE:-$WORK/$name.state}
  BLOG=$WORK/$name.log
  mkdir -p "$STATE"
  # AWS_CA_BUNDLE must not leak anywhere near the registry (it crashes 2.8)
  env -u AWS_CA_BUNDLE $SR_WRAP "$BIN" --socket "$API_SOCK" --state-dir "$STATE" \
    --docker-socket "${DOCKER_SOCK_OVERRIDE:-$DOCKER_SOCK}" --network "$SR_TEST_NETWORK" \
    --registry-image "$REG_IMAGE" --gateway-image "$GW_IMAGE" --monitor-interval 300 \
    "$@" >>"$BLOG" 2>&1 &
  BPID=$!
  # under valgrind (SR_WRAP) a start takes longer: it reads every library's
  # symbols (SQLite and libyaml among them) and runs each instruction slowly
  wait_until "$([ -n "${SR_WRAP:-}" ] && echo 60 || echo 20)" curl -sf --unix-socket "$API_SOCK" http://localhost/api/health
}

stop_backend() {
  [ -n "${BPID:-}" ] || return 0
  kill -TERM "$BPID" 2>/dev/null || true
  local rc=0 limit=30
  [ -z "${SR_WRAP:-}" ] || limit=90
  local end=$((SECONDS + limit))
  # a backend that does not end on SIGTERM is a failure, not a suite that
  # waits forever
  while [ -d "/proc/$BPID" ] && ! grep -q '^[^ ]* ([^)]*) Z' "/proc/$BPID/stat" 2>/dev/null; do
    if [ "$SECONDS" -ge "$end" ]; then
      echo "the backend did not end within $limit s of SIGTERM: killed, see $BLOG"
      kill -KILL "$BPID" 2>/dev/null
      wait "$BPID" 2>/dev/null
      BPID=
      return 1
    fi
    sleep 0.1
  done
  wait "$BPID" 2>/dev/null || rc=$?
  BPID=
  # SIGTERM must end the backend with 0: anything else is a failure (99:
  # valgrind found errors; 1 under ASan: a leak; >128: it died of a signal)
  case $rc in
    0) return 0 ;;
    99) echo "valgrind reported errors, see $BLOG" ;;
    1[3-9][0-9] | 2[0-9][0-9]) echo "the backend died of signal $((rc - 128)), see $BLOG" ;;
    *) echo "the backend exited with $rc, see $BLOG" ;;
  esac
  return 1
}

# api METHOD PATH [BODY]: prints the body; last_status prints its HTTP status
# (a file, since api usually runs in a command substitution)
last_status() { cat "$WORK/.http_status.$$"; }
api() {
  local method=$1 path=$2 body=${3-} out
  if [ -n "$body" ]; then
    out=$(curl -s --unix-socket "$API_SOCK" -X "$method" -H 'Content-Type: application/json' \
      --data-binary "$body" -w '\n%{http_code}' "http://localhost$path")
  else
    out=$(curl -s --unix-socket "$API_SOCK" -X "$method" -w '\n%{http_code}' "http://localhost$path")
  fi
  echo "${out##*$'\n'}" >"$WORK/.http_status.$$"
  printf '%s' "${out%$'\n'*}"
}

state() { api GET /api/status | jq -r .state; }
state_is() { [ "$(state)" = "$1" ]; }

# wait_state STATE SECONDS
wait_state() { wait_until "${2:-60}" state_is "$1"; }

# cleanup of everything the backend may have left in the test engine
remove_managed() {
  local ids
  ids=$($DOCKER ps -aq --filter label=io.storj.registry.managed=true)
  [ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
  $DOCKER volume rm -f storj-registry-data storj-registry-cache >/dev/null 2>&1 || true
}

# free_port: a port nothing listens on, below the kernel's ephemeral range
# (a port a client connection happens to use as its local port cannot be
# bound by docker-proxy or the registry either)
free_port() {
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 21000 ] 2>/dev/null || low=32768
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % (low - 20000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# push_pull_roundtrip PORT NAME: random image of 3 layers, push, remove, pull, compare
push_pull_roundtrip() {
  local port=$1 name=$2 id pulled
  id=$("$ROOT/tests/env/random-image.sh" "srt-src/$name:1" 3 512) || return 1
  $DOCKER tag "srt-src/$name:1" "localhost:$port/$name:1" || return 1
  $DOCKER push "localhost:$port/$name:1" >"$WORK/push-$name.log" 2>&1 || { tail -5 "$WORK/push-$name.log"; return 1; }
  $DOCKER rmi "localhost:$port/$name:1" "srt-src/$name:1" >/dev/null || return 1
  $DOCKER pull "localhost:$port/$name:1" >"$WORK/pull-$name.log" 2>&1 || { tail -5 "$WORK/pull-$name.log"; return 1; }
  pulled=$($DOCKER image inspect --format '{{.Id}}' "localhost:$port/$name:1")
  [ "$pulled" = "$id" ] || { echo "image id changed: $id -> $pulled"; return 1; }
}

# pull_again PORT NAME: drop the local copy and pull it from the registry
pull_again() {
  $DOCKER rmi "localhost:$1/$2:1" >/dev/null 2>&1 || true
  $DOCKER pull "localhost:$1/$2:1" >/dev/null 2>&1
}

# no_secret_in TEXT SECRET...: none of the secrets appears in the text
no_secret_in() {
  local text=$1 s; shift
  for s in "$@"; do
    [ -n "$s" ] || continue
    case "$text" in *"$s"*) echo "secret found"; return 1 ;; esac
  done
  return 0
}

# container_facts NAME: Env, Labels, Cmd and Entrypoint of a container, as text
container_facts() {
  $DOCKER inspect --format '{{json .Config.Env}} {{json .Config.Labels}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .HostConfig}}' "$1"
}

# container_file NAME PATH: a file's content from a container (docker cp)
container_file() {
  $DOCKER cp "$1:$2" - 2>/dev/null | tar -xO 2>/dev/null
}

# s3_up: the Ceph RGW of tests/env/ceph-s3.sh, its S3_* variables exported
# here; returns 1 (with the reason in $WORK/ceph-s3.log) when it is not up.
# S3_ENDPOINT is 127.0.0.1 (for the host), S3_HOST_ENDPOINT the same RGW on
# $HOST_IP: give that one to anything a container must reach.
s3_up() {
  local info
  info=$("$ROOT/tests/env/ceph-s3.sh" 2>>"$WORK/ceph-s3.log") && eval "$info" &&
    [ -n "${S3_ENDPOINT:-}" ]
}

# gw_image_for HOST:PORT: the gateway stand-in image with its upstream set
# (STORJ_STANDIN_UPSTREAM) to HOST:PORT, e.g. "$HOST_IP:7480" (the RGW as a
# bridged container reaches it, for publish mode); prints the image name
gw_image_for() {
  local tag=storj-registry-test/gateway-standin:up-${1//[.:]/-} ctx
  if ! $DOCKER image inspect "$tag" >/dev/null 2>&1; then
    ctx=$(mktemp -d)
    printf 'FROM %s\nENV STORJ_STANDIN_UPSTREAM=%s\n' "$GW_IMAGE" "$1" >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 $DOCKER build -q -t "$tag" "$ctx" >/dev/null 2>&1 || { rm -rf "$ctx"; return 1; }
    rm -rf "$ctx"
  fi
  echo "$tag"
}

# s3_mkbucket NAME: creates a bucket of the default Ceph user (signed PUT)
s3_mkbucket() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X PUT --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$S3_ENDPOINT/$1")" = 200 ]
}

# s3_rmbucket NAME: removes a test bucket and its objects, so that runs do
# not fill the RGW's in-memory store (shared by everyone on the machine)
s3_rmbucket() {
  timeout 60 radosgw-admin -c "$CEPH_CONF" bucket rm --bucket="$1" --purge-objects >/dev/null 2>&1
}
