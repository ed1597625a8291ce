#!/bin/bash
# A private Docker engine for the tests: Debian's dockerd (20.10, API 1.41)
# with its own data root, exec root, pid file and socket, and no bridge,
# no iptables, no forwarding, so it touches nothing on the host network.
# Test containers must use the host network (--network host).
#
#   tests/env/docker-engine.sh start   start unless its socket already answers;
#                                      prints DOCKER_HOST=unix://$D/docker.sock
#   tests/env/docker-engine.sh env     print DOCKER_HOST=... only (no start)
#   tests/env/docker-engine.sh status  exit 0 when the engine answers /_ping
#   tests/env/docker-engine.sh stop    stop the dockerd this script started
#
#   eval "$(tests/env/docker-engine.sh start)"
#
# Progress goes to stderr; stdout carries only the DOCKER_HOST line.
# Env: SRT_DOCKER_DIR (default /tmp/srt/docker), SRT_DOCKER_TIMEOUT (s, 60).
# Installs docker.io with apt-get when dockerd is missing and we are root.
set -euo pipefail

D=${SRT_DOCKER_DIR:-/tmp/srt/docker}
TIMEOUT=${SRT_DOCKER_TIMEOUT:-60}
SOCK="$D/docker.sock"
PIDFILE="$D/docker.pid"
LOG="$D/dockerd.log"

log() { echo "[docker-engine $(date +%T)] $*" >&2; }
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

print_env() { echo "DOCKER_HOST=unix://$SOCK"; }

stop_engine() {
  local pid i
  if ! pid=$(own_pid); then
    log "no dockerd of ours is running (pid file $PIDFILE)"
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
  log "stopped"
}

start_engine() {
  local pid i
  if ping_ok; then
    log "engine already answers on $SOCK"
    print_env
    return 0
  fi
  if ! command -v dockerd >/dev/null; then
    [ "$(id -u)" = 0 ] || die "dockerd missing: apt-get install docker.io (needs root)"
    log "installing docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >&2 ||
      die "apt-get install docker.io failed"
  fi
  # a dockerd of ours that does not answer (wedged or still starting): give it
  # a chance, then replace it
  if pid=$(own_pid); then
    log "dockerd pid $pid exists but does not answer yet; waiting"
    for ((i = 0; i < 50; i++)); do ping_ok && { print_env; return 0; }; sleep 0.2; done
    stop_engine
  fi
  mkdir -p "$D/data" "$D/exec"
  # a socket left behind by a dead dockerd would make the new one fail
  rm -f "$SOCK"
  log "starting dockerd (state in $D, log $LOG)"
  # setsid: the daemon must outlive the shell (and process group) that started it
  setsid dockerd \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
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
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
