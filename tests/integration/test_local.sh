#!/bin/bash
# local mode end to end on the real engine: configure over the socket, start,
# push an image of random layers, pull it back, stop and start (data kept),
# restart the backend (registry still reported), concurrent starts (one
# registry), a settings change (recreated on restart), and a registry killed
# or removed behind the backend's back.
set -uo pipefail
T_NAME=local
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/local.state"
PORT=$(free_port)
start_backend local || { t_fail "backend starts"; t_end; exit 1; }

api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
t_eq "local settings saved" 200 "$(last_status)"
body=$(api POST /api/registry/start)
t_eq "start answers 202" 202 "$(last_status)"
t_check "start answers with a status" test -n "$(jq -r .state <<<"$body")"
t_check "state reaches running" wait_state running 90
t_eq "endpoint names the port" "localhost:$PORT" "$(api GET /api/status | jq -r .endpoint)"
t_eq "one registry container" 1 "$($DOCKER ps -q --filter label=io.storj.registry.role=registry | wc -l)"
t_check "registry answers /v2/" curl -sf "http://127.0.0.1:$PORT/v2/"
net=$($DOCKER inspect --format '{{range (index .HostConfig.PortBindings "5000/tcp")}}{{.HostIp}}:{{.HostPort}}{{end}} {{.HostConfig.NetworkMode}}' storj-registry)
t_check "publish mode: 5000/tcp published on 127.0.0.1:$PORT, bridge network ($net)" grep -qE "^127\.0\.0\.1:$PORT (default|bridge)$" <<<"$net"
t_eq "container health is healthy" healthy "$(api GET /api/status | jq -r '.containers[0].health')"
t_check "push and pull back a 3-layer random image, same digest" push_pull_roundtrip "$PORT" roundtrip
t_check "a second start while running is accepted (idempotent)" bash -c "curl -s -o /dev/null -w '%{http_code}' --unix-socket '$API_SOCK' -X POST http://localhost/api/registry/start | grep -q 202"

cmd=$($DOCKER inspect --format '{{json .Config.Cmd}}' storj-registry)
t_eq "registry runs from the injected config file" '["serve","/etc/storj-registry/config.yml"]' "$cmd"
t_check "the config file is JSON with the filesystem driver" bash -c "$(declare -f container_file); DOCKER=$DOCKER container_file storj-registry /etc/storj-registry/config.yml | jq -e '.storage.filesystem.rootdirectory == \"/var/lib/registry\"' >/dev/null"
t_check "the data lives in the named volume" bash -c "$DOCKER inspect --format '{{json .Mounts}}' storj-registry | grep -q storj-registry-data"

api POST /api/registry/stop >/dev/null
t_eq "stop answers 202" 202 "$(last_status)"
t_check "state reaches stopped" wait_state stopped 60
t_check "container is stopped, not removed" test "$($DOCKER inspect --format '{{.State.Running}}' storj-registry)" = false
api POST /api/registry/start >/dev/null
t_check "started again" wait_state running 60
t_check "the image survived stop and start" pull_again "$PORT" roundtrip

# the backend restarts: it finds its registry by labels
stop_backend || t_fail "backend exits cleanly"
t_check "registry keeps running without the backend" curl -sf "http://127.0.0.1:$PORT/v2/"
start_backend local || t_fail "backend restarts"
t_check "after a backend restart the registry is reported running" wait_state running 20
t_eq "still one registry container" 1 "$($DOCKER ps -aq --filter label=io.storj.registry.role=registry | wc -l)"

# concurrent starts create one registry
api POST /api/registry/stop >/dev/null; wait_state stopped 60
$DOCKER rm -f storj-registry >/dev/null
pids=()
for i in $(seq 1 8); do curl -s -o /dev/null --unix-socket "$API_SOCK" -X POST http://localhost/api/registry/start & pids+=($!); done
wait "${pids[@]}"
t_check "concurrent starts reach running" wait_state running 90
t_eq "concurrent starts created exactly one registry" 1 "$($DOCKER ps -aq --filter label=io.storj.registry.role=registry | wc -l)"

