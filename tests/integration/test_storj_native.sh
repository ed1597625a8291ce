#!/bin/bash
# storj-native mode: the 2022 image with the native Storj driver, configured
# through the injected config file (storage.storj: accessgrant, bucket) so
# the grant stays out of the container's environment. That image cannot be
# pulled or reach Storj here, so --native-image points at Debian's registry
# (a STAND-IN without the storj driver): the container is created for real,
# its spec and injected config are checked, and its refusal to start is
# reported with the registry's own reason.
set -uo pipefail
T_NAME=storj_native
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/native.state"
GRANT=$SAMPLE_GRANT
PORT=$(free_port)
start_backend native --native-image "$REG_IMAGE" || { t_fail "backend starts"; t_end; exit 1; }
api PUT /api/config "{\"mode\":\"storj-native\",\"port\":$PORT,\"bucket\":\"docker\",\"accessGrant\":\"$GRANT\"}" >/dev/null
t_eq "storj-native settings saved" 200 "$(last_status)"
api POST /api/registry/start >/dev/null
t_check "the stand-in without the storj driver fails to start" wait_state failed 60
st=$(api GET /api/status)
t_eq "reported as container_exited" container_exited "$(jq -r .error.code <<<"$st")"
t_check "with the registry's own reason" grep -qi 'storj' <<<"$(jq -r .error.message <<<"$st")"
t_check "and a hint" test -n "$(jq -r '.error.hint // empty' <<<"$st")"
t_check "the container exists for inspection" $DOCKER inspect storj-registry
conf=$(container_file storj-registry /etc/storj-registry/config.yml)
t_eq "injected config: storage.storj.bucket" docker "$(jq -r .storage.storj.bucket <<<"$conf")"
t_eq "injected config: storage.storj.accessgrant" "$GRANT" "$(jq -r .storage.storj.accessgrant <<<"$conf")"
t_eq "injected config: storj is the only driver" '["cache","delete","maintenance","storj"]' "$(jq -c '.storage | keys' <<<"$conf")"
t_eq "the container runs the native image" "$REG_IMAGE" "$($DOCKER inspect --format '{{.Config.Image}}' storj-registry)"
t_check "the grant is not in the container's Env, Labels, Cmd or HostConfig" no_secret_in "$(container_facts storj-registry)" "$GRANT"
t_check "no REGISTRY_STORAGE variables (config by file only)" bash -c "! $DOCKER inspect --format '{{json .Config.Env}}' storj-registry | grep -q REGISTRY_STORAGE"
all="$st$(api GET /api/config)$(api GET '/api/registry/logs?tail=100')"
t_check "the grant is in no API response" no_secret_in "$all" "$GRANT"
t_check "nor in any backend log line" no_secret_in "$(cat "$BLOG")" "$GRANT"
echo "# $(jq -c .error <<<"$st")"; api DELETE /api/registry >/dev/null
wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
t_end
