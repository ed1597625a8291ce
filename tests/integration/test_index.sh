#!/bin/bash
# The index (backend/regindex.c, indexer.c, events.c): the registry's
# notifications reach the backend's listener in the network mode of the run
# (publish: the engine's bridge gateway; host: 127.0.0.1), a push shows in
# GET /api/repositories?source=index without a Refresh, Docker's pull
# (HEAD by tag, then GET by digest) counts once, a delete and a re-tag show,
# a push while the backend is down is found by the reading at its next
# start, a second writer of the same storage is found by the periodic
# reading, a damaged index file is set aside and rebuilt, and the listener
# refuses a wrong token (401) and a body over 1 MiB (413). Local mode (the
# volume), so the second writer is a plain registry on the same volume.
set -uo pipefail
T_NAME=${T_NAME:-index}
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
$DOCKER volume rm -f storj-registry-data >/dev/null 2>&1
rm -rf "$WORK/index.state"
PORT=$(free_port)
# a reading of the whole registry every 8 s, so the second writer shows soon
export SR_INDEX_PERIOD=8
start_backend index || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"port\":$PORT}" >/dev/null
api POST /api/registry/start >/dev/null
t_check "registry running" wait_state running 90
ix() { api GET "/api/repositories?source=index${1:-}"; }
index_state() { api GET /api/status | jq -r '.index.state'; }
t_check "the index is read whole once the registry runs" wait_until 30 \
  sh -c "[ \"\$(curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -r .index.state)\" = ready ]"
st=$(api GET /api/status)
t_eq "status says the listener listens" true "$(jq -r .index.events.listening <<<"$st")"
t_check "status has reconciledAt" jq -e '.index.reconciledAt | test("^20[0-9-]+T")' <<<"$st"

# the registry's configuration names the listener, with its token
cfg=$(container_file storj-registry /etc/storj-registry/config.yml 2>/dev/null || true)
url=$(jq -r '.notifications.endpoints[0].url // empty' <<<"$cfg")
t_check "the registry's configuration names the events listener" test -n "$url"
case $SR_TEST_NETWORK in
  host) t_check "  on 127.0.0.1 (host network)" grep -q '^http://127\.0\.0\.1:' <<<"$url" ;;
  *) t_check "  on the bridge's gateway (publish), never a private range" grep -qE '^http://198\.1[89]\.' <<<"$url" ;;
esac
token=$(jq -r '.notifications.endpoints[0].headers.Authorization[0] // empty' <<<"$cfg")
t_check "no token in the registry's logs as the tab shows them" \
  sh -c "! curl -s --unix-socket '$API_SOCK' 'http://localhost/api/registry/logs?tail=500' | grep -qF '${token#Bearer }'"
t_check "no token in the backend's log" sh -c "! grep -qF '${token#Bearer }' '$BLOG'"
t_check "events.json is 0600" test "$(stat -c %a "$STATE/events.json")" = 600

# a push shows without a Refresh, with who and when
"$ROOT/tests/env/random-image.sh" srt-src/ix:1 2 256 >/dev/null
$DOCKER tag srt-src/ix:1 "localhost:$PORT/apps/web:1"
t0=$(date +%s)
$DOCKER push "localhost:$PORT/apps/web:1" >/dev/null 2>&1 || t_fail "push apps/web:1"
seen() { ix "&q=$1" | jq -e --arg r "$1" --arg t "$2" '.repositories[] | select(.name == $r) | .tags[] | select(.tag == $t)' >/dev/null; }
t_check "the push shows in the index without a Refresh" wait_until 10 seen apps/web 1
echo "  (visible $(($(date +%s) - t0)) s after the push began)"
sized() { ix "&q=apps/web" | jq -e '.repositories[0].tags[0] | .size > 0 and .created != null' >/dev/null; }
t_check "its size and creation time follow (the repository read again)" wait_until 15 sized
r=$(ix "&q=apps/web")
t_check "  pushed is a time" jq -e '.repositories[0].tags[0].pushed | test("^20")' <<<"$r"
t_eq "  no pull yet" 0 "$(jq -r '.repositories[0].tags[0].pulls' <<<"$r")"
t_check "  a platform with its size" jq -e '.repositories[0].tags[0].platforms[0] | (.platform | test("/")) and .size > 0' <<<"$r"
t_check "  the repository's size and tag count" jq -e '.repositories[0] | .size > 0 and .tagCount == 1' <<<"$r"
t_check "  'as of' the last reading" jq -e '.index.reconciledAt | test("^20")' <<<"$r"

