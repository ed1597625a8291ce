#!/bin/bash
# A private Docker engine for the tests, one of two:
#   SRT_ENGINE=20 (default)  Debian 12's dockerd: Engine 20.10, API 1.41,
#                            classic image store
#   SRT_ENGINE=28            Engine 28.5 from Debian's unstable suite (API
#                            1.51) with the containerd image store on, as
#                            Docker Desktop runs it; fetched once into
#                            ${SRT_CACHE:-/tmp/srt/cache}/docker-sid, run
#                            with Debian 12's runc
# Each has its own data root, exec root, pid file, socket and its own bridge
# in 198.18.0.0/15 (never an RFC 1918 range), and runs with
# --iptables=false --ip-forward=false --ip-masq=false: published ports work
# through docker-proxy, nothing on the host network is rewritten.
#
#   tests/env/docker-engine.sh start   start unless its socket already answers;
#                                      prints DOCKER_HOST=..., HOST_IP=...
#   tests/env/docker-engine.sh env     the same lines only (no start)
#   tests/env/docker-engine.sh status  exit 0 when the engine answers /_ping
#   tests/env/docker-engine.sh stop    stop the dockerd this script started
#                                      (and remove its bridge)
#   tests/env/docker-engine.sh fetch   only fetch Engine 28.5 into the cache
#
#   eval "$(SRT_ENGINE=28 tests/env/docker-engine.sh start)"; export DOCKER_HOST HOST_IP
#
# HOST_IP (198.18.0.1, tests/env/host-ip.sh) is the host address that
# containers on the bridge reach host services at (Ceph RGW, stand-ins).
# Progress goes to stderr; stdout carries only the variable lines.
#
# Env: SRT_ENGINE (20|28), SRT_DOCKER_DIR (default /tmp/srt/docker; engine 28
# uses SRT_DOCKER_DIR-28), SRT_DOCKER_TIMEOUT (s, 60), SRT_CACHE.
# Bridges: with the default SRT_DOCKER_DIR, engine 20 gets srtb1 with
# 198.18.1.1/24 and engine 28 srtb2 with 198.18.2.1/24; other folders get a
# free pair picked from a hash of the folder (so helpers running side by side
# do not share one), remembered in $D/net. User-defined networks of an engine
# come from 198.19.N.0/24 (N = its bridge's third octet). Override with
# SRT_BRIDGE_<20|28>, SRT_BRIDGE_CIDR_<20|28>, SRT_POOL_<20|28>.
# Engine 20 uses http://127.0.0.1:9998 and engine 28 http://127.0.0.1:9997
# (SRT_MIRROR_PORT) as their Docker Hub
# mirror, as a user of the Docker Hub cache configures Docker Desktop
# (registry-mirrors); nothing answers there unless the cache suites run one,
# and no test pulls from Docker Hub.
# Installs docker.io and runc with apt-get when missing and we are root.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENGINE=${SRT_ENGINE:-20}
BASE=${SRT_DOCKER_DIR:-/tmp/srt/docker}
case "$ENGINE" in
  20) D=$BASE ;;
  28) D=$BASE-28 ;;
  *) echo "SRT_ENGINE must be 20 or 28" >&2; exit 2 ;;
esac
TIMEOUT=${SRT_DOCKER_TIMEOUT:-60}
# each engine its own mirror port, so that both engines' cache suites can run
# side by side (tests/integration/cache.sh picks the same)
MIRROR_PORT=${SRT_MIRROR_PORT:-$([ "$ENGINE" = 28 ] && echo 9997 || echo 9998)}
CACHE=${SRT_CACHE:-/tmp/srt/cache}
SID=$CACHE/docker-sid
SOCK="$D/docker.sock"
PIDFILE="$D/docker.pid"
LOG="$D/dockerd.log"
NETFILE="$D/net"

