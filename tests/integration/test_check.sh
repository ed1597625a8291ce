#!/bin/bash
# The storage check (POST /api/storage/check, lastCheck in the status, and
# the check that runs before a start) against real S3: the Ceph RGW of
# tests/env/ceph-s3.sh for a wrong key, a missing bucket (and creating it),
# a user without access to the bucket (a second RGW user, tests/env/s3-user.sh),
# an unreachable endpoint and success; in storj mode through the gateway
# STAND-IN (tests/standins/gateway: Storj cannot be reached from here); and,
# when the Storj-behaviour S3 front stand-in is present
# (tests/standins/storjfront.sh), the hosted gateway's refusal of the
# registry's listings for a grant with encrypted object keys, fixed by
# unencryptedKeys. Clock skew is unit-tested only (tests/unit/test_s3check.c):
# a live S3 service's clock cannot be moved here.
# Then "what runs, not what is saved": a port change while the registry runs.
set -uo pipefail
T_NAME=check
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/check.state"
BUCKET=srt-chk-$RANDOM$RANDOM
MISSING=srt-chk-new-$RANDOM$RANDOM
t_check "bucket $BUCKET created in Ceph RGW" s3_mkbucket "$BUCKET"
PORT=$(free_port)
# storj mode: the gateway stand-in reaches Ceph through the Storj-behaviour
# S3 front (profile selfhosted), which containers reach on $HOST_IP
source "$ROOT/tests/standins/frontlib.sh"
front_start selfhosted || { t_fail "the S3 front (selfhosted) starts"; t_end; exit 1; }
GWF_ENDPOINT=$FRONT_ENDPOINT GWF_PID=$FRONT_PID
eval "$("$SF" gateway-image "$FRONT_CADDR" "$GW_IMAGE")" || { t_fail "gateway stand-in image behind the front"; t_end; exit 1; }
GW_IMAGE=$GATEWAY_FRONT_IMAGE
AUTH_PID=
cleanup() {
  front_stop
  "$SF" stop "$GWF_PID"
  [ -z "$AUTH_PID" ] || kill "$AUTH_PID" 2>/dev/null
  $DOCKER rmi "$GATEWAY_FRONT_IMAGE" >/dev/null 2>&1
}
trap cleanup EXIT
start_backend check || { t_fail "backend starts"; t_end; exit 1; }

jqe() { jq -e "$@" >/dev/null; }
# check_run [BODY]: POST /api/storage/check, wait for its lastCheck; prints it
check_at() { api GET /api/status | jq -r '.lastCheck.at // ""'; }
check_done() { [ "$(api GET /api/status | jq -r '.job // ""')" != check ] && [ "$(check_at)" != "$1" ]; }
check_run() {
  local before
  before=$(check_at)
  # lastCheck.at has one-second resolution
  [ -z "$before" ] || sleep 1
  api POST /api/storage/check "${1-}" >/dev/null
  [ "$(last_status)" = 202 ] || { echo "check answered $(last_status)" >&2; return 1; }
  wait_until 90 check_done "$before" || { echo "check did not finish" >&2; return 1; }
  api GET /api/status | jq -c .lastCheck
}
jqe() { jq -e "$@" >/dev/null; }

s3cfg() { # s3cfg ENDPOINT ACCESS SECRET BUCKET
  jq -n --arg e "$1" --arg a "$2" --arg s "$3" --arg b "$4" --arg r "$S3_REGION" --argjson p "$PORT" \
    '{mode:"s3",port:$p,bucket:$b,s3:{endpoint:$e,region:$r,accessKey:$a,secretKey:$s}}'
}

# --- not applicable in local and storj-native modes
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
out=$(api POST /api/storage/check)
t_eq "local mode: 409" 409 "$(last_status)"
t_eq "local mode: not_applicable" not_applicable "$(jq -r .error.code <<<"$out")"
api PUT /api/config "{\"mode\":\"storj-native\",\"bucket\":\"$BUCKET\",\"accessGrant\":\"$SAMPLE_GRANT\"}" >/dev/null
api POST /api/storage/check >/dev/null
t_eq "storj-native mode: 409" 409 "$(last_status)"
t_eq "no check recorded yet" null "$(api GET /api/status | jq -c .lastCheck)"

