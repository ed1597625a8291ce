#!/bin/bash
# The clean-up rules' data-safety promises (issue 16) on the real registry:3,
# with images built through the registry API (regimages.py: tiny real layers,
# configs with chosen "created" times and architectures, OCI manifests and
# indexes), the rules applied from the API as a user would. Each case:
# preview, check what it says must happen, apply, wait for the job and the
# clean-up (garbage collection), then check the registry's own tags and
# manifests, and that what was deleted is exactly what the preview said.
#
#  1. multi: per-architecture tags build-N-amd64 / build-N-arm64 and an
#     index "latest" over build-1-*; keepLast 0, keepTags latest: both
#     platform manifests of latest stay (the build-0 ones go), and latest
#     pulls for linux/amd64 and linux/arm64 afterwards.
#  2. ci/app: 1,001 tags sha-0000..sha-1000 (one image each) plus v1.0.0 on
#     sha-0005's image; keepLast 10, keepTags v*: v1.0.0 and its image stay,
#     the newest ten stay, 990 images go (tags past the 1,000th are read).
#  3. fixed: 1.0.1..1.0.12, each its own image, all created
#     1980-01-01T00:00:01Z (a reproducible build's constant time);
#     keepLast 3: the age is unknown, nothing is deleted.
#  4. (Engine 28.5 only; storj mode: the gateway STAND-IN behind the
#     Storj-behaviour S3 front STAND-IN, tests/standins/storjfront.py, in
#     front of the real Ceph RGW, as test_storj.sh runs it; Storj itself
#     cannot be reached.) The front answers 500 to the registry's storage
#     reads: one in five reads of blobs, layer links and manifest revision
#     links, each failing 6 times in a row (the registry's S3 client tries 4
#     times, so the 500 reaches the backend), and every manifest read of
#     flaky/two. flaky/one still deletes exactly
#     what the same preview without faults deletes (retries); flaky/two is
#     skipped, the result says so (lastRun.ok false, the message names it)
#     and nothing in it is deleted. The faults are switched off when the
#     deletes are over, before the registry's garbage collection.
set -uo pipefail
T_NAME=retention_safety
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
RI=$ROOT/tests/integration/regimages.py
t_begin
T_START=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# run_done RUN_BEFORE: the job is over (the registry running, no job) and its
# result (lastRun) is newer than RUN_BEFORE (the clean-up, if any, runs before
# the job ends)
run_done() {
  curl -s --unix-socket "$API_SOCK" http://localhost/api/status | jq -e '.state == "running" and .job == null' >/dev/null &&
    [ "$(api GET /api/retention | jq -c '.lastRun.at')" != "$1" ]
}
# wait_secs SECONDS command...: like wait_until, by the clock (a loaded machine
# makes each try slow)
wait_secs() {
  local end=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.3
  done
}
remove_managed
NAME=retention_safety
rm -rf "$WORK/$NAME.state" "$WORK/$NAME-storj.state"
PORT=$(free_port)
B=http://127.0.0.1:$PORT
start_backend $NAME || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
api POST /api/registry/start >/dev/null
t_check "registry running" wait_secs 90 state_is running