log() { echo "[docker-engine $ENGINE $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ping_ok() {
  [ -S "$SOCK" ] &&
    [ "$(curl -s --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
}

own_pid() { # the pid from our pid file, if that process is a live dockerd
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

host_ip() { need_pkg ip iproute2; "$HERE/host-ip.sh"; }

print_env() {
  echo "DOCKER_HOST=unix://$SOCK"
  echo "HOST_IP=${SRT_HOST_CIDR:-198.18.0.1/24}" | sed 's,/.*,,'
  echo "SRT_ENGINE=$ENGINE"
}

# ---- the bridge ------------------------------------------------------------
# net_pick: sets BR, CIDR, POOL for this engine (env > $D/net > a free slot)
net_pick() {
  local ov_br ov_cidr ov_pool n start h i
  ov_br=SRT_BRIDGE_$ENGINE ov_cidr=SRT_BRIDGE_CIDR_$ENGINE ov_pool=SRT_POOL_$ENGINE
  if [ -n "${!ov_cidr:-}" ]; then
    CIDR=${!ov_cidr}
    n=$(cut -d. -f3 <<<"$CIDR")
    BR=${!ov_br:-srtb$n}
    POOL=${!ov_pool:-198.19.$n.0/24}
    return 0
  fi
  if [ -s "$NETFILE" ]; then
    read -r BR CIDR POOL <"$NETFILE"
    return 0
  fi
  # a free /24: its interface name is not taken and no interface holds it
  if [ "$BASE" = /tmp/srt/docker ]; then h=0; else h=$(($(cksum <<<"$BASE" | cut -d' ' -f1) % 120 + 1)); fi
  start=$((2 * h + ENGINE / 28 + 1)) # 20: odd, 28: even
  for ((i = 0; i < 127; i++)); do
    n=$(((start - 1 + 2 * i) % 254 + 1))
    ip link show dev "srtb$n" >/dev/null 2>&1 && continue
    ip -o -4 addr show | grep -q " 198\.18\.$n\." && continue
    BR=srtb$n CIDR=198.18.$n.1/24 POOL=${!ov_pool:-198.19.$n.0/24}
    BR=${!ov_br:-$BR}
    mkdir -p "$D"
    echo "$BR $CIDR $POOL" >"$NETFILE"
    return 0
  done
  die "no free /24 left in 198.18.0.0/16 for a test bridge"
}

net_up() {
  case "$CIDR" in 198.18.* | 198.19.*) ;; *) die "bridge $CIDR is outside 198.18.0.0/15" ;; esac
  case "$POOL" in 198.18.* | 198.19.*) ;; *) die "pool $POOL is outside 198.18.0.0/15" ;; esac
  if ! ip link show dev "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge || die "cannot create bridge $BR (root needed)"
  fi
  ip -o -4 addr show dev "$BR" | grep -q " ${CIDR%/*}/" || ip addr add "$CIDR" dev "$BR"
  ip link set "$BR" up
}

net_down() {
  [ -s "$NETFILE" ] || return 0
  local br cidr pool
  read -r br cidr pool <"$NETFILE"
  ip link show dev "$br" >/dev/null 2>&1 && ip link del "$br" 2>/dev/null || true
}

