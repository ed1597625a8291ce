#!/bin/bash
# The host-side address that bridged test containers use to reach services
# the tests run on the host (Ceph RGW, stand-ins): 198.18.0.1/24 on a bridge
# interface `srt-host` (this kernel has no dummy interfaces). From inside a
# container 127.0.0.1 is the container itself; 198.18.0.1 is a local address
# of the host, so a container on any test bridge (198.18.N.0/24, routed
# through its gateway 198.18.N.1, the host) reaches it without forwarding or
# iptables. Idempotent; needs root the first time.
#
#   eval "$(tests/env/host-ip.sh)"      -> HOST_IP=198.18.0.1
#
# Env: SRT_HOST_IF (default srt-host), SRT_HOST_CIDR (default 198.18.0.1/24;
# must stay in 198.18.0.0/15).
set -euo pipefail
IF=${SRT_HOST_IF:-srt-host}
CIDR=${SRT_HOST_CIDR:-198.18.0.1/24}
IP=${CIDR%/*}

log() { echo "[host-ip $(date +%T)] $*" >&2; }
case "$IP" in
  198.18.* | 198.19.*) ;;
  *) log "ERROR: $CIDR is outside 198.18.0.0/15"; exit 1 ;;
esac

if ! ip -o -4 addr show dev "$IF" 2>/dev/null | grep -q " $IP/"; then
  # several scripts may call this at once: serialise, then look again
  exec 9>"/run/lock/srt-host-ip.lock"
  flock 9
  if ! ip link show dev "$IF" >/dev/null 2>&1; then
    ip link add "$IF" type bridge 2>/dev/null || ip link show dev "$IF" >/dev/null 2>&1 ||
      { log "ERROR: cannot create interface $IF (root needed)"; exit 1; }
  fi
  ip -o -4 addr show dev "$IF" | grep -q " $IP/" || ip addr add "$CIDR" dev "$IF"
  log "host address $CIDR on $IF"
fi
ip link set "$IF" up
echo "HOST_IP=$IP"