# ---- helpers -------------------------------------------------------------------
# the plan's facts for one repository, sorted, one a line
plan_deletes() { jq -r --arg r "$2" '[(.repositories // [])[] | select(.name==$r) | (.delete // [])[].digest] | sort | .[]' <<<"$1"; }
plan_delete_tags() { jq -r --arg r "$2" '[(.repositories // [])[] | select(.name==$r) | (.delete // [])[].tags[]] | sort | .[]' <<<"$1"; }
plan_keep_tags() { jq -r --arg r "$2" '[(.repositories // [])[] | select(.name==$r) | (.keep // [])[].tag] | sort | .[]' <<<"$1"; }
plan_reasons() { jq -c --arg r "$2" '[(.repositories // [])[] | select(.name==$r) | (.keep // [])[] | "\(.tag): \(.reason)"]' <<<"$1"; }
# digests ID... : the digests regimages gave those entries, sorted
digests_of() { jq -r '.digests[$ARGS.positional[]]' --args "$@" <<<"$PUSHED" | sort; }
# all_digests REPO: every digest pushed into REPO (tagged or not)
all_digests() { jq -r --arg r "$1" --slurpfile d <(echo "$PUSHED") '.[] | select(.repo==$r) | $d[0].digests[.id]' "$SPEC" | sort -u; }
# inventory BASE REPO: {tags: {tag: digest}, present: [digests of REPO still there]}
inventory() { python3 "$RI" inventory "$1" "$2" $(all_digests "$2"); }
lines() { tr '\n' ' ' | sed 's/ $//'; }
pull_platform() { $DOCKER pull -q --platform "$1" "$2" >/dev/null; }
# check_applied LABEL BASE REPO PLAN BEFORE: what left REPO is what PLAN deleted; the
# tags that stay point where they did
check_applied() {
  local label=$1 base=$2 repo=$3 plan=$4 before=$5 after gone
  after=$(inventory "$base" "$repo")
  gone=$(comm -23 <(jq -r '.present[]' <<<"$before" | sort) <(jq -r '.present[]' <<<"$after" | sort))
  t_eq "$label: deleted exactly what the preview said ($(plan_deletes "$plan" "$repo" | wc -l) images)" \
    "$(plan_deletes "$plan" "$repo" | lines)" "$(lines <<<"$gone")"
  t_eq "$label: the tags left are the preview's keeps" "$(plan_keep_tags "$plan" "$repo" | lines)" \
    "$(jq -r '.tags | keys[]' <<<"$after" | sort | lines)"
  t_eq "$label: each kept tag still names the image it named" "" \
    "$(jq -r --slurpfile b <(echo "$before") '.tags | to_entries[] | select($b[0].tags[.key] != .value) | .key' <<<"$after" | lines)"
  INV_AFTER=$after
}

# ---- the images ------------------------------------------------------------------
SPEC=$WORK/$NAME.spec.json
{
  # 1: multi
  jq -n '[
    {id: "b0a", repo: "multi", tags: ["build-0-amd64"], arch: "amd64", created: "2024-02-01T00:00:00Z", layer: "multi-0-amd64"},
    {id: "b0r", repo: "multi", tags: ["build-0-arm64"], arch: "arm64", created: "2024-02-01T00:00:07Z", layer: "multi-0-arm64"},
    {id: "b1a", repo: "multi", tags: ["build-1-amd64"], arch: "amd64", created: "2024-03-01T00:00:00Z", layer: "multi-1-amd64"},
    {id: "b1r", repo: "multi", tags: ["build-1-arm64"], arch: "arm64", created: "2024-03-01T00:00:07Z", layer: "multi-1-arm64"},
    {id: "latest", repo: "multi", tags: ["latest"], index: ["b1a", "b1r"]}]'
  # 2: ci/app, one image a minute from 2024-01-01; v1.0.0 on sha-0005
  jq -n '[range(0; 1001) | ("000" + tostring)[-4:] as $n |
    {id: "sha-\($n)", repo: "ci/app", tags: (["sha-\($n)"] + (if $n == "0005" then ["v1.0.0"] else [] end)),
     arch: "amd64", created: ((1704067200 + . * 60) | todate), layer: "ci"}]'
  # 3: fixed, reproducible builds
  jq -n '[range(1; 13) | {id: "f\(.)", repo: "fixed", tags: ["1.0.\(.)"], arch: "amd64",
    created: "1980-01-01T00:00:01Z", layer: "fixed"}]'
} | jq -s add >"$SPEC"
t0=$(date +%s.%N)
PUSHED=$(python3 "$RI" push "$B" "$SPEC" -j 8)
t_check "1,017 images and an index pushed through the registry API" test -n "$PUSHED"
echo "# push: $(jq -c '{requests, seconds}' <<<"$PUSHED") ($(since "$t0") s)"
BEFORE_MULTI=$(inventory "$B" multi)
BEFORE_CI=$(inventory "$B" ci/app)
BEFORE_FIXED=$(inventory "$B" fixed)
t_eq "multi holds 5 manifests before" 5 "$(jq '.present | length' <<<"$BEFORE_MULTI")"
t_eq "ci/app holds 1,002 tags before" 1002 "$(jq '.tags | length' <<<"$BEFORE_CI")"
t_eq "fixed holds 12 tags before" 12 "$(jq '.tags | length' <<<"$BEFORE_FIXED")"

