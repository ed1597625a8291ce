#!/bin/bash
# s3 mode against a real S3 store (single-node Ceph RGW on 127.0.0.1): push
# and pull through the registry, objects land under docker/registry/v2/ in
# the bucket, and the secret key appears in no response, no backend log line,
# no registry log line served, and no container Env, Labels or Cmd.
set -uo pipefail
T_NAME=s3
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/s3.state"
BUCKET=srt-s3-$RANDOM$RANDOM
t_check "bucket $BUCKET created in Ceph RGW" s3_mkbucket "$BUCKET"
PORT=$(free_port)
start_backend s3 || { t_fail "backend starts"; t_end; exit 1; }

cfg=$(jq -n --arg b "$BUCKET" --arg e "$S3_HOST_ENDPOINT" --arg r "$S3_REGION" --arg a "$S3_ACCESS_KEY" \
  --arg s "$S3_SECRET_KEY" --argjson p "$PORT" \
  '{mode:"s3",port:$p,bucket:$b,s3:{endpoint:$e,region:$r,accessKey:$a,secretKey:$s}}')
saved=$(api PUT /api/config "$cfg")
t_eq "s3 settings saved" 200 "$(last_status)"
t_eq "the secret key is shown as set, not as its value" '{"set":true}' "$(jq -c .s3.secretKey <<<"$saved")"
got=$(api GET /api/config)
t_eq "GET config masks the secret too" true "$(jq -r .s3.secretKey.set <<<"$got")"
# saving without the secret keeps it
api PUT /api/config "{\"s3\":{\"region\":\"$S3_REGION\"}}" >/dev/null
t_eq "a save without the secret keeps it" true "$(api GET /api/config | jq -r .s3.secretKey.set)"

api POST /api/registry/start >/dev/null
t_check "s3 registry reaches running" wait_state running 90
t_check "push and pull back through S3, same digest" push_pull_roundtrip "$PORT" s3trip
keys=$("$ROOT/tests/env/s3-list.sh" "$BUCKET")
t_check "blobs are in the bucket under docker/registry/v2/blobs/" grep -q '^docker/registry/v2/blobs/sha256/' <<<"$keys"
t_check "the tag link is under docker/registry/v2/repositories/s3trip/" grep -q '^docker/registry/v2/repositories/s3trip/_manifests/tags/1/current/link$' <<<"$keys"
t_check "no object outside docker/registry/v2/" bash -c "! grep -v '^docker/registry/v2/' <<<'$keys' | grep -q ."
conf=$(container_file storj-registry /etc/storj-registry/config.yml)
t_eq "registry config: path style" true "$(jq -r .storage.s3.forcepathstyle <<<"$conf")"
t_eq "registry config: 64 MiB chunks" 67108864 "$(jq -r .storage.s3.chunksize <<<"$conf")"
t_eq "registry config: copy threshold above UploadPartCopy" 5368709120 "$(jq -r .storage.s3.multipartcopythresholdsize <<<"$conf")"
t_eq "registry config: redirects off" true "$(jq -r .storage.redirect.disable <<<"$conf")"
t_eq "registry config: delete on" true "$(jq -r .storage.delete.enabled <<<"$conf")"

api POST /api/registry/stop >/dev/null; wait_state stopped 60
api POST /api/registry/start >/dev/null
t_check "started again" wait_state running 60
t_check "pull after stop/start comes from S3" pull_again "$PORT" s3trip

# secrets: nowhere but the settings file and the registry's config file
all=""
for p in /api/status /api/config '/api/registry/logs?tail=500'; do all+=$(api GET "$p"); done
all+=$(api PUT /api/config '{"port":0}')
t_check "the secret key is in no API response" no_secret_in "$all" "$S3_SECRET_KEY"
t_check "the secret key is in no backend log line" no_secret_in "$(cat "$BLOG")" "$S3_SECRET_KEY"
facts=$(container_facts storj-registry)
t_check "the secret key is not in the container's Env, Labels, Cmd or HostConfig" no_secret_in "$facts" "$S3_SECRET_KEY"
t_check "the registry's environment has no AWS or REGISTRY_ variable" bash -c "! grep -qE 'AWS_|REGISTRY_' <<<'$facts'"
t_check "the settings file is 0600" test "$(stat -c %a "$STATE/settings.json")" = 600

api DELETE /api/registry >/dev/null
wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
remove_managed
s3_rmbucket "$BUCKET" || echo "# could not remove bucket $BUCKET"
t_end