# ---- Engine 28.5 from sid --------------------------------------------------
fetch_sid() {
  [ -x "$SID/usr/sbin/dockerd" ] && return 0
  mkdir -p "$CACHE"
  exec 8>"$CACHE/docker-sid.lock"
  flock 8
  [ -x "$SID/usr/sbin/dockerd" ] && return 0
  [ "$(id -u)" = 0 ] || die "fetching Engine 28.5 needs root (apt-get)"
  local A=$CACHE/docker-sid.apt mirror f
  rm -rf "$A" "$SID.tmp"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs" "$SID.tmp"
  # the mirror the system already uses; sid from it, with a private apt state
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -oE 'https?://[^ ]*/debian/?( |$)' | sed -n '1{s/ //g;p}' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} sid main" >"$A/sources.list"
  local O=(-o "Dir::Etc::sourcelist=$A/sources.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o APT::Sandbox::User=root)
  log "fetching docker.io and containerd from sid (${mirror%/}, about 50 MB)"
  apt-get "${O[@]}" -q update >&2 || die "apt-get update (sid) failed"
  (cd "$A/debs" && apt-get "${O[@]}" -q download docker.io/sid containerd/sid >&2) ||
    die "apt-get download docker.io/sid containerd/sid failed"
  for f in "$A"/debs/*.deb; do dpkg-deb -x "$f" "$SID.tmp"; done
  # sid's runc needs glibc 2.38: Debian 12's runc is used instead
  rm -f "$SID.tmp/usr/sbin/runc" "$SID.tmp/usr/bin/runc"
  (cd "$A/debs" && ls *.deb) >"$SID.tmp/VERSIONS"
  mv "$SID.tmp" "$SID"
  rm -rf "$A"
  log "Engine 28.5 cached in $SID ($(tr '\n' ' ' <"$SID/VERSIONS"))"
}

need_pkg() { # need_pkg COMMAND PACKAGE
  command -v "$1" >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "$1 missing: apt-get install $2 (needs root)"
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" >&2 ||
    die "apt-get install $2 failed"
}

# ---- start / stop ----------------------------------------------------------
stop_engine() {
  local pid i
  if ! pid=$(own_pid); then
    log "no dockerd of ours is running (pid file $PIDFILE)"
    net_down
    return 0
  fi
  log "stopping dockerd pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  # dockerd stops its containers (10 s grace each) and its containerd first
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd pid $pid still alive after 30 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  net_down
  log "stopped"
}

start_engine() {
  local pid i path dockerd args=()
  # an engine of ours started by an older copy of this script (no bridge,
  # so publish mode cannot work): restart it with a bridge
  if ping_ok && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$SOCK" \
    http://localhost/networks/bridge)" = 404 ] && own_pid >/dev/null; then
    log "engine on $SOCK runs without a bridge: restarting it"
    stop_engine
  fi
  if ping_ok; then
    log "engine already answers on $SOCK"
    host_ip >/dev/null
    print_env
    return 0
  fi
  need_pkg dockerd docker.io # also the CLI both engines are driven with
  need_pkg runc runc
  need_pkg ip iproute2
  need_pkg flock util-linux
  path=$PATH dockerd=dockerd
  if [ "$ENGINE" = 28 ]; then
    fetch_sid
    # dockerd finds containerd, its shim and docker-proxy through PATH
    path=$SID/usr/sbin:$SID/usr/bin:$PATH dockerd=$SID/usr/sbin/dockerd
    mkdir -p "$D"
    echo '{"features":{"containerd-snapshotter":true}}' >"$D/daemon.json"
    args=(--config-file "$D/daemon.json")
  fi
  # a dockerd of ours that does not answer (wedged or still starting): give it
  # a chance, then replace it
  if pid=$(own_pid); then
    log "dockerd pid $pid exists but does not answer yet; waiting"
    for ((i = 0; i < 50; i++)); do ping_ok && { print_env; return 0; }; sleep 0.2; done
    stop_engine
  fi
  host_ip >/dev/null
  exec 7>"/run/lock/srt-bridges.lock"
  flock 7
  net_pick
  net_up
  flock -u 7
  mkdir -p "$D/data" "$D/exec"
  # a socket left behind by a dead dockerd would make the new one fail
  rm -f "$SOCK"
  log "starting dockerd (state in $D, bridge $BR $CIDR, pool $POOL, log $LOG)"
  # setsid: the daemon must outlive the shell (and process group) that started it
  PATH=$path setsid "$dockerd" "${args[@]}" \
    --registry-mirror "http://127.0.0.1:$MIRROR_PORT" \
    --bridge "$BR" --default-address-pool "base=$POOL,size=26" \
    --iptables=false --ip-forward=false --ip-masq=false \
    --data-root "$D/data" --exec-root "$D/exec" --pidfile "$PIDFILE" \
    -H "unix://$SOCK" </dev/null >>"$LOG" 2>&1 &
  pid=$!
  for ((i = 0; i < TIMEOUT * 5; i++)); do
    if ping_ok; then
      log "engine ready ($(curl -s --unix-socket "$SOCK" http://localhost/version |
        sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion":"\([^"]*\)".*/\1, API \2/p'))"
      print_env
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; die "dockerd exited; see $LOG"; }
    sleep 0.2
  done
  tail -n 20 "$LOG" >&2
  die "dockerd did not answer /_ping within ${TIMEOUT}s; see $LOG"
}

case "${1:-start}" in
  start) start_engine ;;
  stop) stop_engine ;;
  env) print_env ;;
  status) ping_ok ;;
  fetch) fetch_sid ;;
  *) echo "usage: $0 start|stop|env|status|fetch" >&2; exit 2 ;;
esac
