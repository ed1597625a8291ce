#!/bin/bash
# Clean-up rules on the real engine (local mode): validation that names the
# field and changes nothing, a preview that lists exactly what would go
# (the newest N kept, tags kept by pattern, an image a kept tag shares
# kept, other repositories untouched, unsaved rules previewed too), then
# applying them: the images are deleted, the clean-up runs, the kept ones
# still pull; a stopped registry is refused.
set -uo pipefail
T_NAME=retention
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/retention.state"
PORT=$(free_port)
start_backend retention || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null

# the rules: defaults, then bad ones refused with the field named
r=$(api GET /api/retention)
t_eq "no rules at first" 0 "$(jq '.rules | length' <<<"$r")"
t_eq "no schedule at first" null "$(jq -c .nextRun <<<"$r")"
expect_rule_error() { # desc body field
  local out; out=$(api PUT /api/retention "$2")
  t_eq "$1: 400" 400 "$(last_status)"
  t_eq "$1: names $3" "$3" "$(jq -r '.error.field // "none"' <<<"$out")"
}
expect_rule_error "a negative keepLast" '{"rules":[{"repositories":"team/app","keepLast":-1}]}' 'rules[0].keepLast'
expect_rule_error "a rule without repositories" '{"rules":[{"keepLast":1}]}' 'rules[0].repositories'
expect_rule_error "a bad time" '{"schedule":"25:00"}' schedule
expect_rule_error "an unknown field" '{"rules":[],"keep":1}' keep
t_check "no rules file written by refusals" test ! -e "$STATE/retention.json"

api POST /api/registry/start >/dev/null
t_check "registry running" wait_state running 90
# team/app: 1 < 2 < 3 < 4 by creation time; stable = the image of 1
for n in 1 2 3 4; do
  "$ROOT/tests/env/random-image.sh" "srt-src/ret:$n" 1 64 >/dev/null
  $DOCKER tag "srt-src/ret:$n" "localhost:$PORT/team/app:$n"
  $DOCKER push "localhost:$PORT/team/app:$n" >/dev/null 2>&1 || t_fail "push team/app:$n"
  sleep 1.1 # creation times are compared to the second
done
$DOCKER tag "srt-src/ret:1" "localhost:$PORT/team/app:stable"
$DOCKER push "localhost:$PORT/team/app:stable" >/dev/null 2>&1 || t_fail "push team/app:stable"
$DOCKER tag "srt-src/ret:1" "localhost:$PORT/other/app:old"
$DOCKER push "localhost:$PORT/other/app:old" >/dev/null 2>&1 || t_fail "push other/app:old"

rules='{"rules":[{"repositories":"team/*","keepLast":2,"keepTags":["stable"]}],"deleteUntagged":true,"schedule":"03:00"}'
r=$(api PUT /api/retention "$rules")
t_eq "rules saved" 200 "$(last_status)"
t_check "the next scheduled run is at 03:00 UTC" grep -q 'T03:00:00Z$' <<<"$(jq -r .nextRun <<<"$r")"
t_eq "the rules file is 0600" 600 "$(stat -c %a "$STATE/retention.json")"

p=$(api POST /api/retention/preview)
t_eq "preview answers 200" 200 "$(last_status)"
echo "# preview: $(jq -c '{images, tags, bytes, repositories: [.repositories[] | {name, delete: [.delete[].tags], keep}]}' <<<"$p")"
t_eq "it would delete one image" 1 "$(jq .images <<<"$p")"
t_eq "tag 2, the oldest not kept" '["2"]' "$(jq -c '[.repositories[] | select(.name=="team/app") | .delete[].tags[]]' <<<"$p")"
t_eq "1 stays with stable (same image)" "same image" "$(jq -r '.repositories[0].keep[] | select(.tag=="1") | .reason' <<<"$p")"
t_eq "stable stays by pattern" pattern "$(jq -r '.repositories[0].keep[] | select(.tag=="stable") | .reason' <<<"$p")"
t_eq "4 stays as recent" recent "$(jq -r '.repositories[0].keep[] | select(.tag=="4") | .reason' <<<"$p")"
t_eq "other/app is not touched" 0 "$(jq '[.repositories[] | select(.name=="other/app")] | length' <<<"$p")"
t_check "it says how much space at most" test "$(jq .bytes <<<"$p")" -gt 60000
t_eq "a preview deletes nothing" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PORT/v2/team/app/manifests/2")"
p=$(api POST /api/retention/preview '{"rules":[{"repositories":"*","keepLast":1}]}')
t_eq "unsaved rules preview too: 3 images" 3 "$(jq .images <<<"$p")"
t_eq "and the saved rules are unchanged" 2 "$(api GET /api/retention | jq '.rules[0].keepLast')"

gc_before=$(api GET /api/status | jq -c .lastGc)
api POST /api/retention/apply >/dev/null
t_eq "apply answers 202" 202 "$(last_status)"
t_check "the rules apply and the clean-up ends with the registry running" wait_until 180 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .job == null and .lastGc != null' >/dev/null"
last=$(api GET /api/retention | jq -c .lastRun)
echo "# lastRun: $last"
t_eq "lastRun says it worked" true "$(jq -r .ok <<<"$last")"
t_eq "one image deleted" 1 "$(jq -r .images <<<"$last")"
st=$(api GET /api/status)
t_check "the clean-up ran after the deletions" test "$(jq -c .lastGc <<<"$st")" != "$gc_before"
t_eq "the clean-up succeeded" true "$(jq -r .lastGc.ok <<<"$st")"
tags=$(curl -s "http://127.0.0.1:$PORT/v2/team/app/tags/list" | jq -c '.tags | sort')
t_eq "team/app keeps 1, 3, 4 and stable" '["1","3","4","stable"]' "$tags"
t_eq "other/app keeps its tag" '["old"]' "$(curl -s "http://127.0.0.1:$PORT/v2/other/app/tags/list" | jq -c .tags)"
$DOCKER rmi "localhost:$PORT/team/app:4" >/dev/null 2>&1
t_check "a kept image still pulls" $DOCKER pull -q "localhost:$PORT/team/app:4"

api POST /api/registry/stop >/dev/null; wait_state stopped 60
body=$(api POST /api/retention/apply)
t_eq "applying on a stopped registry is a 409" 409 "$(last_status)"
t_eq "that says to start it" registry_not_running "$(jq -r .error.code <<<"$body")"
api POST /api/retention/preview >/dev/null
t_eq "so is a preview" 409 "$(last_status)"

api DELETE /api/registry >/dev/null; wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
for n in 1 2 3 4; do $DOCKER rmi "srt-src/ret:$n" >/dev/null 2>&1; done
t_end
