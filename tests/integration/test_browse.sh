#!/bin/bash
# Browsing and cleaning up: what the registry holds (repositories, tags,
# digests, sizes), deleting an image by digest, and garbage collection in a
# one-shot container that frees the blobs, after which the registry runs
# again and the remaining images still pull. In s3 mode against Ceph RGW, so
# the freed objects can be counted in the bucket.
set -uo pipefail
T_NAME=browse
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/browse.state"
BUCKET=srt-browse-$RANDOM$RANDOM
s3_mkbucket "$BUCKET" || t_fail "bucket $BUCKET created in Ceph RGW"
PORT=$(free_port)
start_backend browse || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "$(jq -nc --arg b "$BUCKET" --arg e "$S3_HOST_ENDPOINT" --arg a "$S3_ACCESS_KEY" --arg s "$S3_SECRET_KEY" --argjson p "$PORT" \
  '{mode:"s3",port:$p,bucket:$b,s3:{endpoint:$e,accessKey:$a,secretKey:$s}}')" >/dev/null

body=$(api GET /api/repositories)
t_eq "browsing a stopped registry is a 409" 409 "$(last_status)"
t_eq "that says to start it" registry_not_running "$(jq -r .error.code <<<"$body")"
body=$(api GET "/api/repositories/team/keep/manifests/sha256:$(printf '0%.0s' {1..64})")
t_eq "one image of a stopped registry is a 409" "409 registry_not_running" "$(last_status) $(jq -r .error.code <<<"$body")"

api POST /api/registry/start >/dev/null
t_check "registry running" wait_state running 90
"$ROOT/tests/env/random-image.sh" srt-src/keep:1 2 256 >/dev/null
"$ROOT/tests/env/random-image.sh" srt-src/drop:1 3 512 >/dev/null
for ref in keep:1 keep:stable drop:1; do
  $DOCKER tag "srt-src/${ref%%:*}:1" "localhost:$PORT/team/$ref"
  $DOCKER push "localhost:$PORT/team/$ref" >/dev/null 2>&1 || t_fail "push team/$ref"
