# Shared helpers for the shell test suites. Source it; call t_begin once,
# t_ok/t_fail/t_check per assertion, t_end at the end (prints the tally
# as "N passed, N failed" and returns non-zero on any failure).
T_PASS=0
T_FAIL=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}

t_begin() { echo "# suite: $T_NAME"; }
t_ok()    { T_PASS=$((T_PASS + 1)); echo "ok   - $*"; }
t_fail()  { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $*"; }
# t_check "description" command args...: passes when the command exits 0
t_check() {
  local what=$1; shift
  if "$@"; then t_ok "$what"; else t_fail "$what"; fi
}
# t_eq "description" expected actual
t_eq() {
  if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1 (expected '$2', got '$3')"; fi
}
t_end() {
  echo "# $T_NAME: $T_PASS passed, $T_FAIL failed"
  # machine-readable tally for tests/run.sh
  [ -n "${T_TALLY:-}" ] && echo "$T_PASS $T_FAIL" >>"$T_TALLY"
  [ "$T_FAIL" -eq 0 ]
}
# wait_until SECONDS command...: polls every 0.2 s
# until SECONDS have passed by the clock (a slow command counts against it)
wait_until() {
  local end=$((SECONDS + $1)); shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
}

# No test waits forever on a server that accepts and never answers (a hung
# backend once held a CI run until its time ran out): every curl of the
# suites gives up after 5 minutes unless it asks for less (--max-time on its
# command line wins over this file).
if [ -z "${CURL_HOME:-}" ]; then
  CURL_HOME=${TMPDIR:-/tmp}/srt-curlrc
  mkdir -p "$CURL_HOME"
  [ -f "$CURL_HOME/.curlrc" ] || echo 'max-time = 300' >"$CURL_HOME/.curlrc"
  export CURL_HOME
fi
