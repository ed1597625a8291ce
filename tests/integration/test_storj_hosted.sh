#!/bin/bash
# storj-hosted mode: the access grant is registered with Storj's Auth Service
# for S3 credentials, then the registry talks S3 to the hosted gateway,
# through the configuration the backend generates. Storj cannot be reached
# from here, so both are STAND-INS: the Auth Service is
# tests/standins/authsvc.py (the documented POST /v1/access request and its
# 200/400/413/500 answers), and the hosted gateway is the Storj-behaviour S3
# front (tests/standins/storjfront.py, profile hosted = Gateway-MT's rules for
# a self-managed-encryption project created after 2025-11-30) in front of
# the real Ceph RGW, whose user has the key pair the Auth Service stand-in
# hands out. The Auth Service stand-in decodes each registered grant's path
# cipher and tells the front, as the real service makes the grant known to
# Gateway-MT.
# Checks: with an ENC_NULL grant, images with 1, 40 and 150 MiB layers push
# and pull, browse, delete and clean-up work and no Storj rule is hit; with
# an encrypted-keys grant a layer upload fails (500) because the gateway
# answers 501 NotImplemented, as the registry's logs say (the upload is made
# with curl, the way docker does it: docker push would retry for minutes);
# with "unencryptedKeys" the same grant is registered as
# ENC_NULL and the push works.
set -uo pipefail
T_NAME=storj_hosted
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/standins/frontlib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/hosted.state"
ENC_GRANT=$SAMPLE_GRANT # its encryption access names no cipher: ENC_AESGCM
GRANT=$(grant_with_cipher "$SAMPLE_GRANT" ENC_NULL)
BUCKET=srt-hosted-$RANDOM$RANDOM
# credentials shaped like the Auth Service's (base32, starting with j)
AK=j$(head -c 200 /dev/urandom | tr -dc 'a-z2-7' | head -c 27)
SK=j$(head -c 400 /dev/urandom | tr -dc 'a-z2-7' | head -c 52)
"$ROOT/tests/env/s3-user.sh" "$AK" "$SK" "$BUCKET" >/dev/null 2>&1 || t_fail "Ceph user for the issued keys"

front_start hosted || { t_fail "the S3 front (hosted profile) starts"; t_end; exit 1; }
FRONT_URL=http://$FRONT_CADDR # what the registry container is given as the endpoint
pids=()
trap 'front_stop; kill "${pids[@]}" 2>/dev/null' EXIT
start_authsvc() { # start_authsvc VAR extra-args...: sets VAR to the base URL
  local var=$1 log=$WORK/authsvc-$1.log; shift
  # emptied here: the background redirection truncates it only when the
  # child runs, and a previous run's "listening on" line gave a stale port
  : >"$log"
  python3 "$ROOT/tests/standins/authsvc.py" 0 "$@" >"$log" 2>&1 &
  pids+=($!)
  wait_until 10 grep -q 'listening on' "$log" || return 1
  printf -v "$var" 'http://%s' "$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$log" | head -1)"
}
start_authsvc OK_URL --access-key "$AK" --secret-key "$SK" --endpoint "$FRONT_URL" --front "$FRONT_ENDPOINT" ||
  t_fail "auth stand-in starts"
start_authsvc E400_URL --fail-with 400
start_authsvc E413_URL --fail-with 413
start_authsvc E500_URL --fail-with 500
PORT=$(free_port)
start_backend hosted || { t_fail "backend starts"; t_end; exit 1; }

cfg() { jq -nc --arg g "$GRANT" --arg b "$BUCKET" --arg u "$1" --argjson p "$PORT" \
  '{mode:"storj-hosted",port:$p,bucket:$b,accessGrant:$g,authService:$u}'; }

# failures first: each says the service's reason and saves nothing
for code in 400 413 500; do
  url_var=E${code}_URL
  before=$(sha256sum "$STATE/settings.json" 2>/dev/null)
  body=$(api PUT /api/config "$(cfg "${!url_var}")")
  t_check "Auth Service $code: the save is refused" test "$(last_status)" -ge 400
  t_eq "Auth Service $code: the error names the grant field" accessGrant "$(jq -r .error.field <<<"$body")"
  t_check "Auth Service $code: the message gives the service's status" grep -q "HTTP $code" <<<"$(jq -r .error.message <<<"$body")"
  t_eq "Auth Service $code: nothing saved" "$before" "$(sha256sum "$STATE/settings.json" 2>/dev/null)"
done
start_authsvc ECHO_URL --echo-grant
body=$(api PUT /api/config "$(cfg "$ECHO_URL")")
t_check "a service quoting the grant back: refused" test "$(last_status)" = 400
t_check "and the grant is redacted from its reason" no_secret_in "$body" "$GRANT"
t_check "the reason still shows, redacted" grep -q 'rejected \[redacted\]' <<<"$(jq -r .error.message <<<"$body")"
body=$(api PUT /api/config "$(cfg http://127.0.0.1:1)")
t_eq "an unreachable Auth Service is a clear error" auth_service_unreachable "$(jq -r .error.code <<<"$body")"

saved=$(api PUT /api/config "$(cfg "$OK_URL")")
t_eq "registration succeeds and the settings are saved" 200 "$(last_status)"
t_eq "the issued access key is kept" "$AK" "$(jq -r .s3.accessKey <<<"$saved")"
t_eq "the issued secret shows as set" true "$(jq -r .s3.secretKey.set <<<"$saved")"
t_eq "the credentials are marked as obtained from the grant" true "$(jq -r .s3.fromGrant <<<"$saved")"
t_eq "the endpoint the service named is used" "$FRONT_URL" "$(jq -r .s3.endpoint <<<"$saved")"
t_eq "the Auth Service told the front: ENC_NULL" ENC_NULL "$(front_stat ".keys[\"$AK\"].pathCipher")"
t_check "the stand-in saw a grant-length line, not the grant" bash -c "grep -q 'grant' '$WORK/authsvc-OK_URL.log' && ! grep -qF '$GRANT' '$WORK/authsvc-OK_URL.log'"
t_eq "the saved secret is the issued one" "$SK" "$(jq -r .s3SecretKey "$STATE/settings.json")"

