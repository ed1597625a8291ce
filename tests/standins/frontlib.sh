# Shell helpers for suites that put the Storj-behaviour S3 front
# (storjfront.py) in the path. Source after tests/lib.sh and
# tests/integration/lib.sh (uses DOCKER, WORK, ROOT, api, t_*).

SF=$ROOT/tests/standins/storjfront.sh
GRANTCIPHER=$ROOT/tests/standins/grantcipher.py

# The front runs with Storj's request limits (project 100 requests/s, burst
# 100; writes to one key 1/s, burst 3; over them 429 SlowDown, Retry-After
# 12) unless args say otherwise (--rate 0 --key-write-rate 0: off).
# front_start PROFILE [args]: FRONT_ENDPOINT (for the host), FRONT_PID,
# FRONT_LOG, and FRONT_CADDR: HOST:PORT where containers reach it ($HOST_IP
# when the front listens there: bridged and host-network containers both
# reach it; 127.0.0.1 otherwise, host network only)
front_start() {
  local profile=$1 out; shift
  out=$("$SF" start --profile "$profile" --log "$WORK/front-$T_NAME.log" "$@") || return 1
  eval "$out"
  FRONT_CADDR=${FRONT_HOST_ENDPOINT:-$FRONT_ENDPOINT}
  FRONT_CADDR=${FRONT_CADDR#http://}
}
front_stop() { [ -z "${FRONT_PID:-}" ] || "$SF" stop "$FRONT_PID"; FRONT_PID=; }
front_stat() { "$SF" stats "$FRONT_ENDPOINT" | jq -r "$1"; }
front_reset() { "$SF" reset "$FRONT_ENDPOINT"; }
# front_cost LABEL: one "# cost:" line with the storage requests the front
# saw since the last reset (total, by S3 operation, refused by each limit),
# then resets; FRONT_COST holds the counters as compact JSON
front_cost() {
  FRONT_COST=$("$SF" stats "$FRONT_ENDPOINT" | jq -c '{requests, ops: (.ops | with_entries(select(.value > 0))),
    rateLimit: .refused.rateLimit, keyWriteLimit: .refused.keyWriteLimit}')
  jq -r --arg l "$1" '"# cost: \($l): \(.requests) requests (" + ([.ops | to_entries[] | "\(.key) \(.value)"] | join(", "))
    + "); refused by the rate limit \(.rateLimit), by the key-write limit \(.keyWriteLimit)"' <<<"$FRONT_COST"
  front_reset
}

# grant_with_cipher GRANT CIPHER: the grant with another default path cipher
grant_with_cipher() { python3 "$GRANTCIPHER" set "$1" "$2"; }

# mixed_image NAME:TAG: an image FROM scratch with random layers of 1, 40
# and 150 MiB (one blob under the copy threshold, one above the registry's
# 32 MiB default, one spanning three 64 MiB parts); prints its ID
mixed_image() {
  local ctx m
  ctx=$(mktemp -d "${SRT_WORK_DIR:-/tmp/srt/build}/mixed.XXXXXX") || return 1
  printf 'FROM scratch\n' >"$ctx/Dockerfile"
  for m in 1 40 150; do
    head -c $((m << 20)) /dev/urandom >"$ctx/layer$m.bin"
    echo "COPY layer$m.bin /data/layer$m.bin" >>"$ctx/Dockerfile"
  done
  echo "LABEL org.storj-registry.test.random=\"$(basename "$ctx")\"" >>"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 $DOCKER build -q -t "$1" "$ctx" >/dev/null 2>&1
  local rc=$?
  rm -rf "$ctx"
  [ $rc -eq 0 ] && $DOCKER image inspect -f '{{.Id}}' "$1"
}

# push_mixed PORT NAME: builds a mixed image, pushes it as NAME:1; sets
# MIXED_ID, MIXED_SECS; returns the push's status (log in $WORK/push-NAME.log)
push_mixed() {
  local port=$1 name=$2 t0 rc
  MIXED_ID=$(mixed_image "srt-src/$name:1") || return 1
  $DOCKER tag "srt-src/$name:1" "localhost:$port/$name:1" || return 1
  t0=$(date +%s)
  timeout 900 $DOCKER push "localhost:$port/$name:1" >"$WORK/push-${name//\//-}.log" 2>&1
  rc=$?
  MIXED_SECS=$(($(date +%s) - t0))
  return $rc
}

# pull_mixed PORT NAME: drops the local copies, pulls, compares the image ID
pull_mixed() {
  local port=$1 name=$2 pulled
  $DOCKER rmi "localhost:$port/$name:1" "srt-src/$name:1" >/dev/null 2>&1
  timeout 900 $DOCKER pull "localhost:$port/$name:1" >"$WORK/pull-${name//\//-}.log" 2>&1 || { tail -3 "$WORK/pull-${name//\//-}.log"; return 1; }
  pulled=$($DOCKER image inspect --format '{{.Id}}' "localhost:$port/$name:1")
  [ "$pulled" = "$MIXED_ID" ] || { echo "image id changed: $MIXED_ID -> $pulled"; return 1; }
}

# browse_delete_gc LABEL NAME BUCKET: the repository is listed with its
# 3 layers, deleting it answers 200, a clean-up runs and frees its 5 blobs
# (3 layers, config, manifest) from the bucket; t_* results
browse_delete_gc() {
  local label=$1 name=$2 bucket=$3 repos digest before after gc
  repos=$(api GET /api/repositories)
  t_eq "$label: browsing answers 200" 200 "$(last_status)"
  t_eq "$label: the repository is listed with its tag" 1 \
    "$(jq --arg n "$name" '[.repositories[] | select(.name==$n) | .tags[] | select(.tag=="1")] | length' <<<"$repos")"
  t_eq "$label: 3 layers" 3 "$(jq --arg n "$name" '[.repositories[] | select(.name==$n) | .tags[0].layers][0]' <<<"$repos")"
  digest=$(jq -r --arg n "$name" '[.repositories[] | select(.name==$n) | .tags[0].digest][0]' <<<"$repos")
  before=$("$ROOT/tests/env/s3-list.sh" "$bucket" docker/registry/v2/blobs/ | wc -l)
  api DELETE "/api/repositories/$name/manifests/$digest" >/dev/null
  t_eq "$label: deleting the image answers 200" 200 "$(last_status)"
  api POST /api/registry/gc >/dev/null
  t_eq "$label: clean-up answers 202" 202 "$(last_status)"
  t_check "$label: clean-up ends with the registry running" wait_until 180 bash -c \
    "curl -s --unix-socket '$API_SOCK' http://localhost/api/status | jq -e '.state == \"running\" and .job == null and .lastGc != null' >/dev/null"
  gc=$(api GET /api/status | jq -c .lastGc)
  echo "# lastGc: $gc"
  t_eq "$label: the clean-up succeeded" true "$(jq -r .ok <<<"$gc")"
  after=$("$ROOT/tests/env/s3-list.sh" "$bucket" docker/registry/v2/blobs/ | wc -l)
  t_check "$label: the image's 5 blobs are gone from the bucket ($before -> $after)" test "$after" -eq $((before - 5))
}

# blob_upload PORT NAME: uploads one random 1 MiB blob the way docker does
# (POST an upload, PUT its data with the digest); prints the final status.
# Unlike docker push, nothing retries: a refused commit shows at once.
blob_upload() {
  local port=$1 name=$2 f loc digest
  f=$(mktemp "$WORK/blob.XXXXXX")
  head -c $((1 << 20)) /dev/urandom >"$f"
  digest=sha256:$(sha256sum <"$f" | cut -c1-64)
  loc=$(curl -s -D - -o /dev/null -X POST "http://localhost:$port/v2/$name/blobs/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$loc" ] || { rm -f "$f"; echo none; return; }
  case $loc in http*) ;; *) loc=http://localhost:$port$loc ;; esac
  case $loc in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
  curl -s -o "$WORK/blob-answer" -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary @"$f" "$loc"
  rm -f "$f"
}

# unencrypted_keys_supported: the backend has the "unencryptedKeys" setting
unencrypted_keys_supported() { api GET /api/config | jq -e 'has("unencryptedKeys")' >/dev/null; }
