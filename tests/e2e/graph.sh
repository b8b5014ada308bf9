#!/usr/bin/env bash
# graph.sh -- `bdp graph` draws pictures the real tools accept.
#
# For every example (each examples/*.yaml, the examples/fleet directory) and the multi-wave test
# stack (tests/fixtures/diff), it renders the start order as Graphviz DOT and as Mermaid, then:
#   dot      `dot -Tsvg` lays the graph out without error or warning, with one node per role
#            (check_dot.sh; Debian package graphviz)
#   edges    the DOT graph has as many edges as the Mermaid graph, and every edge joins two
#            declared nodes
#   mermaid  the flowchart is well formed: `flowchart LR` first, every `subgraph` closed by an
#            `end`, node and edge lines in Mermaid's syntax
#   exit     invalid input exits 1 with nothing on stdout
# Prints `ok NAME` / `NOT OK NAME` per check and `N passed, M failed` last; exits 1 on a failure.
# BDP=/path/to/bdp skips the cargo build. A missing dot fails when CI=true, else SKIPs.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
cd "$ROOT"
CI=${CI:-false}
W=$(mktemp -d /tmp/bdp-e2e-graph.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0; fail=0; skip=0

ok() { pass=$((pass+1)); echo "ok   $1"; }
notok() { fail=$((fail+1)); echo "NOT OK $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2" | head -8; }

if [ -z "${BDP:-}" ]; then
  cargo build --release --workspace --quiet 2>"$W/build.err" || { notok build "$(cat "$W/build.err")"; echo "$pass passed, $fail failed"; exit 1; }
  BDP=$ROOT/target/release/bdp
fi
HAVE_DOT=true
if ! command -v dot >/dev/null; then
  if [ "$CI" = true ]; then notok "graphviz installed" "dot not found: apt-get install graphviz"; else echo "SKIP dot checks: dot not found (apt-get install graphviz)"; fi
  HAVE_DOT=false
fi

mermaid_ok() { # mermaid_ok FILE: structural check of a flowchart
  awk '
    NR == 1 { if ($0 != "flowchart LR") { print "line 1: " $0; bad = 1 } ; next }
    /^ *subgraph [A-Za-z0-9_]+\["[^"]*"\]$/ { depth++; next }
    /^ *end$/ { depth--; if (depth < 0) { print "unbalanced end at line " NR; bad = 1 }; next }
    /^ *[A-Za-z0-9_]+\["[^"]*"\]$/ { nodes[$1] = 1; sub(/\[.*/, "", $1); ids[$1] = 1; next }
    /^ *[A-Za-z0-9_]+ --> [A-Za-z0-9_]+$/ { from[NR] = $1; to[NR] = $3; next }
    { print "line " NR ": not flowchart syntax: " $0; bad = 1 }
    END {
      if (depth != 0) { print "subgraph without end"; bad = 1 }
      for (l in from) if (!(from[l] in ids) || !(to[l] in ids)) { print "edge to an undeclared node at line " l; bad = 1 }
      exit bad
    }' "$1"
}

cases=()
for f in examples/*.yaml; do cases+=("$(basename "$f" .yaml)|$f"); done
[ -d examples/fleet ] && cases+=("fleet|examples/fleet")
cases+=("test-stack|--stacks tests/fixtures/diff/stacks tests/fixtures/diff/base.yaml")

for c in "${cases[@]}"; do
  name=${c%%|*}; args=${c#*|}
  # shellcheck disable=SC2086
  if ! "$BDP" graph $args --format dot >"$W/$name.dot" 2>"$W/$name.err"; then notok "$name: render dot" "$(cat "$W/$name.err")"; continue; fi
  # shellcheck disable=SC2086
  if ! "$BDP" graph $args --format mermaid >"$W/$name.mmd" 2>"$W/$name.err"; then notok "$name: render mermaid" "$(cat "$W/$name.err")"; continue; fi
  roles=$(grep -cE '^ +n[0-9]+ \[label=' "$W/$name.dot")
  if $HAVE_DOT; then
    out=$(bash "$E2E/check_dot.sh" "$W/$name.dot" 2>&1)
    if [ $? -eq 0 ] && grep -q "PASS: $roles nodes" <<<"$out"; then ok "$name: dot ($roles roles)"; else notok "$name: dot" "$out"; fi
  fi
  de=$(grep -cE '^  n[0-9]+ -> n[0-9]+;$' "$W/$name.dot"); me=$(grep -cE '^  n[0-9]+ --> n[0-9]+$' "$W/$name.mmd")
  if [ "$de" = "$me" ]; then ok "$name: edges ($de)"; else notok "$name: edges" "dot has $de, mermaid $me"; fi
  out=$(mermaid_ok "$W/$name.mmd")
  if [ $? -eq 0 ]; then ok "$name: mermaid"; else notok "$name: mermaid" "$out"; fi
done

# the multi-wave test stack: a chain of three edges (reduced), four with --all-edges
n=$(grep -cE '^  n[0-9]+ -> ' "$W/test-stack.dot")
all=$("$BDP" graph --stacks tests/fixtures/diff/stacks tests/fixtures/diff/base.yaml --all-edges | grep -cE '^  n[0-9]+ -> ')
if [ "$n" = 3 ] && [ "$all" -gt "$n" ]; then ok "test-stack: transitive reduction ($n of $all edges)"; else notok "test-stack: transitive reduction" "reduced $n, all $all"; fi

"$BDP" graph --stacks tests/fixtures/diff/stacks tests/fixtures/diff/invalid.yaml >"$W/bad.out" 2>"$W/bad.err"; rc=$?
if [ $rc -eq 1 ] && [ ! -s "$W/bad.out" ] && grep -q "odd number" "$W/bad.err"; then ok "invalid input: exit 1, diagnostics on stderr"; else notok "invalid input" "rc=$rc $(head -3 "$W/bad.err")"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