# --- success
api PUT /api/config "$(s3cfg "$S3_ENDPOINT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$BUCKET")" >/dev/null
t_eq "s3 settings saved" 200 "$(last_status)"
api POST /api/storage/check '{"createBucket":"yes"}' >/dev/null
t_eq "createBucket must be a boolean" 400 "$(last_status)"
api POST /api/storage/check '{"bucket":"x"}' >/dev/null
t_eq "unknown fields are refused" 400 "$(last_status)"
c=$(check_run)
t_eq "success: ok" true "$(jq -r .ok <<<"$c")"
t_eq "success: six steps, all ok" "true true true true true true" "$(jq -r '[.steps[].ok] | map(tostring) | join(" ")' <<<"$c")"
t_eq "success: the steps in order" "reach bucket write read list delete" "$(jq -r '[.steps[].id] | join(" ")' <<<"$c")"
t_eq "success: mode and bucket recorded" "s3 $BUCKET" "$(jq -r '"\(.mode) \(.bucket)"' <<<"$c")"
t_check "success: the time is recorded" jqe '.at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' <<<"$c"
t_check "the test object is gone again" bash -c "! '$ROOT/tests/env/s3-list.sh' '$BUCKET' | grep -q storj-registry-check"

# --- wrong key
api PUT /api/config "$(s3cfg "$S3_ENDPOINT" "$S3_ACCESS_KEY" wrong-secret-key-0000 "$BUCKET")" >/dev/null
c=$(check_run)
t_eq "wrong secret: fails" false "$(jq -r .ok <<<"$c")"
t_eq "wrong secret: wrong_key" wrong_key "$(jq -r .code <<<"$c")"
t_eq "wrong secret: reach ok, bucket failed, the rest skipped" "true false null null null null" \
  "$(jq -r '[.steps[].ok] | map(tostring) | join(" ")' <<<"$c")"
t_check "wrong secret: a fix is given" jqe '.steps[1].fix | length > 10' <<<"$c"
api PUT /api/config "$(s3cfg "$S3_ENDPOINT" NOSUCHACCESSKEY00001 "$S3_SECRET_KEY" "$BUCKET")" >/dev/null
c=$(check_run)
t_eq "unknown access key: wrong_key" wrong_key "$(jq -r .code <<<"$c")"
t_check "unknown access key: says so" jqe '.steps[1].message | test("does not know this access key")' <<<"$c"

# a start with a failing check ends in failed, with the step's words
api POST /api/registry/start >/dev/null
t_check "start with a wrong key ends failed" wait_state failed 60
st=$(api GET /api/status)
t_eq "start failure code" storage_check_failed "$(jq -r .error.code <<<"$st")"
t_check "start failure message is the failing step's" jqe '.error.message | test("access key")' <<<"$st"
t_check "start failure hint is its fix" jqe '.error.hint | test("copy them again")' <<<"$st"
t_eq "no registry container was created" "" "$($DOCKER ps -aq --filter label=io.storj.registry.role=registry)"

# --- missing bucket, then created from the check
api PUT /api/config "$(s3cfg "$S3_ENDPOINT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$MISSING")" >/dev/null
c=$(check_run)
t_eq "missing bucket: no_such_bucket" no_such_bucket "$(jq -r .code <<<"$c")"
t_eq "missing bucket: offered to create it" true "$(jq -r .canCreateBucket <<<"$c")"
t_check "missing bucket: named in the message" jqe --arg b "$MISSING" '.steps[1].message | contains($b)' <<<"$c"
c=$(check_run '{"createBucket":true}')
t_eq "create: ok" true "$(jq -r .ok <<<"$c")"
t_check "create: says it was created" jqe '.steps[1].message | test("created")' <<<"$c"
t_check "create: the bucket exists in Ceph" "$ROOT/tests/env/s3-list.sh" "$MISSING"

# --- no permission: a second RGW user that does not own the bucket
OTHER_AK=CHKOTHER$RANDOM$RANDOM
OTHER_AK=${OTHER_AK:0:20}
OTHER_SK=chk-other-secret-$RANDOM$RANDOM$RANDOM
"$ROOT/tests/env/s3-user.sh" "$OTHER_AK" "$OTHER_SK" >/dev/null 2>&1 || t_fail "second Ceph user"
api PUT /api/config "$(s3cfg "$S3_ENDPOINT" "$OTHER_AK" "$OTHER_SK" "$BUCKET")" >/dev/null
c=$(check_run)
t_eq "no permission: access_denied" access_denied "$(jq -r .code <<<"$c")"
t_check "no permission: says the keys are valid" jqe '.steps[] | select(.ok==false) | .message | test("keys are valid")' <<<"$c"

