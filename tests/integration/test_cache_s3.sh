#!/bin/bash
# The Docker Hub cache in the S3 modes on the real engine and Ceph RGW: in
# s3 mode, and in storj mode (the gateway STAND-IN over Ceph; the cache runs
# in the gateway's network namespace, as the registry does), its storage
# root the prefix docker-hub-cache/ of the registry's bucket. Against a
# Docker Hub STAND-IN: see tests/integration/cache.sh.
set -uo pipefail
T_NAME=cache_s3
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cache.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
# the gateway stand-in forwards to Ceph on the host, which a bridged
# container reaches at $HOST_IP
GW_IMAGE=$(gw_image_for "$HOST_IP:7480") || t_fail "gateway stand-in image with the host's Ceph as upstream"
cache_suite s3 storj
t_end
