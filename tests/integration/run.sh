#!/bin/bash
# Runs the integration suites against a real Docker engine (started here when
# none answers) and a real S3 store (Ceph RGW on 127.0.0.1), building the
# local test images first. Usage: tests/integration/run.sh [suite...]
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
eval "$(tests/env/docker-engine.sh start)" || { echo "cannot start the test Docker engine"; exit 1; }
export DOCKER_HOST
tests/env/images.sh registry gateway >/dev/null || { echo "cannot build the test images"; exit 1; }
S3_INSTALL=1 tests/env/ceph-s3.sh >/dev/null || { echo "cannot start Ceph RGW"; exit 1; }

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(api local pull s3 browse docker_down storj storj_hosted storj_native standins check)
fail=0
for s in "${suites[@]}"; do
  f=tests/integration/test_$s.sh
  [ -f "$f" ] || { echo "FAIL - no suite $f"; fail=1; continue; }
  bash "$f" || fail=1
done
# images the suites pushed and pulled back: not needed any more
leftovers=$(/usr/bin/docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(localhost:[0-9]+/|srt-src/)' || true)
[ -z "$leftovers" ] || /usr/bin/docker rmi $leftovers >/dev/null 2>&1 || true
exit $fail