# ---- previews, one case at a time (unsaved rules) -----------------------------------
R1='{"repositories":"multi","keepLast":0,"keepTags":["latest"]}'
R2='{"repositories":"ci/app","keepLast":10,"keepTags":["v*"]}'
R3='{"repositories":"fixed","keepLast":3}'

P1=$(api POST /api/retention/preview "{\"rules\":[$R1]}")
t_eq "1 multi: preview answers 200" 200 "$(last_status)"
echo "# multi: delete $(plan_delete_tags "$P1" multi | lines); keep $(plan_reasons "$P1" multi)"
t_eq "1 multi: the preview deletes the build-0 images only" "build-0-amd64 build-0-arm64" "$(plan_delete_tags "$P1" multi | lines)"
t_eq "1 multi: by their digests" "$(digests_of b0a b0r | lines)" "$(plan_deletes "$P1" multi | lines)"
t_eq "1 multi: latest and both its platforms stay" "build-1-amd64 build-1-arm64 latest" "$(plan_keep_tags "$P1" multi | lines)"

t0=$(date +%s.%N)
P2=$(api POST /api/retention/preview "{\"rules\":[$R2]}")
t_eq "2 ci/app: preview answers 200" 200 "$(last_status)"
echo "# ci/app preview over 1,002 tags: $(since "$t0") s; images $(jq .images <<<"$P2"), skipped $(jq -c .skipped <<<"$P2")"
t_eq "2 ci/app: the preview keeps v1.0.0, sha-0005 (same image) and the newest ten" \
  "sha-0005 sha-0991 sha-0992 sha-0993 sha-0994 sha-0995 sha-0996 sha-0997 sha-0998 sha-0999 sha-1000 v1.0.0" \
  "$(plan_keep_tags "$P2" ci/app | lines)"
t_eq "2 ci/app: v1.0.0's image is not deleted" "" \
  "$(plan_deletes "$P2" ci/app | grep -x "$(digests_of sha-0005)")"
t_eq "2 ci/app: the 990 others are" \
  "$(digests_of $(seq -f 'sha-%04g' 0 990 | grep -vx sha-0005) | md5sum)" "$(plan_deletes "$P2" ci/app | md5sum)"
t_eq "2 ci/app: images counted" 990 "$(jq .images <<<"$P2")"

P3=$(api POST /api/retention/preview "{\"rules\":[$R3]}")
t_eq "3 fixed: preview answers 200" 200 "$(last_status)"
echo "# fixed: delete $(plan_delete_tags "$P3" fixed | lines); keep $(plan_reasons "$P3" fixed)"
t_eq "3 fixed: the preview deletes nothing (every age unknown)" "" "$(plan_delete_tags "$P3" fixed | lines)"
t_eq "3 fixed: all 12 stay" 12 "$(plan_keep_tags "$P3" fixed | wc -l)"

# ---- the three rules saved and applied at once -------------------------------------
api PUT /api/retention "{\"rules\":[$R1,$R2,$R3],\"deleteUntagged\":true}" >/dev/null
t_eq "the rules saved" 200 "$(last_status)"
P=$(api POST /api/retention/preview '{}')
t_eq "the saved rules' preview answers 200" 200 "$(last_status)"
for r in multi ci/app fixed; do
  case $r in multi) one=$P1 ;; ci/app) one=$P2 ;; fixed) one=$P3 ;; esac
  t_eq "$r: the saved rules' preview deletes what its own preview did" \
    "$(plan_deletes "$one" "$r" | md5sum)" "$(plan_deletes "$P" "$r" | md5sum)"
done
gc_before=$(api GET /api/status | jq -c .lastGc)
run_before=$(api GET /api/retention | jq -c .lastRun.at)
t0=$(date +%s.%N)
api POST /api/retention/apply >/dev/null
t_eq "apply answers 202" 202 "$(last_status)"
t_check "the job ends with the registry running" wait_secs 300 run_done "$run_before"
echo "# apply + clean-up: $(since "$t0") s"
last=$(api GET /api/retention | jq -c .lastRun)
gc=$(api GET /api/status | jq -c .lastGc)
echo "# lastRun: $last"
echo "# lastGc: $gc"
t_eq "lastRun says it worked" true "$(jq -r .ok <<<"$last")"
t_eq "lastRun counts the preview's images" "$(jq .images <<<"$P")" "$(jq .images <<<"$last")"
t_check "the clean-up ran after the deletes" test "$(jq -c .at <<<"$gc")" != "$(jq -c .at <<<"$gc_before")"
t_eq "the clean-up succeeded" true "$(jq -r .ok <<<"$gc")"

