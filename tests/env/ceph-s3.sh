#!/bin/bash
# Project copy of shared/tools/ceph-s3.sh (same interface; state under
# /tmp/srt/ceph by default). Extra RGW users: s3-user.sh; bucket keys: s3-list.sh.
#
# Throw-away single-node Ceph (Debian bookworm, Pacific 16.2) as a REAL S3 endpoint
# for integration tests: 1 mon, 1 OSD (memstore = RAM, or bluestore on a sparse
# file), no mgr, radosgw with the beast frontend on 127.0.0.1 and on the host
# address of tests/env/host-ip.sh (198.18.0.1), where containers on the test
# bridges reach it.  No systemd.
#
#   tests/env/ceph-s3.sh          start (or just report, if already up); exit 0 when S3 is ready
#   tests/env/ceph-s3.sh stop     stop the daemons this script started (PIDs from pid files)
#   eval "$(tests/env/ceph-s3.sh)"   -> S3_ENDPOINT, S3_HOST_ENDPOINT (the same RGW at
#                                       http://$HOST_IP:7480, for containers), S3_REGION,
#                                       S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET
#
# Idempotent: if the endpoint already answers HEAD /$S3_BUCKET (signed with the
# configured keys) it only prints the connection details.  Otherwise it stops
# daemons it started earlier, wipes $S3_DIR and bootstraps from scratch (~2-3 s
# with memstore, ~7 s with bluestore, on 2 cores). An RGW that answers on
# 127.0.0.1 only (started by an older copy of this script) gets the host
# address added to its frontend and only radosgw restarted (~1 s, data kept).
#
# Needs: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw
#        (or run with S3_INSTALL=1 as root); curl >= 7.75 (for --aws-sigv4).
#
# Env overrides:
#   S3_DIR              state dir                  (default /tmp/srt/ceph)
#   S3_PORT             radosgw port               (default 7480)
#   S3_MON_PORT         mon msgr2 port             (default 3300; msgr1 = +1)
#   S3_ACCESS_KEY / S3_SECRET_KEY
#   S3_BUCKET           bucket to pre-create       (default registry)
#   S3_OBJECTSTORE      memstore | bluestore       (default memstore)
#   S3_MEM_BYTES        memstore capacity          (default 6 GiB, data lives in OSD RAM,
#                       taken as it is written; a running OSD with less is grown)
#   S3_BLUESTORE_BYTES  sparse block file size     (default 20 GiB, allocated lazily)
#   S3_INSTALL=1        apt-get install the packages if missing
#   S3_TIMEOUT          seconds to wait per step   (default 60)
set -euo pipefail

DIR=${S3_DIR:-/tmp/srt/ceph}
PORT=${S3_PORT:-7480}
MON_PORT=${S3_MON_PORT:-3300}
MON_PORT_V1=$((MON_PORT + 1))
AK=${S3_ACCESS_KEY:-TESTACCESSKEY0000001}
SK=${S3_SECRET_KEY:-testsecretkey0000000000000000000000000001}
BUCKET=${S3_BUCKET:-registry}
OBJECTSTORE=${S3_OBJECTSTORE:-memstore}
MEM_BYTES=${S3_MEM_BYTES:-6442450944}
BLUESTORE_BYTES=${S3_BLUESTORE_BYTES:-21474836480}
TIMEOUT=${S3_TIMEOUT:-60}
ENDPOINT="http://127.0.0.1:${PORT}"
HOST_IP=$("$(dirname "${BASH_SOURCE[0]}")/host-ip.sh" | sed -n 's/^HOST_IP=//p')
[ -n "$HOST_IP" ] || { echo "[start-s3] ERROR: no host address (tests/env/host-ip.sh)" >&2; exit 1; }
HOST_ENDPOINT="http://${HOST_IP}:${PORT}"
FRONTENDS="beast endpoint=127.0.0.1:${PORT} endpoint=${HOST_IP}:${PORT}"
CONF="$DIR/ceph.conf"

