#!/bin/bash
# The stand-ins for what the tests cannot reach (Storj's self-hosted gateway
# and Storj's Auth Service) behave like the real peers they replace:
#
#  - gateway stand-in (storj-registry-test/gateway-standin:1, in place of
#    storjlabs/gateway): refuses to start without an access grant; reads the
#    config file the backend injects into the container; logs one line with
#    no secret; forwards byte for byte with half-closes under 200 concurrent
#    connections; carries a registry's S3 traffic, 64 MiB multipart parts
#    included, to the real Ceph RGW, signed with the gateway's key pair.
#  - Auth Service stand-in (tests/standins/authsvc.py): the status codes,
#    content types and bodies of POST /v1/access (storj.md 2.2).
#
# Needs the private engine and Ceph (started here when not running).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T_NAME=standins
# shellcheck source=../lib.sh
source "$ROOT/tests/lib.sh"
DOCKER=${DOCKER:-/usr/bin/docker}
ENV_DIR="$ROOT/tests/env"
GRANT=12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2Bty7iGDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyHZGrmRBtwkv1gXrogjtkbzUovXG

quiet() { "$@" 2> >(grep -v 'IPv4 forwarding is disabled' >&2); }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

t_begin
WORK=$(mktemp -d /tmp/srt-standins.XXXXXX)
CONTAINERS=()
PIDS=()
IMAGES=()
cleanup() {
  local c p
  for c in "${CONTAINERS[@]}"; do "$DOCKER" rm -f -v "$c" >/dev/null 2>&1; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for c in "${IMAGES[@]}"; do "$DOCKER" rmi -f "$c" >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$ENV_DIR/docker-engine.sh" start)" || { t_fail "test Docker engine starts"; t_end; exit; }
  export DOCKER_HOST
fi
eval "$("$ENV_DIR/images.sh" registry gateway)" || { t_fail "test images build"; t_end; exit; }
eval "$("$ENV_DIR/ceph-s3.sh")" || { t_fail "Ceph RGW starts"; t_end; exit; }
export CEPH_CONF

# ---- gateway stand-in: refuses without a grant ----------------------------------
out=$(quiet "$DOCKER" run --pull never --rm --network host "$GATEWAY_IMAGE" run 2>&1)
rc=$?
t_eq "gateway stand-in without a config exits 1" 1 "$rc"
t_check "  and says the access grant is missing" grep -q "no access grant" <<<"$out"

# ---- gateway stand-in: config injected the way the backend does it ----------------
GW_PORT=$(free_port)
AK=standin$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-13)
SK=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BUCKET=standin-$RANDOM
"$ENV_DIR/s3-user.sh" "$AK" "$SK" "$BUCKET" >/dev/null 2>"$WORK/s3-user.log" ||
  { cat "$WORK/s3-user.log"; t_fail "RGW user for the gateway key pair"; t_end; exit; }
mkdir -p "$WORK/gwcfg/gateway"
printf 'access: %s\nminio.access-key: %s\nminio.secret-key: "%s"\nserver.address: 127.0.0.1:%s\n' \
  "$GRANT" "$AK" "$SK" "$GW_PORT" >"$WORK/gwcfg/gateway/config.yaml"