check_applied "1 multi" "$B" multi "$P" "$BEFORE_MULTI"
t_eq "1 multi: both platform manifests are still there" "$(digests_of b1a b1r latest | lines)" \
  "$(jq -r --arg a "$(digests_of b1a)" --arg r "$(digests_of b1r)" --arg l "$(digests_of latest)" \
    '.present | map(select(. == $a or . == $r or . == $l)) | sort | .[]' <<<"$INV_AFTER" | lines)"
for plat in amd64 arm64; do
  $DOCKER rmi "localhost:$PORT/multi:latest" >/dev/null 2>&1
  t_check "1 multi: latest pulls for linux/$plat" \
    pull_platform "linux/$plat" "localhost:$PORT/multi:latest"
  t_eq "1 multi: and is the $plat image" "$plat" \
    "$($DOCKER image inspect --format '{{.Architecture}}' "localhost:$PORT/multi:latest" 2>/dev/null)"
done
$DOCKER rmi "localhost:$PORT/multi:latest" >/dev/null 2>&1
check_applied "2 ci/app" "$B" ci/app "$P" "$BEFORE_CI"
t_eq "2 ci/app: v1.0.0 still names sha-0005's image" "$(digests_of sha-0005)" "$(jq -r '.tags["v1.0.0"]' <<<"$INV_AFTER")"
check_applied "3 fixed" "$B" fixed "$P" "$BEFORE_FIXED"
t_eq "3 fixed: all 12 tags left" 12 "$(jq '.tags | length' <<<"$INV_AFTER")"

api DELETE /api/registry >/dev/null
wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
echo "# cases 1-3: $(since "$T_START") s"

# ---- 4: a registry whose storage answers 500 (Engine 28.5: storj mode) ---------------
engine=${SRT_ENGINE:-}
[ -n "$engine" ] || case $($DOCKER version --format '{{.Server.Version}}' 2>/dev/null) in 2[8-9].* | [3-9]?.*) engine=28 ;; *) engine=20 ;; esac
if [ "$engine" != 28 ]; then
  echo "# case 4 (storage answering 500) runs on Engine 28.5 only"
  t_end
  exit
fi
T4=$(date +%s.%N)
source "$ROOT/tests/standins/frontlib.sh"
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
BUCKET=srt-rsafe-$RANDOM$RANDOM
NULL_GRANT=$(grant_with_cipher "$SAMPLE_GRANT" ENC_NULL)
front_start selfhosted || { t_fail "the S3 front starts"; t_end; exit 1; }
eval "$("$SF" gateway-image "$FRONT_CADDR" "$GW_IMAGE")" || { t_fail "gateway stand-in image behind the front"; t_end; exit 1; }
GW_IMAGE=$GATEWAY_FRONT_IMAGE
cleanup() {
  front_stop
  $DOCKER rmi "$GATEWAY_FRONT_IMAGE" >/dev/null 2>&1
  [ -z "${CEPH_CONF:-}" ] || s3_rmbucket "$BUCKET"
}
trap cleanup EXIT
PORT=$(free_port)
B=http://127.0.0.1:$PORT
start_backend $NAME-storj || { t_fail "backend starts (storj mode)"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"storj\",\"port\":$PORT,\"bucket\":\"$BUCKET\",\"accessGrant\":\"$NULL_GRANT\"}" >/dev/null
t_eq "4: storj settings saved" 200 "$(last_status)"
GW_AK=$(jq -r .gwAccessKey "$STATE/settings.json")
GW_SK=$(jq -r .gwSecretKey "$STATE/settings.json")
"$ROOT/tests/env/s3-user.sh" "$GW_AK" "$GW_SK" "$BUCKET" >/dev/null 2>&1 || t_fail "4: Ceph user for the gateway keys"
api POST /api/registry/start >/dev/null
t_check "4: gateway stand-in + registry running, storage through the front" wait_secs 90 state_is running
echo "# storj mode up: $(since "$T4") s"

SPEC=$WORK/$NAME.spec4.json
jq -n '[range(1; 11) | {id: "t\(.)", repo: "flaky/one", tags: (["t" + ("0\(.)" | .[-2:])] + (if . == 2 then ["stable"] else [] end)),
          arch: (if . == 4 then "arm64" else "amd64" end), created: ((1704067200 + . * 86400) | todate), layer: "one-\(.)"}] +
  [{id: "rel", repo: "flaky/one", tags: ["rel"], index: ["t3", "t4"]}] +
  [range(1; 7) | {id: "u\(.)", repo: "flaky/two", tags: ["u0\(.)"], arch: "amd64",
          created: ((1704067200 + . * 86400) | todate), layer: "two"}]' >"$SPEC"
