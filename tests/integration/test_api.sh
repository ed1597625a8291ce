#!/bin/bash
# The HTTP API's contract on bad input: every refusal is a 4xx JSON error
# naming the field, and leaves the settings file and the containers as they
# were. Also the standalone listener's Host and Origin checks, and health.
set -uo pipefail
T_NAME=api
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/api.state"
PORT=$(free_port)
HTTP_PORT=$(free_port)
start_backend api --listen "127.0.0.1:$HTTP_PORT" --ui "$ROOT/ui" || { t_fail "backend starts"; t_end; exit 1; }

body=$(api GET /api/health)
t_eq "health answers 200" 200 "$(last_status)"
t_eq "health says ok" true "$(jq -r .ok <<<"$body")"
t_check "health has a version" test -n "$(jq -r .version <<<"$body")"
t_eq "status before any settings is not-configured" not-configured "$(state)"

api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
t_eq "valid settings are saved" 200 "$(last_status)"
t_check "settings file is 0600" test "$(stat -c %a "$STATE/settings.json")" = 600
before=$(sha256sum "$STATE/settings.json")
containers_before=$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | sort)

# expect_error METHOD PATH BODY STATUS CODE FIELD
expect_error() {
  local body
  body=$(api "$1" "$2" "$3")
  local desc="$1 $2 ${3:0:60} -> $4 ${5} ${6:-}"
  if [ "$(last_status)" != "$4" ]; then t_fail "$desc (status $(last_status): $body)"; return; fi
  if [ "$(jq -r .error.code <<<"$body" 2>/dev/null)" != "$5" ]; then t_fail "$desc (code: $body)"; return; fi
  if [ -n "${6:-}" ] && [ "$(jq -r .error.field <<<"$body")" != "$6" ]; then t_fail "$desc (field: $body)"; return; fi
  if [ -z "$(jq -r '.error.message // empty' <<<"$body")" ]; then t_fail "$desc (no message)"; return; fi
  t_ok "$desc"
}

expect_error PUT /api/config '{"mode":' 400 invalid_json
# a key cut inside a character used to leave the request without any answer
LONGKEY="a$(printf '\xc3\xa9%.0s' $(seq 1 40))"
expect_error PUT /api/config "{\"$LONGKEY\":1}" 400 unknown_field
expect_error PUT /api/config '[1,2]' 400 invalid_json
expect_error PUT /api/config '{"port":1,"port":2}' 400 invalid_json
expect_error PUT /api/config '{"colour":"blue"}' 400 unknown_field colour
expect_error PUT /api/config '{"s3":{"endpoint":"http://127.0.0.1:1","sekretKey":"x"}}' 400 unknown_field s3.sekretKey
expect_error PUT /api/config '{"port":"9999"}' 400 invalid_type port
expect_error PUT /api/config '{"port":9999.5}' 400 invalid_type port
expect_error PUT /api/config '{"mode":7}' 400 invalid_type mode
expect_error PUT /api/config '{"mode":"ftp"}' 400 invalid_value mode
expect_error PUT /api/config '{"port":0}' 400 out_of_range port
expect_error PUT /api/config '{"port":65536}' 400 out_of_range port
expect_error PUT /api/config '{"port":-1}' 400 out_of_range port
expect_error PUT /api/config '{"bind":"localhost"}' 400 invalid_value bind
expect_error PUT /api/config '{"bucket":"ab"}' 400 invalid_value bucket
expect_error PUT /api/config "{\"bucket\":\"$(printf 'a%.0s' $(seq 64))\"}" 400 invalid_value bucket
expect_error PUT /api/config '{"bucket":"Registry"}' 400 invalid_value bucket
expect_error PUT /api/config '{"bucket":"-registry"}' 400 invalid_value bucket
expect_error PUT /api/config '{"bucket":"reg..istry"}' 400 invalid_value bucket
expect_error PUT /api/config '{"bucket":"127.0.0.1"}' 400 invalid_value bucket
expect_error PUT /api/config '{"bucket":"under_score"}' 400 invalid_value bucket
expect_error PUT /api/config '{"bucket":5}' 400 invalid_type bucket
expect_error PUT /api/config '{"mode":"s3","bucket":"registry"}' 400 missing_field s3.endpoint
expect_error PUT /api/config '{"mode":"s3","bucket":"registry","s3":{"endpoint":"ftp://x"}}' 400 invalid_value s3.endpoint
expect_error PUT /api/config '{"mode":"s3","bucket":"registry","s3":{"endpoint":"http://127.0.0.1:7480"}}' 400 missing_field s3.accessKey
expect_error PUT /api/config '{"mode":"s3","s3":{"endpoint":"http://127.0.0.1:7480","accessKey":"a","secretKey":"b"}}' 400 missing_field bucket
expect_error PUT /api/config '{"s3":{"region":"US East"}}' 400 invalid_value s3.region
expect_error PUT /api/config '{"s3":"x"}' 400 invalid_type s3
expect_error PUT /api/config '{"mode":"storj","bucket":"registry"}' 400 missing_field accessGrant
expect_error PUT /api/config '{"mode":"storj","bucket":"registry","accessGrant":"not a grant"}' 400 whitespace accessGrant
expect_error PUT /api/config '{"mode":"storj","bucket":"registry","accessGrant":"1abc0OIl"}' 400 not_base58 accessGrant
expect_error PUT /api/config '{"authService":"auth.storjshare.io"}' 400 invalid_value authService
expect_error PUT /api/config '' 400 invalid_json
expect_error GET /api/nothing '' 404 not_found
expect_error GET /api '' 404 not_found
expect_error DELETE /api/status '' 405 method_not_allowed
expect_error GET /api/registry/start '' 405 method_not_allowed
expect_error PATCH /api/config '{}' 405 method_not_allowed
expect_error GET '/api/registry/logs?tail=0' '' 400 out_of_range tail
expect_error GET '/api/registry/logs?tail=abc' '' 400 out_of_range tail
expect_error DELETE '/api/registry?purge=maybe' '' 400 invalid_value purge
expect_error POST /api/grant/inspect '{"accessGrant":"12345"}' 400 truncated accessGrant
expect_error POST /api/grant/inspect '{"accessGrant":1}' 400 invalid_type accessGrant
expect_error POST /api/grant/inspect '{"grant":"x"}' 400 unknown_field grant
expect_error POST /api/grant/inspect '{}' 400 missing_field accessGrant