# Docker's pull: HEAD by tag, then GET by digest: one pull. Every local
# name of the image goes first: with the containerd store (Engine 28, as
# Desktop runs it) a client that still holds the manifest only HEADs, which
# is no pull
$DOCKER rmi "localhost:$PORT/apps/web:1" srt-src/ix:1 >/dev/null 2>&1
$DOCKER pull "localhost:$PORT/apps/web:1" >/dev/null 2>&1 || t_fail "pull apps/web:1"
$DOCKER tag "localhost:$PORT/apps/web:1" srt-src/ix:1
pulled() { ix "&q=apps/web" | jq -e '.repositories[0].tags[0].pulls == 1 and .repositories[0].tags[0].lastPulled != null' >/dev/null; }
t_check "docker pull counts one pull with its time" wait_until 10 pulled
# a HEAD and the backend's own reads are no pulls
curl -s -o /dev/null -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://127.0.0.1:$PORT/v2/apps/web/manifests/1"
api POST /api/index/refresh >/dev/null
t_eq "Refresh is accepted" 202 "$(last_status)"
sleep 3
t_eq "a HEAD and the backend's own reading count no pull" 1 "$(ix "&q=apps/web" | jq -r '.repositories[0].tags[0].pulls')"

# re-tag and search by tag
$DOCKER tag srt-src/ix:1 "localhost:$PORT/apps/web:stable"
$DOCKER push "localhost:$PORT/apps/web:stable" >/dev/null 2>&1 || t_fail "push apps/web:stable"
t_check "a second tag on the same image shows" wait_until 10 seen apps/web stable
t_eq "search by a tag finds only that tag" stable "$(ix "&q=stab" | jq -r '[.repositories[].tags[].tag] | join(",")')"
"$ROOT/tests/env/random-image.sh" srt-src/ix:2 1 64 >/dev/null
$DOCKER tag srt-src/ix:2 "localhost:$PORT/apps/api:1"
$DOCKER push "localhost:$PORT/apps/api:1" >/dev/null 2>&1 || t_fail "push apps/api:1"
t_check "a second repository shows" wait_until 10 seen apps/api 1
t_eq "sort by name" "apps/api,apps/web" "$(ix "&sort=name" | jq -r '[.repositories[].name] | join(",")')"
t_eq "sort by pulls time: the pulled one first" apps/web "$(ix "&sort=pulled" | jq -r '.repositories[0].name')"
t_eq "paging: limit 1 says what comes next" 1 "$(ix "&sort=name&limit=1" | jq -r '.nextOffset')"
body=$(ix "&sort=color")
t_eq "a bad sort is a 400 naming the field" "400 sort" "$(last_status) $(jq -r .error.field <<<"$body")"

