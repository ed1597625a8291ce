#!/bin/bash
# storj mode: the self-hosted Storj gateway plus the registry in its network
# namespace, through the configuration the backend generates. Storj cannot
# be reached from here, so two STAND-INS take its place:
#  - the gateway image is replaced (--gateway-image) by tests/standins/gateway
#    (fwd.c), which serves S3 on 127.0.0.1:7777 in its container;
#  - behind it, the Storj-behaviour S3 front (tests/standins/storjfront.py,
#    profile selfhosted = Gateway-ST's rules) forwards to the real Ceph RGW.
#    At start the gateway stand-in decodes its grant's path cipher and tells
#    the front, which then applies what Gateway-ST does for that grant
#    (UploadPartCopy, exhaustive listings, listing order, part sizes).
# The backend's random gateway key pair is made a Ceph user, as the real
# gateway would accept it.
# Checks: with an ENC_NULL grant, images with 1, 40 and 150 MiB layers push
# and pull, browse, delete and clean-up work, and no Storj rule is hit; with
# an encrypted-keys grant the push still works but every new blob costs an
# exhaustive listing (counted by the front); with "unencryptedKeys" the
# encrypted grant reaches the gateway as ENC_NULL. The grant stays in the
# gateway's config file only, never in docker inspect, responses or logs.
set -uo pipefail
T_NAME=storj
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/standins/frontlib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/storj.state"
ENC_GRANT=$SAMPLE_GRANT # its encryption access names no cipher: ENC_AESGCM
NULL_GRANT=$(grant_with_cipher "$SAMPLE_GRANT" ENC_NULL)
t_eq "the sample grant's path cipher" ENC_AESGCM "$(python3 "$GRANTCIPHER" show "$ENC_GRANT")"
BUCKET=srt-storj-$RANDOM$RANDOM
BUCKET2=srt-storj-enc-$RANDOM$RANDOM
PORT=$(free_port)

front_start selfhosted || { t_fail "the S3 front starts"; t_end; exit 1; }
eval "$("$SF" gateway-image "$FRONT_CADDR" "$GW_IMAGE")" || { t_fail "gateway stand-in image behind the front"; t_end; exit 1; }
GW_IMAGE=$GATEWAY_FRONT_IMAGE
cleanup() {
  front_stop
  $DOCKER rmi "$GATEWAY_FRONT_IMAGE" >/dev/null 2>&1
}
trap cleanup EXIT

start_backend storj || { t_fail "backend starts"; t_end; exit 1; }
saved=$(api PUT /api/config "{\"mode\":\"storj\",\"port\":$PORT,\"bucket\":\"$BUCKET\",\"accessGrant\":\"$NULL_GRANT\"}")
t_eq "storj settings saved" 200 "$(last_status)"
t_eq "the grant shows as set with its satellite" '{"set":true,"satellite":"eu1.storj.io:7777"}' "$(jq -c .accessGrant <<<"$saved")"
t_check "warnings come with the saved settings" jq -e '.warnings | type == "array"' <<<"$saved"

