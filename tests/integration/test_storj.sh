#!/bin/bash
# storj mode: the self-hosted Storj gateway plus the registry in its network
# namespace. Storj cannot be reached from here, so the gateway image is
# replaced (--gateway-image) by a STAND-IN (tests/standins/gateway) that
# serves S3 on 127.0.0.1:7777 by forwarding to the real Ceph RGW. The
# backend's random gateway key pair is made a Ceph user, as the real gateway
# would accept it. Checks: push and pull through the registry, the grant only
# in the gateway's config file, never in docker inspect, responses or logs.
set -uo pipefail
T_NAME=storj
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/storj.state"
GRANT=$SAMPLE_GRANT
BUCKET=srt-storj-$RANDOM$RANDOM
PORT=$(free_port)
start_backend storj || { t_fail "backend starts"; t_end; exit 1; }

saved=$(api PUT /api/config "{\"mode\":\"storj\",\"port\":$PORT,\"bucket\":\"$BUCKET\",\"accessGrant\":\"$GRANT\"}")
t_eq "storj settings saved" 200 "$(last_status)"
t_eq "the grant shows as set with its satellite" '{"set":true,"satellite":"eu1.storj.io:7777"}' "$(jq -c .accessGrant <<<"$saved")"
t_check "warnings come with the saved settings" jq -e '.warnings | type == "array"' <<<"$saved"

# make the backend's per-installation gateway keys a Ceph user owning the bucket
GW_AK=$(jq -r .gwAccessKey "$STATE/settings.json")
GW_SK=$(jq -r .gwSecretKey "$STATE/settings.json")
t_check "gateway key pair is random per installation" test ${#GW_AK} -ge 20 -a ${#GW_SK} -ge 40
"$ROOT/tests/env/s3-user.sh" "$GW_AK" "$GW_SK" "$BUCKET" >/dev/null 2>&1 || t_fail "Ceph user for the gateway keys"

api POST /api/registry/start >/dev/null
t_check "gateway + registry reach running" wait_state running 90
st=$(api GET /api/status)
t_eq "two containers reported" 2 "$(jq '.containers | length' <<<"$st")"
t_eq "the gateway is running" running "$(jq -r '.containers[] | select(.role=="gateway") | .state' <<<"$st")"
t_eq "the registry is healthy" healthy "$(jq -r '.containers[] | select(.role=="registry") | .health' <<<"$st")"
t_eq "the registry joins the gateway's network namespace" \
  "container:$($DOCKER inspect --format '{{.Id}}' storj-registry-gateway)" \
  "$($DOCKER inspect --format '{{.HostConfig.NetworkMode}}' storj-registry)"
t_check "the gateway is told to listen on loopback only" bash -c "$DOCKER inspect --format '{{json .Config.Cmd}}' storj-registry-gateway | grep -q '127.0.0.1:7777'"
t_check "push and pull back through the gateway, same digest" push_pull_roundtrip "$PORT" storjtrip
t_check "objects land under docker/registry/v2/ in the bucket" bash -c "'$ROOT/tests/env/s3-list.sh' '$BUCKET' | grep -q '^docker/registry/v2/repositories/storjtrip/'"

gwconf=$(container_file storj-registry-gateway /root/.local/share/storj/gateway/config.yaml)
t_check "the gateway got the grant in its config file" grep -qF "access: \"$GRANT\"" <<<"$gwconf"
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
t_check "the grant and gateway keys are in no API response" no_secret_in "$all" "$GRANT" "$GW_SK" "$GW_AK"
t_check "nor in any backend log line" no_secret_in "$(cat "$BLOG")" "$GRANT" "$GW_SK" "$GW_AK"
for c in storj-registry-gateway storj-registry; do
  t_check "nor in $c's Env, Labels, Cmd or HostConfig" no_secret_in "$(container_facts $c)" "$GRANT" "$GW_SK" "$GW_AK"
done

api POST /api/registry/stop >/dev/null
t_check "stop reaches stopped" wait_state stopped 60
t_eq "both containers stopped" "false false" "$($DOCKER inspect --format '{{.State.Running}}' storj-registry-gateway storj-registry | xargs)"
api POST /api/registry/start >/dev/null
t_check "both start again" wait_state running 90
t_check "the image is still there" pull_again "$PORT" storjtrip

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
t_end
