#!/bin/bash
# The Docker Hub cache in local mode (its own volume) on the real engine,
# against a Docker Hub STAND-IN (a real registry asking for a login): see
# tests/integration/cache.sh. Then, in local mode: the cache comes back by
# itself once its upstream answers, and the cache over TLS off loopback.
set -uo pipefail
T_NAME=cache
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cache.sh"
t_begin
cache_suite local local-more
t_end
