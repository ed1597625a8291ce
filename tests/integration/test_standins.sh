#!/bin/bash
# The stand-ins for what the tests cannot reach (Storj's self-hosted gateway
# and Storj's Auth Service) behave like the real peers they replace:
#
#  - gateway stand-in (storj-registry-test/gateway-standin:1, in place of
#    storjlabs/gateway): refuses to start without an access grant; reads the
#    config file the backend injects into the container; logs one line with
#    no secret; forwards byte for byte with half-closes under 200 concurrent
#    connections; carries a registry's S3 traffic, 64 MiB multipart parts
#    included, to the real Ceph RGW, signed with the gateway's key pair.
#  - Auth Service stand-in (tests/standins/authsvc.py): the status codes,
#    content types and bodies of POST /v1/access (storj.md 2.2); with
#    --front it tells the S3 front the grant's path cipher.
#  - Storj-behaviour S3 front (tests/standins/storjfront.py) in front of the
#    real Ceph RGW, driven with curl --aws-sigv4: forwards byte for byte
#    (RGW checks the signatures), and each Storj rule (UploadPartCopy 501,
#    encrypted-keys listings refused or exhaustive per profile, the item
#    cap, EntityTooSmall, non-lexical order) fails and passes as it should.
#  - The gateway stand-in registers its key pair and its grant's path
#    cipher with the front; grantcipher.py and fwd.c decode alike.
#  - The front's Storj request limits (project rate, writes to one key):
#    over them 429 SlowDown with Retry-After, as gateway-st answers; after a
#    pause a request passes; refusals and requests by S3 operation counted.
#
# Needs the private engine and Ceph (started here when not running).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T_NAME=standins
# shellcheck source=../lib.sh
source "$ROOT/tests/lib.sh"
DOCKER=${DOCKER:-/usr/bin/docker}
ENV_DIR="$ROOT/tests/env"
GRANT=12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2Bty7iGDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyHZGrmRBtwkv1gXrogjtkbzUovXG

quiet() { "$@" 2> >(grep -v 'IPv4 forwarding is disabled' >&2); }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

t_begin
WORK=$(mktemp -d /tmp/srt-standins.XXXXXX)
CONTAINERS=()
PIDS=()
IMAGES=()
cleanup() {
  local c p
  for c in "${CONTAINERS[@]}"; do "$DOCKER" rm -f -v "$c" >/dev/null 2>&1; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for c in "${IMAGES[@]}"; do "$DOCKER" rmi -f "$c" >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${DOCKER_HOST:-}" ]; then
  eval "$("$ENV_DIR/docker-engine.sh" start)" || { t_fail "test Docker engine starts"; t_end; exit; }
  export DOCKER_HOST
fi
eval "$("$ENV_DIR/images.sh" registry gateway)" || { t_fail "test images build"; t_end; exit; }
eval "$("$ENV_DIR/ceph-s3.sh")" || { t_fail "Ceph RGW starts"; t_end; exit; }
export CEPH_CONF

# ---- gateway stand-in: refuses without a grant ----------------------------------
out=$(quiet "$DOCKER" run --pull never --rm --network host "$GATEWAY_IMAGE" run 2>&1)
rc=$?
t_eq "gateway stand-in without a config exits 1" 1 "$rc"
t_check "  and says the access grant is missing" grep -q "no access grant" <<<"$out"

# ---- gateway stand-in: config injected the way the backend does it ----------------
GW_PORT=$(free_port)
AK=standin$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-13)
SK=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BUCKET=standin-$RANDOM
"$ENV_DIR/s3-user.sh" "$AK" "$SK" "$BUCKET" >/dev/null 2>"$WORK/s3-user.log" ||
  { cat "$WORK/s3-user.log"; t_fail "RGW user for the gateway key pair"; t_end; exit; }
mkdir -p "$WORK/gwcfg/gateway"
printf 'access: %s\nminio.access-key: %s\nminio.secret-key: "%s"\nserver.address: 127.0.0.1:%s\n' \
  "$GRANT" "$AK" "$SK" "$GW_PORT" >"$WORK/gwcfg/gateway/config.yaml"
