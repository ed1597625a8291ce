#!/bin/bash
# The index's figures (issue 17), side by side with their goals, into
# bench/results/index-latest.md (figures, not pass/fail; `make bench-index`):
#   1. bench/index_bench.c on an index of BENCH_INDEX_REPOS (10,000)
#      repositories x 5 tags: the first page of 100 (by name, by size), a
#      search among the 50,000 tags, the clean-up preview's input and plan
#      over 20,000 tags, push events stored, bytes a tag; wall and CPU time
#      (the CPU time is what a loaded machine does not inflate);
#   2. the backend (development build) idle with that index in its state
#      folder: resident memory;
#   3. a push visible in GET /api/repositories?source=index: the time from
#      `docker push` returning to the tag being listed, 5 pushes, local
#      storage on the test engine;
#   4. the first reading of BENCH_RECONCILE_REPOS (1,000) repositories x 2
#      tags (every 10th multi-arch; bench/populate.py) by a fresh index, s3
#      mode on Ceph through the Storj-rules front with Storj's 100 requests a
#      second: seconds, storage requests a tag, refusals; what browsing lists
#      while it runs.
# The index is read from SQLite on local disk: what the storage costs (the
# 50 ms front of bench/run.sh) does not enter any of these figures; it only
# delays when a push's size is known (the reading after its event).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=bench/results; mkdir -p "$OUT"
W=${BENCH_WORK:-/tmp/srt/bench-index}; rm -rf "$W"; mkdir -p "$W/state"
REPOS=${BENCH_INDEX_REPOS:-10000}
make -s all
cc -O2 -Wall -Werror -D_GNU_SOURCE -Ibackend $(pkg-config --cflags jansson sqlite3) \
  -o "$W/index_bench" bench/index_bench.c backend/regindex.o backend/retention.o backend/util.o \
  backend/browse.o backend/errors.o backend/httpc.o \
  $(pkg-config --libs jansson sqlite3 libcurl libcrypto) -pthread
{
  echo "# The index ($(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "| figure | measured | goal | ratio |"
  echo "| --- | --- | --- | --- |"
} >"$W/table.md"
"$W/index_bench" "$W/state" "$REPOS" 5 | tee -a "$W/table.md"

