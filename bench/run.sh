#!/bin/bash
# Benchmarks (figures, not pass/fail; `make bench`, not part of `make test`).
# Writes every figure with its goal and the ratio into bench/results/latest.md:
#   1. browsing 1,000 repositories (2 tags each, every 10th multi-arch) through
#      GET /api/repositories, on local storage and on S3 (Ceph) behind
#      bench/latency_front.py adding 50 ms to every S3 request;
#   2. push and pull of 3 x 100 MiB layers, managed registry vs a bare
#      registry:3 (distribution defaults) on the same storage, local and Ceph;
#   3. backend memory idle, after 100,000 status requests and after the idle
#      trim; the shipped (static) backend of the extension image idle;
#   4. start to ready: cold (container created) vs bare `docker run`, warm
#      (after a stop) vs bare `docker start`, polled every 1 ms (wait_ready.c);
#   5. /api/status p99 at 10 and 200 connections, backend and load generator
#      pinned to different cores (taskset).
# Runs against the test engine (tests/env/docker-engine.sh), Ceph RGW
# (tests/env/ceph-s3.sh) and the registry test image, all on 127.0.0.1 and
# Unix sockets. Env: BENCH_RUNS (start runs, 5), BENCH_REPOS (1000),
# BENCH_SKIP="browse xfer s3" (parts to leave out).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=bench/results; mkdir -p "$OUT"
W=${BENCH_WORK:-/tmp/srt/bench}; rm -rf "$W"; mkdir -p "$W"
DOCKER=${DOCKER:-/usr/bin/docker}
RUNS=${BENCH_RUNS:-5}
REPOS=${BENCH_REPOS:-1000}
SKIP=" ${BENCH_SKIP:-} "
eval "$(tests/env/docker-engine.sh start)"; export DOCKER_HOST
eval "$(tests/env/images.sh registry)"
eval "$(tests/env/ceph-s3.sh)"
cc -O2 -Wall -Werror -pthread -o "$W/uds_load" bench/uds_load.c
cc -O2 -Wall -Werror -o "$W/wait_ready" bench/wait_ready.c
make -s all
SOCK=$W/api.sock
NCPU=$(nproc)
# the backend on the last core, the load generator on the first
BCPU=$((NCPU - 1)); LCPU=0

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kib() { awk '/RssAnon/ {print $2}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b - a) / 1e9}'; }
api() { curl -sf --unix-socket "$SOCK" -X "$1" ${3:+--data "$3"} "http://l$2"; }
s3_mkbucket() {
  curl -s -o /dev/null -X PUT --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$S3_ENDPOINT/$1"
}
s3_rmbucket() { radosgw-admin -c "${S3_DIR:-/tmp/srt/ceph}/ceph.conf" bucket rm --bucket="$1" --purge-objects >/dev/null 2>&1 || true; }
BUCKETS=()
cleanup() {
  [ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null
  [ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null
  [ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null
  $DOCKER rm -f bench-bare >/dev/null 2>&1 || true
  $DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true
  for b in "${BUCKETS[@]}"; do s3_rmbucket "$b"; done
}
trap cleanup EXIT
$DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true

PORT=$((30000 + RANDOM % 10000))
taskset -c "$BCPU" backend/storj-registryd --socket "$SOCK" --state-dir "$W/state" \
  --docker-socket "${DOCKER_HOST#unix://}" --network host --registry-image "$REGISTRY_IMAGE" >"$W/backend.log" 2>&1 &
BPID=$!
for _ in $(seq 50); do api GET /api/health >/dev/null && break; sleep 0.1; done
api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
wait_state() { for _ in $(seq 600); do api GET /api/status | grep -q "\"state\":\"$1\"" && return 0; sleep 0.05; done; return 1; }
managed_gone() { for _ in $(seq 200); do [ -z "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true)" ] && return 0; sleep 0.05; done; }
sleep 2
RSS_IDLE=$(rss_kib $BPID); ANON_IDLE=$(anon_kib $BPID)

# --- 3/5: memory over 100,000 status requests, latency pinned -----------------
L() { taskset -c "$LCPU" "$W/uds_load" "$SOCK" /api/status "$@"; }
L 10 5000 >/dev/null; RSS_50K=$(rss_kib $BPID)
L 10 5000 >/dev/null; RSS_100K=$(rss_kib $BPID); ANON_100K=$(anon_kib $BPID)
LAT10=$(L 10 2000); LAT200=$(L 200 100)
sleep 35 # the backend trims its heap when idle (every 15 monitor ticks)
RSS_CALM=$(rss_kib $BPID); ANON_CALM=$(anon_kib $BPID)
p() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" <<<"$2"; }

# --- 4: start to ready ---------------------------------------------------------
t0() { date +%s%N; }
cold=(); bare_run=(); warm=(); bare_start=()
printf '{"version":"0.1","storage":{"filesystem":{"rootdirectory":"/var/lib/registry"}},"http":{"addr":"127.0.0.1:%s"}}\n' \
  "$PORT" >"$W/config.yml"
BARE_RUN=($DOCKER run -d --name bench-bare --network host -e OTEL_TRACES_EXPORTER=none
  -v "$W/config.yml:/etc/distribution/config.yml:ro" "$REGISTRY_IMAGE" serve /etc/distribution/config.yml)
for i in $(seq "$RUNS"); do
  api DELETE /api/registry >/dev/null; managed_gone
  t=$(t0); api POST /api/registry/start >/dev/null; cold+=($("$W/wait_ready" "$PORT" "$t"))
  api DELETE /api/registry >/dev/null; managed_gone
  t=$(t0); "${BARE_RUN[@]}" >/dev/null; bare_run+=($("$W/wait_ready" "$PORT" "$t"))
  $DOCKER stop -t 5 bench-bare >/dev/null
  t=$(t0); $DOCKER start bench-bare >/dev/null; bare_start+=($("$W/wait_ready" "$PORT" "$t"))
  $DOCKER rm -f bench-bare >/dev/null
done
api POST /api/registry/start >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
for i in $(seq "$RUNS"); do
  api POST /api/registry/stop >/dev/null; wait_state stopped
  t=$(t0); api POST /api/registry/start >/dev/null; warm+=($("$W/wait_ready" "$PORT" "$t"))
done
COLD=$(printf '%s\n' "${cold[@]}" | median); BRUN=$(printf '%s\n' "${bare_run[@]}" | median)
WARM=$(printf '%s\n' "${warm[@]}" | median); BSTART=$(printf '%s\n' "${bare_start[@]}" | median)
RSS_END=$(rss_kib $BPID)

# --- 2: push and pull, managed vs bare -----------------------------------------
# xfer NAME PORT: docker push then (image removed) docker pull of the big image
declare -A XF
xfer() {
  local ref=127.0.0.1:$2/bench/big:1 t
  $DOCKER tag bench/big:1 "$ref"
  t=$(t0); $DOCKER push -q "$ref" >/dev/null; XF[$1-push]=$(secs "$t" "$(t0)")
  $DOCKER rmi -f "$ref" >/dev/null
}
xpull() {
  local ref=127.0.0.1:$2/bench/big:1 t
  $DOCKER rmi -f "$IMG_ID" >/dev/null 2>&1 || true
  t=$(t0); $DOCKER pull -q "$ref" >/dev/null; XF[$1-pull]=$(secs "$t" "$(t0)")
  $DOCKER tag "$ref" bench/big:1; $DOCKER rmi "$ref" >/dev/null
}
bare_s3() { # bare_s3 BUCKET: a registry:3 on Ceph with the S3 driver's defaults
  printf '{"version":"0.1","storage":{"s3":{"region":"%s","regionendpoint":"%s","bucket":"%s","accesskey":"%s","secretkey":"%s","forcepathstyle":true,"secure":false}},"http":{"addr":"127.0.0.1:%s"}}\n' \
    "$S3_REGION" "$S3_ENDPOINT" "$1" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$PORT" >"$W/config.yml"
  "${BARE_RUN[@]}" >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
}
s3_config() { # s3_config ENDPOINT BUCKET
  api PUT /api/config "{\"mode\":\"s3\",\"port\":$PORT,\"bucket\":\"$2\",\"s3\":{\"endpoint\":\"$1\",\"region\":\"$S3_REGION\",\"accessKey\":\"$S3_ACCESS_KEY\",\"secretKey\":\"$S3_SECRET_KEY\"}}" >/dev/null
}
managed_restart() {
  api DELETE /api/registry >/dev/null; managed_gone
  api POST /api/registry/start >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" 300000 >/dev/null || { api GET /api/status; exit 1; }
}
if [[ $SKIP != *" xfer "* ]]; then
  IMG_ID=$(SRT_WORK_DIR=$W tests/env/random-image.sh bench/big:1 3 102400)
  # bare first, then managed (a run before this order pushed to the managed
  # one first: see the README); each pull with the image removed locally
  api DELETE '/api/registry?purge=true' >/dev/null; managed_gone
  printf '{"version":"0.1","storage":{"filesystem":{"rootdirectory":"/var/lib/registry"}},"http":{"addr":"127.0.0.1:%s"}}\n' \
    "$PORT" >"$W/config.yml"
  "${BARE_RUN[@]}" >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
  xfer local-bare "$PORT"; $DOCKER stop -t 5 bench-bare >/dev/null
  api POST /api/registry/start >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
  xfer local-managed "$PORT"; xpull local-managed "$PORT"
  api POST /api/registry/stop >/dev/null; wait_state stopped
  $DOCKER start bench-bare >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
  xpull local-bare "$PORT"; $DOCKER rm -f bench-bare >/dev/null
  if [[ $SKIP != *" s3 "* ]]; then
    BM=srbm$RANDOM$RANDOM; BB=srbb$RANDOM$RANDOM; BUCKETS+=("$BM" "$BB"); s3_mkbucket "$BM"; s3_mkbucket "$BB"
    bare_s3 "$BB"; xfer s3-bare "$PORT"; $DOCKER stop -t 5 bench-bare >/dev/null
    s3_config "$S3_ENDPOINT" "$BM"; managed_restart
    xfer s3-managed "$PORT"; xpull s3-managed "$PORT"
    api DELETE /api/registry >/dev/null; managed_gone
    $DOCKER start bench-bare >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
    xpull s3-bare "$PORT"; $DOCKER rm -f bench-bare >/dev/null
    s3_rmbucket "$BM"; s3_rmbucket "$BB"
  fi
  $DOCKER rmi -f "$IMG_ID" >/dev/null 2>&1 || true
fi

# --- 1: browsing ----------------------------------------------------------------
# browse LABEL: every page of GET /api/repositories as the tab reads them
# (100 repositories first, then pages of 1,000 from nextOffset); the first
# answer's time, the total time, what was read, and where the time went:
# CPU seconds of the registry and of the backend (/proc/PID/stat) and the
# registry requests (its access log)
declare -A BR
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
reg_cid() { $DOCKER ps -q --filter "ancestor=$REGISTRY_IMAGE" | head -1; }
reg_requests() { $DOCKER logs "$1" 2>&1 | grep -cE '"(GET|HEAD) /v2/[^ ]' || true; }
browse() {
  local t first="" off=0 repos=0 tags=0 pages=0 j lim=100 cid rpid r0 b0 q0
  cid=$(reg_cid); rpid=$($DOCKER inspect -f '{{.State.Pid}}' "$cid")
  r0=$(ticks "$rpid"); b0=$(ticks "$BPID"); q0=$(reg_requests "$cid")
  t=$(t0)
  while :; do
    j=$(api GET "/api/repositories?offset=$off&limit=$lim") || { BR[$1]="error"; return; }
    pages=$((pages + 1)); [ -n "$first" ] || first=$(secs "$t" "$(t0)")
    repos=$((repos + $(jq '.repositories | length' <<<"$j")))
    tags=$((tags + $(jq '[.repositories[].tags | length] | add // 0' <<<"$j")))
    off=$(jq -r '.nextOffset' <<<"$j"); [ "$off" = null ] && break
    lim=1000
  done
  local total; total=$(secs "$t" "$(t0)")
  local rcpu bcpu nreq
  rcpu=$(awk -v a="$r0" -v b="$(ticks "$rpid")" 'BEGIN {printf "%.2f", (b - a) / 100}')
  bcpu=$(awk -v a="$b0" -v b="$(ticks "$BPID")" 'BEGIN {printf "%.2f", (b - a) / 100}')
  nreq=$(($(reg_requests "$cid") - q0))
  BR[$1]="$total s for $repos repositories, $tags tags in $pages answers (first answer, 100 repositories: $first s); $nreq registry requests, CPU: registry $rcpu s, backend $bcpu s"
  BR[$1-s]=$total
  BR[$1-first]=$first
}
# preview LABEL: the clean-up rules' preview over every repository (keep the
# newest tag): every tag's creation time is read (manifest, config blob)
preview() {
  local t j
  t=$(t0)
  j=$(api POST /api/retention/preview '{"rules":[{"repositories":"*","keepLast":1}]}') || { BR[$1]="error"; return; }
  BR[$1]="$(secs "$t" "$(t0)") s, $(jq -r '"\(.images) images and \(.tags) tags would go"' <<<"$j")"
  BR[$1-s]=$(secs "$t" "$(t0)")
}
if [[ $SKIP != *" browse "* ]]; then
  api PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
  api DELETE '/api/registry?purge=true' >/dev/null; managed_gone
  api POST /api/registry/start >/dev/null; "$W/wait_ready" "$PORT" "$(t0)" >/dev/null
  POPULATE_SALT=local python3 bench/populate.py "http://127.0.0.1:$PORT" "$REPOS" 16 >/dev/null
  browse local-cold; browse local-warm; preview local-preview
  RSS_BROWSE=$(rss_kib $BPID)
  if [[ $SKIP != *" s3 "* ]]; then
    BF=srbf$RANDOM$RANDOM; BUCKETS+=("$BF"); s3_mkbucket "$BF"
    api DELETE /api/registry >/dev/null; managed_gone # its port is the bare one's
    bare_s3 "$BF"; POPULATE_SALT=s3 python3 bench/populate.py "http://127.0.0.1:$PORT" "$REPOS" 16 >/dev/null
    $DOCKER rm -f bench-bare >/dev/null
    python3 bench/latency_front.py 0 127.0.0.1 "${S3_ENDPOINT##*:}" 50 >"$W/front.log" &
    FPID=$!
    for _ in $(seq 50); do grep -q listening "$W/front.log" && break; sleep 0.1; done
    FPORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$W/front.log")
    s3_config "http://127.0.0.1:$FPORT" "$BF"; managed_restart
    browse front-cold; browse front-warm; preview front-preview
    s3_rmbucket "$BF"
  fi
fi

# --- 3: the backend as shipped (extension image, static libcurl/OpenSSL) ------
SHIP=""
OCI=${BENCH_OCI:-build/storj-registry-extension-0.1.0.oci.tar}
if [ -f "$OCI" ]; then
  bench/oci-rootfs.sh "$OCI" "$W"
  # a container has /proc (the backend reads /proc/self/smaps for its idle trim)
  mount -t proc proc "$W/rootfs/proc"
  chroot "$W/rootfs" /storj-registryd --socket /run/guest-services/backend.sock --state-dir /data >"$W/ship.log" 2>&1 &
  RPID=$!
  sleep 3
  SHIP_IDLE="$(rss_kib $RPID) KiB ($(anon_kib $RPID) KiB anonymous)"
  SHIP_IDLE_RSS=$(rss_kib $RPID)
  SHIP_IDLE_BY=$(python3 bench/smaps.py $RPID)
  taskset -c "$LCPU" "$W/uds_load" "$W/rootfs/run/guest-services/backend.sock" /api/status 10 10000 >/dev/null
  SHIP_BUSY="$(rss_kib $RPID) KiB"
  SHIP_BUSY_BY=$(python3 bench/smaps.py $RPID)
  sleep 35
  SHIP="idle $SHIP_IDLE; right after 100,000 status requests $SHIP_BUSY; after the idle trim $(rss_kib $RPID) KiB ($(anon_kib $RPID) KiB anonymous)"
  SHIP_RSS=$(rss_kib $RPID)
  kill $RPID; RPID=""
  sleep 0.5; umount "$W/rootfs/proc" 2>/dev/null || true
fi

# --- the table ------------------------------------------------------------------
IMG=$($DOCKER image inspect --format '{{.Size}}' storj-registry-extension:0.1.0 2>/dev/null || echo "")
row() { echo "| $1 | $2 | $3 | $4 |"; }
{
  echo "# Benchmark results ($(date -u +%Y-%m-%dT%H:%MZ), $NCPU cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "Ratio: measured / goal (or managed / bare); at most 1 meets the goal."
  echo
  row figure measured goal ratio
  row --- --- --- ---
  if [ -n "${BR[local-cold]:-}" ]; then
    row "browse $REPOS repositories, local storage, first visit" "${BR[local-cold]}" "under 2 s" "$(ratio "${BR[local-cold-s]}" 2)"
    row "browse again (manifests cached by digest)" "${BR[local-warm]}" "under 2 s" "$(ratio "${BR[local-warm-s]}" 2)"
  fi
  if [ -n "${BR[front-cold]:-}" ]; then
    row "browse $REPOS repositories, Ceph behind a 50 ms front, first visit" "${BR[front-cold]}" "under 10 s" "$(ratio "${BR[front-cold-s]}" 10)"
    row "browse again, 50 ms front" "${BR[front-warm]}" "under 10 s" "$(ratio "${BR[front-warm-s]}" 10)"
  fi
  [ -z "${BR[local-preview]:-}" ] || row "clean-up rules preview, $REPOS repositories (keep the newest tag), local storage" "${BR[local-preview]}" "under 5 s" "$(ratio "${BR[local-preview-s]}" 5)"
  [ -z "${BR[front-preview]:-}" ] || row "clean-up rules preview, 50 ms front" "${BR[front-preview]}" "under 20 s" "$(ratio "${BR[front-preview-s]}" 20)"
  for s in local s3; do
    [ -n "${XF[$s-managed-push]:-}" ] || continue
    for d in push pull; do
      row "$d 3 x 100 MiB, $s storage: managed vs bare registry:3" "${XF[$s-managed-$d]} s vs ${XF[$s-bare-$d]} s" "at most 1.05x" "$(ratio "${XF[$s-managed-$d]}" "${XF[$s-bare-$d]}")"
    done
  done
  row "backend RSS idle (dev build, Debian's shared libraries)" "$RSS_IDLE KiB ($ANON_IDLE KiB anonymous)" "" ""
  row "backend RSS after 50,000 / 100,000 status requests" "$RSS_50K / $RSS_100K KiB ($ANON_100K KiB anonymous)" "flat" "$(ratio "$RSS_100K" "$RSS_50K")"
  row "backend RSS 35 s later (idle trim)" "$RSS_CALM KiB ($ANON_CALM KiB anonymous)" "flat" "$(ratio "$RSS_CALM" "$RSS_IDLE")"
  row "backend RSS after the start runs${RSS_BROWSE:+ / after browsing}" "$RSS_END${RSS_BROWSE:+ / $RSS_BROWSE} KiB" "" ""
  row "shipped backend (extension image, amd64), idle after start" "${SHIP:-no $OCI (make extension)}" "at most 3072 KiB" "${SHIP_IDLE_RSS:+$(ratio "$SHIP_IDLE_RSS" 3072)}"
  if [ -n "$SHIP" ]; then
    row "shipped backend after 100,000 requests and the idle trim" "$SHIP_RSS KiB" "at most 3072 KiB, flat" "$(ratio "$SHIP_RSS" 3072)"
    row "shipped backend idle, resident KiB by mapping (bench/smaps.py)" "$SHIP_IDLE_BY" "" ""
    row "shipped backend right after 100,000 requests, by mapping" "$SHIP_BUSY_BY" "" ""
  fi
  row "/api/status p99 at 10 connections (backend on core $BCPU, load on core $LCPU)" "p50 $(p p50_us "$LAT10") µs, p99 $(p p99_us "$LAT10") µs, $(p rps "$LAT10") req/s" "" ""
  row "/api/status p99 at 200 connections (pinned likewise)" "p50 $(p p50_us "$LAT200") µs, p99 $(p p99_us "$LAT200") µs, $(p rps "$LAT200") req/s" "under 2 ms" "$(ratio "$(p p99_us "$LAT200")" 2000)"
  row "cold start to ready (container created), median of $RUNS, 1 ms polling" "$COLD ms vs bare docker run $BRUN ms" "at most 1.1x" "$(ratio "$COLD" "$BRUN")"
  row "warm start to ready (after a stop), median of $RUNS" "$WARM ms vs bare docker start $BSTART ms" "at most 1.0x" "$(ratio "$WARM" "$BSTART")"
  row "extension image" "$([ -n "$IMG" ] && echo "$((IMG / 1024)) KiB" || echo "not loaded in the bench engine")" "under 15 MB" ""
  row "backend binary (dev build)" "$(stat -c %s backend/storj-registryd) bytes" "" ""
} | tee "$OUT/latest.md"
