#!/bin/bash
# Benchmarks (figures, not pass/fail): backend memory idle and after 10,000
# status requests, /api/status latency at 200 concurrent connections over the
# Unix socket, start-to-ready against a bare `docker run` of the same image,
# the extension image size and the UI payload. Writes bench/results/latest.md.
# Runs against the test engine (tests/env/docker-engine.sh) and the local
# registry test image, all on 127.0.0.1 / Unix sockets.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=bench/results; mkdir -p "$OUT"
W=/tmp/srt/bench; rm -rf "$W"; mkdir -p "$W"
DOCKER=${DOCKER:-/usr/bin/docker}
RUNS=${BENCH_RUNS:-5}
eval "$(tests/env/docker-engine.sh start)"; export DOCKER_HOST
eval "$(tests/env/images.sh registry)"
cc -O2 -Wall -Werror -pthread -o "$W/uds_load" bench/uds_load.c
make -s all
SOCK=$W/api.sock

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# the memory the process itself dirtied (heap, stacks, data), without the
# shared library pages that RSS also counts
private_kib() { awk '/^Private_Dirty/ {print $2}' "/proc/$1/smaps_rollup"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_ms() { date +%s%3N; }
cleanup() { [ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null; $DOCKER rm -f storj-registry bench-bare bench-ext >/dev/null 2>&1 || true; }
trap cleanup EXIT
$DOCKER rm -f $($DOCKER ps -aq --filter label=io.storj.registry.managed=true) >/dev/null 2>&1 || true

PORT=$((30000 + RANDOM % 10000))
backend/storj-registryd --socket "$SOCK" --state-dir "$W/state" --docker-socket "${DOCKER_HOST#unix://}" \
  --network host --registry-image "$REGISTRY_IMAGE" >"$W/backend.log" 2>&1 &
BPID=$!
for _ in $(seq 50); do curl -sf --unix-socket "$SOCK" http://l/api/health >/dev/null && break; sleep 0.1; done
curl -sf --unix-socket "$SOCK" -X PUT --data "{\"mode\":\"local\",\"port\":$PORT}" http://l/api/config >/dev/null
sleep 2
RSS_IDLE=$(rss_kib $BPID)
PRIV_IDLE=$(private_kib $BPID)

# 10,000 status requests on keep-alive connections, then the same again: growth?
"$W/uds_load" "$SOCK" /api/status 10 1000 >"$W/warm.txt"
RSS_10K=$(rss_kib $BPID)
"$W/uds_load" "$SOCK" /api/status 10 1000 >/dev/null
RSS_20K=$(rss_kib $BPID)
PRIV_20K=$(private_kib $BPID)

# latency at 200 concurrent connections
LAT10=$("$W/uds_load" "$SOCK" /api/status 10 2000)
LAT50=$("$W/uds_load" "$SOCK" /api/status 50 400)
LAT=$("$W/uds_load" "$SOCK" /api/status 200 100)
RSS_BURST=$(rss_kib $BPID); PRIV_BURST=$(private_kib $BPID)
sleep 35 # the backend trims its heap when idle (every 15 monitor ticks)
RSS_CALM=$(rss_kib $BPID); PRIV_CALM=$(private_kib $BPID)
p() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" <<<"${2:-$LAT}"; }

# start to ready: backend start (image present) vs bare docker run + polling
ready_wait() { for _ in $(seq 3000); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/v2/" && return 0; sleep 0.01; done; return 1; }
backend_ms=(); bare_ms=()
cat >"$W/config.yml" <<CFG
{"version":"0.1","storage":{"filesystem":{"rootdirectory":"/var/lib/registry"}},"http":{"addr":"127.0.0.1:$PORT"}}
CFG
for i in $(seq "$RUNS"); do
  curl -sf --unix-socket "$SOCK" -X DELETE http://l/api/registry >/dev/null
  for _ in $(seq 100); do [ -z "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true)" ] && break; sleep 0.1; done
  t0=$(now_ms)
  curl -sf --unix-socket "$SOCK" -X POST http://l/api/registry/start >/dev/null
  ready_wait "$PORT"; backend_ms+=($(( $(now_ms) - t0 )))
  curl -sf --unix-socket "$SOCK" -X DELETE http://l/api/registry >/dev/null
  for _ in $(seq 100); do [ -z "$($DOCKER ps -aq --filter label=io.storj.registry.managed=true)" ] && break; sleep 0.1; done
  t0=$(now_ms)
  $DOCKER run -d --name bench-bare --network host -v "$W/config.yml:/etc/storj-registry/config.yml:ro" \
    "$REGISTRY_IMAGE" serve /etc/storj-registry/config.yml >/dev/null
  ready_wait "$PORT"; bare_ms+=($(( $(now_ms) - t0 )))
  $DOCKER rm -f bench-bare >/dev/null
done
# warm: the registry was stopped, its container is reused (the usual Start)
warm_ms=()
curl -sf --unix-socket "$SOCK" -X POST http://l/api/registry/start >/dev/null; ready_wait "$PORT"
for i in $(seq "$RUNS"); do
  curl -sf --unix-socket "$SOCK" -X POST http://l/api/registry/stop >/dev/null
  for _ in $(seq 200); do curl -s --unix-socket "$SOCK" http://l/api/status | grep -q '"state":"stopped"' && break; sleep 0.05; done
  t0=$(now_ms)
  curl -sf --unix-socket "$SOCK" -X POST http://l/api/registry/start >/dev/null
  ready_wait "$PORT"; warm_ms+=($(( $(now_ms) - t0 )))
done
WARM=$(printf '%s\n' "${warm_ms[@]}" | median)
B=$(printf '%s\n' "${backend_ms[@]}" | median)
R=$(printf '%s\n' "${bare_ms[@]}" | median)
RATIO=$(awk -v b="$B" -v r="$R" 'BEGIN {printf "%.2f", b / r}')
RSS_END=$(rss_kib $BPID)
PRIV_END=$(private_kib $BPID)

# the backend as shipped (extension image: static slim libcurl/libmicrohttpd)
IMG_RSS=""
if $DOCKER image inspect storj-registry-extension:0.1.0 >/dev/null 2>&1; then
  mkdir -p "$W/gs"
  $DOCKER run -d --name bench-ext --network host -v "$W/gs:/run/guest-services" \
    -v "${DOCKER_HOST#unix://}:/var/run/docker.sock" storj-registry-extension:0.1.0 >/dev/null
  for _ in $(seq 50); do curl -sf --unix-socket "$W/gs/backend.sock" http://l/api/health >/dev/null && break; sleep 0.1; done
  sleep 2
  EPID=$($DOCKER inspect --format '{{.State.Pid}}' bench-ext)
  IMG_RSS="$(rss_kib "$EPID") KiB RSS, $(private_kib "$EPID") KiB private"
  "$W/uds_load" "$W/gs/backend.sock" /api/status 10 1000 >/dev/null || true
  IMG_RSS+="; after 10,000 requests $(rss_kib "$EPID") KiB RSS"
  $DOCKER rm -f bench-ext >/dev/null
fi

# sizes
IMG=$($DOCKER image inspect --format '{{.Size}}' storj-registry-extension:0.1.0 2>/dev/null || echo "")
UI_BYTES=$(cat ui/* | wc -c)
UI_GZ=$(for f in ui/*; do gzip -9c "$f"; done | wc -c)
BIN_BYTES=$(stat -c %s backend/storj-registryd)

{
  echo "# Benchmark results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  echo
  echo "| figure | value | goal |"
  echo "| --- | --- | --- |"
  echo "| backend RSS idle (dev build, Debian's shared libs) | $RSS_IDLE KiB ($PRIV_IDLE KiB private) | under 4096 KiB |"
  echo "| backend RSS idle as shipped in the extension image | ${IMG_RSS:-image not built} | under 4096 KiB |"
  echo "| backend RSS after 10,000 status requests | $RSS_10K KiB | no growth |"
  echo "| backend RSS after 20,000 | $RSS_20K KiB ($PRIV_20K KiB private) | no growth |"
  echo "| backend RSS right after the latency runs (60,000 requests, up to 200 connections) | $RSS_BURST KiB ($PRIV_BURST KiB private) | |"
  echo "| backend RSS 35 s later (idle trim) | $RSS_CALM KiB ($PRIV_CALM KiB private) | |"
  echo "| backend RSS after the start/stop runs | $RSS_END KiB ($PRIV_END KiB private) | |"
  echo "| /api/status at 10 concurrent connections (Unix socket) | p50 $(p p50_us "$LAT10") µs, p99 $(p p99_us "$LAT10") µs, $(p rps "$LAT10") req/s | |"
  echo "| /api/status at 50 concurrent connections | p50 $(p p50_us "$LAT50") µs, p99 $(p p99_us "$LAT50") µs, $(p rps "$LAT50") req/s | |"
  echo "| /api/status at 200 concurrent connections (Unix socket) | p50 $(p p50_us) µs, p90 $(p p90_us) µs, p99 $(p p99_us) µs, max $(p max_us) µs, $(p rps) req/s | p99 under 2 ms |"
  echo "| start to ready (image present, container created), median of $RUNS | backend $B ms vs bare docker run $R ms: ${RATIO}x | within 1.2x |"
  echo "| start to ready after a stop (container reused), median of $RUNS | backend $WARM ms vs bare docker run $R ms: $(awk -v b="$WARM" -v r="$R" 'BEGIN {printf "%.2f", b / r}')x | |"
  echo "| extension image | $([ -n "$IMG" ] && echo "$((IMG / 1024)) KiB" || echo "not built (make extension)") | under 15 MB |"
  echo "| UI payload (ui/) | $UI_BYTES bytes, $UI_GZ gzipped | |"
  echo "| backend binary | $BIN_BYTES bytes | |"
} | tee "$OUT/latest.md"