GW=$(quiet "$DOCKER" create --pull never --network host "$GATEWAY_IMAGE" run --config-dir /root/.local/share/storj/gateway)
CONTAINERS+=("$GW")
SOCK=${DOCKER_HOST#unix://}
code=$(tar -C "$WORK/gwcfg" -c --owner=0 --group=0 gateway | curl -s -o /dev/null -w '%{http_code}' \
  --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/x-tar' --data-binary @- \
  "http://localhost/containers/$GW/archive?path=/root/.local/share/storj")
t_eq "config put into the created container (PUT /containers/{id}/archive)" 200 "$code"
"$DOCKER" start "$GW" >/dev/null
t_check "gateway stand-in listens on 127.0.0.1:$GW_PORT" wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$GW_PORT"
"$DOCKER" logs "$GW" >"$WORK/gw.log" 2>&1
t_eq "a start line and, like storjlabs/gateway, the two credential lines" 3 "$(wc -l <"$WORK/gw.log")"
t_check "  never the grant" bash -c '! grep -qF -e "$1" "$2"' _ "$GRANT" "$WORK/gw.log"
t_check "  the secret key only on its credential line (the backend redacts it)" bash -c '[ "$(grep -cF -e "$1" "$2")" = 1 ] && grep -qF "Secret key: $1" "$2"' _ "$SK" "$WORK/gw.log"

# ---- a registry stores through it in Ceph (64 MiB parts) -----------------------
REG_PORT=$(free_port)
mkdir -p "$WORK/regcfg/storj-registry"
cat >"$WORK/regcfg/storj-registry/config.yml" <<EOF
{"version": "0.1", "log": {"level": "info"}, "http": {"addr": "127.0.0.1:$REG_PORT"},
 "storage": {"s3": {"regionendpoint": "http://127.0.0.1:$GW_PORT", "region": "us-east-1",
   "bucket": "$BUCKET", "accesskey": "$AK", "secretkey": "$SK", "secure": false,
   "v4auth": true, "forcepathstyle": true, "chunksize": 67108864,
   "multipartcopythresholdsize": 5368709120, "rootdirectory": "/"},
  "redirect": {"disable": true}, "delete": {"enabled": true}}}
EOF
REG=$(quiet "$DOCKER" create --pull never --network "container:$GW" "$REGISTRY_IMAGE" serve /etc/storj-registry/config.yml)
CONTAINERS+=("$REG")
tar -C "$WORK/regcfg" -c storj-registry | curl -s -o /dev/null --unix-socket "$SOCK" -X PUT \
  -H 'Content-Type: application/x-tar' --data-binary @- "http://localhost/containers/$REG/archive?path=/etc"
"$DOCKER" start "$REG" >/dev/null
t_check "registry answers /v2/ (in the gateway's network namespace)" \
  wait_until 15 curl -sf "http://127.0.0.1:$REG_PORT/v2/"
IMG=127.0.0.1:$REG_PORT/standin/big:1
IMAGES+=("$IMG")
ID=$("$ENV_DIR/random-image.sh" "$IMG" 2 71680) # 70 MiB + 70 MiB: two parts each
t_check "push of 2 x 70 MiB layers through the stand-in" quiet "$DOCKER" push -q "$IMG" >/dev/null
"$DOCKER" rmi -f "$IMG" >/dev/null 2>&1
t_check "pull back" quiet "$DOCKER" pull -q "$IMG" >/dev/null
t_eq "image ID after the round trip" "$ID" "$("$DOCKER" image inspect -f '{{.Id}}' "$IMG" 2>/dev/null)"
big=$("$ENV_DIR/s3-list.sh" -s "$BUCKET" docker/registry/v2/blobs/ | awk '$1 > 67108864' | wc -l)
t_eq "two blobs over 64 MiB stored in the Ceph bucket" 2 "$big"
t_check "tag link stored under docker/registry/v2/repositories/" \
  grep -qx 'docker/registry/v2/repositories/standin/big/_manifests/tags/1/current/link' \
  <("$ENV_DIR/s3-list.sh" "$BUCKET")

# ---- byte-for-byte forwarding, half-closes, concurrency -------------------------
UP_PORT=$(free_port)
FW_PORT=$(free_port)
mkdir -p "$WORK/fwcfg"
printf 'access: "1x"\nserver.address: 127.0.0.1:%s\nstandin:\n  upstream: 127.0.0.1:%s\n' \
  "$FW_PORT" "$UP_PORT" >"$WORK/fwcfg/config.yaml"
FW=$(quiet "$DOCKER" run --pull never -d --network host -v "$WORK/fwcfg:/root/.local/share/storj/gateway:ro" "$GATEWAY_IMAGE" run)
CONTAINERS+=("$FW")
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$FW_PORT"
t_check "200 concurrent connections, both half-close orders, up to 4 MiB each" \
  python3 "$ROOT/tests/standins/gateway/forward_check.py" "$UP_PORT" "$FW_PORT" 200
t_check "stand-in stops at once on SIGTERM" bash -c "timeout 5 '$DOCKER' stop -t 4 '$FW' >/dev/null && \
  [ \"\$('$DOCKER' inspect -f '{{.State.ExitCode}}' '$FW')\" = 0 ]"

# ---- Auth Service stand-in ------------------------------------------------------
: >"$WORK/authsvc.log" # emptied first: a stale "listening" line would give an old port
python3 "$ROOT/tests/standins/authsvc.py" 0 --access-key "$AK" --secret-key "$SK" \
  --endpoint "http://127.0.0.1:7480" >"$WORK/authsvc.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q listening "$WORK/authsvc.log"
AUTH="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/authsvc.log")"
req() { # req METHOD PATH BODY -> "CODE CONTENT-TYPE" and the body in $WORK/body
  curl -s -o "$WORK/body" -w '%{http_code} %{content_type}' -X "$1" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$AUTH$2"
}
t_eq "authsvc 200 for a grant" "200 application/json" "$(req POST /v1/access "{\"access_grant\":\"$GRANT\",\"public\":false}")"
t_check "  returns the configured key pair and endpoint" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r == {"access_key_id": sys.argv[2], "secret_key": sys.argv[3], "endpoint": "http://127.0.0.1:7480"} else 1)' \
  "$WORK/body" "$AK" "$SK"
