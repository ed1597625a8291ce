#!/bin/bash
# Fault drills in the S3 and Storj modes, against the real Ceph RGW:
#  1. S3 down at idle: the registry reaches S3 through tests/env/tcpproxy.py
#     on $HOST_IP (what the container sees), the proxy is stopped: the
#     status turns `unhealthy` (the registry's storage health check), and
#     back to `running` when S3 returns;
#  2. S3 down in the middle of a push (the proxy slowed, then stopped while
#     the layers upload): `unhealthy`, the push fails, and once S3 is back
#     GET /api/repositories does not list the half-written image; a push
#     after that is listed;
#  3. a start with wrong S3 credentials and one with a missing bucket (the
#     storage check before a start; test_check.sh tests the check itself):
#     `failed` with the check's words, no container created, and a backend
#     restarted later does not bring up the registry that never ran;
#  4. storj mode (the gateway STAND-IN, tests/standins/gateway, in front of
#     Ceph: Storj cannot be reached from here): the gateway container
#     killed: status says the gateway stopped; Restart brings both back.
set -uo pipefail
T_NAME=drills_s3
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/drills-s3.state"
BUCKET=srt-drill-$RANDOM$RANDOM
MISSING=srt-drill-none-$RANDOM$RANDOM
t_check "bucket $BUCKET created in Ceph RGW" s3_mkbucket "$BUCKET"
PORT=$(free_port) SPORT=$(free_port)
PROXY_PID=
proxy_up() { # proxy_up [BYTES_PER_SECOND]
  : >"$WORK/drills-s3-proxy.log" # emptied first: a stale "listening" line would give an old port
  python3 "$ROOT/tests/env/tcpproxy.py" "$HOST_IP" "$SPORT" 127.0.0.1 7480 ${1:+"$1"} >"$WORK/drills-s3-proxy.log" 2>&1 &
  PROXY_PID=$!
  wait_until 10 grep -q listening "$WORK/drills-s3-proxy.log"
}
proxy_down() { [ -z "$PROXY_PID" ] || { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=; }; }
trap 'proxy_down' EXIT
status_has() { api GET /api/status | jq -e "$1" >/dev/null; }
jqe() { jq -e "$@" >/dev/null; }
s3cfg() { # s3cfg ENDPOINT SECRET BUCKET
  jq -n --arg e "$1" --arg a "$S3_ACCESS_KEY" --arg s "$2" --arg b "$3" --arg r "$S3_REGION" --argjson p "$PORT" \
    '{mode:"s3",port:$p,bucket:$b,s3:{endpoint:$e,region:$r,accessKey:$a,secretKey:$s}}'
}
repos() { api GET /api/repositories | jq -r '[.repositories[].name] | join(" ")'; }

start_backend drills-s3 || { t_fail "backend starts"; t_end; exit 1; }

# ---- 3. wrong credentials, missing bucket at start ------------------------------------
api PUT /api/config "$(s3cfg "$S3_HOST_ENDPOINT" wrong-secret-key-0000 "$BUCKET")" >/dev/null
api POST /api/registry/start >/dev/null
t_check "wrong secret key: the start ends failed" wait_state failed 60
st=$(api GET /api/status)
echo "# wrong key: $(jq -c .error <<<"$st")"
t_eq "wrong secret key: the storage check stopped it" storage_check_failed "$(jq -r .error.code <<<"$st")"
t_check "wrong secret key: the message is about the key" jqe '.error.message | test("key")' <<<"$st"
t_check "wrong secret key: with a fix" jqe '.error.hint | length > 10' <<<"$st"
t_eq "wrong secret key: no container created" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | wc -l)"
api PUT /api/config "$(s3cfg "$S3_HOST_ENDPOINT" "$S3_SECRET_KEY" "$MISSING")" >/dev/null
api POST /api/registry/start >/dev/null
t_check "missing bucket: the start ends failed" wait_until 60 status_has '.state == "failed" and .job == null'
st=$(api GET /api/status)
echo "# missing bucket: $(jq -c .error <<<"$st")"
t_eq "missing bucket: the storage check stopped it" storage_check_failed "$(jq -r .error.code <<<"$st")"
t_check "missing bucket: the message names the bucket" jqe --arg b "$MISSING" '.error.message | contains($b)' <<<"$st"
t_eq "missing bucket: creating it is offered" true "$(jq -r .lastCheck.canCreateBucket <<<"$st")"
t_eq "missing bucket: no container created" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | wc -l)"
t_eq "the failed starts are not recorded as wished" false "$(jq -r .desiredRunning "$STATE/settings.json")"
stop_backend || t_fail "backend exits cleanly"
start_backend drills-s3 || t_fail "backend starts again"
sleep 2
t_eq "a backend started later does not bring up a registry that never ran" stopped "$(state)"
t_eq "and creates no container" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | wc -l)"

# ---- 1. S3 down at idle ---------------------------------------------------------------
proxy_up || t_fail "the S3 proxy listens on $HOST_IP:$SPORT"
api PUT /api/config "$(s3cfg "http://$HOST_IP:$SPORT" "$S3_SECRET_KEY" "$BUCKET")" >/dev/null
api POST /api/registry/start >/dev/null
t_check "s3 through the proxy: running" wait_state running 90
t_check "a first image pushed" push_pull_roundtrip "$PORT" drills3
proxy_down
t_check "S3 down at idle: the status turns unhealthy" wait_until 90 status_has '.state == "unhealthy" and .error.code == "storage_unreachable"'
echo "# S3 down: $(api GET /api/status | jq -c .error)"
proxy_up || t_fail "the S3 proxy listens again"
t_check "S3 back: running again" wait_until 60 status_has '.state == "running" and .error == null'
t_check "S3 back: the image is served" pull_again "$PORT" drills3

