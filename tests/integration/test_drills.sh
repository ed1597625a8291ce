#!/bin/bash
# Fault drills on the real engine, local mode (what a user's machine does to
# the backend, each checked for what the user must see after it):
#  1. the registry restarted and stopped outside the backend (docker
#     restart / stop / start storj-registry): status follows, no duplicate,
#     healthy after;
#  2. Docker restarted while the registry runs (this suite's engine stopped
#     and started with tests/env/docker-engine.sh): the backend sees Docker
#     go and come back and brings the registry back, same container, same
#     images;
#  3. kill -9 of the backend between the container's create and its
#     configuration upload (PUT /containers/{id}/archive held by
#     tests/env/dockerproxy.py), then started again: Start gives a registry
#     with its configuration, never a second container;
#  4. kill -9 during a settings save (fsync delayed by strace): the file is
#     the old or the new one, never broken, and no temporary copy of it (it
#     holds secrets) is left behind;
#  5. the state folder full (a small tmpfs filled up: ENOSPC) and read-only:
#     PUT /api/config answers an error naming the problem, the old settings
#     stay in memory and on disk.
set -uo pipefail
T_NAME=drills
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/drills.state"
PORT=$(free_port)
PROXY_PID='' STRACE_PID='' MNT=''
cleanup() {
  [ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null
  [ -z "$STRACE_PID" ] || kill "$STRACE_PID" 2>/dev/null
  if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT"; fi
  [ -z "${BPID:-}" ] || kill -9 "$BPID" 2>/dev/null
}
trap cleanup EXIT
jqe() { jq -e "$@" >/dev/null; }
temps_in() { (shopt -s nullglob dotglob; cd "$1" && echo settings.json.tmp*); } # temps_in DIR
reg_count() { $DOCKER ps -aq --filter label=io.storj.registry.role=registry | wc -l; }
reg_id() { $DOCKER ps -aq --no-trunc --filter label=io.storj.registry.role=registry; }
status_has() { api GET /api/status | jq -e "$1" >/dev/null; }

start_backend drills || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
t_eq "local settings saved" 200 "$(last_status)"
api POST /api/registry/start >/dev/null
t_check "registry running" wait_state running 60
t_check "a first image pushed" push_pull_roundtrip "$PORT" drill1

# ---- 1. the registry restarted / stopped outside the backend -----------------------
id=$(reg_id)
$DOCKER restart -t 2 storj-registry >/dev/null
t_check "docker restart: status is running and healthy again" wait_until 30 status_has \
  '.state == "running" and (.containers[] | select(.role == "registry") | .health) == "healthy"'
t_eq "docker restart: no second container" 1 "$(reg_count)"
t_eq "docker restart: the same container" "$id" "$(reg_id)"
t_check "docker restart: images still served" pull_again "$PORT" drill1
$DOCKER stop -t 2 storj-registry >/dev/null
t_check "docker stop outside: status follows (failed, container_exited)" wait_until 20 status_has \
  '.state == "failed" and .error.code == "container_exited"'
$DOCKER start storj-registry >/dev/null
t_check "docker start outside: status follows (running)" wait_until 30 status_has '.state == "running" and .error == null'
t_eq "docker start outside: no second container" 1 "$(reg_count)"

# ---- 2. Docker restarted while the registry runs --------------------------------
"$ROOT/tests/env/docker-engine.sh" stop 2>/dev/null
t_check "engine stopped: status says Docker is unreachable" wait_until 30 status_has \
  '.docker.reachable == false and .error.code == "docker_unreachable"'
eval "$("$ROOT/tests/env/docker-engine.sh" start 2>/dev/null)" || t_fail "the engine starts again"
t_check "engine back: the backend brings the registry back by itself" wait_until 60 status_has \
  '.docker.reachable and .state == "running" and .error == null'
t_eq "engine back: the same container, no second one" "$id" "$(reg_id)"
t_check "engine back: the registry answers and serves what it held" pull_again "$PORT" drill1
t_check "engine back: the backend said it resumed" grep -q "resuming the registry" "$BLOG"

# ---- 3. kill -9 between create and the configuration upload ------------------------
api DELETE /api/registry >/dev/null
t_check "registry removed (data volume kept)" wait_until 60 bash -c "[ \$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | wc -l) = 0 ]"
stop_backend || t_fail "backend exits cleanly before the proxy drill"
PROXY_SOCK=$WORK/drills-docker.sock RULES=$WORK/drills-proxy.rules PLOG=$WORK/drills-proxy.log
rm -f "$RULES" "$RULES.release" "$PLOG"
echo 'PUT /containers/.*/archive hold' >"$RULES"
python3 "$ROOT/tests/env/dockerproxy.py" "$PROXY_SOCK" "$DOCKER_SOCK" "$RULES" "$PLOG" >/dev/null 2>&1 &
PROXY_PID=$!
wait_until 10 test -S "$PROXY_SOCK" || t_fail "the Docker socket proxy listens"
DOCKER_SOCK_OVERRIDE=$PROXY_SOCK start_backend drills || t_fail "backend starts behind the proxy"
t_check "the engine answers through the proxy" wait_until 20 status_has '.docker.reachable'
api POST /api/registry/start >/dev/null
t_check "the configuration upload is held" wait_until 30 grep -q '^hold PUT /.*/archive' "$PLOG"
t_eq "the container is created, not started" created "$($DOCKER inspect --format '{{.State.Status}}' storj-registry 2>/dev/null)"
kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=
# the held upload never reaches the engine: a fresh proxy, nothing held
kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null
rm -f "$PROXY_SOCK"; : >"$RULES"
python3 "$ROOT/tests/env/dockerproxy.py" "$PROXY_SOCK" "$DOCKER_SOCK" "$RULES" "$PLOG" >/dev/null 2>&1 &
PROXY_PID=$!
wait_until 10 test -S "$PROXY_SOCK" || t_fail "the Docker socket proxy listens again"
t_eq "the engine has the container without its configuration" "created " \
  "$($DOCKER inspect --format '{{.State.Status}}' storj-registry) $(container_file storj-registry /etc/storj-registry/config.yml)"
DOCKER_SOCK_OVERRIDE=$PROXY_SOCK start_backend drills || t_fail "backend starts again after kill -9"
t_check "after kill -9: status is stopped, not running" wait_until 10 status_has '.state == "stopped"'
api POST /api/registry/start >/dev/null
t_check "after kill -9: Start reaches running" wait_state running 60
t_eq "after kill -9: one registry container" 1 "$(reg_count)"
conf=$(container_file storj-registry /etc/storj-registry/config.yml)
t_check "after kill -9: the registry has its configuration" jqe '.storage.filesystem.rootdirectory' <<<"$conf"
t_check "after kill -9: images still served" pull_again "$PORT" drill1
stop_backend || t_fail "backend exits cleanly after the proxy drill"
kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=

# ---- 4. kill -9 during a settings save -----------------------------------------------
# save_killed WHEN: delays the WHEN-th fsync of a save by 3 s (1: the new
# file's, before the rename; 2: the folder's, after it), kills the backend
# meanwhile; prints the port in the file left behind
save_killed() {
  local when=$1 port=$2
  # -f with -p: every thread of the backend
  strace -qq -f -o /dev/null -e trace=fsync -e "inject=fsync:delay_enter=3000000:when=$when" -p "$BPID" &
  STRACE_PID=$!
  sleep 1
  curl -s -m 10 --unix-socket "$API_SOCK" -X PUT -H 'Content-Type: application/json' \
    --data-binary "{\"port\":$port}" http://localhost/api/config >/dev/null &
  local put=$!
  sleep 1.5
  kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=
  wait "$put" 2>/dev/null
  kill "$STRACE_PID" 2>/dev/null; wait "$STRACE_PID" 2>/dev/null; STRACE_PID=
}
command -v strace >/dev/null || t_fail "strace is installed (scripts/install-deps.sh)"
start_backend drills || t_fail "backend starts for the save drill"
P1=$(free_port) P2=$(free_port)
save_killed 1 "$P1"
t_check "killed before the rename: the file is valid JSON" jqe . "$STATE/settings.json"
t_eq "killed before the rename: the file is the old one" "$PORT" "$(jq -r .port "$STATE/settings.json")"
start_backend drills || t_fail "backend starts after kill -9 in a save"
t_eq "and the backend runs with it" "$PORT" "$(api GET /api/config | jq -r .port)"
t_eq "with no settings problem" null "$(api GET /api/status | jq -c '.settingsProblem // null')"
t_eq "no temporary copy of the settings is left behind" "" "$(temps_in "$STATE")"
save_killed 2 "$P2"
t_check "killed after the rename: the file is valid JSON" jqe . "$STATE/settings.json"
t_eq "killed after the rename: the file is the new one" "$P2" "$(jq -r .port "$STATE/settings.json")"
start_backend drills || t_fail "backend starts after the second kill -9"
t_eq "and the backend runs with it" "$P2" "$(api GET /api/config | jq -r .port)"
api PUT /api/config "{\"port\":$PORT}" >/dev/null
stop_backend || t_fail "backend exits cleanly after the save drill"

# ---- 5. the state folder full, then read-only --------------------------------------
MNT=$WORK/drills-tmpfs
mkdir -p "$MNT"
if mount -t tmpfs -o size=256k,mode=0700 srt-drills "$MNT"; then
  # without the index here: it keeps index.db open for writing, and a
  # remount read-only refuses (EBUSY) while a file is; the second start
  # below has it on, and must run without it on the read-only folder
  SR_INDEX=off STATE_OVERRIDE=$MNT start_backend drills-full || t_fail "backend starts on the small tmpfs"
  api PUT /api/config "{\"mode\":\"local\",\"port\":$P1}" >/dev/null
  t_eq "settings saved on the tmpfs" 200 "$(last_status)"
  dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
  out=$(api PUT /api/config "{\"port\":$P2}")
  code=$(last_status)
  echo "# full: $code $out"
  t_eq "folder full: PUT /api/config answers 507 Insufficient Storage" 507 "$code"
  t_check "folder full: the error says the folder is full and the old settings kept" \
    jqe '.error.message | test("full") and test("previous settings are kept")' <<<"$out"
  t_check "folder full: and names the folder" jqe --arg d "$MNT" '.error.message | contains($d)' <<<"$out"
  t_eq "folder full: the old settings are kept in memory" "$P1" "$(api GET /api/config | jq -r .port)"
  t_eq "folder full: and on disk" "$P1" "$(jq -r .port "$MNT/settings.json")"
  t_eq "folder full: no temporary file left" "" "$(temps_in "$MNT")"
  rm -f "$MNT/fill"
  mount -o remount,ro "$MNT"
  out=$(api PUT /api/config "{\"port\":$P2}")
  code=$(last_status)
  echo "# read-only: $code $out"
  t_check "read-only: PUT /api/config fails ($code)" test "$code" -ge 400
  t_check "read-only: the error says the folder is read-only" jqe '.error.message | test("read-only"; "i")' <<<"$out"
  t_eq "read-only: the old settings are kept" "$P1" "$(api GET /api/config | jq -r .port)"
  t_check "read-only: status still answers" status_has '.state != null'
  stop_backend || t_fail "backend exits cleanly on a read-only state folder"
  STATE_OVERRIDE=$MNT start_backend drills-full || t_fail "backend starts on a read-only state folder"
  t_check "read-only: it runs without its index, and says so" grep -q "no index" "$BLOG"
  t_eq "read-only: a backend started on it has the last saved settings" "$P1" "$(api GET /api/config | jq -r .port)"
  stop_backend || t_fail "backend exits cleanly"
  umount "$MNT" && MNT=
else
  t_fail "a tmpfs can be mounted for the state folder (root needed)"
fi

remove_managed
t_end