t_eq "authsvc 400 for an empty grant" "400 text/plain; charset=utf-8" "$(req POST /v1/access '{"access_grant":"","public":false}')"
t_check "  body starts with 'access grant:'" grep -q '^access grant: ' "$WORK/body"
t_eq "authsvc 400 for a grant not starting with 1" 400 "$(req POST /v1/access '{"access_grant":"xyz"}' | cut -d' ' -f1)"
t_eq "authsvc 400 for an expired grant" 400 "$(req POST /v1/access '{"access_grant":"1expiredXYZ"}' | cut -d' ' -f1)"
t_check "  says so" grep -q 'expiration' "$WORK/body"
t_eq "authsvc 500 on the error trigger" 500 "$(req POST /v1/access '{"access_grant":"1fail500XYZ"}' | cut -d' ' -f1)"
t_eq "authsvc 422 for bad JSON" "422 text/plain; charset=utf-8" "$(req POST /v1/access '{"access_grant":')"
t_eq "authsvc 422 for a mistyped field" 422 "$(req POST /v1/access '{"access_grant":"1a","public":"yes"}' | cut -d' ' -f1)"
big_body="{\"access_grant\":\"1$(head -c 5000 /dev/zero | tr '\0' a)\"}"
t_eq "authsvc 413 for a body over 4 KiB" "413 text/plain; charset=utf-8" "$(req POST /v1/access "$big_body")"
t_eq "authsvc 405 for GET /v1/access" 405 "$(req GET /v1/access | cut -d' ' -f1)"
t_eq "authsvc 405 for POST /v1/access/ (trailing slash)" 405 "$(req POST /v1/access/ '{}' | cut -d' ' -f1)"
t_eq "authsvc 404 elsewhere" 404 "$(req POST /v1/other '{}' | cut -d' ' -f1)"
t_check "authsvc logs grant lengths, never the grant" bash -c \
  "grep -q 'grant_len=${#GRANT} ' '$WORK/authsvc.log' && ! grep -qF '$GRANT' '$WORK/authsvc.log'"
: >"$WORK/authsvc2.log" # emptied first: a stale "listening" line would give an old port
python3 "$ROOT/tests/standins/authsvc.py" 0 --fail-with 503 >"$WORK/authsvc2.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q listening "$WORK/authsvc2.log"
AUTH="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/authsvc2.log")"
t_eq "authsvc --fail-with 503" 503 "$(req POST /v1/access "{\"access_grant\":\"$GRANT\"}" | cut -d' ' -f1)"

# ---- Storj-behaviour S3 front ---------------------------------------------------
SF=$ROOT/tests/standins/storjfront.sh
GC=$ROOT/tests/standins/grantcipher.py
FAK=front$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
FSK=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
FB=front-$RANDOM$RANDOM
"$ENV_DIR/s3-user.sh" "$FAK" "$FSK" "$FB" >/dev/null 2>"$WORK/s3-user-front.log" ||
  { cat "$WORK/s3-user-front.log"; t_fail "RGW user for the front tests"; }
