#!/usr/bin/env bash
# check_dot.sh FILE.dot -- a rendered Graphviz graph is one Graphviz itself lays out without error
# or warning. Proves: `dot -Tsvg` exits 0, prints nothing on stderr (where its syntax errors and
# warnings go), and the graph has at least one node. PASS/FAIL, 0/1.
# Needs: tests/e2e/install.sh --only dot (Debian graphviz).
set -u
F=${1:?usage: check_dot.sh FILE.dot}
command -v dot >/dev/null || { echo "FAIL: dot not installed (tests/e2e/install.sh --only dot)"; exit 1; }
W=$(mktemp -d /tmp/bdp-e2e-dot.XXXXXX); trap 'rm -rf "$W"' EXIT
dot -Tsvg "$F" >"$W/out.svg" 2>"$W/err"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: dot exited $rc: $(head -3 "$W/err")"; exit 1; }
[ -s "$W/err" ] && { echo "FAIL: dot warned: $(head -3 "$W/err")"; exit 1; }
n=$(grep -c 'class="node"' "$W/out.svg")
[ "$n" -gt 0 ] || { echo "FAIL: the graph has no nodes"; exit 1; }
echo "PASS: $n nodes laid out"
