#!/bin/bash
# Fault drill: a slow and a garbling Docker engine. The backend talks to the
# real engine through tests/env/dockerproxy.py (a stand-in for a broken
# engine: it forwards the real engine's answers, delayed by seconds, cut
# mid-body, corrupted so they are no JSON, or never). Whatever the engine
# does, every action (status, start, stop, logs, config) answers within its
# timeout, a failed job says what went wrong in plain words, the backend
# never crashes (also run under ASan/UBSan by tests/run.sh), and once the
# engine behaves again the registry comes up.
set -uo pipefail
T_NAME=drills_engine
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/drills-engine.state"
PORT=$(free_port)
PROXY_SOCK=$WORK/drills-engine-docker.sock RULES=$WORK/drills-engine.rules PLOG=$WORK/drills-engine-proxy.log
rm -f "$RULES" "$RULES.release" "$PLOG" "$PROXY_SOCK"
: >"$RULES"
python3 "$ROOT/tests/env/dockerproxy.py" "$PROXY_SOCK" "$DOCKER_SOCK" "$RULES" "$PLOG" >/dev/null 2>&1 &
PROXY_PID=$!
trap 'kill $PROXY_PID 2>/dev/null' EXIT
wait_until 10 test -S "$PROXY_SOCK" || t_fail "the Docker socket proxy listens"
status_has() { api GET /api/status | jq -e "$1" >/dev/null; }
jqe() { jq -e "$@" >/dev/null; }
rules() { printf '%s\n' "$@" >"$RULES"; }

# timed MAX METHOD PATH [BODY]: the call answers within MAX seconds with a
# JSON body (an error or not); prints "STATUS SECONDS"
timed() {
  local max=$1 method=$2 path=$3 body=${4-} out t code
  out=$(curl -s -m "$((max + 5))" --unix-socket "$API_SOCK" -X "$method" -H 'Content-Type: application/json' \
    ${body:+--data-binary "$body"} -o "$WORK/drills-engine.body" -w '%{http_code} %{time_total}' "http://localhost$path")
  code=${out%% *} t=${out##* }
  echo "$code $t"
  [ "$code" != 000 ] && awk -v t="$t" -v m="$max" 'BEGIN {exit !(t <= m)}' && jq -e . "$WORK/drills-engine.body" >/dev/null
}
# every action within its timeout: status, config and the job requests at
# once (they answer from memory), logs within the engine call's 20 s
every_action() {
  local what=$1 r
  # each entry is split into timed's arguments (the JSON body has no space)
  # shellcheck disable=SC2089,SC2090
  for a in "1 GET /api/status" "1 GET /api/config" "1 PUT /api/config {\"port\":$PORT}" \
    "2 POST /api/registry/start" "2 POST /api/registry/stop" "25 GET /api/registry/logs?tail=20"; do
    # shellcheck disable=SC2086
    r=$(timed $a) && t_ok "$what: ${a#* } answers in time ($r)" || t_fail "$what: ${a#* } answers in time ($r)"
  done
}
alive() { kill -0 "$BPID" 2>/dev/null; }

DOCKER_SOCK_OVERRIDE=$PROXY_SOCK start_backend drills-engine || { t_fail "backend starts behind the proxy"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
t_check "the engine answers through the proxy" wait_until 20 status_has '.docker.reachable'
api POST /api/registry/start >/dev/null
t_check "registry running through the proxy" wait_state running 60

# ---- slow: every answer 4 s late --------------------------------------------------
rules '* . delay 4'
every_action "slow engine"
t_check "slow engine: the stop/start jobs finish" wait_until 90 status_has '.job == null'
t_check "slow engine: the backend is alive" alive

# ---- an answer never comes ----------------------------------------------------------
rules '* /containers/create hang' '* /logs hang' '* /start hang'
api POST /api/registry/stop >/dev/null
wait_until 60 status_has '.job == null'
remove_managed
api POST /api/registry/start >/dev/null
every_action "hanging engine"
wait_until 90 status_has '.job == null'
api POST /api/registry/start >/dev/null # every_action's stop cancelled the first
t_check "hanging engine: the start gives up with a clear error" wait_until 90 status_has \
  '.state == "failed" and (.error.message | test("Docker engine"))'
echo "# hanging engine: $(api GET /api/status | jq -c .error)"
t_check "hanging engine: the backend is alive" alive

# ---- garbled JSON -------------------------------------------------------------------
rules '* /containers/create garble' '* /containers/json garble' '* /containers/[0-9a-f]+/json garble' '* /logs garble'
api POST /api/registry/start >/dev/null
every_action "garbling engine"
wait_until 90 status_has '.job == null'
api POST /api/registry/start >/dev/null # every_action's stop cancelled the first
t_check "garbling engine: the start fails saying the answer was not JSON" wait_until 60 status_has \
  '.state == "failed" and (.error.message | test("not valid JSON"))'
echo "# garbling engine: $(api GET /api/status | jq -c .error)"
t_check "garbling engine: the backend is alive" alive

# ---- answers cut mid-body -----------------------------------------------------------
rules '* /containers/create cut' '* /containers/json cut' '* /version cut' '* /logs cut'
api POST /api/registry/start >/dev/null
every_action "cutting engine"
wait_until 90 status_has '.job == null'
api POST /api/registry/start >/dev/null # every_action's stop cancelled the first
t_check "cutting engine: the error names the Docker engine" wait_until 60 status_has \
  '.state == "failed" and (.error.message | test("Docker engine"))'
echo "# cutting engine: $(api GET /api/status | jq -c .error)"
t_check "cutting engine: the backend is alive" alive

# ---- everything garbled, then errors and closed connections ---------------------------
rules '* . garble'
every_action "engine answering garbage everywhere"
t_check "garbage everywhere: the engine is reported unusable" wait_until 30 status_has \
  '.docker.reachable == false and (.error.message | length > 0)'
rules '* . close'
every_action "engine closing every connection"
rules '* . status 500'
every_action "engine failing every request"
t_check "failing engine: the backend is alive" alive

# ---- the engine behaves again ----------------------------------------------------------
: >"$RULES"
remove_managed
# the monitor must see the engine again first (a failed job's state alone is
# no sign of that); a Start before then is a 503, so ask until it is taken
t_check "healthy engine: Docker reachable again" wait_until 30 status_has '.docker.reachable == true'
start_taken() { api POST /api/registry/start >/dev/null; [ "$(last_status)" = 202 ]; }
t_check "healthy engine: Start is accepted" wait_until 30 start_taken
t_check "healthy engine: Start reaches running" wait_state running 90
t_eq "healthy engine: one registry container" 1 "$($DOCKER ps -aq --filter label=io.storj.registry.role=registry | wc -l)"
t_check "healthy engine: a push and pull round trip" push_pull_roundtrip "$PORT" drillengine
stop_backend || t_fail "backend exits cleanly after the drill"
remove_managed
t_end