start_front() { # start_front VAR args...: VAR_EP, VAR_PID
  local var=$1 out; shift
  out=$("$SF" start --log "$WORK/front-$var.log" "$@") || return 1
  eval "$out"
  printf -v "${var}_EP" %s "$FRONT_ENDPOINT"
  printf -v "${var}_PID" %s "$FRONT_PID"
  PIDS+=("$FRONT_PID")
}
start_front HF --profile hosted || t_fail "front starts (hosted profile)"
start_front SH --profile selfhosted --exhaustive-limit 5 || t_fail "front starts (selfhosted profile, cap 5)"
t_check "the front says it is a stand-in" grep -q 'a stand-in, not Storj' "$WORK/front-HF.log"
# s3 EP METHOD PATH [curl args]: prints the HTTP status, the body in $WORK/fbody.
# curl 7.88 signs the query as written: keep parameters sorted, values encoded
s3() {
  local ep=$1 m=$2 path=$3; shift 3
  curl -s -o "$WORK/fbody" -w '%{http_code}' -X "$m" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$FAK:$FSK" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@" "$ep$path"
}
s3_code() { grep -o '<Code>[^<]*</Code>' "$WORK/fbody" | sed 's/<[^>]*>//g'; }
keys_of() { grep -o '<Key>[^<]*</Key>' "$WORK/fbody" | sed 's/<[^>]*>//g' | tr '\n' ' '; }
stat_of() { "$SF" stats "$1" | jq -r "$2"; }

head -c $((24 << 20)) /dev/urandom >"$WORK/obj24"
t_eq "front: a 24 MiB PUT is forwarded" 200 "$(s3 "$HF_EP" PUT "/$FB/big/obj" --data-binary @"$WORK/obj24")"
t_eq "front: and comes back byte for byte" "$(sha256sum <"$WORK/obj24")" \
  "$(curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user "$FAK:$FSK" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$HF_EP/$FB/big/obj" | sha256sum)"
code=$(curl -s -o "$WORK/fbody" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$FAK:wrong$FSK" \
  -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$HF_EP/$FB/big/obj")
t_eq "front: signatures stay RGW's to check (wrong secret: 403)" "403 SignatureDoesNotMatch" "$code $(s3_code)"
for k in a b c d; do s3 "$HF_EP" PUT "/$FB/dir/$k" --data-binary "$k" >/dev/null; done
for k in 1 2 3 4 5 6 7; do s3 "$HF_EP" PUT "/$FB/big/o$k" --data-binary "$k" >/dev/null; done
s3 "$HF_EP" PUT "/$FB/top" --data-binary top >/dev/null

# a key nobody registered: ENC_NULL, a plain gateway
t_eq "ENC_NULL: a listing with a prefix not ending in / is served (hosted)" 200 "$(s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2Fa")"
t_eq "  with the object" "dir/a " "$(keys_of)"
s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2F" >/dev/null
t_eq "ENC_NULL: lexical order" "dir/a dir/b dir/c dir/d " "$(keys_of)"
t_eq "ENC_NULL: UploadPartCopy still answers 501 (Storj's default)" 501 \
  "$(s3 "$HF_EP" PUT "/$FB/x?partNumber=1&uploadId=abc" -H "x-amz-copy-source: /$FB/top")"
t_eq "  NotImplemented, as S3 XML" NotImplemented "$(s3_code)"

# encrypted keys on the hosted gateway
"$SF" key "$HF_EP" "$FAK" ENC_AESGCM 2>/dev/null || t_fail "front takes a key (PUT /_standin/keys)"
t_eq "hosted, ENC_AESGCM: prefix not ending in / -> 501" 501 "$(s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2Fa")"
t_eq "  NotImplemented" NotImplemented "$(s3_code)"
t_check "  with Storj's message" grep -q "self-managed encryption created after 2025-11-30 only support" "$WORK/fbody"
t_eq "hosted, ENC_AESGCM: the same for ListObjects v1" 501 "$(s3 "$HF_EP" GET "/$FB?prefix=docker%2Fregistry%2Fv2%2Fblobs%2Fsha256%2Fab%2Fabc")"
t_eq "hosted, ENC_AESGCM: a delimiter other than / -> 501" 501 "$(s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2F&delimiter=-")"
t_eq "hosted, ENC_AESGCM: prefix ending in / is served" 200 "$(s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2F")"
order1=$(keys_of)
t_eq "  with the same keys" "dir/a dir/b dir/c dir/d " "$(tr ' ' '\n' <<<"$order1" | sed '/^$/d' | sort | tr '\n' ' ')"
t_check "  in a non-lexical order" test "$order1" != "dir/a dir/b dir/c dir/d "
s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2F" >/dev/null
t_eq "  the same order every time" "$order1" "$(keys_of)"
t_eq "hosted, ENC_AESGCM: the empty prefix is served" 200 "$(s3 "$HF_EP" GET "/$FB?list-type=2")"
t_eq "hosted, ENC_AESGCM: ListMultipartUploads with a delimiter other than / -> 501" 501 \
  "$(s3 "$HF_EP" GET "/$FB?delimiter=-&uploads=")"
