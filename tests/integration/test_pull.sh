#!/bin/bash
# Image pulls for real: the registry image is served by a plain registry on
# 127.0.0.1 (Docker Hub is out of reach here), removed from the engine, and
# the backend pulls it on start with progress in /api/status. A missing image
# fails the start with the engine's reason (an error line in a 200 stream).
set -uo pipefail
T_NAME=pull
# the one suite in the backend's host-network mode (--network host); the
# others run in publish mode, the default
export SR_TEST_NETWORK=host
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
SRC_PORT=$(free_port)
mkdir -p "$WORK/pullsrc"
cat >"$WORK/pullsrc/config.yml" <<CFG
{"version":"0.1","storage":{"filesystem":{"rootdirectory":"/var/lib/registry"}},"http":{"addr":"127.0.0.1:$SRC_PORT"}}
CFG
$DOCKER rm -f srt-pull-source >/dev/null 2>&1
$DOCKER run -d --name srt-pull-source --network host -v "$WORK/pullsrc/config.yml:/etc/src.yml:ro" \
  "$REG_IMAGE" serve /etc/src.yml >/dev/null || t_fail "source registry starts"
wait_until 20 curl -sf "http://127.0.0.1:$SRC_PORT/v2/" || t_fail "source registry answers"
# a big layer on top of the registry image, so progress is visible
WITH=localhost:$SRC_PORT/srt/registry:pull
mkdir -p "$WORK/pullimg"; head -c $((48 * 1024 * 1024)) /dev/urandom >"$WORK/pullimg/blob"
printf 'FROM %s\nCOPY blob /blob\n' "$REG_IMAGE" >"$WORK/pullimg/Dockerfile"
DOCKER_BUILDKIT=0 $DOCKER build -q -t "$WITH" "$WORK/pullimg" >/dev/null || t_fail "image to pull built"
$DOCKER push "$WITH" >/dev/null || t_fail "image pushed to the source registry"
$DOCKER rmi "$WITH" >/dev/null

rm -rf "$WORK/pull.state"
PORT=$(free_port)
REG_IMAGE=$WITH start_backend pull || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"port\":$PORT}" >/dev/null
api POST /api/registry/start >/dev/null
saw=""
# one curl a look, no jq (a pull from loopback is over in seconds; under
# ASan on a busy machine a slower loop missed it)
for _ in $(seq 1200); do
  st=$(curl -s --unix-socket "$API_SOCK" http://localhost/api/status)
  if [[ $st == *'"state":"pulling"'* && $st =~ \"progress\":\{\"image\":[^}]*\"total\":[1-9] ]]; then
    saw=$(jq -c .progress <<<"$st")
  fi
  [[ $st == *'"state":"running"'* || $st == *'"state":"failed"'* ]] && break
  sleep 0.02
done
echo "# progress seen: $saw"
t_check "status showed pulling with bytes done and total" test -n "$saw"
t_check "progress names the image" grep -q "srt/registry:pull" <<<"$saw"
t_check "the pulled image starts and runs" wait_state running 60
t_check "in host mode the registry answers on 127.0.0.1:$PORT" curl -sf "http://127.0.0.1:$PORT/v2/"
t_eq "and runs in the host network" host "$($DOCKER inspect --format '{{.HostConfig.NetworkMode}}' storj-registry)"
t_check "the image is now in the engine" bash -c "$DOCKER image inspect '$WITH' >/dev/null"
stop_backend || t_fail "backend exits cleanly"

# a missing image: the engine reports the failure in the 200 stream
rm -rf "$WORK/pull.state"
REG_IMAGE=localhost:$SRC_PORT/srt/missing:1 start_backend pull || t_fail "backend restarts"
api PUT /api/config "{\"port\":$PORT}" >/dev/null
api DELETE /api/registry >/dev/null; wait_state stopped 30
api POST /api/registry/start >/dev/null
t_check "a missing image fails the start" wait_state failed 60
st=$(api GET /api/status)
t_eq "with the pull_failed code" pull_failed "$(jq -r .error.code <<<"$st")"
t_check "and the engine's reason" grep -qi "not found\|unknown\|manifest" <<<"$(jq -r .error.message <<<"$st")"
t_check "and a hint" test -n "$(jq -r '.error.hint // empty' <<<"$st")"

stop_backend || t_fail "backend exits cleanly"

# Stop while pulling: the pull is cancelled rather than waited for. The
# source registry is reached through a proxy that sends 2 MB/s, so the pull
# of the 48 MiB layer is still going when Stop comes.
: >"$WORK/slowproxy.log" # emptied first: a stale "listening" line would give an old port
python3 "$ROOT/tests/standins/slowproxy.py" 0 "$SRC_PORT" 2000000 >"$WORK/slowproxy.log" 2>&1 &
PROXY_PID=$!
wait_until 10 grep -q listening "$WORK/slowproxy.log"
SLOW_PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/slowproxy.log")
SLOW=localhost:$SLOW_PORT/srt/registry:pull
$DOCKER rmi "$WITH" >/dev/null 2>&1
rm -rf "$WORK/pull.state"
REG_IMAGE=$SLOW start_backend pull || t_fail "backend restarts"
api PUT /api/config "{\"port\":$PORT}" >/dev/null
api POST /api/registry/start >/dev/null
pulling_bytes() { curl -s --unix-socket "$API_SOCK" http://localhost/api/status | jq -e '.state == "pulling" and .progress.current > 0' >/dev/null; }
t_check "the slow pull is under way" wait_until 60 pulling_bytes
api POST /api/registry/stop >/dev/null
t_check "stop while pulling reaches stopped" wait_state stopped 30
t_eq "with no error" null "$(api GET /api/status | jq -c .error)"
t_check "the pull was cancelled, not finished" bash -c "! $DOCKER image inspect '$SLOW' >/dev/null 2>&1"
t_check "the backend says the start was cancelled" grep -q 'start cancelled by a stop' "$BLOG"
t_eq "no registry container was created" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.role=registry | wc -l)"
kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null

# Stop while a pull receives nothing at all (an unreachable registry, a DNS
# wait): the source accepts connections and never answers, so the engine
# sends no byte back; the stop must still end the start at once.
stop_backend || t_fail "backend exits cleanly"
: >"$WORK/blackhole.log" # emptied first: a stale "listening" line would give an old port
python3 "$ROOT/tests/env/blackhole.py" >"$WORK/blackhole.log" 2>&1 &
BH_PID=$!
wait_until 10 grep -q listening "$WORK/blackhole.log"
BH_PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/blackhole.log")
rm -rf "$WORK/pull.state"
REG_IMAGE=localhost:$BH_PORT/srt/silent:1 start_backend pull || t_fail "backend restarts"
api PUT /api/config "{\"port\":$PORT}" >/dev/null
api POST /api/registry/start >/dev/null
t_check "the pull from a silent registry is under way" wait_state pulling 20
sleep 2
api POST /api/registry/stop >/dev/null
t_check "stop reaches a pull that receives nothing within 5 s" wait_state stopped 5
kill "$BH_PID" 2>/dev/null; wait "$BH_PID" 2>/dev/null

stop_backend || t_fail "backend exits cleanly"
$DOCKER rm -f srt-pull-source >/dev/null
$DOCKER rmi "$WITH" >/dev/null 2>&1
remove_managed
t_end