PUSHED=$(python3 "$RI" push "$B" "$SPEC" -j 4)
t_check "4: 16 images and an index pushed" test -n "$PUSHED"
BEFORE_ONE=$(inventory "$B" flaky/one)
BEFORE_TWO=$(inventory "$B" flaky/two)
R4='{"rules":[{"repositories":"flaky/*","keepLast":3,"keepTags":["stable","rel"]}],"deleteUntagged":true}'
api PUT /api/retention "$R4" >/dev/null
t_eq "4: rules saved" 200 "$(last_status)"

P0=$(api POST /api/retention/preview '{}')
t_eq "4: preview without faults answers 200" 200 "$(last_status)"
echo "# flaky/one: delete $(plan_delete_tags "$P0" flaky/one | lines); keep $(plan_reasons "$P0" flaky/one)"
t_eq "4: without faults flaky/one would delete t01 t05 t06 t07" "t01 t05 t06 t07" "$(plan_delete_tags "$P0" flaky/one | lines)"
t_eq "4: and flaky/two u01 u02 u03" "u01 u02 u03" "$(plan_delete_tags "$P0" flaky/two | lines)"

# one read in 5 of blobs, layer links and manifest revision links fails, 6
# times in a row (the registry's S3 client tries 4 times). Not tag links: the
# registry reads every tag link of the repository after a DELETE has removed
# the manifest, and a 500 there leaves tags behind, which is the registry's
# doing, not the clean-up's.
ONE_IN='"failOneIn":5,"failBurst":6,"failScope":"/(blobs|_layers|_manifests/revisions)/"'
TWO_MATCH='"failMatch":"/repositories/flaky/two/_manifests/(tags/[^/]+/current/|revisions/)"'
registry_500s() { $DOCKER logs --since "$1" storj-registry 2>&1 | grep -cE 'http\.response\.status"?[=:] ?500'; }
"$SF" faults "$FRONT_ENDPOINT" "{$ONE_IN}" || t_fail "4: the front takes the fault switches"
mark=$(date +%s)
t0=$(date +%s.%N)
PF=$(api POST /api/retention/preview '{}')
t_eq "4: preview with one read in 5 failing answers 200" 200 "$(last_status)"
f=$("$SF" faults "$FRONT_ENDPOINT")
echo "# preview under faults: $(since "$t0") s; front: $(jq -c '{reads, counted, injected, bursts, burstsSpent}' <<<"$f"); registry answered 500 $(registry_500s "$mark") times"
t_check "4: the front failed reads ($(jq .injected <<<"$f")) and some outlasted the registry's own retries" \
  test "$(jq .burstsSpent <<<"$f")" -ge 1 -a "$(registry_500s "$mark")" -ge 1
t_eq "4: flaky/one: the same deletes as without faults" "$(plan_deletes "$P0" flaky/one | lines)" "$(plan_deletes "$PF" flaky/one | lines)"
t_eq "4: flaky/one: the same keeps" "$(plan_keep_tags "$P0" flaky/one | lines)" "$(plan_keep_tags "$PF" flaky/one | lines)"
t_eq "4: nothing skipped" "[]" "$(jq -c '.skipped // []' <<<"$PF")"