done
# a multi-arch OCI index, tagged, whose two children are untagged: the
# clean-up (garbage-collect --delete-untagged) must keep the children
R=http://127.0.0.1:$PORT/v2/team/multi
MT_IDX=application/vnd.oci.image.index.v1+json
# Engine 20.10 pushes Docker v2 manifests, Engine 28.5 (containerd store) OCI ones
MT_IMG="application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
"$ROOT/tests/env/random-image.sh" srt-src/multi:1 1 128 >/dev/null
"$ROOT/tests/env/random-image.sh" srt-src/multi:2 1 128 >/dev/null
children=()
for n in 1 2; do
  $DOCKER tag "srt-src/multi:$n" "localhost:$PORT/team/multi:child$n"
  $DOCKER push "localhost:$PORT/team/multi:child$n" >/dev/null 2>&1 || t_fail "push team/multi:child$n"
  head=$(curl -sfI -H "Accept: $MT_IMG" "$R/manifests/child$n" | tr -d '\r')
  d=$(sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' <<<"$head")
  mt=$(sed -n 's/^[Cc]ontent-[Tt]ype: //p' <<<"$head")
  size=$(curl -sf -H "Accept: $MT_IMG" "$R/manifests/child$n" | wc -c)
  children+=("$(jq -nc --arg d "$d" --argjson s "$size" --arg mt "$mt" --arg a "$([ $n = 1 ] && echo amd64 || echo arm64)" \
    '{mediaType:$mt, digest:$d, size:$s, platform:{os:"linux", architecture:$a}}')")
done
index=$(jq -nc --arg mt "$MT_IDX" --argjson a "${children[0]}" --argjson b "${children[1]}" '{schemaVersion:2, mediaType:$mt, manifests:[$a,$b]}')
t_eq "the index is accepted" 201 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT_IDX" --data-binary "$index" "$R/manifests/1")"
# the tag-delete API of distribution v3 (DELETE /v2/<name>/manifests/<tag>)
for n in 1 2; do
  t_eq "tag child$n deleted, its manifest kept" 202 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$R/manifests/child$n")"
done
child_digests=$(jq -r '.manifests[].digest' <<<"$index")
# a tag pushed over: the old image is untagged, the clean-up deletes it
for n in 1 2; do
  "$ROOT/tests/env/random-image.sh" "srt-src/over:$n" 1 64 >/dev/null
  $DOCKER tag "srt-src/over:$n" "localhost:$PORT/team/over:1"
  $DOCKER push "localhost:$PORT/team/over:1" >/dev/null 2>&1 || t_fail "push team/over:1 ($n)"
  [ $n = 2 ] || over_old=$($DOCKER inspect --format '{{index .RepoDigests 0}}' "localhost:$PORT/team/over:1" | sed 's/.*@//')
done

repos=$(api GET /api/repositories)
t_eq "repositories answer 200" 200 "$(last_status)"
multi=$(jq -c '.repositories[] | select(.name=="team/multi")' <<<"$repos")
t_eq "the index is listed with its one tag" 1 "$(jq '.tags | length' <<<"$multi")"
t_eq "as an index of two platforms" "index linux/amd64,linux/arm64" "$(jq -r '.tags[0].kind + " " + (.tags[0].platforms | join(","))' <<<"$multi")"
t_check "its size counts both children" test "$(jq '.tags[0].size' <<<"$multi")" -gt 262144
over_size=$(jq '.repositories[] | select(.name=="team/over") | .size' <<<"$repos")
repos=$(jq -c '.repositories |= map(select(.name != "team/multi" and .name != "team/over"))' <<<"$repos")
t_eq "both repositories listed" "team/drop team/keep" "$(jq -r '[.repositories[].name] | sort | join(" ")' <<<"$repos")"
t_eq "tags of team/keep" "1 stable" "$(jq -r '.repositories[] | select(.name=="team/keep") | [.tags[].tag] | sort | join(" ")' <<<"$repos")"
keep_digest=$(jq -r '.repositories[] | select(.name=="team/keep") | .tags[0].digest' <<<"$repos")
drop_digest=$(jq -r '.repositories[] | select(.name=="team/drop") | .tags[0].digest' <<<"$repos")
t_check "digests are sha256" grep -qE '^sha256:[0-9a-f]{64}$' <<<"$drop_digest"
t_eq "the digest is the one docker pushed" "$drop_digest" \
  "$($DOCKER inspect --format '{{index .RepoDigests 0}}' "localhost:$PORT/team/drop:1" | sed 's/.*@//')"
t_eq "two tags of one image share the digest" 1 "$(jq -r '[.repositories[] | select(.name=="team/keep") | .tags[].digest] | unique | length' <<<"$repos")"
drop_size=$(jq -r '.repositories[] | select(.name=="team/drop") | .tags[0].size' <<<"$repos")
t_check "a 3 x 512 KiB image is about 1.5 MiB" test "$drop_size" -gt 1500000 -a "$drop_size" -lt 1700000
t_eq "layer count" 3 "$(jq -r '.repositories[] | select(.name=="team/drop") | .tags[0].layers' <<<"$repos")"
keep_size=$(jq -r '.repositories[] | select(.name=="team/keep") | .size' <<<"$repos")
t_eq "the total counts each blob once" "$((keep_size + drop_size + over_size + $(jq .size <<<"$multi")))" "$(jq -r .totalSize <<<"$repos")"

# bad deletes change nothing
api DELETE "/api/repositories/team/drop/manifests/sha256:1234" >/dev/null
t_eq "a malformed digest is a 400" 400 "$(last_status)"
api DELETE "/api/repositories/Team/drop/manifests/$drop_digest" >/dev/null
t_eq "a malformed name is a 400" 400 "$(last_status)"
api DELETE "/api/repositories/team/none/manifests/$drop_digest" >/dev/null
t_eq "an unknown image is a 404" 404 "$(last_status)"
api PUT "/api/repositories/team/drop/manifests/$drop_digest" >/dev/null
t_eq "PUT on an image path is a 405" 405 "$(last_status)"

# one image: each platform's layers and labels (random-image.sh builds with a LABEL)
img=$(api GET "/api/repositories/team/keep/manifests/$keep_digest")
t_eq "GET of one image answers 200" 200 "$(last_status)"
t_eq "it names the image" "team/keep $keep_digest image" "$(jq -r '.name + " " + .digest + " " + .kind' <<<"$img")"
t_eq "a single image is one platform" 1 "$(jq '.platforms | length' <<<"$img")"
t_eq "named from its config" "$($DOCKER image inspect -f '{{.Os}}/{{.Architecture}}' srt-src/keep:1)" "$(jq -r '.platforms[0].platform' <<<"$img")"
t_eq "its two layers" 2 "$(jq '.platforms[0].layers | length' <<<"$img")"
t_check "each layer with a digest, a size over 256 KiB and a media type" jq -e '.platforms[0].layers | all(.digest | test("^sha256:[0-9a-f]{64}$")) and all(.size > 262144) and all(.mediaType | test("layer|rootfs\\.diff"))' <<<"$img"
t_eq "the layers are the pushed manifest's" "$(curl -sf -H "Accept: $MT_IMG" "http://127.0.0.1:$PORT/v2/team/keep/manifests/$keep_digest" | jq -c '[.layers[].digest]')" "$(jq -c '[.platforms[0].layers[].digest]' <<<"$img")"
t_eq "its labels are the image's LABEL" "$($DOCKER image inspect -f '{{json .Config.Labels}}' srt-src/keep:1 | jq -c .)" "$(jq -c '.platforms[0].labels' <<<"$img")"
t_check "and its creation time" jq -e '.platforms[0].created | test("^[0-9]{4}-")' <<<"$img"
t_eq "its size is the listing's" "$(jq -r '.repositories[] | select(.name=="team/keep") | .tags[0].size' <<<"$repos")" "$(jq '.platforms[0].size' <<<"$img")"
multi_digest=$(jq -r '.tags[0].digest' <<<"$multi")
img=$(api GET "/api/repositories/team/multi/manifests/$multi_digest")
t_eq "GET of the multi-arch image answers 200" 200 "$(last_status)"
t_eq "as an index" index "$(jq -r .kind <<<"$img")"
t_eq "one entry per platform, as the index names them" "linux/amd64,linux/arm64" "$(jq -r '[.platforms[].platform] | join(",")' <<<"$img")"
t_eq "with the children's digests" "$(jq -r '[.manifests[].digest] | join(",")' <<<"$index")" "$(jq -r '[.platforms[].digest] | join(",")' <<<"$img")"
t_check "each with its one layer of 128 KiB" jq -e '.platforms | all((.layers | length) == 1 and .layers[0].size > 131072)' <<<"$img"
t_eq "and the label of each child" "$($DOCKER image inspect -f '{{index .Config.Labels "org.storj-registry.test.random"}}' srt-src/multi:1) $($DOCKER image inspect -f '{{index .Config.Labels "org.storj-registry.test.random"}}' srt-src/multi:2)" \
  "$(jq -r '[.platforms[].labels["org.storj-registry.test.random"]] | join(" ")' <<<"$img")"
t_eq "not truncated" false "$(jq -r .truncated <<<"$img")"
body=$(api GET "/api/repositories/team/keep/manifests/sha256:1234")
t_eq "GET with a malformed digest is a 400" "400 digest" "$(last_status) $(jq -r .error.field <<<"$body")"
body=$(api GET "/api/repositories/Team/keep/manifests/$keep_digest")
t_eq "GET with a malformed name is a 400" "400 name" "$(last_status) $(jq -r .error.field <<<"$body")"
api GET "/api/repositories/team/none/manifests/$keep_digest" >/dev/null
t_eq "GET of an unknown repository is a 404" 404 "$(last_status)"
api GET "/api/repositories/team/keep/manifests/sha256:$(printf '0%.0s' {1..64})" >/dev/null
t_eq "GET of an unknown digest is a 404" 404 "$(last_status)"

before=$("$ROOT/tests/env/s3-list.sh" "$BUCKET" docker/registry/v2/blobs/ | wc -l)
api DELETE "/api/repositories/team/drop/manifests/$drop_digest" >/dev/null
t_eq "deleting the image answers 200" 200 "$(last_status)"
t_eq "its tags are gone" 0 "$(api GET /api/repositories | jq '[.repositories[] | select(.name=="team/drop") | .tags[]] | length')"
t_eq "blobs stay until the clean-up" "$before" "$("$ROOT/tests/env/s3-list.sh" "$BUCKET" docker/registry/v2/blobs/ | wc -l)"

api POST /api/registry/gc >/dev/null
t_eq "clean-up answers 202" 202 "$(last_status)"
t_check "clean-up ends with the registry running again" wait_until 120 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .job == null and .lastGc != null' >/dev/null"
gc=$(api GET /api/status | jq -c .lastGc)
echo "# lastGc: $gc"
t_eq "the clean-up succeeded" true "$(jq -r .ok <<<"$gc")"
t_check "it says what it marked and deleted" grep -q 'blobs marked, .* eligible for deletion' <<<"$(jq -r .message <<<"$gc")"
after=$("$ROOT/tests/env/s3-list.sh" "$BUCKET" docker/registry/v2/blobs/ | wc -l)
# 3 layers, the config and the manifest, which is stored as a blob too; and
# the 3 of the untagged team/over image
t_check "the dropped image's 5 blobs and the untagged one's 3 are gone from the bucket ($before -> $after)" test "$after" -eq $((before - 8))
t_eq "the untagged image is gone" 404 "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_IMG" "http://127.0.0.1:$PORT/v2/team/over/manifests/$over_old")"
t_eq "no gc container left behind" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.role=gc | wc -l)"
$DOCKER rmi "localhost:$PORT/team/keep:1" "localhost:$PORT/team/keep:stable" >/dev/null
t_check "the kept image still pulls" $DOCKER pull -q "localhost:$PORT/team/keep:stable"
for d in $child_digests; do
  t_eq "the clean-up kept the index's child ${d:7:12}" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_IMG" "http://127.0.0.1:$PORT/v2/team/multi/manifests/$d")"