GW=$(quiet "$DOCKER" create --pull never --network host "$GATEWAY_IMAGE" run --config-dir /root/.local/share/storj/gateway)
CONTAINERS+=("$GW")
SOCK=${DOCKER_HOST#unix://}
code=$(tar -C "$WORK/gwcfg" -c --owner=0 --group=0 gateway | curl -s -o /dev/null -w '%{http_code}' \
  --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/x-tar' --data-binary @- \
  "http://localhost/containers/$GW/archive?path=/root/.local/share/storj")
t_eq "config put into the created container (PUT /containers/{id}/archive)" 200 "$code"
"$DOCKER" start "$GW" >/dev/null
t_check "gateway stand-in listens on 127.0.0.1:$GW_PORT" wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$GW_PORT"
"$DOCKER" logs "$GW" >"$WORK/gw.log" 2>&1
t_eq "a start line and, like storjlabs/gateway, the two credential lines" 3 "$(wc -l <"$WORK/gw.log")"
t_check "  never the grant" bash -c '! grep -qF -e "$1" "$2"' _ "$GRANT" "$WORK/gw.log"
t_check "  the secret key only on its credential line (the backend redacts it)" bash -c '[ "$(grep -cF -e "$1" "$2")" = 1 ] && grep -qF "Secret key: $1" "$2"' _ "$SK" "$WORK/gw.log"

# ---- a registry stores through it in Ceph (64 MiB parts) -----------------------
REG_PORT=$(free_port)
mkdir -p "$WORK/regcfg/storj-registry"
cat >"$WORK/regcfg/storj-registry/config.yml" <<EOF
{"version": "0.1", "log": {"level": "info"}, "http": {"addr": "127.0.0.1:$REG_PORT"},
 "storage": {"s3": {"regionendpoint": "http://127.0.0.1:$GW_PORT", "region": "us-east-1",
   "bucket": "$BUCKET", "accesskey": "$AK", "secretkey": "$SK", "secure": false,
   "v4auth": true, "forcepathstyle": true, "chunksize": 67108864,
   "multipartcopythresholdsize": 5368709120, "rootdirectory": "/"},
  "redirect": {"disable": true}, "delete": {"enabled": true}}}
EOF
REG=$(quiet "$DOCKER" create --pull never --network "container:$GW" "$REGISTRY_IMAGE" serve /etc/storj-registry/config.yml)
CONTAINERS+=("$REG")
tar -C "$WORK/regcfg" -c storj-registry | curl -s -o /dev/null --unix-socket "$SOCK" -X PUT \
  -H 'Content-Type: application/x-tar' --data-binary @- "http://localhost/containers/$REG/archive?path=/etc"
"$DOCKER" start "$REG" >/dev/null
t_check "registry answers /v2/ (in the gateway's network namespace)" \
  wait_until 15 curl -sf "http://127.0.0.1:$REG_PORT/v2/"
IMG=127.0.0.1:$REG_PORT/standin/big:1
IMAGES+=("$IMG")
ID=$("$ENV_DIR/random-image.sh" "$IMG" 2 71680) # 70 MiB + 70 MiB: two parts each
t_check "push of 2 x 70 MiB layers through the stand-in" quiet "$DOCKER" push -q "$IMG" >/dev/null
"$DOCKER" rmi -f "$IMG" >/dev/null 2>&1
t_check "pull back" quiet "$DOCKER" pull -q "$IMG" >/dev/null
t_eq "image ID after the round trip" "$ID" "$("$DOCKER" image inspect -f '{{.Id}}' "$IMG" 2>/dev/null)"
big=$("$ENV_DIR/s3-list.sh" -s "$BUCKET" docker/registry/v2/blobs/ | awk '$1 > 67108864' | wc -l)
t_eq "two blobs over 64 MiB stored in the Ceph bucket" 2 "$big"
t_check "tag link stored under docker/registry/v2/repositories/" \
  grep -qx 'docker/registry/v2/repositories/standin/big/_manifests/tags/1/current/link' \
  <("$ENV_DIR/s3-list.sh" "$BUCKET")

# ---- byte-for-byte forwarding, half-closes, concurrency -------------------------
UP_PORT=$(free_port)
FW_PORT=$(free_port)
mkdir -p "$WORK/fwcfg"
printf 'access: "1x"\nserver.address: 127.0.0.1:%s\nstandin:\n  upstream: 127.0.0.1:%s\n' \
  "$FW_PORT" "$UP_PORT" >"$WORK/fwcfg/config.yaml"
FW=$(quiet "$DOCKER" run --pull never -d --network host -v "$WORK/fwcfg:/root/.local/share/storj/gateway:ro" "$GATEWAY_IMAGE" run)
CONTAINERS+=("$FW")
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$FW_PORT"
t_check "200 concurrent connections, both half-close orders, up to 4 MiB each" \
  python3 "$ROOT/tests/standins/gateway/forward_check.py" "$UP_PORT" "$FW_PORT" 200
t_check "stand-in stops at once on SIGTERM" bash -c "timeout 5 '$DOCKER' stop -t 4 '$FW' >/dev/null && \
  [ \"\$('$DOCKER' inspect -f '{{.State.ExitCode}}' '$FW')\" = 0 ]"

# ---- Auth Service stand-in ------------------------------------------------------
python3 "$ROOT/tests/standins/authsvc.py" 0 --access-key "$AK" --secret-key "$SK" \
  --endpoint "http://127.0.0.1:7480" >"$WORK/authsvc.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q listening "$WORK/authsvc.log"
AUTH="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/authsvc.log")"
req() { # req METHOD PATH BODY -> "CODE CONTENT-TYPE" and the body in $WORK/body
  curl -s -o "$WORK/body" -w '%{http_code} %{content_type}' -X "$1" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$AUTH$2"
}
t_eq "authsvc 200 for a grant" "200 application/json" "$(req POST /v1/access "{\"access_grant\":\"$GRANT\",\"public\":false}")"
t_check "  returns the configured key pair and endpoint" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r == {"access_key_id": sys.argv[2], "secret_key": sys.argv[3], "endpoint": "http://127.0.0.1:7480"} else 1)' \
  "$WORK/body" "$AK" "$SK"