t_eq "hosted: the UploadPartCopy refusal counted" 1 "$(stat_of "$HF_EP" .refused.uploadPartCopy+0)"
t_check "stats never carry the secret" bash -c '! "$1" stats "$2" | grep -qF -e "$3"' _ "$SF" "$HF_EP" "$FSK"
"$SF" key "$HF_EP" "$FAK" ENC_NULL 2>/dev/null
t_eq "hosted, re-registered ENC_NULL: the listing is served again" 200 "$(s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2Fa")"

# encrypted keys on the self-hosted gateway (item cap 5)
"$SF" key "$SH_EP" "$FAK" ENC_SECRETBOX "$FSK" 2>/dev/null || t_fail "selfhosted front takes a key"
t_eq "selfhosted, ENC_SECRETBOX: an existing exact key is found without an exhaustive listing" 200 \
  "$(s3 "$SH_EP" GET "/$FB?list-type=2&max-keys=1&prefix=dir%2Fa")"
t_eq "  exhaustive listings" 0 "$(stat_of "$SH_EP" .exhaustiveListings)"
t_eq "selfhosted: a missing key is served after an exhaustive listing of dir/ (4 items)" 200 \
  "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=dir%2Fzz")"
t_eq "  the listing is empty" "" "$(keys_of)"
t_eq "  one exhaustive listing, 4 items fetched" "1 4" "$(stat_of "$SH_EP" '"\(.exhaustiveListings) \(.exhaustiveItems)"')"
t_eq "selfhosted: past the cap (big/ holds 8 > 5) -> 501" 501 "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=big%2Fzz")"
t_check "  with gateway-st's message" grep -q "listing too many items for gateway-side filtering" "$WORK/fbody"
t_eq "selfhosted: no / in the prefix lists the whole bucket (14 > 5) -> 501" 501 "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=zz")"
t_eq "  the cap refusals counted" 2 "$(stat_of "$SH_EP" .refused.tooManyItems)"
t_eq "selfhosted: listing under / comes back non-lexical too" 200 "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=big%2F")"
t_check "  (8 keys, not sorted)" test "$(keys_of)" != "$(keys_of | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')"
"$SF" key "$SH_EP" "$FAK" ENC_NULL "$FSK" 2>/dev/null
"$SF" reset "$SH_EP"
t_eq "selfhosted, ENC_NULL: served at once, past the cap" 200 "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=big%2Fo")"
t_eq "  no exhaustive listing" 0 "$(stat_of "$SH_EP" .exhaustiveListings)"
"$SF" key "$SH_EP" "$FAK" ENC_AESGCM 2>/dev/null
t_eq "selfhosted without the key's secret: cannot list exhaustively (500, says so)" 500 \
  "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=dir%2Fzz")"

# multipart: parts under 5 MiB, UploadPartCopy enabled per key
head -c $((1 << 20)) /dev/urandom >"$WORK/p1"
head -c $((5 << 20)) /dev/urandom >"$WORK/p5"
mp_init() { s3 "$HF_EP" POST "/$FB/$1?uploads=" >/dev/null; sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p' "$WORK/fbody"; }
mp_part() { # mp_part KEY UPLOAD N FILE -> ETag
  curl -s -D - -o /dev/null -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$FAK:$FSK" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --data-binary @"$4" \
    "$HF_EP/$FB/$1?partNumber=$3&uploadId=$2" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'
}
mp_done() { # mp_done KEY UPLOAD ETAG... -> status
  local key=$1 up=$2 n=0 xml="<CompleteMultipartUpload>" e; shift 2
  for e in "$@"; do n=$((n + 1)); xml+="<Part><PartNumber>$n</PartNumber><ETag>$e</ETag></Part>"; done
  s3 "$HF_EP" POST "/$FB/$key?uploadId=$up" --data-binary "$xml</CompleteMultipartUpload>"
}
U=$(mp_init mp1)
e1=$(mp_part mp1 "$U" 1 "$WORK/p1"); e2=$(mp_part mp1 "$U" 2 "$WORK/p1")
t_eq "multipart: a 1 MiB first part -> 400 at completion" 400 "$(mp_done mp1 "$U" "$e1" "$e2")"
t_eq "  EntityTooSmall" EntityTooSmall "$(s3_code)"
t_check "  from the front (RGW was not asked)" grep -q '<HostId>storjfront-standin</HostId>' "$WORK/fbody"
e1=$(mp_part mp1 "$U" 1 "$WORK/p5")
t_eq "multipart: 5 MiB then 1 MiB (the last part may be small) completes" 200 "$(mp_done mp1 "$U" "$e1" "$e2")"
t_eq "  6 MiB stored" $((6 << 20)) "$(curl -s -o /dev/null -w '%{size_download}' --aws-sigv4 aws:amz:us-east-1:s3 \
  --user "$FAK:$FSK" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$HF_EP/$FB/mp1")"