done
$DOCKER rmi "srt-src/over:1" "srt-src/over:2" "localhost:$PORT/team/over:1" >/dev/null 2>&1
$DOCKER rmi "srt-src/multi:1" "srt-src/multi:2" "localhost:$PORT/team/multi:child1" "localhost:$PORT/team/multi:child2" >/dev/null 2>&1
t_check "the multi-arch image still pulls (linux/amd64)" $DOCKER pull -q "localhost:$PORT/team/multi:1"
# after the clean-up the registry has its own configuration back: writable
$DOCKER tag "localhost:$PORT/team/keep:stable" "localhost:$PORT/team/after:1"
t_check "a push works again after the clean-up" $DOCKER push -q "localhost:$PORT/team/after:1"

# Stop cancels a clean-up: the gc container is paused as soon as it runs
# garbage-collect (so the clean-up cannot finish by itself), then Stop must
# end it at once; the failure lands in lastGc, not in the registry's state.
paused=""
for attempt in 1 2 3; do
  api POST /api/registry/gc >/dev/null
  for _ in $(seq 200); do
    cmd=$($DOCKER ps --no-trunc --filter name=storj-registry-gc --format '{{.Command}}' 2>/dev/null)
    if [[ $cmd == *garbage-collect* ]] && $DOCKER pause storj-registry-gc >/dev/null 2>&1 &&
      [ "$($DOCKER inspect -f '{{.State.Paused}}' storj-registry-gc 2>/dev/null)" = true ]; then paused=1; break; fi
    sleep 0.02
  done
  [ -n "$paused" ] && break
  wait_until 120 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .job == null' >/dev/null"