# a settings change is applied by restart, which recreates the container
old_id=$($DOCKER inspect --format '{{.Id}}' storj-registry)
PORT2=$(free_port)
api PUT /api/config "{\"port\":$PORT2}" >/dev/null
t_check "status says a restart is pending" wait_until 10 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e .pendingRestart >/dev/null"
api POST /api/registry/restart >/dev/null
t_eq "restart answers 202" 202 "$(last_status)"
t_check "restart reaches running" wait_until 90 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .endpoint == \"localhost:$PORT2\"' >/dev/null"
t_check "the container was recreated" test "$($DOCKER inspect --format '{{.Id}}' storj-registry)" != "$old_id"
t_check "the new port answers" curl -sf "http://127.0.0.1:$PORT2/v2/"
t_check "images survive the recreation (same volume)" pull_again "$PORT2" roundtrip
t_eq "no restart pending any more" false "$(api GET /api/status | jq -r .pendingRestart)"

# logs: demultiplexed lines from the registry
logs=$(api GET '/api/registry/logs?tail=20')
t_eq "logs answer 200" 200 "$(last_status)"
t_check "logs have registry lines" test "$(jq '[.lines[] | select(.container=="registry")] | length' <<<"$logs")" -gt 0
t_check "log lines carry no frame header bytes" bash -c "! jq -r '.lines[].text' <<<'$(jq -c . <<<"$logs" | sed "s/'//g")' | grep -qP '[\x00-\x08]'"

# killed behind the backend's back
$DOCKER kill storj-registry >/dev/null
t_check "a killed registry is reported as failed" wait_state failed 10
t_eq "with the container_exited code" container_exited "$(api GET /api/status | jq -r .error.code)"
t_check "the message tells the exit code" bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -r .error.message | grep -q 'exit code'"
$DOCKER rm -f storj-registry >/dev/null
t_check "a removed registry is reported as such" wait_until 10 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.error.code == \"container_removed\"' >/dev/null"
api POST /api/registry/start >/dev/null
t_check "start recovers it" wait_state running 60
t_check "and the data is still there" pull_again "$PORT2" roundtrip

# an unmanaged container with our name is never touched
api DELETE /api/registry >/dev/null
t_check "remove reaches stopped" wait_state stopped 60
t_eq "remove deleted the container" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | wc -l)"
t_check "remove without purge keeps the volume" $DOCKER volume inspect storj-registry-data
$DOCKER create --name storj-registry --network host "$REG_IMAGE" >/dev/null
api POST /api/registry/start >/dev/null
t_check "a foreign container named storj-registry makes start fail" wait_state failed 30
t_eq "with the name_taken code" name_taken "$(api GET /api/status | jq -r .error.code)"
t_check "the foreign container is left alone" $DOCKER inspect storj-registry
$DOCKER rm -f storj-registry >/dev/null

api POST /api/registry/start >/dev/null; wait_state running 60
api DELETE '/api/registry?purge=true' >/dev/null
t_check "remove with purge reaches stopped" wait_state stopped 60
t_check "purge removed the data volume" wait_until 10 bash -c "! $DOCKER volume inspect storj-registry-data >/dev/null 2>&1"

# publish mode: a port another program holds on 127.0.0.1 fails the start
# (docker-proxy cannot bind it) with the engine's reason and a hint
BUSY=$(free_port)
python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $BUSY)); s.listen(); time.sleep(90)" &
busy_pid=$!
wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BUSY"
api PUT /api/config "{\"port\":$BUSY}" >/dev/null
api POST /api/registry/start >/dev/null
t_check "a start on a port in use fails" wait_state failed 60
st=$(api GET /api/status)
echo "# port in use: $(jq -c .error <<<"$st")"
t_eq "with the port_in_use code" port_in_use "$(jq -r .error.code <<<"$st")"
t_check "and the hint to pick another port" grep -q 'pick another port' <<<"$(jq -r '.error.hint // empty' <<<"$st")"
# a failed start is not a wish to run: a save and a backend restart later
# must not bring up a registry that never ran
api PUT /api/config "{\"port\":$BUSY}" >/dev/null
t_eq "the settings file does not ask for a running registry after a failed start" false \
  "$(jq -r '.desiredRunning' "$STATE/settings.json")"
kill "$busy_pid" 2>/dev/null; wait "$busy_pid" 2>/dev/null
stop_backend || t_fail "backend exits cleanly"
start_backend local || t_fail "backend restarts"
sleep 3
t_eq "the next backend start leaves the registry stopped" stopped "$(state)"
t_eq "and creates no running registry" 0 "$($DOCKER ps -q --filter label=io.storj.registry.role=registry | wc -l)"

stop_backend || t_fail "backend exits cleanly"
remove_managed
t_end