# make the backend's per-installation gateway keys a Ceph user owning the buckets
GW_AK=$(jq -r .gwAccessKey "$STATE/settings.json")
GW_SK=$(jq -r .gwSecretKey "$STATE/settings.json")
t_check "gateway key pair is random per installation" test ${#GW_AK} -ge 20 -a ${#GW_SK} -ge 40
"$ROOT/tests/env/s3-user.sh" "$GW_AK" "$GW_SK" "$BUCKET" "$BUCKET2" >/dev/null 2>&1 || t_fail "Ceph user for the gateway keys"

api POST /api/registry/start >/dev/null
t_check "gateway + registry reach running" wait_state running 90
st=$(api GET /api/status)
t_eq "two containers reported" 2 "$(jq '.containers | length' <<<"$st")"
t_eq "the gateway is running" running "$(jq -r '.containers[] | select(.role=="gateway") | .state' <<<"$st")"
t_eq "the registry is healthy" healthy "$(jq -r '.containers[] | select(.role=="registry") | .health' <<<"$st")"
t_eq "the registry joins the gateway's network namespace" \
  "container:$($DOCKER inspect --format '{{.Id}}' storj-registry-gateway)" \
  "$($DOCKER inspect --format '{{.HostConfig.NetworkMode}}' storj-registry)"
# the gateway listens on loopback only, or on every address of its bridged
# container with its S3 port published on the host's loopback only
gateway_private() {
  local c=storj-registry-gateway
  case $($DOCKER inspect --format '{{json .Config.Cmd}}' $c) in *'"127.0.0.1:7777"'*) return 0 ;; esac
  [ "$($DOCKER inspect --format '{{.HostConfig.NetworkMode}}' $c)" != host ] &&
    $DOCKER inspect --format '{{json .HostConfig.PortBindings}}' $c |
    jq -e '(.["7777/tcp"] // []) | all(.HostIp == "127.0.0.1")' >/dev/null
}
t_check "the gateway's S3 port is reachable from the host's loopback at most" gateway_private
t_eq "the gateway told the front its grant's cipher and UploadPartCopy setting" "ENC_NULL true" \
  "$(front_stat ".keys[\"$GW_AK\"] | \"\(.pathCipher) \(.uploadPartCopy)\"")"

# ---- ENC_NULL grant: what a registry needs works, no Storj rule is hit -------------
t_check "ENC_NULL: push of layers of 1, 40 and 150 MiB" push_mixed "$PORT" storj/mixed
echo "# push of 191 MiB through gateway stand-in and front: ${MIXED_SECS}s"
t_check "ENC_NULL: pull back, same image ID" pull_mixed "$PORT" storj/mixed
t_eq "ENC_NULL: no exhaustive listing, no refusal" "0 0 0 0" \
  "$(front_stat '"\(.exhaustiveListings) \(.refused.listing) \(.refused.uploadPartCopy) \(.refused.entityTooSmall)"')"
big=$("$ROOT/tests/env/s3-list.sh" -s "$BUCKET" docker/registry/v2/blobs/ | awk '$1 > 134217728' | wc -l)
t_eq "the 150 MiB layer is one object in the bucket (three 64 MiB parts)" 1 "$big"
t_check "objects land under docker/registry/v2/ in the bucket" bash -c "'$ROOT/tests/env/s3-list.sh' '$BUCKET' | grep '^docker/registry/v2/repositories/storj/mixed/' >/dev/null"
browse_delete_gc "ENC_NULL" storj/mixed "$BUCKET"
t_check "ENC_NULL: a plain round trip after the clean-up" push_pull_roundtrip "$PORT" storjtrip

# ---- what registry operations cost in storage requests (the front's counters) -----
# (each figure includes the registry's storage health check, one request
# every 10 s, when one fell in the window)
t_eq "the front runs with Storj's limits: 100/s burst 100, key writes 1/s burst 3" "100 100 1 3" \
  "$(front_stat '.limits | "\(.rate) \(.burst) \(.keyWrites.rate) \(.keyWrites.burst)"')"