# --- unreachable endpoint (a closed port on loopback)
DEAD=$(free_port)
api PUT /api/config "$(s3cfg "http://127.0.0.1:$DEAD" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$BUCKET")" >/dev/null
c=$(check_run)
t_eq "unreachable: unreachable" unreachable "$(jq -r .code <<<"$c")"
t_eq "unreachable: reach failed, the rest skipped" "false null null null null null" \
  "$(jq -r '[.steps[].ok] | map(tostring) | join(" ")' <<<"$c")"

all="$(api GET /api/status)$(api GET /api/config)"
t_check "no secret key in any response" no_secret_in "$all" "$S3_SECRET_KEY" "$OTHER_SK"
t_check "no secret key in the backend log" no_secret_in "$(cat "$BLOG")" "$S3_SECRET_KEY" "$OTHER_SK"

# --- storj mode: through the gateway (stand-in), which the check starts
GW_AK=$(jq -r .gwAccessKey "$STATE/settings.json")
GW_SK=$(jq -r .gwSecretKey "$STATE/settings.json")
GWBUCKET=srt-chk-gw-$RANDOM$RANDOM
"$ROOT/tests/env/s3-user.sh" "$GW_AK" "$GW_SK" >/dev/null 2>&1 || t_fail "Ceph user for the gateway keys"
api PUT /api/config "{\"mode\":\"storj\",\"bucket\":\"$GWBUCKET\",\"accessGrant\":\"$SAMPLE_GRANT\"}" >/dev/null
t_eq "storj settings saved" 200 "$(last_status)"
c=$(check_run)
t_eq "storj: missing bucket through the gateway" no_such_bucket "$(jq -r .code <<<"$c")"
t_check "storj: the messages name the gateway container" jqe '.steps[0].message | test("gateway container")' <<<"$c"
t_eq "storj: the gateway started for the check is stopped again" "" "$($DOCKER ps -q --filter label=io.storj.registry.role=gateway)"
"$SF" reset "$GWF_ENDPOINT" >/dev/null
c=$(check_run '{"createBucket":true}')
t_eq "storj: created through the gateway, then all steps pass" true "$(jq -r .ok <<<"$c")"
t_check "storj: with encrypted keys the check's listing cost the gateway an exhaustive listing" \
  test "$("$SF" stats "$GWF_ENDPOINT" | jq -r .exhaustiveListings)" -ge 1
t_check "storj: the bucket exists in Ceph" "$ROOT/tests/env/s3-list.sh" "$GWBUCKET"
api POST /api/registry/start >/dev/null
t_check "storj: start (which checks through the gateway first) reaches running" wait_state running 90
t_eq "storj: the start's check is the last one" true "$(api GET /api/status | jq -r .lastCheck.ok)"
c=$(check_run)
t_eq "storj: a check while the registry runs passes" true "$(jq -r .ok <<<"$c")"
t_eq "storj: the registry still runs" running "$(state)"
t_check "no gateway key in any response" no_secret_in "$(api GET /api/status)$(api GET /api/config)" "$GW_SK"
api POST /api/registry/stop >/dev/null
wait_state stopped 60

