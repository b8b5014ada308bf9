#!/usr/bin/env bash
# bench/fleet.sh [N...] -- benchmark `bdp render` on a generated fleet directory of N Clusters
# (default: 100 and 1000). For each N it reports the median wall time of `bdp render DIR -o OUT`
# over 5 runs (and of `bdp render DIR` to a stream), bdp's peak resident memory, and the median time of `kubectl kustomize OUT`
# re-reading bdp's own output; the ratio bdp/kustomize is the figure of merit (target <= 0.25).
# The fleet mixes the examples' shapes (3- and 5-server ZooKeeper, and HDFS HA/single and
# secure clusters when those examples exist), each Cluster with its own name and namespace.
# Not a test: it prints numbers, it asserts nothing. Needs: cargo, kubectl (kustomize), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000)
RUNS=${RUNS:-5}
# kustomize grows faster than linearly (392 s for 1000 clusters here); above this size it is skipped
KUSTOMIZE_MAX=${KUSTOMIZE_MAX:-300}
cargo build --release -q
BDP=$PWD/target/release/bdp
KUBECTL=${KUBECTL:-kubectl}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

# templates: every single-Cluster example file
TEMPLATES=()
for f in examples/*.yaml; do
  [ "$(grep -c '^kind: Cluster' "$f")" = 1 ] && ! grep -q '^kind: StackDefinition' "$f" && TEMPLATES+=("$f")
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { python3 -c 'import time; print(time.perf_counter())'; }

printf '%-8s %-10s %-12s %-12s %-14s %-14s %-8s %s\n' clusters objects "bdp -o (s)" "stream (s)" "peak RSS (MB)" "kustomize (s)" ratio "per cluster"
for N in "${SIZES[@]}"; do
  D=$W/fleet-$N; rm -rf "$D"; mkdir -p "$D"
  for i in $(seq 1 "$N"); do
    t=${TEMPLATES[$(( (i - 1) % ${#TEMPLATES[@]} ))]}
    # rename metadata.name and metadata.namespace so every Cluster is distinct
    python3 - "$t" "$D/c$i.yaml" "$i" <<'PY'
import re, sys
src, dst, i = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src).read()
text = re.sub(r"(?m)^(  name: )(\S+)$", lambda m: f"{m.group(1)}f{i}", text, count=1)
text = re.sub(r"(?m)^(  namespace: )(\S+)$", lambda m: f"{m.group(1)}ns{i}", text, count=1)
if "\n  namespace:" not in text:
    text = text.replace("\nmetadata:\n", f"\nmetadata:\n  namespace: ns{i}\n", 1)
open(dst, "w").write(text)
PY
  done
  OUT=$W/out-$N
  bdp_times=(); k_times=(); stream_times=()
  for r in $(seq 1 "$RUNS"); do
    rm -rf "$OUT"
    s=$(now); "$BDP" render "$D" -o "$OUT" 2>/dev/null; e=$(now)
    bdp_times+=("$(python3 -c "print($e-$s)")")
    s=$(now); "$BDP" render "$D" >/dev/null 2>&1; e=$(now)
    stream_times+=("$(python3 -c "print($e-$s)")")
    if [ "$N" -le "$KUSTOMIZE_MAX" ]; then
      s=$(now); "$KUBECTL" kustomize "$OUT" >/dev/null; e=$(now)
      k_times+=("$(python3 -c "print($e-$s)")")
    fi
  done
  rm -rf "$OUT"
  rss=$( { /usr/bin/time -f '%M' "$BDP" render "$D" -o "$OUT" 2>&1 >/dev/null; } | tail -1)
  objects=$(grep -c '^  - ' "$OUT/kustomization.yaml")
  b=$(printf '%s\n' "${bdp_times[@]}" | median); st=$(printf '%s\n' "${stream_times[@]}" | median)
  if [ ${#k_times[@]} -gt 0 ]; then
    k=$(printf '%s\n' "${k_times[@]}" | median); ratio=$(python3 -c "print(f'{$b/$k:.3f}')"); k=$(python3 -c "print(f'{$k:.3f}')")
  else k=skipped; ratio=-; fi
  printf '%-8s %-10s %-12.3f %-12.3f %-14.1f %-14s %-8s %s\n' "$N" "$objects" "$b" "$st" "$(python3 -c "print($rss/1024)")" "$k" "$ratio" "$(python3 -c "print(f'{$b/$N*1000:.2f} ms/cluster')")"
done
