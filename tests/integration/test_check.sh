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
# publish mode: the gateway stand-in runs on the bridge and reaches the RGW
# at $HOST_IP (helper engines)
GW_IMAGE=$(gw_image_for "$HOST_IP:7480") || t_fail "gateway stand-in image with the RGW at $HOST_IP"
start_backend check || { t_fail "backend starts"; t_end; exit 1; }

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
c=$(check_run '{"createBucket":true}')
t_eq "storj: created through the gateway, then all steps pass" true "$(jq -r .ok <<<"$c")"
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

stop_backend
remove_managed
t_end
