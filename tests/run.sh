#!/bin/bash
# Everything CI runs (`make test`, `.ci/run`): units, sanitizers, valgrind,
# the fuzzers of every outside-input parser, the integration suites on a real Docker engine and a real
# S3 store, the backend under ASan and under valgrind, the extension image,
# and the browser tests. The Docker suites and the extension image run on
# both test engines (Engine 20.10 and Engine 28.5 with the containerd store);
# each engine's tally is printed ("engine 28.5: N passed, N failed") before
# the closing total line "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export T_TALLY=$(mktemp)
export SR_ENGINE_TALLY=$(mktemp)
LOGDIR=${SR_TEST_LOGS:-/tmp/srt/logs}
mkdir -p "$LOGDIR"
steps_failed=()
step_times=()
T0=$SECONDS

STEP_TALLY=$(mktemp)
step() { # step NAME command...: runs it and records its tally, honestly
  local name=$1; shift
  echo; echo "=== $name"
  local before p f t=$SECONDS
  before=$(wc -l <"$T_TALLY")
  if "$@"; then rc=0; else rc=1; fi
  step_times+=("$(printf '%5ds  %s' $((SECONDS - t)) "$name")")
  # what this step added to the tally (the lines after `before`)
  read -r p f < <(tail -n +"$((before + 1))" "$T_TALLY" | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    # it failed without a failed test to show for it: a crashed binary, a
    # sanitizer or valgrind report, a suite that died early, a build that
    # broke. That is a failure, counted once.
    echo "0 1" >>"$T_TALLY"; f=$((f + 1))
  elif [ $rc -eq 0 ] && [ $((p + f)) -eq 0 ]; then
    # a step without tests of its own (build, lint): the step is the test
    echo "1 0" >>"$T_TALLY"; p=1
  fi
  printf '%s\t%s\t%s\n' "$p" "$f" "$name" >>"$STEP_TALLY"
  [ $rc -eq 0 ] || steps_failed+=("$name")
}

# cmocka prints "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)"; fold them in
cmocka_tally() {
  local log=$1 p f
  p=$(grep -hoE '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -hoE '^\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
  echo "$p $f" >>"$T_TALLY"
}
units() { # units MAKE-TARGET
  local log=$LOGDIR/$1.log
  make -s "$1" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  cmocka_tally "$log"
  return "$rc"
}

# bg NAME command...: runs a step's command in the background, its output
# and tally kept apart (T_TALLY is a file of its own); bg_join NAME, as a
# step, waits for it, prints its output and hands its tally over. Two cores:
# what waits on the network and Docker overlaps what keeps a core busy.
declare -A BG_PID=()
bg() {
  local name=$1; shift
  (T_TALLY=$LOGDIR/$name.tally; : >"$T_TALLY"; export T_TALLY; "$@") >"$LOGDIR/$name.out" 2>&1 &
  BG_PID[$name]=$!
}
bg_join() {
  local name=$1 rc=0
  wait "${BG_PID[$name]}" || rc=$?
  cat "$LOGDIR/$name.out"
  cat "$LOGDIR/$name.tally" >>"$T_TALLY"
  return $rc
}

step build make -s all
step "lint (clang-format, cppcheck, no file circle)" make -s lint
# the fuzzers (one core, a fixed time) beside the unit tests (the other)
make -s fuzz-build >/dev/null
bg fuzz make -s fuzz-run FUZZ_SECONDS=${FUZZ_SECONDS:-60}
step "unit tests" units unit
step "unit tests under ASan+UBSan" units asan
step "unit tests under valgrind" units valgrind
step "fuzzers: grant ${FUZZ_SECONDS:-60} s; Docker streams, settings, manifests a third each (beside the unit tests)" bg_join fuzz
make -s all >/dev/null
step "integration (Engine 20.10 and Engine 28.5 side by side)" tests/integration/run.sh

# the backend itself under the sanitizers and valgrind, driven by the suites
# sanitized_run NAME CFLAGS ENV-ASSIGNMENT... -- SUITE...: builds the backend
# with CFLAGS into its own folder, runs the suites with it and the given
# environment (log_path=$log for the sanitizer), fails on any report
sanitized_build() { # sanitized_build NAME CFLAGS: the backend built with CFLAGS into its own folder
  local dir=${SRT_WORK_DIR:-/tmp/srt/build}/$1-build
  rm -rf "$dir"; mkdir -p "$dir"
  make -s -C "$ROOT" clean-objs >/dev/null
  make -s all CFLAGS="$2" >/dev/null || { make -s clean-objs >/dev/null; make -s all >/dev/null; return 1; }
  cp backend/storj-registryd "$dir/"
  make -s clean-objs >/dev/null; make -s all >/dev/null
}
# sanitized_run NAME ENV-ASSIGNMENT... -- SUITE...: runs the suites with the
# backend sanitized_build made and the given environment (log_path=$log for
# the sanitizer); fails on any report
sanitized_run() {
  local name=$1; shift
  local dir=${SRT_WORK_DIR:-/tmp/srt/build}/$name-build log=$LOGDIR/$name-backend envs=()
  while [ "$1" != -- ]; do envs+=("${1//\$log/$log}"); shift; done; shift
  [ -x "$dir/storj-registryd" ] || { echo "FAIL - the $name backend did not build"; return 1; }
  rm -f "$log".*
  env "${envs[@]}" SR_BIN="$dir/storj-registryd" tests/integration/run.sh "$@"
  local rc=$?
  if ls "$log".* >/dev/null 2>&1; then echo "$name reports:"; cat "$log".*; return 1; fi
  return $rc
}
sanitized_build asan "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
sanitized_build tsan "-O1 -g -fno-omit-frame-pointer -fsanitize=thread"
asan_backend() {
  sanitized_run asan 'ASAN_OPTIONS=log_path=$log:detect_leaks=1' 'UBSAN_OPTIONS=log_path=$log:print_stacktrace=1' \
    SR_TEST_ENGINES=28 -- api local pull browse docker_down check storj_hosted drills_engine cache_s3
}
# ASan on Engine 28.5 beside valgrind and TSan on Engine 20.10
bg asan asan_backend
valgrind_backend() {
  SR_WRAP="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99" \
    SR_TEST_ENGINES=20 tests/integration/run.sh api browse docker_down
}
step "backend under valgrind (api, browse+GC, docker_down; Engine 20.10)" valgrind_backend
# ThreadSanitizer: the backend's threads (HTTP pool, slow-request threads,
# worker, monitor, the clean-up preview's readers) driven by the api, local,
# cache and retention suites on Engine 20.10
tsan_backend() {
  sanitized_run tsan 'TSAN_OPTIONS=log_path=$log halt_on_error=0' SR_TEST_ENGINES=20 -- api local cache retention
}
step "backend under TSan (api, local, cache, retention suites, Engine 20.10)" tsan_backend
step "backend under ASan+UBSan (api, local, pull, browse+GC, docker_down, check, storj_hosted, drills_engine, cache_s3; Engine 28.5; beside valgrind and TSan)" bg_join asan
# the extension image built and run on each engine (the legacy builder,
# DOCKER_BUILDKIT=0: Engine 28 prints a deprecation notice and builds)
ext_image() { # ext_image ENGINE
  local t rc label
  t=$(mktemp)
  (
    export SRT_ENGINE=$1
    eval "$(tests/env/docker-engine.sh start)" || exit 1
    export DOCKER_HOST HOST_IP
    T_TALLY=$t bash tests/integration/test_extension_image.sh
  )
  rc=$?
  [ -s "$t" ] || echo "0 1" >"$t"
  cat "$t" >>"$T_TALLY"
  label=$(SRT_ENGINE=$1 tests/env/docker-engine.sh env | sed -n 's|^DOCKER_HOST=unix://||p' |
    xargs -I{} curl -s --max-time 5 --unix-socket {} http://localhost/version | jq -r '.Version // empty' |
    cut -d. -f1-2)
  awk -v l="${label:-$1}" '{p+=$1; f+=$2} END {print l, p+0, f+0}' "$t" >>"$SR_ENGINE_TALLY"
  rm -f "$t"
  return $rc
}
# node's test runner ends with "# pass N" and "# fail N"; fold them in
browser() {
  local log=$LOGDIR/browser.log
  tests/browser/run.sh 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} p f
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  [ -n "$p" ] && echo "${p:-0} ${f:-0}" >>"$T_TALLY"
  return "$rc"
}
# the browser tests on Engine 28.5 beside the image's build on Engine 20.10
# (each engine has its own containers); the image on 28.5 after both
browser28() { export SRT_ENGINE=28; eval "$(tests/env/docker-engine.sh start)"; export DOCKER_HOST HOST_IP; browser; }
bg browser browser28
step "extension image on Engine 20.10" ext_image 20
step "browser (Engine 28.5, beside the image's build)" bg_join browser
step "extension image on Engine 28.5" ext_image 28

read -r P F < <(awk '{p+=$1; f+=$2} END {print p+0, f+0}' "$T_TALLY")
rm -f "$T_TALLY"
echo
# each run of a test is counted once, in the run it was in (the same suite
# under ASan, valgrind or TSan is another run)
echo "by run:"
awk -F'\t' '{printf "  %5d passed, %3d failed  %s\n", $1, $2, $3}' "$STEP_TALLY"
rm -f "$STEP_TALLY"
echo "time per step (total $(((SECONDS - T0) / 60)) min $(((SECONDS - T0) % 60)) s):"
printf '%s\n' "${step_times[@]}"
echo
awk '{p[$1]+=$2; f[$1]+=$3} END {for (e in p) print "engine " e ": " p[e] " passed, " f[e] " failed"}' \
  "$SR_ENGINE_TALLY" | sort
rm -f "$SR_ENGINE_TALLY"
[ ${#steps_failed[@]} -eq 0 ] || echo "failed steps: ${steps_failed[*]}"
echo "$P passed, $F failed"
[ "$F" -eq 0 ] && [ ${#steps_failed[@]} -eq 0 ]