big=$(head -c 70000 /dev/zero | tr '\0' 'a')
out=$(curl -s --unix-socket "$API_SOCK" -X PUT -H 'Content-Type: application/json' --data-binary "{\"bucket\":\"$big\"}" -w '\n%{http_code}' http://localhost/api/config)
t_eq "a body over 64 KiB gets 413" 413 "${out##*$'\n'}"
# the same without Content-Length (chunked): read to the cap, then 413
out=$(printf '{"bucket":"%s"}' "$big" | curl -s --unix-socket "$API_SOCK" -X PUT -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary @- -w '\n%{http_code}' http://localhost/api/config)
t_eq "a chunked body over 64 KiB gets 413" 413 "${out##*$'\n'}"
t_check "413 body is JSON with a code" test "$(jq -r .error.code <<<"${out%$'\n'*}")" = body_too_large

t_eq "settings file unchanged after every refusal" "$before" "$(sha256sum "$STATE/settings.json")"
t_eq "no container created by refusals" "$containers_before" "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | sort)"
t_eq "GET config still shows the saved port" "$PORT" "$(api GET /api/config | jq -r .port)"

# every response carries Content-Type: application/json
ct=$(curl -s -o /dev/null -w '%{content_type}' --unix-socket "$API_SOCK" http://localhost/api/nothing)
t_eq "error responses are application/json" application/json "$ct"

# oversized headers: our JSON 431 up to libmicrohttpd's own limit; past it
# and on a request line it cannot parse, its own answer (no hook for a JSON
# body in 0.9.75), and the backend stays up either way
big=$(head -c 20000 /dev/zero | tr '\0' a)
out=$(curl -s --unix-socket "$API_SOCK" -H "X-Big: $big" -w '\n%{http_code}' http://localhost/api/status)
t_eq "20 KiB of headers: 431" 431 "${out##*$'\n'}"
t_eq "with a JSON error" headers_too_large "$(jq -r .error.code <<<"${out%$'\n'*}")"
huge=$(head -c 70000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null --unix-socket "$API_SOCK" -H "X-Big: $huge" -w '%{http_code}' http://localhost/api/status)
t_check "70 KiB of headers: libmicrohttpd's own 431 (or a closed connection)" test "$code" = 431 -o "$code" = 000
bad=$(python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b'NOT A REQUEST\r\n\r\n')
print(s.recv(100).split(b' ')[1].decode())" "$API_SOCK" 2>/dev/null || echo closed)
t_check "a request line it cannot parse: 400 (or a closed connection)" test "$bad" = 400 -o "$bad" = closed
t_eq "the backend still answers afterwards" true "$(curl -s --unix-socket "$API_SOCK" http://localhost/api/health | jq -r .ok)"

# standalone TCP listener: the UI, and the DNS-rebinding and cross-site guards
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/api/health")
t_eq "TCP listener answers with Host 127.0.0.1" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$HTTP_PORT" "http://127.0.0.1:$HTTP_PORT/api/health")
t_eq "TCP listener answers with Host localhost" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: evil.example:$HTTP_PORT" "http://127.0.0.1:$HTTP_PORT/api/health")
t_eq "another Host is refused (DNS rebinding)" 403 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Origin: http://evil.example" "http://127.0.0.1:$HTTP_PORT/api/registry/stop")
t_eq "a cross-site POST is refused" 403 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Origin: http://127.0.0.1:$HTTP_PORT" -H 'Content-Type: application/json' --data '{"port":0}' "http://127.0.0.1:$HTTP_PORT/api/config")
t_eq "a same-origin PUT reaches validation" 400 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/")
if [ -f "$ROOT/ui/index.html" ]; then t_eq "the UI is served at /" 200 "$code"; else t_fail "ui/index.html missing"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$HTTP_PORT/../Makefile")
t_eq "no path escapes the UI folder" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/nope.html")
t_eq "a missing UI file is 404" 404 "$code"

# a listener on a non-loopback address is refused at start
if "$BIN" --socket '' --listen 0.0.0.0:$(free_port) --state-dir "$WORK/api-bad.state" --docker-socket "$DOCKER_SOCK" >/dev/null 2>&1; then
  t_fail "--listen 0.0.0.0 is refused"
else
  t_ok "--listen 0.0.0.0 is refused"
fi
t_check "--help documents every flag" bash -c "'$BIN' --help | grep -q -- --gateway-image"
t_check "--version prints the version" bash -c "'$BIN' --version | grep -q storj-registryd"

stop_backend || t_fail "backend exits cleanly"
t_check "the socket file is removed on exit" test ! -e "$API_SOCK"

# Slow work runs off the listener's threads: with more Auth Service
# registrations hanging than the listener has threads (the service accepts
# and never answers), status still answers at once.
: >"$WORK/api-blackhole.log" # emptied first: a stale "listening" line would give an old port
python3 "$ROOT/tests/env/blackhole.py" >"$WORK/api-blackhole.log" 2>&1 &
BH_PID=$!
wait_until 10 grep -q listening "$WORK/api-blackhole.log"
BH_PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/api-blackhole.log")
start_backend api || t_fail "backend restarts"
hung=()
for i in 1 2 3 4 5 6; do
  curl -s --max-time 60 --unix-socket "$API_SOCK" -X PUT -H 'Content-Type: application/json' \
    --data "{\"mode\":\"storj-hosted\",\"bucket\":\"slow-$i\",\"accessGrant\":\"$SAMPLE_GRANT\",\"authService\":\"http://127.0.0.1:$BH_PORT\"}" \
    -o /dev/null http://localhost/api/config &
  hung+=($!)
done
sleep 1
t_check "status answers within 1 s while 6 Auth Service calls hang" \
  curl -sf --max-time 1 --unix-socket "$API_SOCK" -o /dev/null http://localhost/api/status
t_check "and health too" curl -sf --max-time 1 --unix-socket "$API_SOCK" -o /dev/null http://localhost/api/health
kill "$BH_PID" 2>/dev/null; wait "$BH_PID" 2>/dev/null
for p in "${hung[@]}"; do wait "$p" 2>/dev/null; done
stop_backend || t_fail "backend exits cleanly"

# A slow disk does not stall status: every fsync of the backend is delayed
# by 3 s while a PUT saves the settings; status still answers at once (the
# file is written outside the lock status needs).
if command -v strace >/dev/null; then
  start_backend api || t_fail "backend restarts"
  strace -qq -f -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=3000000 -p "$BPID" &
  STRACE_PID=$!
  sleep 1
  curl -s --max-time 30 --unix-socket "$API_SOCK" -X PUT -H 'Content-Type: application/json' \
    --data "{\"port\":$PORT}" -o /dev/null http://localhost/api/config &
  put=$!
  sleep 0.5
  t_check "status answers within 0.5 s while a save waits for a slow disk" \
    curl -sf --max-time 0.5 --unix-socket "$API_SOCK" -o /dev/null http://localhost/api/status
  wait "$put"
  kill "$STRACE_PID" 2>/dev/null; wait "$STRACE_PID" 2>/dev/null
  stop_backend || t_fail "backend exits cleanly"
else
  t_fail "strace is installed (scripts/install-deps.sh)"
fi

# A settings file that cannot be read (cut by a full disk, edited by hand, an
# unknown mode from a newer version) must not stop the daemon: it is kept
# aside, status says so, the backend runs with defaults.
for bad in '{"mode":"local","port":' '{"mode":"teleport","port":9999}' 'not json at all'; do
  rm -f "$STATE"/settings.json*
  printf '%s' "$bad" >"$STATE/settings.json"; chmod 0600 "$STATE/settings.json"
  if start_backend api; then
    t_ok "the backend starts over a bad settings file (${bad:0:24})"
    st=$(api GET /api/status)
    t_eq "status names the problem (${bad:0:24})" settings_reset "$(jq -r '.settingsProblem.code // "missing"' <<<"$st")"
    t_check "and what to do" test -n "$(jq -r '.settingsProblem.hint // empty' <<<"$st")"
    t_eq "and runs with defaults" not-configured "$(jq -r .state <<<"$st")"
    kept=$(jq -r '.settingsProblem.keptAs // "missing"' <<<"$st")
    t_check "the bad file is kept aside, 0600" test -f "$STATE/$kept" -a "$(stat -c %a "$STATE/$kept" 2>/dev/null)" = 600
    t_eq "with its content" "$bad" "$(cat "$STATE/$kept" 2>/dev/null)"
    api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
    t_eq "new settings can be saved" 200 "$(last_status)"
    stop_backend || t_fail "backend exits cleanly"
  else
    t_fail "the backend starts over a bad settings file (${bad:0:24})"
  fi
done
t_end