# --- encrypted object keys on the hosted gateway: the Storj-behaviour S3 front
# STAND-IN (tests/standins/storjfront.py, profile hosted) refuses the
# registry's kind of listing for keys whose grant encrypts object keys; the
# Auth Service STAND-IN (tests/standins/authsvc.py) tells it each grant's
# cipher, as the real service knows it
if front_start hosted; then
  HAK=j$(head -c 200 /dev/urandom | tr -dc 'a-z2-7' | head -c 27)
  HSK=j$(head -c 400 /dev/urandom | tr -dc 'a-z2-7' | head -c 52)
  HBUCKET=srt-chk-hosted-$RANDOM$RANDOM
  "$ROOT/tests/env/s3-user.sh" "$HAK" "$HSK" "$HBUCKET" >/dev/null 2>&1 || t_fail "Ceph user for the issued keys"
  : >"$WORK/authsvc-check.log" # emptied first: a stale "listening" line would give an old port
  python3 "$ROOT/tests/standins/authsvc.py" 0 --access-key "$HAK" --secret-key "$HSK" \
    --endpoint "$FRONT_ENDPOINT" --front "$FRONT_ENDPOINT" >"$WORK/authsvc-check.log" 2>&1 &
  AUTH_PID=$!
  wait_until 10 grep -q 'listening on' "$WORK/authsvc-check.log" || t_fail "auth stand-in starts"
  AUTH_URL=http://$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/authsvc-check.log" | head -1)
  # the sample grant names no path cipher: uplink reads it as ENC_AESGCM
  saved=$(api PUT /api/config "$(jq -nc --arg g "$SAMPLE_GRANT" --arg b "$HBUCKET" --arg u "$AUTH_URL" \
    '{mode:"storj-hosted",bucket:$b,accessGrant:$g,authService:$u,unencryptedKeys:false,s3:null}')")
  t_eq "hosted: saved (the grant registered)" 200 "$(last_status)"
  t_eq "hosted: the PUT answer carries the verdict" storj-hosted "$(jq -r .registry.mode <<<"$saved")"
  t_eq "hosted: encrypted keys are an error there, with the one-click fix" "error unencrypted-keys" \
    "$(jq -r '.registry.findings[] | select(.code=="path_encryption") | "\(.severity) \(.action)"' <<<"$saved")"
  t_check "hosted: the mode is named by its label" jqe '.registry.findings[] | select(.code=="path_encryption") | .message | test("\"Storj hosted gateway\"")' <<<"$saved"
  v=$(api POST /api/grant/inspect '{"mode":"storj"}')
  t_eq "inspect in \"Storj (recommended)\": a warning, never \"use the storj mode\"" "warning false" \
    "$(jq -r '.registry.findings[] | select(.code=="path_encryption") | "\(.severity) \(.message | test("storj mode"))"' <<<"$v")"
  v=$(api POST /api/grant/inspect '{"mode":"storj-native","unencryptedKeys":true}')
  t_check "inspect in the native mode: not affected, the setting ignored" jqe '[.registry.findings[] | select(.code=="native_not_affected") | .message | test("ignored")] == [true]' <<<"$v"
  t_eq "inspect: no path_encryption warning in the native mode" 0 "$(jq '[.warnings[] | select(.code=="path_encryption")] | length' <<<"$v")"
  t_eq "hosted: the front knows the key as ENC_AESGCM" ENC_AESGCM "$(front_stat ".keys[\"$HAK\"].pathCipher")"
  front_reset
  c=$(check_run)
  t_eq "encrypted keys: the check fails at the listing" encrypted_keys_listing "$(jq -r .code <<<"$c")"
  t_eq "encrypted keys: write and read pass, list fails, delete passes" "true true false true" \
    "$(jq -r '[.steps[] | select(.id=="write" or .id=="read" or .id=="list" or .id=="delete") | .ok] | map(tostring) | join(" ")' <<<"$c")"
  t_check "encrypted keys: the fix offers unencrypted object keys" jqe '.steps[] | select(.id=="list") | .fix | test("unencrypted object keys")' <<<"$c"
  t_check "encrypted keys: the front refused the listing" test "$(front_stat .refused.listing)" -ge 1
  saved=$(api PUT /api/config '{"unencryptedKeys":true}')
  t_eq "unencryptedKeys saved" 200 "$(last_status)"
  t_eq "unencryptedKeys: in GET /api/config" true "$(api GET /api/config | jq -r .unencryptedKeys)"
  t_eq "unencryptedKeys: registered again, as ENC_NULL" ENC_NULL "$(front_stat ".keys[\"$HAK\"].pathCipher")"
  t_check "unencryptedKeys: the verdict warns that older objects are not seen" jqe --arg b "$HBUCKET" '.registry.findings[] | select(.code=="existing_objects_hidden") | .message | contains($b)' <<<"$saved"
  front_reset
  c=$(check_run)
  t_eq "unencryptedKeys: the check passes" true "$(jq -r .ok <<<"$c")"
  t_eq "unencryptedKeys: nothing refused" 0 "$(front_stat .refused.listing)"
  t_check "the grant and the issued secret are in no response or log line" no_secret_in \
    "$(api GET /api/status)$(api GET /api/config)$(cat "$BLOG")" "$SAMPLE_GRANT" "$HSK"
  api PUT /api/config '{"unencryptedKeys":false,"mode":"local"}' >/dev/null
  front_stop
  kill "$AUTH_PID" 2>/dev/null
  AUTH_PID=