docker_quiet() { $DOCKER "$@" >"$WORK/cost-docker.log" 2>&1 || { tail -3 "$WORK/cost-docker.log"; return 1; }; }
COST_ID=$("$ROOT/tests/env/random-image.sh" srt-src/storj/cost:1 2 256)
$DOCKER tag srt-src/storj/cost:1 "localhost:$PORT/storj/cost:1"
front_reset
t_check "cost: push of a small image (2 layers of 256 KiB)" docker_quiet push "localhost:$PORT/storj/cost:1"
front_cost "docker push, new image of 2 layers of 256 KiB"
t_check "cost: push of the same tag again" docker_quiet push "localhost:$PORT/storj/cost:1"
front_cost "docker push again, nothing new"
$DOCKER rmi "localhost:$PORT/storj/cost:1" srt-src/storj/cost:1 >/dev/null 2>&1
front_reset
t_check "cost: pull" docker_quiet pull "localhost:$PORT/storj/cost:1"
front_cost "docker pull of it"
t_eq "cost: the pulled image is the pushed one" "$COST_ID" "$($DOCKER image inspect --format '{{.Id}}' "localhost:$PORT/storj/cost:1")"
nrepo=$(api GET /api/repositories | jq '.repositories | length')
t_eq "cost: browsing answers 200" 200 "$(last_status)"
front_cost "browse (GET /api/repositories: $nrepo repositories, first visit)"
api GET /api/repositories >/dev/null
front_cost "browse again ($nrepo repositories)"
api POST /api/retention/preview '{"rules":[{"repositories":"*","keepLast":1}]}' >/dev/null
t_eq "cost: a clean-up preview answers 200" 200 "$(last_status)"
front_cost "clean-up preview (keep the newest tag of each of $nrepo repositories)"
# over the limit: the registry's AWS SDK retries 429 SlowDown (Retry-After 1 s
# here, Storj's 12 s would make this slow) and push, pull and browse still work
"$SF" limits "$FRONT_ENDPOINT" '{"rate":10,"burst":10,"retryAfter":1}' || t_fail "the front takes limits"
t0=$(date +%s)
t_check "at 10 requests/s: a push and a pull of a small image still work" push_pull_roundtrip "$PORT" storjslow
api GET /api/repositories >/dev/null
t_eq "at 10 requests/s: browsing answers 200" 200 "$(last_status)"
front_cost "push, pull and browse at 10 requests/s ($(($(date +%s) - t0)) s)"
t_check "  the front refused some of the registry's requests, and it retried them" \
  test "$(jq .rateLimit <<<"$FRONT_COST")" -ge 1
"$SF" limits "$FRONT_ENDPOINT" '{}'

gwconf=$(container_file storj-registry-gateway /root/.local/share/storj/gateway/config.yaml)
t_check "the gateway got the grant in its config file" grep -qF "access: \"$NULL_GRANT\"" <<<"$gwconf"
t_check "and the key pair" grep -qF "minio.secret-key: \"$GW_SK\"" <<<"$gwconf"
conf=$(container_file storj-registry /etc/storj-registry/config.yml)
t_eq "the registry talks S3 to 127.0.0.1:7777" http://127.0.0.1:7777 "$(jq -r .storage.s3.regionendpoint <<<"$conf")"
t_eq "registry config: 64 MiB chunks" 67108864 "$(jq -r .storage.s3.chunksize <<<"$conf")"
t_eq "registry config: copy threshold above UploadPartCopy" 5368709120 "$(jq -r .storage.s3.multipartcopythresholdsize <<<"$conf")"
t_eq "registry config: path style" true "$(jq -r .storage.s3.forcepathstyle <<<"$conf")"
t_eq "registry config: redirects off" true "$(jq -r .storage.redirect.disable <<<"$conf")"

logs=$(api GET '/api/registry/logs?tail=500')
t_check "logs include the gateway's lines" jq -e '[.lines[] | select(.container=="gateway")] | length > 0' <<<"$logs"
t_check "the gateway's credential lines are redacted" jq -e '[.lines[] | select(.text | test("Secret key: \\[redacted\\]"))] | length > 0' <<<"$logs"
all="$logs$(api GET /api/status)$(api GET /api/config)$(api POST /api/grant/inspect '{}')"
t_check "the grant and gateway keys are in no API response" no_secret_in "$all" "$NULL_GRANT" "$GW_SK" "$GW_AK"
t_check "nor in any backend log line" no_secret_in "$(cat "$BLOG")" "$NULL_GRANT" "$GW_SK" "$GW_AK"
for c in storj-registry-gateway storj-registry; do
  t_check "nor in $c's Env, Labels, Cmd or HostConfig" no_secret_in "$(container_facts $c)" "$NULL_GRANT" "$GW_SK" "$GW_AK"
done
t_check "nor in what the front logged" no_secret_in "$(cat "$FRONT_LOG")" "$NULL_GRANT" "$GW_SK"