api POST /api/registry/start >/dev/null
t_check "the registry reaches running" wait_state running 90
t_check "ENC_NULL: push of layers of 1, 40 and 150 MiB" push_mixed "$PORT" hosted/mixed
echo "# push of 191 MiB through the front: ${MIXED_SECS}s"
t_check "ENC_NULL: pull back, same image ID" pull_mixed "$PORT" hosted/mixed
t_eq "ENC_NULL: no Storj rule was hit (listing, UploadPartCopy, part size)" "0 0 0" \
  "$(front_stat '"\(.refused.listing) \(.refused.uploadPartCopy) \(.refused.entityTooSmall)"')"
t_check "objects land under docker/registry/v2/" bash -c "'$ROOT/tests/env/s3-list.sh' '$BUCKET' | grep -q '^docker/registry/v2/blobs/'"
browse_delete_gc "ENC_NULL" hosted/mixed "$BUCKET"
t_check "ENC_NULL: a plain round trip after the clean-up" push_pull_roundtrip "$PORT" hostedtrip
conf=$(container_file storj-registry /etc/storj-registry/config.yml)
t_eq "registry config: the issued key" "$AK" "$(jq -r .storage.s3.accesskey <<<"$conf")"
t_eq "registry config: copy threshold above UploadPartCopy" 5368709120 "$(jq -r .storage.s3.multipartcopythresholdsize <<<"$conf")"
all="$(api GET /api/status)$(api GET /api/config)$(api GET '/api/registry/logs?tail=300')"
t_check "grant and issued secret in no API response" no_secret_in "$all" "$GRANT" "$SK"
t_check "nor in any backend log line" no_secret_in "$(cat "$BLOG")" "$GRANT" "$SK"
t_check "nor in the container's Env, Labels, Cmd" no_secret_in "$(container_facts storj-registry)" "$GRANT" "$SK"

# a save that changes nothing about the grant keeps the credentials
api PUT /api/config "{\"port\":$PORT}" >/dev/null
t_eq "credentials kept when the grant is not retyped" "$AK" "$(api GET /api/config | jq -r .s3.accessKey)"

# ---- an encrypted-keys grant on the hosted gateway: what a user meets -------------
api PUT /api/config "$(jq -nc --arg g "$ENC_GRANT" --arg u "$OK_URL" '{accessGrant:$g,authService:$u}')" >/dev/null
t_eq "the encrypted grant is registered and saved" 200 "$(last_status)"
t_eq "the Auth Service told the front: ENC_AESGCM" ENC_AESGCM "$(front_stat ".keys[\"$AK\"].pathCipher")"
front_reset
api POST /api/registry/restart >/dev/null
# the storage check before the start makes the registry's kind of listing
# (a prefix not ending in '/'), which the hosted gateway refuses: the start
# stops there, in plain words, instead of every push failing later
t_check "restart with the encrypted grant ends failed (the storage check)" wait_state failed 90
st=$(api GET /api/status)
t_eq "ENC_AESGCM: the start failed its storage check" storage_check_failed "$(jq -r .error.code <<<"$st")"
t_eq "ENC_AESGCM: the check names the refused listing" encrypted_keys_listing "$(jq -r .lastCheck.code <<<"$st")"
t_eq "ENC_AESGCM: the list step failed, the object was still deleted" "false true" \
  "$(jq -r '[.lastCheck.steps[] | select(.id=="list" or .id=="delete") | .ok] | map(tostring) | join(" ")' <<<"$st")"
t_check "ENC_AESGCM: the hint offers unencrypted object keys" grep -q "unencrypted object keys" <<<"$(jq -r .error.hint <<<"$st")"
t_check "ENC_AESGCM: the front refused listings with 501" test "$(front_stat .refused.listing)" -ge 1
t_eq "ENC_AESGCM: nothing of the image under repositories/" 0 \
  "$("$ROOT/tests/env/s3-list.sh" "$BUCKET" docker/registry/v2/repositories/hosted/enc/_manifests/ | wc -l)"

# ---- "unencrypted object keys for this registry" ---------------------------------
if unencrypted_keys_supported; then
  api PUT /api/config '{"unencryptedKeys":true}' >/dev/null
  t_eq "unencryptedKeys saved" 200 "$(last_status)"
  t_eq "unencryptedKeys: the grant was registered again, as ENC_NULL" ENC_NULL "$(front_stat ".keys[\"$AK\"].pathCipher")"
  api POST /api/registry/restart >/dev/null
  t_check "restart with unencryptedKeys reaches running" wait_state running 90
  front_reset
  t_check "unencryptedKeys: the push works" push_mixed "$PORT" hosted/unenc
  t_eq "unencryptedKeys: no listing refused" 0 "$(front_stat .refused.listing)"
  t_check "unencryptedKeys: pull back" pull_mixed "$PORT" hosted/unenc
else
  echo "# skipped: this backend has no \"unencryptedKeys\" setting yet (helper firstrun adds it)"
fi

api DELETE /api/registry >/dev/null
wait_state stopped 60
stop_backend || t_fail "backend exits cleanly"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
remove_managed
$DOCKER rmi $($DOCKER images -q 'srt-src/hosted/*') >/dev/null 2>&1
t_end
