# common.sh -- sourced first by every podrun scenario (tests/e2e/podrun/*.sh): goes to the
# repository root, loads tests/e2e/env.sh, defines the check helpers (one line per check, closing
# line "N passed, M failed"), requires root, and builds bdp and podrun (PODRUN_E2E_PROFILE=debug
# uses debug builds, quicker on a busy machine), leaving their paths in $BDP and $PODRUN; then
# `all` (every check command string holds) and `podrun_workdir` (the work directory and the EXIT
# trap that cleans up after a scenario, failed or not).
cd "$(dirname "$0")/../../.."
. tests/e2e/env.sh
PASS=0; FAIL=0
ok() { echo "ok   - $*"; PASS=$((PASS+1)); }
bad() { echo "FAIL - $*"; FAIL=$((FAIL+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
all() { local c; for c in "$@"; do eval "$c" || return 1; done; }  # all 'CMD' 'CMD'...: each holds
finish() { echo "$PASS passed, $FAIL failed"; [ $FAIL -eq 0 ]; exit $?; }

[ "$(id -u)" = 0 ] || { bad "podrun needs root"; finish; }
PROFILE=${PODRUN_E2E_PROFILE:-release}
if [ "$PROFILE" = release ]; then cargo build --release -q -p podrun -p bdp; else cargo build -q -p podrun -p bdp; fi 2>&1 | tail -20
BDP=$PWD/target/$PROFILE/bdp; PODRUN=$PWD/target/$PROFILE/podrun
[ -x "$BDP" ] && [ -x "$PODRUN" ] || { bad "build bdp and podrun"; finish; }

# podrun_workdir NAME [VARIABLE...]: $WORK, a new directory /tmp/podrun-NAME.XXXXXX, and an EXIT
# trap that kills the background processes whose PIDs the named variables hold (when set), takes
# podrun's $STATE down (when set), runs cleanup_more if the scenario defines it (its own servers,
# namespaces) and removes $WORK. Set STATE after calling it.
podrun_workdir() {
  WORK=$(mktemp -d "/tmp/podrun-$1.XXXXXX"); shift
  PODRUN_BG_VARS=("$@")
  STATE=
  trap podrun_cleanup EXIT
}
podrun_cleanup() {
  local v
  for v in "${PODRUN_BG_VARS[@]}"; do [ -n "${!v:-}" ] && kill "${!v}" 2>/dev/null && wait "${!v}" 2>/dev/null; done
  [ -n "${STATE:-}" ] && "$PODRUN" down --state "$STATE" >/dev/null 2>&1
  if declare -F cleanup_more >/dev/null; then cleanup_more; fi
  rm -rf "$WORK"
}