# ---- 2. S3 down in the middle of a push -------------------------------------------------
proxy_down
proxy_up 1000000 || t_fail "the slowed S3 proxy listens"
"$ROOT/tests/env/random-image.sh" srt-src/drills3-half:1 3 8192 >/dev/null || t_fail "a 24 MiB image"
$DOCKER tag srt-src/drills3-half:1 "localhost:$PORT/drills3/half:1"
$DOCKER push "localhost:$PORT/drills3/half:1" >"$WORK/push-drills3-half.log" 2>&1 &
PUSH=$!
sleep 5
t_check "the push is under way when S3 goes" kill -0 "$PUSH"
proxy_down
t_check "S3 down mid-push: the status turns unhealthy" wait_until 90 status_has '.state == "unhealthy"'
for _ in $(seq 1 150); do kill -0 "$PUSH" 2>/dev/null || break; sleep 1; done
kill -0 "$PUSH" 2>/dev/null && { kill "$PUSH"; echo "# the push was still retrying: stopped"; }
wait "$PUSH"
t_check "S3 down mid-push: the push failed" test $? -ne 0
proxy_up || t_fail "the S3 proxy listens again"
t_check "S3 back after the push: running again" wait_until 60 status_has '.state == "running" and .error == null'
r=$(repos)
echo "# repositories: $r"
t_eq "S3 back: the repositories answer" 200 "$(last_status)"
t_check "S3 back: the half-written image is not listed" bash -c '! grep -qw drills3/half <<<"$1"' _ "$r"
t_check "S3 back: the complete image is" grep -qw drills3 <<<"$r"
$DOCKER push "localhost:$PORT/drills3/half:1" >"$WORK/push-drills3-half.log" 2>&1 || t_fail "the push again"
t_check "pushed again in full: now listed" bash -c 'grep -qw drills3/half <<<"$1"' _ "$(repos)"
$DOCKER rmi srt-src/drills3-half:1 "localhost:$PORT/drills3/half:1" >/dev/null 2>&1
api POST /api/registry/stop >/dev/null
wait_state stopped 60
proxy_down

# ---- 4. storj mode: the gateway container killed --------------------------------------
# the stand-in forwards to Ceph on the host: in publish mode that is $HOST_IP
stop_backend || t_fail "backend exits cleanly"
ctx=$(mktemp -d)
printf 'FROM %s\nENV STORJ_STANDIN_UPSTREAM=%s:7480\n' "$GW_IMAGE" "$HOST_IP" >"$ctx/Dockerfile"
GW_IMAGE=storj-registry-test/gateway-standin:drills
DOCKER_BUILDKIT=0 $DOCKER build -q -t "$GW_IMAGE" "$ctx" >/dev/null 2>&1 || t_fail "gateway stand-in image with the host's Ceph as upstream"
rm -rf "$ctx"
start_backend drills-s3 || t_fail "backend starts with the gateway stand-in"
GWBUCKET=srt-drill-gw-$RANDOM$RANDOM
api PUT /api/config "{\"mode\":\"storj\",\"port\":$PORT,\"bucket\":\"$GWBUCKET\",\"accessGrant\":\"$SAMPLE_GRANT\"}" >/dev/null
t_eq "storj settings saved" 200 "$(last_status)"
GW_AK=$(jq -r .gwAccessKey "$STATE/settings.json")
GW_SK=$(jq -r .gwSecretKey "$STATE/settings.json")
"$ROOT/tests/env/s3-user.sh" "$GW_AK" "$GW_SK" "$GWBUCKET" >/dev/null 2>&1 || t_fail "Ceph user and bucket for the gateway keys"
api POST /api/registry/start >/dev/null
t_check "storj: running (gateway stand-in)" wait_state running 120
$DOCKER kill storj-registry-gateway >/dev/null
t_check "gateway killed: the status says the gateway stopped" wait_until 30 status_has \
  '.state != "running" and .error.code == "gateway_stopped" and (.error.message | test("gateway"))'
echo "# gateway killed: $(api GET /api/status | jq -c '{state, error}')"
api POST /api/registry/restart >/dev/null
t_check "gateway killed: Restart brings both back" wait_until 120 status_has \
  '.state == "running" and .error == null and ([.containers[] | select(.state == "running")] | length) == 2'
t_check "gateway killed: a push and pull after the Restart" push_pull_roundtrip "$PORT" drillsgw
t_eq "gateway killed: still one gateway and one registry" "1 1" \
  "$($DOCKER ps -aq --filter label=io.storj.registry.role=gateway | wc -l) $($DOCKER ps -aq --filter label=io.storj.registry.role=registry | wc -l)"
api POST /api/registry/stop >/dev/null
wait_state stopped 60

stop_backend || t_fail "backend exits cleanly"
remove_managed
$DOCKER rmi "$GW_IMAGE" >/dev/null 2>&1
t_end