"$SF" faults "$FRONT_ENDPOINT" "{$ONE_IN,$TWO_MATCH}" || t_fail "4: the front takes the fault switches"
PF=$(api POST /api/retention/preview '{}')
t_eq "4: preview with flaky/two unreadable answers 200" 200 "$(last_status)"
echo "# skipped: $(jq -c '.skipped' <<<"$PF")"
t_eq "4: flaky/two is skipped" flaky/two "$(jq -r '[.skipped[]?.name] | join(" ")' <<<"$PF")"
t_eq "4: with a reason" true "$(jq -r '.skipped[0].reason // "" | length > 0' <<<"$PF")"
t_eq "4: flaky/two deletes nothing" "" "$(plan_deletes "$PF" flaky/two | lines)"
t_eq "4: flaky/one: still the same deletes" "$(plan_deletes "$P0" flaky/one | lines)" "$(plan_deletes "$PF" flaky/one | lines)"

# apply with both faults on; off once the reads and deletes are over (the
# registry's garbage collection reads every manifest and has no retry of its own)
faults_off_at_gc() {
  local st seen=0 t
  t=$(date +%s)
  while [ $(($(date +%s) - t)) -lt 300 ]; do
    st=$(api GET /api/status)
    case $(jq -r '.phase // ""' <<<"$st") in preparing | read-only | collecting | starting) break ;; esac
    [ "$(api GET /api/retention | jq -c '.lastRun.at')" = "$run_before" ] || break
    if jq -e '.job == null' >/dev/null <<<"$st"; then
      [ $seen = 1 ] || [ $(($(date +%s) - t)) -ge 3 ] && break
    else
      seen=1
    fi
    sleep 0.1
  done
  "$SF" faults "$FRONT_ENDPOINT" '{}'
}
gc_before=$(api GET /api/status | jq -c .lastGc)
run_before=$(api GET /api/retention | jq -c .lastRun.at)
"$SF" reset "$FRONT_ENDPOINT"
mark=$(date +%s)
t0=$(date +%s.%N)
api POST /api/retention/apply >/dev/null
t_eq "4: apply answers 202" 202 "$(last_status)"
faults_off_at_gc
f=$(jq -c '.faults | {reads, injected, matched, bursts, burstsSpent}' <<<"$("$SF" stats "$FRONT_ENDPOINT")")
echo "# reads and deletes under faults: $(since "$t0") s; front: $f; registry answered 500 $(registry_500s "$mark") times"
t_check "4: the job ends with the registry running" wait_secs 300 run_done "$run_before"
echo "# apply + clean-up: $(since "$t0") s"
last=$(api GET /api/retention | jq -c .lastRun)
gc=$(api GET /api/status | jq -c .lastGc)
echo "# lastRun: $last"
echo "# lastGc: $gc"
t_eq "4: lastRun says not everything was done" false "$(jq -r .ok <<<"$last")"
t_check "4: and names flaky/two" grep -q 'flaky/two' <<<"$(jq -r .message <<<"$last")"
t_eq "4: lastRun counts flaky/one's deletes" "$(plan_deletes "$P0" flaky/one | wc -l)" "$(jq .images <<<"$last")"
t_check "4: the clean-up ran after the deletes" test "$(jq -c .at <<<"$gc")" != "$(jq -c .at <<<"$gc_before")"
t_eq "4: the clean-up after it succeeded" true "$(jq -r .ok <<<"$gc")"
check_applied "4 flaky/one" "$B" flaky/one "$P0" "$BEFORE_ONE"
after=$(inventory "$B" flaky/two)
t_eq "4 flaky/two: nothing deleted" "$(jq -c .present <<<"$BEFORE_TWO")" "$(jq -c .present <<<"$after")"
t_eq "4 flaky/two: every tag left" "$(jq -c .tags <<<"$BEFORE_TWO")" "$(jq -c .tags <<<"$after")"
for plat in amd64 arm64; do
  $DOCKER rmi "localhost:$PORT/flaky/one:rel" >/dev/null 2>&1
  t_check "4 flaky/one: rel pulls for linux/$plat" pull_platform "linux/$plat" "localhost:$PORT/flaky/one:rel"
done
$DOCKER rmi "localhost:$PORT/flaky/one:rel" >/dev/null 2>&1

api DELETE /api/registry >/dev/null
wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
echo "# case 4: $(since "$T4") s; suite: $(since "$T_START") s"
t_end