done
if [ -n "$paused" ]; then
  st=$(api GET /api/status)
  t_eq "the clean-up is running" gc "$(jq -r .job <<<"$st")"
  # meanwhile the registry runs read-only: pulls work, pushes are refused at once
  t_eq "the status says it is collecting" collecting "$(jq -r .phase <<<"$st")"
  t_eq "the registry still answers during the clean-up" running "$(jq -r .state <<<"$st")"
  t_eq "a pull works during the clean-up" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_IMG" "http://127.0.0.1:$PORT/v2/team/keep/manifests/stable")"
  t_eq "a push is refused at once during the clean-up" 405 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$PORT/v2/team/keep/blobs/uploads/")"
  api POST /api/registry/stop >/dev/null
  # Stop ends the clean-up and stops the (read-only) registry
  t_check "Stop ends a clean-up at once" wait_until 10 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"stopped\" and .job == null' >/dev/null"
  st=$(api GET /api/status)
  t_eq "the cancelled clean-up is in lastGc" false "$(jq -r .lastGc.ok <<<"$st")"
  t_check "saying it was cancelled" grep -q cancelled <<<"$(jq -r .lastGc.message <<<"$st")"
  t_eq "and not in the registry's state" null "$(jq -c .error <<<"$st")"
  t_eq "no gc container left behind after a cancel" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.role=gc | wc -l)"
else
  t_fail "the gc container could be caught running garbage-collect (3 tries)"
fi
# a clean-up cannot run on a stopped registry: refused, nothing changes
api POST /api/registry/stop >/dev/null; wait_state stopped 60
gc_before=$(api GET /api/status | jq -c .lastGc)
body=$(api POST /api/registry/gc)
t_eq "clean-up of a stopped registry is a 409" 409 "$(last_status)"
t_eq "that says to start it" registry_not_running "$(jq -r .error.code <<<"$body")"
sleep 1
st=$(api GET /api/status)
t_eq "the registry stays stopped, not failed" stopped "$(jq -r .state <<<"$st")"
t_eq "lastGc is unchanged" "$gc_before" "$(jq -c .lastGc <<<"$st")"
# the cancelled clean-up gave the registry its own configuration back
api POST /api/registry/start >/dev/null
t_check "the registry starts again after the cancelled clean-up" wait_state running 120
t_eq "and takes pushes (no read-only left over)" 202 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/v2/team/keep/blobs/uploads/")"