# idle_row SOCKET WHAT GOAL: the backend that runs as $BPID and answers on
# SOCKET shows a first page of the index, then idles; its resident memory
# becomes a row. The index gives its caches, heap and code pages back after
# 16 s without work, the monitor every 30 s: 40 s covers both.
idle_row() {
  local sock=$1 what=$2 goal=$3 rss anon tags
  for _ in $(seq 100); do curl -sf --unix-socket "$sock" http://l/api/health >/dev/null && break; sleep 0.1; done
  curl -sf --unix-socket "$sock" "http://l/api/repositories?source=index&limit=100" >/dev/null || true
  sleep 40
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$BPID/status")
  anon=$(awk '/RssAnon/ {print $2}' "/proc/$BPID/status")
  tags=$(curl -sf --unix-socket "$sock" http://l/api/status | jq -r '.index.tags')
  echo "| backend idle ($what) with an index of $tags tags, idle 40 s after a first page | $rss KiB ($anon KiB anonymous) | $goal | $(awk -v a="$rss" 'BEGIN {printf "%.2f", a / 4096}') |" |
    tee -a "$W/table.md"
  kill "$BPID"; wait "$BPID" 2>/dev/null || true
}

# the backend idle with that index (no Docker engine: it waits for one)
BIN=backend/storj-registryd
SR_INDEX_PERIOD=3600 "$BIN" --socket "$W/api.sock" --state-dir "$W/state" \
  --docker-socket "$W/no-docker.sock" >"$W/backend.log" 2>&1 &
BPID=$!
trap 'kill $BPID 2>/dev/null || true' EXIT
idle_row "$W/api.sock" "development build, Debian's shared libraries" "at most 4096 KiB (shipped, static)"

# the same as shipped: the static backend of the extension image (amd64),
# in a chroot of its own file system, with the same index in /data
OCI=${BENCH_OCI:-build/storj-registry-extension-0.1.0.oci.tar}
if [ -f "$OCI" ]; then
  bench/oci-rootfs.sh "$OCI" "$W"
  cp -a "$W/state/." "$W/rootfs/data/"
  mount -t proc proc "$W/rootfs/proc"
  SR_INDEX_PERIOD=3600 chroot "$W/rootfs" /storj-registryd --socket /run/guest-services/backend.sock \
    --state-dir /data --docker-socket /run/no-docker.sock >"$W/ship.log" 2>&1 &
  BPID=$!
  trap 'kill $BPID 2>/dev/null || true; umount "$W/rootfs/proc" 2>/dev/null || true' EXIT
  idle_row "$W/rootfs/run/guest-services/backend.sock" "as shipped: extension image, amd64, static" "at most 4096 KiB"
  sleep 0.5; umount "$W/rootfs/proc" 2>/dev/null || true
else
  echo "| backend idle as shipped | not measured: no $OCI (make extension) | at most 4096 KiB | |" | tee -a "$W/table.md"
fi

# a push visible in the index
if [ -z "${BENCH_SKIP_PUSH:-}" ]; then
  eval "$(tests/env/docker-engine.sh start)"; export DOCKER_HOST
  eval "$(tests/env/images.sh registry)"
  DOCKER=${DOCKER:-/usr/bin/docker}
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$W/state2"; mkdir -p "$W/state2"
  $DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true
  "$BIN" --socket "$W/api2.sock" --state-dir "$W/state2" --docker-socket "${DOCKER_HOST#unix://}" \
    --registry-image "$REGISTRY_IMAGE" >"$W/backend2.log" 2>&1 &
  BPID=$!
  trap 'kill $BPID 2>/dev/null || true; $DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true' EXIT
  for _ in $(seq 100); do curl -sf --unix-socket "$W/api2.sock" http://l/api/health >/dev/null && break; sleep 0.1; done
  curl -sf --unix-socket "$W/api2.sock" -X PUT --data "{\"port\":$PORT}" http://l/api/config >/dev/null
  curl -sf --unix-socket "$W/api2.sock" -X POST http://l/api/registry/start >/dev/null
  for _ in $(seq 300); do [ "$(curl -sf --unix-socket "$W/api2.sock" http://l/api/status | jq -r .state)" = running ] && break; sleep 0.2; done
  tests/env/random-image.sh bench-src/ix:1 1 64 >/dev/null
  times=()
  for i in 1 2 3 4 5; do
    $DOCKER tag bench-src/ix:1 "localhost:$PORT/bench/visible:$i"
    $DOCKER push "localhost:$PORT/bench/visible:$i" >/dev/null 2>&1
    t0=$(date +%s%N)
    for _ in $(seq 2000); do
      curl -sf --unix-socket "$W/api2.sock" "http://l/api/repositories?source=index&q=bench/visible" |
        jq -e --arg t "$i" '.repositories[0].tags[] | select(.tag == $t)' >/dev/null && break
      sleep 0.005
    done
    times+=($((($(date +%s%N) - t0) / 1000000)))
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  echo "| a push visible in the index after \`docker push\` returned (5 pushes, local storage) | median $med ms (all: $sorted) | under 1 s | $(awk -v a="$med" 'BEGIN {printf "%.2f", a / 1000}') |" |
    tee -a "$W/table.md"
fi
# the first reading of a registry the index has never seen, through the
# Storj-rules front with Storj's request limit (100 a second, 429 SlowDown)
if [ -z "${BENCH_SKIP_RECONCILE:-}" ]; then
  eval "$(tests/env/docker-engine.sh start)"; export DOCKER_HOST
  eval "$(tests/env/images.sh registry)"
  eval "$(tests/env/ceph-s3.sh)"
  DOCKER=${DOCKER:-/usr/bin/docker}
  NREC=${BENCH_RECONCILE_REPOS:-1000}
  BK=srix$RANDOM$RANDOM
  curl -s -o /dev/null -X PUT --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$S3_ENDPOINT/$BK"
  BPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf '{"version":"0.1","storage":{"s3":{"region":"%s","regionendpoint":"%s","bucket":"%s","accesskey":"%s","secretkey":"%s","forcepathstyle":true,"secure":false,"rootdirectory":"/"}},"http":{"addr":"127.0.0.1:%s"}}\n' \
    "$S3_REGION" "$S3_ENDPOINT" "$BK" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$BPORT" >"$W/bare.yml"
  $DOCKER rm -f bench-ix-bare >/dev/null 2>&1 || true
  $DOCKER run -d --name bench-ix-bare --network host -v "$W/bare.yml:/etc/bare.yml:ro" "$REGISTRY_IMAGE" serve /etc/bare.yml >/dev/null
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$BPORT/v2/" >/dev/null && break; sleep 0.1; done
  POPULATE_SALT=ix python3 bench/populate.py "http://127.0.0.1:$BPORT" "$NREC" 16 >/dev/null
  $DOCKER rm -f bench-ix-bare >/dev/null
  eval "$(tests/standins/storjfront.sh start --default-cipher ENC_NULL --rate 100 --key-write-rate 1 --key-write-burst 3)"
  trap 'kill $BPID $FRONT_PID 2>/dev/null || true; $DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true' EXIT
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$W/state3"; mkdir -p "$W/state3"
  $DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true
  SR_INDEX_PERIOD=3600 "$BIN" --socket "$W/api3.sock" --state-dir "$W/state3" --network host \
    --docker-socket "${DOCKER_HOST#unix://}" --registry-image "$REGISTRY_IMAGE" >"$W/backend3.log" 2>&1 &
  BPID=$!
  A3() { curl -sf --unix-socket "$W/api3.sock" "$@"; }
  for _ in $(seq 100); do A3 http://l/api/health >/dev/null && break; sleep 0.1; done
  A3 -X PUT --data "{\"mode\":\"s3\",\"port\":$PORT,\"bucket\":\"$BK\",\"s3\":{\"endpoint\":\"$FRONT_ENDPOINT\",\"region\":\"$S3_REGION\",\"accessKey\":\"$S3_ACCESS_KEY\",\"secretKey\":\"$S3_SECRET_KEY\"}}" http://l/api/config >/dev/null
  A3 -X POST http://l/api/registry/start >/dev/null
  for _ in $(seq 600); do [ "$(A3 http://l/api/status | jq -r .state)" = running ] && break; sleep 0.2; done
  curl -s -o /dev/null -X POST "$FRONT_ENDPOINT/_standin/reset"
  t0=$(date +%s%N); mid=""
  for _ in $(seq 36000); do
    st=$(A3 http://l/api/status)
    [ "$(jq -r .index.state <<<"$st")" = ready ] && break
    # browsing answers from what is known meanwhile
    if [ -z "$mid" ] && [ "$(jq -r .index.repositories <<<"$st")" -gt $((NREC / 2)) ]; then
      mid=$(A3 "http://l/api/repositories?source=index&limit=100" | jq -r '"\(.total) repositories listed while the reading ran"')
    fi
    sleep 0.1
  done
  secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
  stats=$(curl -s "$FRONT_ENDPOINT/_standin/stats")
  req=$(jq -r .requests <<<"$stats"); refused=$(jq -r '.refused.rateLimit // 0' <<<"$stats")
  tags=$(A3 http://l/api/status | jq -r .index.tags)
  echo "| first reading of $NREC repositories ($tags tags) by the index, s3 through the Storj-rules front at 100 requests a second | $secs s; $req storage requests ($(awk -v a="$req" -v b="$tags" 'BEGIN {printf "%.1f", a / b}') a tag), $refused refused with 429 SlowDown and retried by the registry; ${mid:-the reading ended before half was known} | reported | |" |
    tee -a "$W/table.md"
  kill $BPID; wait $BPID 2>/dev/null || true
  tests/standins/storjfront.sh stop "$FRONT_PID" >/dev/null 2>&1 || true
fi
cp "$W/table.md" "$OUT/index-latest.md"
echo "written: $OUT/index-latest.md"