log() { echo "[start-s3 $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; log "logs: $DIR/log/"; exit 1; }
trap 'log "ERROR: failed at line $LINENO (exit $?); logs: $DIR/log/"' ERR

s3curl() { # s3curl METHOD PATH [curl args...]  -> prints the HTTP status code
  local m=$1 p=$2; shift 2
  curl -s -o /dev/null -w '%{http_code}' -X "$m" --max-time 10 \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "$ENDPOINT$p" || true
}

wait_for() { # wait_for "description" command...   (polls every 0.2 s up to $TIMEOUT s)
  local what=$1 i; shift
  for ((i = 0; i < TIMEOUT * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "timed out after ${TIMEOUT}s waiting for $what"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_info() {
  cat <<EOF
S3_ENDPOINT=$ENDPOINT
S3_HOST_ENDPOINT=$HOST_ENDPOINT
S3_REGION=us-east-1
S3_ACCESS_KEY=$AK
S3_SECRET_KEY=$SK
S3_BUCKET=$BUCKET
CEPH_CONF=$CONF
EOF
}

stop_all() {
  # order matters: rgw, then osd, then mon (an osd shuts down slowly without a mon)
  local n f pid
  for n in client.rgw.a osd.0 mon.a; do
    f="$DIR/run/$n.pid"
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "stopping $n pid $pid"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

rgw_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ENDPOINT/")" = 200 ]; }
host_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$HOST_ENDPOINT/")" = 200 ]; }

# add_host_endpoint: the running RGW listens on 127.0.0.1 only; put the host
# address in its frontend line and restart radosgw alone (mon, OSD and the
# data stay). Serialised: several test runs may ask at once.
add_host_endpoint() {
  exec 9>"$DIR/run/frontend.lock"
  flock 9
  host_up && return 0
  log "adding $HOST_ENDPOINT to the running RGW (radosgw restart)"
  sed -i "s|^rgw frontends = .*|rgw frontends = $FRONTENDS|" "$CONF"
  local f=$DIR/run/client.rgw.a.pid pid
  pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  radosgw -c "$CONF" -n client.rgw.a 2>>"$DIR/log/daemon-stderr.log"
  wait_for "radosgw on $ENDPOINT" rgw_up
  wait_for "radosgw on $HOST_ENDPOINT" host_up
}

# grow_memstore: an OSD started with a smaller memstore than MEM_BYTES (an
# older copy of this script: 2 GiB, which parallel test runs fill, and a
# full OSD makes every write hang) gets the new capacity at run time
grow_memstore() {
  local have
  have=$(sed -n 's/^memstore device bytes = \([0-9]*\)$/\1/p' "$CONF" 2>/dev/null)
  [ -n "$have" ] && [ "$have" -lt "$MEM_BYTES" ] || return 0
  grep -q '^osd objectstore = memstore' "$CONF" || return 0
  log "growing the memstore from $have to $MEM_BYTES bytes"
  timeout 30 ceph -c "$CONF" tell osd.0 injectargs "--memstore_device_bytes=$MEM_BYTES" >/dev/null 2>&1 &&
    sed -i "s/^memstore device bytes = .*/memstore device bytes = $MEM_BYTES/" "$CONF"
}

case "${1:-start}" in
  stop) stop_all; exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac

# ---- already up? ---------------------------------------------------------
# a busy RGW may miss one answer: ask a few times before starting afresh
# (which wipes the store)
for _ in 1 2 3 4 5; do
  if [ "$(s3curl HEAD "/$BUCKET")" = "200" ]; then
    host_up || add_host_endpoint
    grow_memstore
    log "S3 already running at $ENDPOINT and $HOST_ENDPOINT"
    print_info
    exit 0
  fi
  [ -e "$DIR/run/client.rgw.a.pid" ] || break
  sleep 1
done

# ---- packages ------------------------------------------------------------
if ! command -v radosgw >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v ceph-mon >/dev/null; then
  [ "${S3_INSTALL:-0}" = "1" ] ||
    die "missing packages: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw (or S3_INSTALL=1)"
  log "installing ceph-mon ceph-osd radosgw (no recommends, ~67 MB download)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    ceph-mon ceph-osd radosgw >/dev/null
fi
command -v curl >/dev/null || die "curl missing"

# ---- fresh state ---------------------------------------------------------
stop_all
for p in "$PORT" "$MON_PORT" "$MON_PORT_V1"; do
  port_busy "$p" && die "127.0.0.1:$p is already in use by something else"