# a multi-arch index pushed by hand (two platforms pushed by digest, then
# the index by tag): its platforms with their sizes, its size each blob once
R=http://127.0.0.1:$PORT/v2/apps/multi
MT_IMG="application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
children=()
for n in 1 2; do
  "$ROOT/tests/env/random-image.sh" "srt-src/ixm:$n" 1 96 >/dev/null
  $DOCKER tag "srt-src/ixm:$n" "localhost:$PORT/apps/multi:p$n"
  $DOCKER push "localhost:$PORT/apps/multi:p$n" >/dev/null 2>&1 || t_fail "push platform $n"
  head=$(curl -sfI -H "Accept: $MT_IMG" "$R/manifests/p$n" | tr -d '\r')
  d=$(sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' <<<"$head")
  mt=$(sed -n 's/^[Cc]ontent-[Tt]ype: //p' <<<"$head")
  size=$(curl -sf -H "Accept: $MT_IMG" "$R/manifests/p$n" | wc -c)
  children+=("$(jq -nc --arg d "$d" --argjson s "$size" --arg mt "$mt" --arg a "$([ $n = 1 ] && echo amd64 || echo arm64)" \
    '{mediaType:$mt, digest:$d, size:$s, platform:{os:"linux", architecture:$a}}')")
done
MT_IDX=application/vnd.oci.image.index.v1+json
index=$(jq -nc --arg mt "$MT_IDX" --argjson a "${children[0]}" --argjson b "${children[1]}" '{schemaVersion:2, mediaType:$mt, manifests:[$a,$b]}')
t_eq "a multi-arch index is pushed" 201 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT_IDX" --data-binary "$index" "$R/manifests/multi")"
multi() {
  ix "&q=apps/multi" | jq -e '.repositories[0].tags[] | select(.tag == "multi") |
    .kind == "index" and ([.platforms[] | select(.size > 0) | .platform] | sort) == ["linux/amd64", "linux/arm64"]' >/dev/null
}
t_check "  the index lists its platforms with their sizes" wait_until 15 multi
r=$(ix "&q=apps/multi")
t_check "  the repository's size counts each blob once" jq -e \
  '(.repositories[0].size) == ([.repositories[0].tags[] | select(.tag != "multi") | .size] | add)' <<<"$r"

# a delete from the tab
d=$(ix "&q=apps/api" | jq -r '.repositories[0].tags[0].digest')
api DELETE "/api/repositories/apps/api/manifests/$d" >/dev/null
t_eq "deleted from the tab" 200 "$(last_status)"
gone() { ! ix "&q=apps/api" | jq -e '.repositories[] | select(.name == "apps/api")' >/dev/null; }
t_check "  gone from the index at once" gone

# the listener: wrong token, too big
lurl=$(sed 's,^http://,,' <<<"$url")
t_eq "the listener refuses a wrong token with 401" 401 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer wrong' --data '{"events":[]}' "http://$lurl")"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/index.big"
t_eq "and a body over 1 MiB with 413" 413 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: $token" --data-binary @"$WORK/index.big" "http://$lurl")"
t_eq "and garbage with 400" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: $token" --data 'not json' "http://$lurl")"
# a flood of events (4 senders, 200 envelopes of 20 pulls each) while the
# status is asked: it answers from memory throughout
D0=$(ix "&q=apps/web" | jq -r '.repositories[0].tags[0].digest')
env=$(jq -nc --arg d "$D0" '{events:[range(20) | {action:"pull",timestamp:"2026-01-01T00:00:00Z",target:{repository:"flood/x",digest:$d,url:"http://r/v2/flood/x/manifests/\($d)"},request:{method:"GET",useragent:"flood"}}]}')
senders=()
for n in 1 2 3 4; do
  (for _ in $(seq 50); do curl -s --max-time 10 -o /dev/null -X POST -H "Authorization: $token" --data "$env" "http://$lurl"; done) &
  senders+=($!)
done
answered=0
for _ in $(seq 20); do
  [ "$(curl -s --max-time 2 --unix-socket "$API_SOCK" http://localhost/api/status | jq -r .state)" = running ] && answered=$((answered + 1))
done
wait "${senders[@]}" # not the backend, a child too
t_eq "status answered every time during a flood of events" 20 "$answered"
t_eq "status still answers" running "$(state)"

# a registry restart loses the registry's queue of events: a whole reading
# follows
before=$(api GET /api/status | jq -r .index.reconciledAt)
sleep 1
api POST /api/registry/restart >/dev/null
t_check "registry restarted" wait_state running 90
newer() { [ "$(api GET /api/status | jq -r .index.reconciledAt)" \> "$before" ]; }
t_check "  the index reads the whole registry again after the restart" wait_until 30 newer

# a push while the backend is down: found by the reading at the next start
stop_backend || t_fail "backend stopped cleanly"
$DOCKER tag srt-src/ix:2 "localhost:$PORT/apps/offline:1"
$DOCKER push "localhost:$PORT/apps/offline:1" >/dev/null 2>&1 || t_fail "push while the backend is down"
start_backend index || t_fail "backend starts again"
t_check "a push while the backend was down is found by the next reading" wait_until 30 seen apps/offline 1
t_eq "  the pull count survived the restart" 1 "$(ix "&q=apps/web" | jq -r '.repositories[0].tags[] | select(.tag == "1") | .pulls')"

# a second writer of the same storage (a team replica, another desktop):
# a plain registry on the same volume, heard by nobody
W2=$(free_port)
$DOCKER run -d --name srt-index-writer2 --network host -v storj-registry-data:/var/lib/registry \
  -e REGISTRY_HTTP_ADDR=127.0.0.1:$W2 "$REG_IMAGE" >/dev/null || t_fail "second writer starts"
wait_until 20 curl -sf "http://127.0.0.1:$W2/v2/" >/dev/null || t_fail "second writer answers"
$DOCKER tag srt-src/ix:2 "localhost:$W2/team/other:1"
$DOCKER push "localhost:$W2/team/other:1" >/dev/null 2>&1 || t_fail "push through the second writer"
t_check "the periodic reading finds what another writer pushed" wait_until 40 seen team/other 1
$DOCKER rm -f srt-index-writer2 >/dev/null 2>&1

# the clean-up rules by pull and push time, end to end: the index's clock
# moved back 30 days (pulls counted since then, every tag first seen then),
# so "not pulled within 7 days" is known for what was not pulled
stop_backend || t_fail "backend stopped cleanly"
old=$(($(date +%s) - 30 * 86400))
python3 - "$STATE/index.db" "$old" <<'PY' || t_fail "the index's times moved back"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); t = int(sys.argv[2])
c.execute("INSERT OR REPLACE INTO meta(k,v) VALUES('pullsSince', ?)", (str(t),))
c.execute("UPDATE tags SET seen=?, pushed=CASE WHEN pushed>0 THEN ? ELSE 0 END", (t, t))
c.commit()
PY
start_backend index || t_fail "backend starts again"
t_check "the index is read whole again" wait_until 30 \
  sh -c "[ \"\$(curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -r .index.state)\" = ready ]"
