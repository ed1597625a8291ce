#!/bin/bash
# Runs the integration suites against real Docker engines (started here when
# none answers) and a real S3 store (Ceph RGW on 127.0.0.1 and on $HOST_IP),
# building the local test images on each engine first.
#
#   tests/integration/run.sh [suite...]
#
# Two engines (tests/env/docker-engine.sh): Engine 20.10 (Debian 12, API 1.41,
# classic store) and Engine 28.5 (API 1.51, containerd image store, as Docker
# Desktop runs it). The suites that touch the Docker API run on both; the S3
# and Storj suites on Engine 28.5 only. SR_TEST_ENGINES="20 28" picks engines.
# Prints one tally per engine ("engine 28.5: N passed, N failed") and ends
# with the total "N passed, N failed". With SR_ENGINE_TALLY set (a file),
# appends "VERSION PASSED FAILED" per engine to it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

BOTH=(network api local pull browse index retention retention_safety docker_down drills drills_engine users cache)
ONLY28=(index_host s3 check storj storj_hosted storj_native standins drills_s3 team cache_s3)
ONLY20=(smoke28)
in_list() { local x=$1; shift; local y; for y in "$@"; do [ "$x" = "$y" ] && return 0; done; return 1; }
engines_of() { # engines_of SUITE: the engines a suite runs on
  if in_list "$1" "${ONLY28[@]}"; then echo 28
  elif in_list "$1" "${ONLY20[@]}"; then echo 20
  else echo 20 28; fi
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("${BOTH[@]}" "${ONLY20[@]}" "${ONLY28[@]}")
OUTER_TALLY=${T_TALLY:-}
total_p=0 total_f=0 fail=0 summary=()

S3_INSTALL=1 tests/env/ceph-s3.sh >/dev/null || { echo "cannot start Ceph RGW"; fail=1; }

for e in ${SR_TEST_ENGINES:-20 28}; do
  run=()
  for s in "${suites[@]}"; do
    in_list "$e" $(engines_of "$s") && run+=("$s")
  done
  [ ${#run[@]} -gt 0 ] || continue
  echo "### engine $e: ${run[*]}"
  export T_TALLY
  T_TALLY=$(mktemp)
  (
    export SRT_ENGINE=$e
    eval "$(tests/env/docker-engine.sh start)" || { echo "FAIL - cannot start test Docker engine $e"; echo "0 1" >>"$T_TALLY"; exit 1; }
    export DOCKER_HOST HOST_IP
    tests/env/images.sh registry gateway >/dev/null || { echo "FAIL - cannot build the test images on engine $e"; echo "0 1" >>"$T_TALLY"; exit 1; }
    rc=0
    for s in "${run[@]}"; do
      f=tests/integration/test_$s.sh
      [ -f "$f" ] || { echo "FAIL - no suite $f"; echo "0 1" >>"$T_TALLY"; rc=1; continue; }
      bash "$f" || rc=1
    done
    # images the suites pushed and pulled back: not needed any more
    leftovers=$(/usr/bin/docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(localhost:[0-9]+/|srt-src/)' || true)
    [ -z "$leftovers" ] || /usr/bin/docker rmi $leftovers >/dev/null 2>&1 || true
    exit $rc
  ) || fail=1
  version=$(SRT_ENGINE=$e tests/env/docker-engine.sh env | sed -n 's|^DOCKER_HOST=unix://||p' |
    xargs -I{} curl -s --max-time 5 --unix-socket {} http://localhost/version | jq -r '.Version // empty' |
    cut -d. -f1-2)
  read -r p f < <(awk '{p+=$1; f+=$2} END {print p+0, f+0}' "$T_TALLY")
  [ -z "$OUTER_TALLY" ] || cat "$T_TALLY" >>"$OUTER_TALLY"
  # tests/run.sh sums these per engine
  [ -z "${SR_ENGINE_TALLY:-}" ] || echo "${version:-$e} $p $f" >>"$SR_ENGINE_TALLY"
  rm -f "$T_TALLY"
  summary+=("engine ${version:-$e}: $p passed, $f failed")
  echo "engine ${version:-$e}: $p passed, $f failed"
  total_p=$((total_p + p)) total_f=$((total_f + f))
done
T_TALLY=$OUTER_TALLY

echo
for l in "${summary[@]}"; do echo "$l"; done
echo "$total_p passed, $total_f failed"
[ "$fail" = 0 ] && [ "$total_f" = 0 ]