else
  t_fail "the Storj-behaviour S3 front starts (tests/standins/storjfront.sh)"
fi

# --- what runs, not what is saved: a port change while the registry runs
P1=$(free_port)
P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$((P1 + 1))
v2() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/")" = 200 ]; }
api PUT /api/config "{\"mode\":\"local\",\"port\":$P1}" >/dev/null
api POST /api/registry/start >/dev/null
t_check "local registry on port $P1 runs" wait_state running 90
t_eq "status.endpoint is the running one" "localhost:$P1" "$(api GET /api/status | jq -r .endpoint)"
t_eq "no pending change" null "$(api GET /api/status | jq -c .pendingChange)"
api PUT /api/config "{\"port\":$P2}" >/dev/null
t_eq "port change saved while running" 200 "$(last_status)"
sleep 1 # a few monitor rounds (--monitor-interval 300)
st=$(api GET /api/status)
t_eq "status.endpoint stays the running one" "localhost:$P1" "$(jq -r .endpoint <<<"$st")"
t_eq "pendingChange shows the new endpoint" "localhost:$P2" "$(jq -r .pendingChange.endpoint <<<"$st")"
t_eq "pendingChange names the field" '["port"]' "$(jq -c .pendingChange.fields <<<"$st")"
t_eq "pendingChange names the mode" local "$(jq -r .pendingChange.mode <<<"$st")"
t_eq "pendingRestart stays true" true "$(jq -r .pendingRestart <<<"$st")"
t_eq "the registry is still healthy (probes follow what runs)" running "$(jq -r .state <<<"$st")"
t_check "the old endpoint keeps answering" v2 "$P1"
t_check "the new port does not answer yet" bash -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$P2/v2/"
t_check "push to the old endpoint works" push_pull_roundtrip "$P1" whatruns
api GET /api/repositories >/dev/null
t_eq "browsing follows the running registry" 200 "$(last_status)"
# a restart of the backend remembers what runs
stop_backend
start_backend check || t_fail "backend starts again"
wait_until 10 bash -c "[ \"\$(curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -r .state)\" = running ]"
st=$(api GET /api/status)
t_eq "after a backend restart: endpoint still the running one" "localhost:$P1" "$(jq -r .endpoint <<<"$st")"
t_eq "after a backend restart: still pending" "localhost:$P2" "$(jq -r .pendingChange.endpoint <<<"$st")"
# garbage collection uses the configuration the registry was started with
api POST /api/registry/gc >/dev/null
t_eq "gc accepted" 202 "$(last_status)"
t_check "gc finishes" wait_until 120 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.lastGc != null and .job == null' >/dev/null"
t_check "gc ends with the registry running again" wait_state running 120
st=$(api GET /api/status)
t_eq "gc succeeded" true "$(jq -r .lastGc.ok <<<"$st")"
t_check "after gc the old endpoint answers" v2 "$P1"
t_eq "after gc the change is still pending" "localhost:$P2" "$(jq -r .pendingChange.endpoint <<<"$st")"
t_check "the pushed image survived gc" pull_again "$P1" whatruns
api POST /api/registry/restart >/dev/null
t_check "restart applies the change" wait_until 90 v2 "$P2"
wait_state running 60
st=$(api GET /api/status)
t_eq "after restart: status.endpoint follows" "localhost:$P2" "$(jq -r .endpoint <<<"$st")"
t_eq "after restart: no pending change" null "$(jq -c .pendingChange <<<"$st")"
t_check "after restart: the old port is closed" bash -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$P1/v2/"
t_check "after restart: the image is there on the new port" pull_again "$P2" whatruns
api DELETE /api/registry >/dev/null
wait_until 30 bash -c "[ -z \"\$($DOCKER ps -aq --filter label=io.storj.registry.managed=true)\" ]"
t_check "remove forgets what ran" bash -c "[ ! -e '$STATE/running.json' ]"
t_eq "after remove: the endpoint is the saved one" "localhost:$P2" "$(api GET /api/status | jq -r .endpoint)"

stop_backend
remove_managed
t_end
