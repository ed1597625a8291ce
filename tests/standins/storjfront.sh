#!/bin/bash
# Start, drive and stop the Storj-behaviour S3 front (storjfront.py, a test
# stand-in for the S3 rules of Storj's gateways, in front of Ceph RGW).
#
#   storjfront.sh start [--profile hosted|selfhosted] [--port P] [--upstream H:P]
#                       [--exhaustive-limit N] [--default-cipher C] [--log FILE]
#                       [--fail-one-in N] [--fail-burst K] [--fail-scope RE]
#                       [--fail-match RE] [--rate R] [--burst N]
#                       [--key-write-rate R] [--key-write-burst N] [--retry-after S]
#       starts it in the background and prints, for eval:
#         FRONT_ENDPOINT=http://127.0.0.1:P   (S3 endpoint, and the control endpoint)
#         FRONT_HOST_ENDPOINT=http://$HOST_IP:P  (only when $HOST_IP is set: what
#                                                 bridged containers use)
#         FRONT_PORT=P FRONT_PID=N FRONT_LOG=FILE
#       Defaults: profile selfhosted, a free port, upstream 127.0.0.1:7480.
#   storjfront.sh key ENDPOINT ACCESS_KEY CIPHER [SECRET_KEY] [upc]
#       tells the front which path cipher (ENC_NULL, ENC_AESGCM, ENC_SECRETBOX,
#       ENC_UNSPECIFIED) the grant behind ACCESS_KEY has; ENC_NULL allows what a
#       plain gateway allows, anything else applies the encrypted-keys rules.
#       SECRET_KEY lets the selfhosted profile list exhaustively; "upc"
#       enables UploadPartCopy for that key (gateway --s3.upload-part-copy.enable).
#   storjfront.sh stats ENDPOINT      counters as JSON (exhaustiveListings, ...)
#   storjfront.sh reset ENDPOINT      counters back to 0
#   storjfront.sh faults ENDPOINT [JSON]
#       sets the fault switches (reads only, answered 500 InternalError):
#       {"failOneIn": N, "failBurst": K, "failScope": RE, "failMatch": RE},
#       missing ones off ('{}': all off); without JSON prints them with their
#       counters. failOneIn: every Nth read fails (only reads whose key, or a
#       listing's prefix, matches failScope count); failBurst: the key picked
#       fails its next K-1 reads too (outlasting the S3 client's own retries);
#       failMatch: every read whose key or prefix matches fails.
#   storjfront.sh limits ENDPOINT [JSON]
#       sets Storj's request limits, answered 429 SlowDown (Retry-After S):
#       {"rate": R, "burst": N, "keyWrites": {"rate": R, "burst": N},
#       "retryAfter": S}; a missing field takes Storj's default (rate 100/s,
#       burst = rate, key writes 1/s burst 3, Retry-After 12); rate 0 turns
#       that limit off. Without JSON prints them with their refusals. At
#       start they are Storj's defaults (--rate 0 --key-write-rate 0: off).
#   storjfront.sh stop PID            stops the front started with that pid
#   storjfront.sh gateway-image HOST:PORT [BASE_IMAGE]
#       builds (in $DOCKER_HOST's engine) an image FROM the gateway stand-in
#       (default storj-registry-test/gateway-standin:1) with
#       STORJ_STANDIN_FRONT=HOST:PORT, for the backend's --gateway-image, and
#       prints GATEWAY_FRONT_IMAGE=storj-registry-test/gateway-standin:front-...
#
# To make a storage check refuse or pass:
#   hosted profile + key registered with ENC_AESGCM: a listing whose prefix does
#     not end in '/' answers 501 NotImplemented; with ENC_NULL it is served.
#   selfhosted profile + ENC_AESGCM: such a listing is served after an
#     exhaustive listing (counted) of the prefix's directory; with
#     --exhaustive-limit N and more than N objects there, 501 NotImplemented.
#   any profile: UploadPartCopy answers 501 unless "upc"; a multipart upload
#     with a non-final part under 5 MiB fails at completion with EntityTooSmall.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,55p' "$0" >&2; exit 2; }

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case $cmd in
  start)
    args=() logf=
    while [ $# -gt 0 ]; do
      case $1 in
        --log) logf=$2; shift 2 ;;
        --profile | --port | --upstream | --exhaustive-limit | --default-cipher | --min-part-size | --listen | \
          --fail-one-in | --fail-burst | --fail-scope | --fail-match | --rate | --burst | \
          --key-write-rate | --key-write-burst | --retry-after)
          [ $# -ge 2 ] || usage
          args+=("$1" "$2"); shift 2 ;;
        *) usage ;;
      esac
    done
    [ -n "$logf" ] || logf=$(mktemp "${TMPDIR:-/tmp}/storjfront.XXXXXX.log")
    : >"$logf"
    setsid python3 "$HERE/storjfront.py" "${args[@]}" >>"$logf" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 100); do
      grep -q 'listening on' "$logf" && break
      kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2; echo "storjfront did not start" >&2; exit 1; }
      sleep 0.1
    done
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$logf" | head -1)
    [ -n "$port" ] || { cat "$logf" >&2; kill "$pid" 2>/dev/null; exit 1; }
    echo "FRONT_ENDPOINT=http://127.0.0.1:$port"
    if [ -n "${HOST_IP:-}" ] && grep -q "listening on .*$HOST_IP:$port" "$logf"; then
      echo "FRONT_HOST_ENDPOINT=http://$HOST_IP:$port"
    fi
    echo "FRONT_PORT=$port"
    echo "FRONT_PID=$pid"
    echo "FRONT_LOG=$logf"
    ;;
  key)
    [ $# -ge 3 ] || usage
    ep=$1 ak=$2 cipher=$3 sk=${4:-} upc=false
    [ "${5:-}" = upc ] && upc=true
    body=$(python3 -c 'import json, sys
d = {"pathCipher": sys.argv[1], "uploadPartCopy": sys.argv[3] == "true", "source": "storjfront.sh"}
if sys.argv[2]: d["secretKey"] = sys.argv[2]
print(json.dumps(d))' "$cipher" "$sk" "$upc")
    code=$(curl -s -o /dev/stderr -w '%{http_code}' -X PUT --data-binary "$body" "$ep/_standin/keys/$ak")
    [ "$code" = 204 ]
    ;;
  stats) [ $# -eq 1 ] || usage; curl -sf "$1/_standin/stats" ;;
  reset) [ $# -eq 1 ] || usage; curl -sf -X POST "$1/_standin/reset" ;;
  faults)
    [ $# -ge 1 ] && [ $# -le 2 ] || usage
    if [ $# -eq 1 ]; then curl -sf "$1/_standin/faults"; exit; fi
    out=$(curl -s -w '\n%{http_code}' -X PUT --data-binary "$2" "$1/_standin/faults") || exit 1
    [ "${out##*$'\n'}" = 204 ] || { echo "storjfront: faults: ${out%$'\n'*}" >&2; exit 1; }
    ;;
  limits)
    [ $# -ge 1 ] && [ $# -le 2 ] || usage
    if [ $# -eq 1 ]; then curl -sf "$1/_standin/limits"; exit; fi
    out=$(curl -s -w '\n%{http_code}' -X PUT --data-binary "$2" "$1/_standin/limits") || exit 1
    [ "${out##*$'\n'}" = 204 ] || { echo "storjfront: limits: ${out%$'\n'*}" >&2; exit 1; }
    ;;
  stop)
    [ $# -eq 1 ] || usage
    kill "$1" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
    ;;
  gateway-image)
    [ $# -ge 1 ] || usage
    [[ $1 =~ ^[0-9.]+:[0-9]+$ ]] || { echo "storjfront: gateway-image needs a numeric HOST:PORT" >&2; exit 2; }
    base=${2:-storj-registry-test/gateway-standin:1}
    tag=storj-registry-test/gateway-standin:front-${1//[.:]/-}
    ctx=$(mktemp -d)
    printf 'FROM %s\nENV STORJ_STANDIN_FRONT=%s\nLABEL org.opencontainers.image.title="gateway stand-in behind the Storj-behaviour S3 front at %s"\n' \
      "$base" "$1" "$1" >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 "${DOCKER:-docker}" build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1 ||
      { cat "$ctx/build.log" >&2; rm -rf "$ctx"; exit 1; }
    rm -rf "$ctx"
    echo "GATEWAY_FRONT_IMAGE=$tag"
    ;;
  *) usage ;;
esac