api POST /api/registry/stop >/dev/null
t_check "stop reaches stopped" wait_state stopped 60
t_eq "both containers stopped" "false false" "$($DOCKER inspect --format '{{.State.Running}}' storj-registry-gateway storj-registry | xargs)"
api POST /api/registry/start >/dev/null
t_check "both start again" wait_state running 90
t_check "the image is still there" pull_again "$PORT" storjtrip

# ---- an encrypted-keys grant (ENC_AESGCM), new bucket: what a user meets ----------
api PUT /api/config "{\"bucket\":\"$BUCKET2\",\"accessGrant\":\"$ENC_GRANT\"}" >/dev/null
t_eq "encrypted grant saved" 200 "$(last_status)"
api POST /api/registry/restart >/dev/null
t_check "restart with the encrypted grant reaches running" wait_state running 90
t_eq "the gateway told the front: ENC_AESGCM" ENC_AESGCM "$(front_stat ".keys[\"$GW_AK\"].pathCipher")"
front_reset
t_check "ENC_AESGCM: the push still works on the self-hosted gateway" push_mixed "$PORT" storj/enc
echo "# push with exhaustive listings: ${MIXED_SECS}s; front: $("$SF" stats "$FRONT_ENDPOINT" | jq -c '{exhaustiveListings, exhaustiveItems, singleLookups, reordered}')"
n=$(front_stat .exhaustiveListings)
t_check "ENC_AESGCM: but each new blob costs an exhaustive listing ($n, for 5 blobs)" test "$n" -ge 5
t_eq "ENC_AESGCM: no listing refused (no deadline on a self-hosted gateway)" 0 "$(front_stat .refused.listing)"
t_check "ENC_AESGCM: pull back, same image ID" pull_mixed "$PORT" storj/enc
browse_delete_gc "ENC_AESGCM" storj/enc "$BUCKET2"
t_check "ENC_AESGCM: browsing and the clean-up got listings in non-lexical order" test "$(front_stat .reordered)" -ge 1
t_check "ENC_AESGCM: a plain round trip after the clean-up" push_pull_roundtrip "$PORT" storjenctrip

# ---- "unencrypted object keys for this registry" ---------------------------------
if unencrypted_keys_supported; then
  api PUT /api/config '{"unencryptedKeys":true}' >/dev/null
  t_eq "unencryptedKeys saved" 200 "$(last_status)"
  api POST /api/registry/restart >/dev/null
  t_check "restart with unencryptedKeys reaches running" wait_state running 90
  t_eq "unencryptedKeys: the gateway's grant reaches the front as ENC_NULL" ENC_NULL "$(front_stat ".keys[\"$GW_AK\"].pathCipher")"
  gwconf=$(container_file storj-registry-gateway /root/.local/share/storj/gateway/config.yaml)
  t_check "unencryptedKeys: the gateway got a derived grant, not the pasted one" bash -c '! grep -qF "$1" <<<"$2"' _ "$ENC_GRANT" "$gwconf"
  front_reset
  t_check "unencryptedKeys: push without exhaustive listings" push_mixed "$PORT" storj/unenc
  t_eq "unencryptedKeys: no exhaustive listing" 0 "$(front_stat .exhaustiveListings)"
  t_check "unencryptedKeys: pull back" pull_mixed "$PORT" storj/unenc
  api PUT /api/config '{"unencryptedKeys":false}' >/dev/null
else
  echo "# skipped: this backend has no \"unencryptedKeys\" setting yet (helper firstrun adds it)"
fi

# switching to local mode removes the gateway on the next start
api PUT /api/config '{"mode":"local"}' >/dev/null
api POST /api/registry/restart >/dev/null
t_check "restart in local mode reaches running" wait_until 90 bash -c "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .mode == \"local\"' >/dev/null"
t_eq "the gateway container is gone" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.role=gateway | wc -l)"
api DELETE /api/registry >/dev/null
wait_state stopped 60
t_eq "remove removed every container" 0 "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true | wc -l)"
stop_backend || t_fail "backend exits cleanly"
remove_managed
$DOCKER rmi $($DOCKER images -q 'srt-src/storj/*') >/dev/null 2>&1
t_end
