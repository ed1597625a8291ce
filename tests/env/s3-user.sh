#!/bin/bash
# Create (or update) an extra Ceph RGW user with the given S3 key pair, and
# optionally buckets owned by that user. Idempotent. Needs the Ceph started by
# tests/env/ceph-s3.sh (its CEPH_CONF; default /tmp/srt/ceph/ceph.conf).
#
#   tests/env/s3-user.sh ACCESS_KEY SECRET_KEY [BUCKET...]
#
# Prints S3_USER=<uid> on stdout (progress on stderr). The uid is
# $S3_USER_UID, or "u-" plus the first 12 hex digits of sha256(ACCESS_KEY), so
# the same key pair always maps to the same user. A bucket that already
# exists and is owned by this user is fine; one owned by someone else fails.
# Env: CEPH_CONF, S3_DIR, S3_PORT (7480), S3_REGION (us-east-1).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 ACCESS_KEY SECRET_KEY [BUCKET...]" >&2; exit 2; }
AK=$1 SK=$2
shift 2
CONF=${CEPH_CONF:-${S3_DIR:-/tmp/srt/ceph}/ceph.conf}
ENDPOINT="http://127.0.0.1:${S3_PORT:-7480}"
REGION=${S3_REGION:-us-east-1}
UID_=${S3_USER_UID:-u-$(printf %s "$AK" | sha256sum | cut -c1-12)}

log() { echo "[s3-user] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -r "$CONF" ] || die "no Ceph config at $CONF (start tests/env/ceph-s3.sh first)"
RGWA=(radosgw-admin -c "$CONF")

if "${RGWA[@]}" user info --uid="$UID_" >/dev/null 2>&1; then
  # make sure this exact key pair is on the user (key create replaces the
  # secret of an existing access key)
  "${RGWA[@]}" key create --uid="$UID_" --key-type=s3 \
    --access-key="$AK" --secret-key="$SK" >/dev/null 2>&1 ||
    die "could not set the key on existing user $UID_ (access key used by another user?)"
  log "user $UID_ exists; key pair set"
else
  "${RGWA[@]}" user create --uid="$UID_" --display-name="$UID_" \
    --access-key="$AK" --secret-key="$SK" >/dev/null 2>&1 ||
    die "radosgw-admin user create $UID_ failed (access key used by another user?)"
  log "user $UID_ created"
fi

s3code() { # METHOD PATH -> HTTP status, signed with the new user's keys
  curl -s -o /dev/null -w '%{http_code}' -X "$1" --max-time 10 \
    --aws-sigv4 "aws:amz:$REGION:s3" --user "$AK:$SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$ENDPOINT$2" || true
}

# RGW may need a moment before a brand-new key authenticates
for b in "$@"; do
  ok=
  for _ in $(seq 1 50); do
    c=$(s3code PUT "/$b")
    # 200: created; 409 BucketAlreadyOwnedByYou / BucketAlreadyExists: check HEAD
    if [ "$(s3code HEAD "/$b")" = 200 ]; then ok=1; break; fi
    [ "$c" = 409 ] && die "bucket $b exists and belongs to another user"
    sleep 0.2
  done
  [ -n "$ok" ] || die "could not create bucket $b as $UID_"
  log "bucket $b ready (owner $UID_)"
done
echo "S3_USER=$UID_"
