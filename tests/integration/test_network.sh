#!/bin/bash
# The network the publish-mode suites rely on, on the engine of $DOCKER_HOST:
# the engine's bridge is in 198.18.0.0/15, a container on it reaches the Ceph
# RGW at http://$HOST_IP:7480, and a port published on 127.0.0.1 answers from
# the host through docker-proxy (no iptables). A probe image FROM scratch with
# Debian's static busybox is imported when missing.
set -uo pipefail
T_NAME=network-${SRT_ENGINE:-20}
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
PROBE=storj-registry-test/probe:1
: "${HOST_IP:?HOST_IP must be set (tests/env/docker-engine.sh prints it)}"

[ -x /bin/busybox ] || { t_fail "/bin/busybox present (apt-get install busybox-static)"; t_end; exit 1; }
if ! $DOCKER image inspect "$PROBE" >/dev/null 2>&1; then
  d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/www"
  cp /bin/busybox "$d/bin/busybox"
  echo probe-ok >"$d/www/index.html"
  tar -C "$d" -c . | $DOCKER import -c 'ENTRYPOINT ["/bin/busybox"]' - "$PROBE" >/dev/null
  rm -rf "$d"
fi
t_check "probe image (busybox) present" bash -c "$DOCKER image inspect '$PROBE' >/dev/null"

subnet=$($DOCKER network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}')
echo "# bridge subnet $subnet"
t_check "the engine's bridge is in 198.18.0.0/15 ($subnet)" grep -qE '^198\.1[89]\.' <<<"$subnet"
s3_up || t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"
t_eq "the RGW answers on the host address from the host" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST_IP:7480/")"
# busybox's wget crashes in a static glibc build; its nc does not
out=$($DOCKER run --rm --pull never "$PROBE" sh -c \
  "printf 'GET / HTTP/1.0\r\nHost: $HOST_IP\r\n\r\n' | nc -w 5 $HOST_IP 7480" 2>/dev/null)
t_check "a container on the bridge reaches the RGW at http://$HOST_IP:7480" grep -q ListAllMyBucketsResult <<<"$out"

PORT=$(free_port)
$DOCKER rm -f srt-probe-web >/dev/null 2>&1
$DOCKER run -d --name srt-probe-web --pull never -p "127.0.0.1:$PORT:8080" "$PROBE" \
  httpd -f -p 8080 -h /www >/dev/null
t_check "a port published on 127.0.0.1:$PORT answers from the host" \
  wait_until 10 bash -c "curl -sf --max-time 2 http://127.0.0.1:$PORT/ | grep -q probe-ok"
t_check "nothing answers on the bridge address for that port (published on 127.0.0.1 only)" \
  bash -c "! curl -sf --max-time 2 http://${subnet%.0/*}.1:$PORT/"
$DOCKER rm -f srt-probe-web >/dev/null 2>&1
t_end
