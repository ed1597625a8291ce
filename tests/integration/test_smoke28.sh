#!/bin/bash
# Smoke test on distribution 2.8.2 (Debian's docker-registry), the one suite
# that runs it: every other suite runs registry:3 (v3.0.0), the default the
# product pulls, but users may point the extension at an older image. local
# mode: start, push and pull back, delete an image, clean up (garbage-collect
# through the 2.8 binary's own ENTRYPOINT), the kept image still pulls.
set -uo pipefail
T_NAME=smoke28
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
REG_IMAGE=${SR_TEST_REGISTRY28_IMAGE:-storj-registry-test/registry:2.8.2}
t_begin
remove_managed
rm -rf "$WORK/smoke28.state"
PORT=$(free_port)
start_backend smoke28 || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
api POST /api/registry/start >/dev/null
t_check "registry 2.8.2 reaches running" wait_state running 90
t_eq "it runs the 2.8.2 image" "$REG_IMAGE" "$($DOCKER inspect --format '{{.Config.Image}}' storj-registry)"
t_check "push and pull back a random image" push_pull_roundtrip "$PORT" keep
"$ROOT/tests/env/random-image.sh" srt-src/drop:1 2 256 >/dev/null
$DOCKER tag srt-src/drop:1 "localhost:$PORT/drop:1"
$DOCKER push "localhost:$PORT/drop:1" >/dev/null 2>&1 || t_fail "push drop:1"
# a multi-arch index, tagged, whose children are in its repository without
# a tag (pushed by digest after mounting their blobs, as crane and buildx do)
MT_IDX=application/vnd.oci.image.index.v1+json
MT_IMG="application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
R=http://127.0.0.1:$PORT/v2
children=()
for n in 1 2; do
  "$ROOT/tests/env/random-image.sh" "srt-src/multi:$n" 1 128 >/dev/null
  $DOCKER tag "srt-src/multi:$n" "localhost:$PORT/multi-src:$n"
  $DOCKER push "localhost:$PORT/multi-src:$n" >/dev/null 2>&1 || t_fail "push multi-src:$n"
  m=$(curl -sf -H "Accept: $MT_IMG" "$R/multi-src/manifests/$n")
  for b in $(jq -r '.config.digest, .layers[].digest' <<<"$m"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$R/multi/blobs/uploads/?mount=$b&from=multi-src")" = 201 ] || t_fail "blob ${b:7:12} mounted"
  done
  d=sha256:$(printf '%s' "$m" | sha256sum | cut -c1-64)
  mt=$(jq -r .mediaType <<<"$m")
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $mt" --data-binary "$m" "$R/multi/manifests/$d")" = 201 ] || t_fail "child $n pushed by digest"
  children+=("$(jq -nc --arg d "$d" --argjson s "${#m}" --arg mt "$mt" --arg a "$([ $n = 1 ] && echo amd64 || echo arm64)" \
    '{mediaType:$mt, digest:$d, size:$s, platform:{os:"linux", architecture:$a}}')")
done
index=$(jq -nc --arg mt "$MT_IDX" --argjson a "${children[0]}" --argjson b "${children[1]}" '{schemaVersion:2, mediaType:$mt, manifests:[$a,$b]}')
t_eq "the index is accepted" 201 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT_IDX" --data-binary "$index" "$R/multi/manifests/1")"
# the sources go, so only the index holds the children's layers
for n in 1 2; do
  d=$(curl -sfI -H "Accept: $MT_IMG" "$R/multi-src/manifests/$n" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
  api DELETE "/api/repositories/multi-src/manifests/$d" >/dev/null
done

repos=$(api GET /api/repositories)
repos=$(jq -c '.repositories |= map(select(.name == "drop" or .name == "keep"))' <<<"$repos")
t_eq "browse lists both repositories" "drop keep" "$(jq -r '[.repositories[].name] | sort | join(" ")' <<<"$repos")"
drop_digest=$(jq -r '.repositories[] | select(.name=="drop") | .tags[0].digest' <<<"$repos")
api DELETE "/api/repositories/drop/manifests/$drop_digest" >/dev/null
t_eq "delete by digest answers 200" 200 "$(last_status)"
t_eq "drop has no tag left" 0 "$(api GET /api/repositories | jq '[.repositories[] | select(.name=="drop") | .tags[]] | length')"
api POST /api/registry/gc >/dev/null
t_eq "clean-up answers 202" 202 "$(last_status)"
t_check "clean-up ends with the registry running again" wait_until 120 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .job == null and .lastGc != null' >/dev/null"
gc=$(api GET /api/status | jq -c .lastGc)
echo "# lastGc: $gc"
t_eq "the clean-up succeeded" true "$(jq -r .ok <<<"$gc")"
t_check "it says what it deleted" grep -q 'blobs marked, .* eligible for deletion' <<<"$(jq -r .message <<<"$gc")"
t_check "the kept image still pulls" pull_again "$PORT" keep
for d in $(jq -r '.manifests[].digest' <<<"$index"); do
  t_eq "the clean-up kept the index's child ${d:7:12}" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_IMG" "$R/multi/manifests/$d")"
done
$DOCKER rmi srt-src/multi:1 srt-src/multi:2 "localhost:$PORT/multi-src:1" "localhost:$PORT/multi-src:2" >/dev/null 2>&1
t_check "the multi-arch image still pulls (linux/amd64)" $DOCKER pull -q "localhost:$PORT/multi:1"
t_check "the clean-up said why untagged manifests stay" grep -q 'untagged' <<<"$(jq -r .message <<<"$gc")"
logs=$(api GET '/api/registry/logs?tail=50')
t_check "the log view shows 2.8's lines" grep -q 'level=info' <<<"$(jq -r '.lines[].text' <<<"$logs")"
$DOCKER rmi srt-src/drop:1 "localhost:$PORT/drop:1" >/dev/null 2>&1
api DELETE '/api/registry?purge=true' >/dev/null; wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
t_end