U=$(mp_init mp2)
t_eq "UploadPartCopy -> 501" 501 "$(s3 "$HF_EP" PUT "/$FB/mp2?partNumber=1&uploadId=$U" -H "x-amz-copy-source: /$FB/mp1" --data-binary '')"
"$SF" key "$HF_EP" "$FAK" ENC_NULL "" upc 2>/dev/null
t_eq "UploadPartCopy with the key registered as enabled (--s3.upload-part-copy.enable) -> 200" 200 \
  "$(s3 "$HF_EP" PUT "/$FB/mp2?partNumber=1&uploadId=$U" -H "x-amz-copy-source: /$FB/mp1" --data-binary '')"
t_eq "front: a bad control request names the field" 400 \
  "$(curl -s -o "$WORK/fbody" -w '%{http_code}' -X PUT --data-binary '{"pathCipher":"ENC_FOO"}' "$HF_EP/_standin/keys/$FAK")"
t_check "  (pathCipher)" grep -q '^pathCipher:' "$WORK/fbody"

# fault switches: 500 to reads (one in N, with a burst per key; or by pattern)
"$SF" faults "$HF_EP" '{"failOneIn":3,"failBurst":2,"failScope":"^big/"}' 2>/dev/null || t_fail "front takes fault switches"
codes=
for k in o1 o2 o3 o3 o3 o4; do codes+="$(s3 "$HF_EP" GET "/$FB/big/$k") "; done
t_eq "faults: every 3rd read under big/ fails, and its key once more (burst 2)" "200 200 500 500 200 200 " "$codes"
t_eq "  as S3's InternalError, from the front" "InternalError" "$(s3 "$HF_EP" GET "/$FB/big/o5" >/dev/null; s3_code)"
t_eq "  reads outside the scope never fail" "200 200 200" "$(for k in a b c; do s3 "$HF_EP" GET "/$FB/dir/$k"; echo; done | xargs)"
t_eq "  writes never fail" 200 "$(s3 "$HF_EP" PUT "/$FB/big/o1" --data-binary 1)"
"$SF" faults "$HF_EP" '{"failMatch":"^dir/(a|b)$"}' 2>/dev/null
t_eq "faults: every read matching failMatch fails (GET, HEAD, a listing by its prefix)" "500 500 500 200 200" \
  "$({ s3 "$HF_EP" GET "/$FB/dir/a"; echo; s3 "$HF_EP" HEAD "/$FB/dir/b" -I; echo; s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2Fa"; echo
     s3 "$HF_EP" GET "/$FB/dir/c"; echo; s3 "$HF_EP" GET "/$FB?list-type=2&prefix=dir%2F"; echo; } | xargs)"
