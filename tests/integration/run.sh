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
# and Storj suites on Engine 28.5 only; the storage check, stand-in, S3 drill
# and team suites, which do not depend on the engine, on Engine 20.10 (to
# balance the two engines' runs, which go side by side).
# SR_TEST_ENGINES="20 28" picks engines.
# Prints one tally per engine ("engine 28.5: N passed, N failed") and ends
# with the total "N passed, N failed". With SR_ENGINE_TALLY set (a file),
# appends "VERSION PASSED FAILED" per engine to it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

BOTH=(network api local pull browse index retention retention_safety docker_down drills drills_engine users cache)
ONLY28=(index_host s3 storj storj_hosted storj_native cache_s3)
ONLY20=(smoke28)
# suites that test storage and tools, not the engine: on Engine 20.10, whose
# suites take half as long as Engine 28.5's, so that the two engines' runs
# side by side end together; on Engine 28.5 when only that one is chosen
ANY=(check standins drills_s3 team)
in_list() { local x=$1; shift; local y; for y in "$@"; do [ "$x" = "$y" ] && return 0; done; return 1; }
engines_of() { # engines_of SUITE: the engines a suite runs on
  if in_list "$1" "${ONLY28[@]}"; then echo 28
  elif in_list "$1" "${ONLY20[@]}"; then echo 20
  elif in_list "$1" "${ANY[@]}"; then
    if in_list 20 ${SR_TEST_ENGINES:-20 28}; then echo 20; else echo 28; fi
  else echo 20 28; fi
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("${BOTH[@]}" "${ONLY20[@]}" "${ANY[@]}" "${ONLY28[@]}")
OUTER_TALLY=${T_TALLY:-}
total_p=0 total_f=0 fail=0 summary=()

S3_INSTALL=1 tests/env/ceph-s3.sh >/dev/null || { echo "cannot start Ceph RGW"; fail=1; }

# suites_of E: the chosen suites that run on engine E
suites_of() {
  local s
  for s in "${suites[@]}"; do in_list "$1" $(engines_of "$s") && echo "$s"; done
}

# run_suite FILE: one suite, at most SR_SUITE_TIMEOUT seconds (a hang is a
# failure, never a CI run that runs out of time), with its time printed
run_suite() {
  local f=$1 t=$SECONDS rc=0 limit=${SR_SUITE_TIMEOUT:-1200}
  timeout -k 20 "$limit" bash "$f" || rc=$?
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "FAIL - $(basename "$f" .sh) did not end within $limit s (killed)"
    echo "0 1" >>"$T_TALLY"
  fi
  echo "# time: $(basename "$f" .sh) $((SECONDS - t)) s"
  return $rc
}

# engine_run E: every suite of engine E, one after the other, on that engine
# (started here, its test images built first), tally in $T_TALLY
engine_run() {
  local e=$1 rc=0 s f
  export T_TALLY SRT_ENGINE=$e
  # each engine its own scratch folder: the two engines' suites run side by side
  export SR_TEST_WORK=${SR_TEST_WORK:-/tmp/srt/it}-$e
  eval "$(tests/env/docker-engine.sh start)" || { echo "FAIL - cannot start test Docker engine $e"; echo "0 1" >>"$T_TALLY"; return 1; }
  export DOCKER_HOST HOST_IP
  for s in $(suites_of "$e"); do
    f=tests/integration/test_$s.sh
    [ -f "$f" ] || { echo "FAIL - no suite $f"; echo "0 1" >>"$T_TALLY"; rc=1; continue; }
    run_suite "$f" || rc=1
  done
  # images the suites pushed and pulled back: not needed any more
  leftovers=$(/usr/bin/docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(localhost:[0-9]+/|srt-src/)' || true)
  [ -z "$leftovers" ] || /usr/bin/docker rmi $leftovers >/dev/null 2>&1 || true
  return $rc
}

engines=()
for e in ${SR_TEST_ENGINES:-20 28}; do
  [ -n "$(suites_of "$e")" ] && engines+=("$e")
done
# the engines and their test images first, one at a time (the images share a
# build cache); then the engines' suites side by side unless
# SR_TEST_SERIAL=1: each engine is its own daemon with its own bridge, and
# suites pick free ports and bucket names of their own
for e in "${engines[@]}"; do
  (
    export SRT_ENGINE=$e
    eval "$(tests/env/docker-engine.sh start)" && export DOCKER_HOST HOST_IP &&
      tests/env/images.sh registry gateway >/dev/null
  ) || echo "(engine $e or its test images could not be prepared: its suites say what failed)"
done
LOGDIR=${SR_TEST_LOGS:-/tmp/srt/logs}
mkdir -p "$LOGDIR"
declare -A tally=() pid=() log=()
for e in "${engines[@]}"; do
  tally[$e]=$(mktemp)
  log[$e]=$LOGDIR/integration-$e.log
  echo "### engine $e: $(suites_of "$e" | tr '\n' ' ')"
  if [ "${SR_TEST_SERIAL:-0}" = 1 ] || [ ${#engines[@]} -eq 1 ]; then
    (T_TALLY=${tally[$e]} engine_run "$e") 2>&1 | tee "${log[$e]}"
    [ "${PIPESTATUS[0]}" = 0 ] || fail=1
  else
    echo "(running beside the other engine; its output follows when both are done, in ${log[$e]})"
    (T_TALLY=${tally[$e]} engine_run "$e") >"${log[$e]}" 2>&1 &
    pid[$e]=$!
  fi
done
for e in "${!pid[@]}"; do wait "${pid[$e]}" || fail=1; done
for e in "${engines[@]}"; do
  if [ -n "${pid[$e]:-}" ]; then
    echo; echo "### engine $e: output"; cat "${log[$e]}"
  fi
  version=$(SRT_ENGINE=$e tests/env/docker-engine.sh env | sed -n 's|^DOCKER_HOST=unix://||p' |
    xargs -I{} curl -s --max-time 5 --unix-socket {} http://localhost/version | jq -r '.Version // empty' |
    cut -d. -f1-2)
  read -r p f < <(awk '{p+=$1; f+=$2} END {print p+0, f+0}' "${tally[$e]}")
  [ -z "$OUTER_TALLY" ] || cat "${tally[$e]}" >>"$OUTER_TALLY"
  # tests/run.sh sums these per engine
  [ -z "${SR_ENGINE_TALLY:-}" ] || echo "${version:-$e} $p $f" >>"$SR_ENGINE_TALLY"
  rm -f "${tally[$e]}"
  summary+=("engine ${version:-$e}: $p passed, $f failed")
  echo "engine ${version:-$e}: $p passed, $f failed"
  total_p=$((total_p + p)) total_f=$((total_f + f))
done
T_TALLY=$OUTER_TALLY

echo
for l in "${summary[@]}"; do echo "$l"; done
echo "$total_p passed, $total_f failed"
[ "$fail" = 0 ] && [ "$total_f" = 0 ]
