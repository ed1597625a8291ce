#!/bin/bash
# Print the object keys of a Ceph RGW bucket, one per line, sorted, read with
# radosgw-admin (no S3 credentials needed). In-progress multipart uploads and
# other RGW-internal entries are left out.
#
#   tests/env/s3-list.sh [-s] BUCKET [PREFIX]
#     -s   print "SIZE KEY" instead of "KEY"
#
# Exit 1 when the bucket does not exist. Env: CEPH_CONF, S3_DIR.
set -euo pipefail

SIZES=0
[ "${1:-}" = -s ] && { SIZES=1; shift; }
[ $# -ge 1 ] || { echo "usage: $0 [-s] BUCKET [PREFIX]" >&2; exit 2; }
BUCKET=$1 PREFIX=${2:-}
CONF=${CEPH_CONF:-${S3_DIR:-/tmp/srt/ceph}/ceph.conf}
[ -r "$CONF" ] || { echo "s3-list: no Ceph config at $CONF" >&2; exit 1; }

json=$(radosgw-admin -c "$CONF" bucket list --bucket="$BUCKET" --max-entries=10000000 2>/dev/null) ||
  { echo "s3-list: no bucket $BUCKET" >&2; exit 1; }
printf '%s' "$json" | python3 -c '
import json, sys
sizes, prefix = sys.argv[1] == "1", sys.argv[2]
out = []
for e in json.load(sys.stdin):
    name = e.get("name", "")
    # RGW index names: "_<ns>_..." is an internal namespace (multipart parts,
    # shadow objects); a real key that starts with "_" is stored as "__..."
    if name.startswith("_"):
        if not name.startswith("__"):
            continue
        name = name[1:]
    if e.get("exists") in (False, "false") or not name.startswith(prefix):
        continue
    out.append((name, e.get("meta", {}).get("size", 0)))
for name, size in sorted(out):
    print(f"{size} {name}" if sizes else name)
' "$SIZES" "$PREFIX"