t_eq "  counted (3 matched, 6 failed in all)" "3 6" "$("$SF" faults "$HF_EP" | jq -r '"\(.matched) \(.injected)"')"
"$SF" faults "$HF_EP" '{}' 2>/dev/null
t_eq "faults: off again" 200 "$(s3 "$HF_EP" GET "/$FB/dir/a")"
t_eq "faults: a bad switch names the field" 400 \
  "$(curl -s -o "$WORK/fbody" -w '%{http_code}' -X PUT --data-binary '{"failMatch":"("}' "$HF_EP/_standin/faults")"
t_check "  (failMatch)" grep -q '^failMatch:' "$WORK/fbody"

# Storj's request limits: 429 SlowDown from the front, as gateway-st answers
# uplink.ErrTooManyRequests (miniogw/gateway.go ErrSlowDown), never forwarded
start_front LF --profile hosted --rate 2 || t_fail "front starts (rate 2/s)"
t_eq "limits: set at start, key writes at Storj's 1/s burst 3, Retry-After 12" \
  '{"rate":2,"burst":2,"keyWrites":{"rate":1,"burst":3},"retryAfter":12}' \
  "$("$SF" limits "$LF_EP" | jq -c 'del(.refused)')"
s3many() { # s3many EP METHOD DATA PATH...: one request per PATH on one connection, their statuses
  local ep=$1 m=$2 data=$3 p args=(); shift 3
  for p in "$@"; do args+=(-o /dev/null "$ep$p"); done
  [ -z "$data" ] || args=(--data-binary "$data" "${args[@]}")
  curl -s -w '%{http_code} ' -X "$m" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$FAK:$FSK" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "${args[@]}"
}
times() { local i; for ((i = 0; i < $1; i++)); do echo "$2"; done; }
codes=$(s3many "$LF_EP" GET "" $(times 20 "/$FB/dir/a"))
n200=$(grep -o 200 <<<"$codes" | wc -l) n429=$(grep -o 429 <<<"$codes" | wc -l)
t_check "limits: 20 reads at once at 2/s (burst 2): the first pass, most are refused ($codes)" \
  test "$n200" -ge 2 -a "$n200" -le 10 -a $((n200 + n429)) -eq 20 -a "${codes:0:8}" = "200 200 "
# one token every 4 s from here: what follows runs well within it
"$SF" limits "$LF_EP" '{"rate":0.25,"burst":1}' || t_fail "front takes limits (PUT /_standin/limits)"
t_eq "limits: set again, the bucket is full: a read passes" 200 "$(s3 "$LF_EP" GET "/$FB/dir/a")"
code=$(curl -s -D "$WORK/fhead" -o "$WORK/fbody" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
  --user "$FAK:$FSK" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$LF_EP/$FB/dir/a")
t_eq "limits: over the rate: 429 SlowDown (gateway-st's ErrSlowDown)" "429 SlowDown" "$code $(s3_code)"
t_check "  with its message" grep -q '<Message>Please reduce your request rate.</Message>' "$WORK/fbody"
t_check "  and Retry-After: 12 (storj/minio's default)" grep -qi '^Retry-After: 12' "$WORK/fhead"
t_check "  from the front (RGW was not asked)" grep -q '<HostId>storjfront-standin</HostId>' "$WORK/fbody"
t_eq "limits: a HEAD over the rate: 429 without Retry-After" "429 0" \
  "$(curl -s -I -o "$WORK/fhead" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$FAK:$FSK" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$LF_EP/$FB/dir/a") $(grep -ci '^Retry-After' "$WORK/fhead")"
sleep 4.2
t_eq "limits: after a pause a request passes" 200 "$(s3 "$LF_EP" GET "/$FB/dir/a")"
t_eq "  counted: refusals by the rate limit, every read as GetObject/HeadObject" "$((n429 + 2)) 23 1" \
  "$(stat_of "$LF_EP" '"\(.refused.rateLimit) \(.ops.GetObject) \(.ops.HeadObject)"')"
"$SF" limits "$LF_EP" '{"rate":0}' || t_fail "front takes limits: rate 0"
t_eq "limits: rate 0 is off, 20 reads at once pass" 20 "$(s3many "$LF_EP" GET "" $(times 20 "/$FB/dir/a") | grep -o 200 | wc -l)"
"$SF" reset "$LF_EP"
t_eq "limits: writes to one key at 1/s burst 3: the 4th quick one is refused, another key's passes" \
  "200 200 200 429 200 " \
  "$(s3many "$LF_EP" PUT kw $(times 4 "/$FB/kw/one") "/$FB/kw/two")"
sleep 1.2
t_eq "limits: a second later the key takes a write again" 200 "$(s3 "$LF_EP" PUT "/$FB/kw/one" --data-binary kw)"
t_eq "  counted: 1 refused by the key-write limit, 0 by the rate, 6 PutObject" "1 0 6" \
  "$(stat_of "$LF_EP" '"\(.refused.keyWriteLimit) \(.refused.rateLimit) \(.ops.PutObject)"')"
"$SF" key "$SH_EP" "$FAK" ENC_SECRETBOX "$FSK" 2>/dev/null
"$SF" limits "$SH_EP" '{"rate":0.25,"burst":2}'
"$SF" reset "$SH_EP"
t_eq "limits: a gateway-side listing's own requests count too (the listing, its lookup, then its first page refused)" \
  "429 SlowDown" "$(s3 "$SH_EP" GET "/$FB?list-type=2&prefix=dir%2Fzz") $(s3_code)"
t_eq "  counted: 1 S3 request, 2 of the gateway's, 1 refused" "1 2 1" \
  "$(stat_of "$SH_EP" '"\(.requests) \(.gatewayRequests) \(.refused.rateLimit)"')"
"$SF" limits "$SH_EP" '{}'
t_eq "limits: a bad limit names the field" 400 \
  "$(curl -s -o "$WORK/fbody" -w '%{http_code}' -X PUT --data-binary '{"keyWrites":{"burst":0}}' "$LF_EP/_standin/limits")"
t_check "  (keyWrites.burst)" grep -q '^keyWrites.burst:' "$WORK/fbody"
t_eq "limits: {} gives Storj's defaults" '{"rate":100,"burst":100,"keyWrites":{"rate":1,"burst":3},"retryAfter":12}' \
  "$("$SF" limits "$LF_EP" '{}' && "$SF" limits "$LF_EP" | jq -c 'del(.refused)')"

# the gateway stand-in and the Auth Service stand-in tell the front the cipher
NULL_GRANT=$(python3 "$GC" set "$GRANT" ENC_NULL)
t_eq "grantcipher: the sample grant (no cipher set) reads as ENC_AESGCM" ENC_AESGCM "$(python3 "$GC" show "$GRANT")"
t_eq "grantcipher: set ENC_NULL" ENC_NULL "$(python3 "$GC" show "$NULL_GRANT")"
GW2_PORT=$(free_port)
FRONT_HOSTPORT=${SH_EP#http://}
GW2=$(quiet "$DOCKER" run --pull never -d --network host "$GATEWAY_IMAGE" run --access "$NULL_GRANT" \
  --minio.access-key "gw2$FAK" --minio.secret-key "$FSK" --server.address "127.0.0.1:$GW2_PORT" \
  --standin.front "$FRONT_HOSTPORT" --s3.upload-part-copy.enable true)
CONTAINERS+=("$GW2")
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$GW2_PORT"
t_eq "gateway stand-in registered its key with the front: ENC_NULL, UploadPartCopy on" "ENC_NULL true true" \
  "$(stat_of "$SH_EP" ".keys[\"gw2$FAK\"] | \"\(.pathCipher) \(.uploadPartCopy) \(.secretKey.set)\"")"
t_check "  and says so in its log, without the grant" bash -c "'$DOCKER' logs '$GW2' 2>&1 | grep -q 'registered with the Storj-behaviour S3 front.*ENC_NULL' && ! '$DOCKER' logs '$GW2' 2>&1 | grep -qF '$NULL_GRANT'"
out=$(quiet "$DOCKER" run --pull never --rm --network host "$GATEWAY_IMAGE" run --access 1notagrant \
  --server.address "127.0.0.1:$(free_port)" --standin.front "$FRONT_HOSTPORT" 2>&1)
t_check "gateway stand-in with a front refuses a grant that does not decode" grep -q 'does not decode' <<<"$out"
: >"$WORK/authsvc3.log" # emptied first: a stale "listening" line would give an old port
python3 "$ROOT/tests/standins/authsvc.py" 0 --access-key "au$FAK" --secret-key "$FSK" \
  --endpoint "$HF_EP" --front "$HF_EP" >"$WORK/authsvc3.log" 2>&1 &
PIDS+=($!)
wait_until 10 grep -q listening "$WORK/authsvc3.log"
AUTH="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/authsvc3.log")"
t_eq "authsvc --front: registers the grant" 200 "$(req POST /v1/access "{\"access_grant\":\"$GRANT\"}" | cut -d' ' -f1)"
t_eq "  the front got the key as ENC_AESGCM" ENC_AESGCM "$(stat_of "$HF_EP" ".keys[\"au$FAK\"].pathCipher")"
req POST /v1/access "{\"access_grant\":\"$NULL_GRANT\"}" >/dev/null
t_eq "  then as ENC_NULL for the ENC_NULL grant" ENC_NULL "$(stat_of "$HF_EP" ".keys[\"au$FAK\"].pathCipher")"
t_eq "authsvc --front: a grant that does not decode -> 400" 400 "$(req POST /v1/access '{"access_grant":"1notagrant"}' | cut -d' ' -f1)"
t_check "  the log names the cipher, never the grant" bash -c \
  "grep -q 'cipher=ENC_NULL' '$WORK/authsvc3.log' && ! grep -qF '$NULL_GRANT' '$WORK/authsvc3.log'"
radosgw-admin -c "$CEPH_CONF" user rm --uid="$(printf %s "$FAK" | sha256sum | cut -c1-12 | sed 's/^/u-/')" \
  --purge-data >/dev/null 2>&1

# leave Ceph as we found it: this test's user and bucket go
radosgw-admin -c "$CEPH_CONF" user rm --uid="$(printf %s "$AK" | sha256sum | cut -c1-12 | sed 's/^/u-/')" \
  --purge-data >/dev/null 2>&1
t_end
