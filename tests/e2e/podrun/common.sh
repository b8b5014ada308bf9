# common.sh -- sourced first by every podrun scenario (tests/e2e/podrun/*.sh): goes to the
# repository root, loads tests/e2e/env.sh, defines the check helpers (one line per check, closing
# line "N passed, M failed"), requires root, and builds bdp and podrun (PODRUN_E2E_PROFILE=debug
# uses debug builds, quicker on a busy machine), leaving their paths in $BDP and $PODRUN.
cd "$(dirname "$0")/../../.."
. tests/e2e/env.sh
PASS=0; FAIL=0
ok() { echo "ok   - $*"; PASS=$((PASS+1)); }
bad() { echo "FAIL - $*"; FAIL=$((FAIL+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ $FAIL -eq 0 ]; exit $?; }

[ "$(id -u)" = 0 ] || { bad "podrun needs root"; finish; }
PROFILE=${PODRUN_E2E_PROFILE:-release}
if [ "$PROFILE" = release ]; then cargo build --release -q -p podrun -p bdp; else cargo build -q -p podrun -p bdp; fi 2>&1 | tail -20
BDP=$PWD/target/$PROFILE/bdp; PODRUN=$PWD/target/$PROFILE/podrun
[ -x "$BDP" ] && [ -x "$PODRUN" ] || { bad "build bdp and podrun"; finish; }