rules='{"rules":[{"repositories":"apps/*","keepLast":0,"keepPulledWithin":7}]}'
p=$(api POST "/api/retention/preview?source=index" "$rules")
t_eq "preview from the index" 200 "$(last_status)"
t_check "  as of the last reading" jq -e '.asOf | test("^20")' <<<"$p"
t_eq "  the pulled image stays: pulled recently" "pulled recently" \
  "$(jq -r '.repositories[] | select(.name == "apps/web") | .keep[] | select(.tag == "1") | .reason' <<<"$p")"
t_eq "  the image nobody pulled in 7 days goes" "1" \
  "$(jq -r '[.repositories[] | select(.name == "apps/offline") | .delete[].tags[]] | join(",")' <<<"$p")"
p2=$(api POST "/api/retention/preview?source=index" '{"rules":[{"repositories":"apps/*","keepLast":0,"keepPushedWithin":7}]}')
t_eq "  keepPushedWithin: pushed 30 days ago goes" "apps/multi,apps/offline,apps/web" \
  "$(jq -r '[.repositories[] | select(.delete | length > 0) | .name] | sort | join(",")' <<<"$p2")"
api PUT /api/retention "$rules" >/dev/null
t_eq "rules saved" 200 "$(last_status)"
# {} previews the saved rules: the same plan as the body gave
p3=$(api POST "/api/retention/preview?source=index" '{}')
t_eq "preview of the saved rules from the index" 200 "$(last_status)"
t_eq "  plans what the same rules in the body planned" \
  "$(jq -c '[.repositories[] | {name, d: [.delete[].tags[]] | sort}]' <<<"$p")" \
  "$(jq -c '[.repositories[] | {name, d: [.delete[].tags[]] | sort}]' <<<"$p3")"
api POST /api/retention/apply >/dev/null
t_eq "apply accepted" 202 "$(last_status)"
ran() { api GET /api/retention | jq -e '.lastRun != null' >/dev/null; }
t_check "the rules ran" wait_until 120 ran
# lastRun is set before the registry is back on its own configuration: wait
# for the job to end and the registry to answer (a race seen on Engine 28.5)
idle_answering() {
  api GET /api/status | jq -e '.state == "running" and .job == null' >/dev/null &&
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/"
}
wait_until 90 idle_answering
t_eq "  apply deleted what nobody pulled (read from the registry, times from the index)" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PORT/v2/apps/offline/manifests/1")"
t_eq "  and kept the pulled image" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PORT/v2/apps/web/manifests/1")"
api PUT /api/retention '{"rules":[]}' >/dev/null

# a damaged index file: set aside and rebuilt
stop_backend || t_fail "backend stopped cleanly"
printf 'this is not a database, it was damaged' >"$STATE/index.db"
rm -f "$STATE/index.db-wal" "$STATE/index.db-shm"
start_backend index || t_fail "backend starts with a damaged index"
t_check "  the damaged file is set aside" sh -c "ls '$STATE' | grep -q '^index.db.broken-'"
t_check "  status says why" sh -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.index.rebuilt | test(\"set aside\")' >/dev/null"
t_check "  and the index is rebuilt from the registry" wait_until 30 seen apps/web stable

api DELETE /api/registry >/dev/null
stop_backend || t_fail "backend exits cleanly"
$DOCKER volume rm -f storj-registry-data >/dev/null 2>&1
t_end