done
(exec 3<>"/dev/tcp/$HOST_IP/$PORT") 2>/dev/null && die "$HOST_IP:$PORT is already in use by something else"
rm -rf "$DIR"
mkdir -p "$DIR"/{mon/a,osd,rgw,run,log,crash}
FSID=$(uuidgen)

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:${MON_PORT},v1:127.0.0.1:${MON_PORT_V1}]
public addr = 127.0.0.1
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
mon data = $DIR/mon/\$id
osd data = $DIR/osd/\$id

# one replica, tiny PG counts, no mgr
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0
# commit maps every 0.1 s instead of 1 s: rgw's pool creation at first start
# goes from ~12 s to ~1 s
paxos propose interval = 0.1
paxos min wait = 0.01

# object store: memstore = RAM only (OSD RSS grows with stored data);
# bluestore = sparse file next to the osd dir (OSD RSS stays ~100-150 MB)
osd objectstore = $OBJECTSTORE
memstore device bytes = $MEM_BYTES
bluestore block path = $DIR/osd/block.\$id
bluestore block create = true
bluestore block size = $BLUESTORE_BYTES
bluestore fsck on mkfs = false
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 134217728
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2

# rgw: reclaim deleted/overwritten data after 60 s (default 2 h)
rgw gc obj min wait = 60
rgw gc processor period = 60

[client.rgw.a]
rgw frontends = $FRONTENDS
rgw data = $DIR/rgw
rgw enable usage log = false
rgw thread pool size = 64
EOF
export CEPH_CONF="$CONF"
CEPH="ceph -c $CONF --connect-timeout 10"

# ---- mon -----------------------------------------------------------------
log "bootstrap mon ($OBJECTSTORE osd, state in $DIR)"
ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" \
  --addv a "[v2:127.0.0.1:${MON_PORT},v1:127.0.0.1:${MON_PORT_V1}]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" \
  >>"$DIR/log/mon-mkfs.log" 2>&1 || die "ceph-mon --mkfs failed"
ceph-mon -c "$CONF" -i a 2>>"$DIR/log/daemon-stderr.log"   # forks into background, pid in run/mon.a.pid
wait_for "mon quorum" $CEPH mon stat

# ---- osd -----------------------------------------------------------------
log "create + start osd"
OSD_UUID=$(uuidgen)
OSD_KEY=$(ceph-authtool --gen-print-key)
echo "{\"cephx_secret\": \"$OSD_KEY\"}" >"$DIR/osd-new.json"
OSD_ID=$($CEPH osd new "$OSD_UUID" -i "$DIR/osd-new.json")
rm -f "$DIR/osd-new.json"
[ "$OSD_ID" = 0 ] || die "unexpected osd id '$OSD_ID'"
mkdir -p "$DIR/osd/$OSD_ID"
# memstore/bluestore mkfs do not write a keyring file; the OSD needs its key in one
printf '[osd.%s]\n\tkey = %s\n' "$OSD_ID" "$OSD_KEY" >>"$DIR/keyring"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --key "$OSD_KEY" --osd-uuid "$OSD_UUID" \
  >>"$DIR/log/osd-mkfs.log" 2>&1 || die "ceph-osd --mkfs failed"
ceph-osd -c "$CONF" -i "$OSD_ID" 2>>"$DIR/log/daemon-stderr.log"
osd_up() { $CEPH osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up"; }
wait_for "osd.$OSD_ID up" osd_up

# ---- rgw -----------------------------------------------------------------
log "start radosgw on $ENDPOINT"
$CEPH auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' >>"$DIR/keyring"
radosgw -c "$CONF" -n client.rgw.a 2>>"$DIR/log/daemon-stderr.log"
wait_for "radosgw on $ENDPOINT" rgw_up
wait_for "radosgw on $HOST_ENDPOINT" host_up

log "create user + bucket '$BUCKET'"
radosgw-admin -c "$CONF" user create --uid=test --display-name=test \
  --access-key="$AK" --secret-key="$SK" >/dev/null 2>>"$DIR/log/radosgw-admin.log"
bucket_ok() { s3curl PUT "/$BUCKET" >/dev/null; [ "$(s3curl HEAD "/$BUCKET")" = 200 ]; }
wait_for "bucket $BUCKET" bucket_ok
log "S3 ready at $ENDPOINT and $HOST_ENDPOINT"
print_info
