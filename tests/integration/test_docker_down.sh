#!/bin/bash
# The Docker engine goes away and comes back: status says so, actions get 503
# with a clear message, and the backend reconnects by itself. Uses a second,
# throw-away engine so the shared one keeps running.
set -uo pipefail
T_NAME=docker_down
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
export SRT_DOCKER_DIR=${SRT_DOCKER_DIR:-/tmp/srt/docker}-down # same engine kind (SRT_ENGINE)
eval "$(DOCKER_HOST= "$ROOT/tests/env/docker-engine.sh" start)" || { t_fail "second engine starts"; t_end; exit 1; }
SECOND_SOCK=${DOCKER_HOST#unix://}
rm -rf "$WORK/down.state"
DOCKER_SOCK_OVERRIDE=$SECOND_SOCK start_backend down || { t_fail "backend starts"; t_end; exit 1; }
t_check "engine reported reachable" wait_until 10 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.docker.reachable and .docker.apiVersion != null' >/dev/null"

"$ROOT/tests/env/docker-engine.sh" stop 2>/dev/null
t_check "status says the engine is unreachable" wait_until 10 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.docker.reachable == false and .error.code == \"docker_unreachable\"' >/dev/null"
msg=$(api GET /api/status | jq -r .error.message)
echo "# message: $msg"
names_socket() { [[ $msg == *"$SECOND_SOCK"* && $msg == *"check that Docker is running"* ]]; }
t_check "the message names the socket and what to do" names_socket
t_check "the error has a hint" test -n "$(api GET /api/status | jq -r '.error.hint // empty')"
body=$(api POST /api/registry/start)
t_eq "start answers 503 while the engine is down" 503 "$(last_status)"
t_eq "with code docker_unreachable" docker_unreachable "$(jq -r .error.code <<<"$body")"
api POST /api/registry/stop >/dev/null
t_eq "stop answers 503 too" 503 "$(last_status)"
api GET '/api/registry/logs?tail=5' >/dev/null
t_eq "logs answer 503 too" 503 "$(last_status)"
api GET /api/health >/dev/null
t_eq "health still answers" 200 "$(last_status)"
api PUT /api/config '{"port":23456}' >/dev/null
t_eq "settings can still be saved" 200 "$(last_status)"

eval "$(DOCKER_HOST= "$ROOT/tests/env/docker-engine.sh" start)" || t_fail "second engine restarts"
t_check "the backend reconnects by itself" wait_until 30 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.docker.reachable and .error == null' >/dev/null"
api POST /api/registry/stop >/dev/null
t_eq "actions are accepted again" 202 "$(last_status)"

stop_backend || t_fail "backend exits cleanly"
"$ROOT/tests/env/docker-engine.sh" stop 2>/dev/null
t_end