# A backend stopped in the middle of a clean-up (Desktop quitting, an
# extension update, Ctrl-C) leaves the registry running read-only and the gc
# container behind: the next backend must find that leftover and give the
# registry its own configuration back, without anybody pressing anything.
upload_answer() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$PORT/v2/team/keep/blobs/uploads/"; }
writable() { [ "$(upload_answer)" = 202 ]; }
read_only() { [ "$(upload_answer)" = 405 ]; }
idle_running() { api GET /api/status | jq -e '.state == "running" and .job == null' >/dev/null; }
caught=""
for attempt in 1 2 3; do
  api POST /api/registry/gc >/dev/null
  for _ in $(seq 200); do
    cmd=$($DOCKER ps --no-trunc --filter name=storj-registry-gc --format '{{.Command}}' 2>/dev/null)
    if [[ $cmd == *garbage-collect* ]] && $DOCKER pause storj-registry-gc >/dev/null 2>&1 &&
      [ "$($DOCKER inspect -f '{{.State.Paused}}' storj-registry-gc 2>/dev/null)" = true ]; then caught=1; break; fi
    sleep 0.02
  done
  [ -n "$caught" ] && break
  wait_until 120 idle_running
done
if [ -n "$caught" ]; then
  t_eq "the clean-up is collecting when the backend stops" collecting "$(api GET /api/status | jq -r .phase)"
  stop_backend || t_fail "backend exits cleanly in the middle of a clean-up"
  # the gc container finishes by itself meanwhile, as it would without us
  $DOCKER unpause storj-registry-gc >/dev/null 2>&1
  t_check "without a backend the registry is left read-only (the case to repair)" read_only
  log_from=$(($(wc -l <"$BLOG") + 1))
  start_backend browse || t_fail "backend starts again"
  t_check "the next backend gives the registry its own configuration back (pushes work within 60 s)" wait_until 60 writable
  t_check "and is done with it" wait_until 60 idle_running
  st=$(api GET /api/status)
  echo "# lastGc after the repair: $(jq -c .lastGc <<<"$st")"
  t_check "status says the interrupted clean-up was repaired" grep -q 'interrupted' <<<"$(jq -r '.lastGc.message // ""' <<<"$st")"
  repair_log=$(tail -n +"$log_from" "$BLOG" | grep -i 'interrupted clean-up')
  echo "# $repair_log"
  t_check "the log says what was repaired" test -n "$repair_log"
  t_eq "no gc container left behind after the repair" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.role=gc | wc -l)"
  $DOCKER tag "localhost:$PORT/team/keep:stable" "localhost:$PORT/team/after:2"
  t_check "a docker push works after the repair" $DOCKER push -q "localhost:$PORT/team/after:2"
else
  t_fail "the gc container could be caught running garbage-collect (3 tries)"
fi
# Start and Restart write the registry's own configuration again: a
# read-only configuration put into its container (as a clean-up does) does
# not survive them
readonly_config() {
  $DOCKER cp storj-registry:/etc/storj-registry/config.yml - | tar -xO >"$WORK/browse-config.json" &&
    jq '.storage.maintenance.readonly = {enabled: true}' "$WORK/browse-config.json" >"$WORK/config.yml" &&
    tar -C "$WORK" -cf - config.yml | $DOCKER cp - storj-registry:/etc/storj-registry/ &&
    rm -f "$WORK/browse-config.json" "$WORK/config.yml"
}
readonly_config && $DOCKER restart storj-registry >/dev/null
t_check "a registry restarted with a read-only configuration refuses pushes" wait_until 30 read_only
api POST /api/registry/restart >/dev/null
t_check "Restart gives it its own configuration back" wait_until 90 writable
wait_until 60 idle_running
readonly_config && $DOCKER restart storj-registry >/dev/null
t_check "read-only again" wait_until 30 read_only
api POST /api/registry/start >/dev/null
t_check "Start of the running registry gives it its own configuration back" wait_until 90 writable
wait_until 60 idle_running
readonly_config && $DOCKER stop storj-registry >/dev/null
api POST /api/registry/start >/dev/null
t_check "Start of the stopped registry gives it its own configuration back" wait_until 90 writable

api DELETE /api/registry >/dev/null; wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
s3_rmbucket "$BUCKET" || echo "# could not remove bucket $BUCKET"
t_end
