#!/usr/bin/env bash
# bench/wide.sh [N...] -- time `bdp render` on one Cluster whose overrides are N keys wide
# (default 5000 10000 20000): N keys in a `zoo.cfg` configOverride, N envOverrides and N pod
# annotations (podOverrides), each case on its own. A linear pipeline doubles its time when N
# doubles; a quadratic one quadruples it. Not a test: it prints numbers, it asserts nothing.
# Needs: cargo, python3. BDP=path overrides the binary (default: a release build of this tree).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(5000 10000 20000)
if [ -z "${BDP:-}" ]; then cargo build --release -q; BDP=$PWD/target/release/bdp; fi
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
gen() { # gen CASE N > file
python3 - "$1" "$2" <<'PY'
import sys
case, n = sys.argv[1], int(sys.argv[2])
print("apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: zk, namespace: wide}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:")
if case == "config":
    print("      configOverrides:\n        zoo.cfg:")
    for i in range(n): print(f"          custom.key{i}: \"v{i}\"")
elif case == "env":
    print("      envOverrides:")
    for i in range(n): print(f"        CUSTOM_VAR_{i}: \"v{i}\"")
else:
    print("      podOverrides:\n        metadata:\n          annotations:")
    for i in range(n): print(f"            example.com/a{i}: \"v{i}\"")
PY
}
now() { python3 -c 'import time; print(time.perf_counter())'; }
printf '%-8s %-8s %-10s %s\n' case keys "time (s)" exit
for case in config env annotations; do
  for N in "${SIZES[@]}"; do
    gen "$case" "$N" > "$W/c.yaml"
    t0=$(now); set +e; "$BDP" render "$W/c.yaml" > /dev/null 2>"$W/err"; rc=$?; set -e; t1=$(now)
    printf '%-8s %-8s %-10.2f %s\n' "$case" "$N" "$(python3 -c "print($t1-$t0)")" "$rc"
  done
done