t_eq "authsvc 400 for an empty grant" "400 text/plain; charset=utf-8" "$(req POST /v1/access '{"access_grant":"","public":false}')"
t_check "  body starts with 'access grant:'" grep -q '^access grant: ' "$WORK/body"
t_eq "authsvc 400 for a grant not starting with 1" 400 "$(req POST /v1/access '{"access_grant":"xyz"}' | cut -d' ' -f1)"
t_eq "authsvc 400 for an expired grant" 400 "$(req POST /v1/access '{"access_grant":"1expiredXYZ"}' | cut -d' ' -f1)"
t_check "  says so" grep -q 'expiration' "$WORK/body"
t_eq "authsvc 500 on the error trigger" 500 "$(req POST /v1/access '{"access_grant":"1fail500XYZ"}' | cut -d' ' -f1)"
t_eq "authsvc 422 for bad JSON" "422 text/plain; charset=utf-8" "$(req POST /v1/access '{"access_grant":')"
t_eq "authsvc 422 for a mistyped field" 422 "$(req POST /v1/access '{"access_grant":"1a","public":"yes"}' | cut -d' ' -f1)"
big_body="{\"access_grant\":\"1$(head -c 5000 /dev/zero | tr '\0' a)\"}"
t_eq "authsvc 413 for a body over 4 KiB" "413 text/plain; charset=utf-8" "$(req POST /v1/access "$big_body")"
t_eq "authsvc 405 for GET /v1/access" 405 "$(req GET /v1/access | cut -d' ' -f1)"
t_eq "authsvc 405 for POST /v1/access/ (trailing slash)" 405 "$(req POST /v1/access/ '{}' | cut -d' ' -f1)"
t_eq "authsvc 404 elsewhere" 404 "$(req POST /v1/other '{}' | cut -d' ' -f1)"
t_check "authsvc logs grant lengths, never the grant" bash -c \
  "grep -q 'grant_len=${#GRANT} ' '$WORK/authsvc.log' && ! grep -qF '$GRANT' '$WORK/authsvc.log'"
python3 "$ROOT/tests/standins/authsvc.py" 0 --fail-with 503 >"$WORK/authsvc2.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q listening "$WORK/authsvc2.log"
AUTH="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/authsvc2.log")"
t_eq "authsvc --fail-with 503" 503 "$(req POST /v1/access "{\"access_grant\":\"$GRANT\"}" | cut -d' ' -f1)"

# leave Ceph as we found it: this test's user and bucket go
radosgw-admin -c "$CEPH_CONF" user rm --uid="$(printf %s "$AK" | sha256sum | cut -c1-12 | sed 's/^/u-/')" \
  --purge-data >/dev/null 2>&1
t_end
