#!/usr/bin/env bash
# run.sh -- HDFS e2e: Hadoop's own code reads the HDFS configuration that bdp renders.
#
# For each HDFS example (default: examples/hdfs-*.yaml; or the files given as arguments) it
#   1. renders it with bdp (target/release/bdp, or BDP=/path/to/bdp),
#   2. extracts every hdfs ConfigMap holding core-site.xml + hdfs-site.xml (each role's and the
#      discovery ConfigMap) into a temp dir, with what to expect taken from the rendered
#      StatefulSets (extract.py),
#   3. runs Check.java on each with Hadoop's client jars: Hadoop's Configuration parses the files,
#      DFSUtilClient/HAUtilClient resolve the nameservice to every namenode's RPC address, the
#      failover proxy provider loads, fs.defaultFS is the logical nameservice (HA) or namenode-0's
#      RPC address (one namenode); a namenode's file is checked as each of its pods sees it
#      (POD_NAME, ${env.*} dependencies), with its journal, ZooKeeper and exclude file;
#   4. runs the namenode/datanode init-container scripts of the first HA example against a stub
#      `hdfs` (bootstrap.sh): format/bootstrapStandby/formatZK guards and bounded waits.
# Prints `ok   NAME` or `NOT OK NAME` (with the check's output) per check and a last line
# `N passed, M failed`; exits 1 if anything failed, including a missing tool.
# Needs: Java 17+, python3 with PyYAML, and hadoop-client-api/-runtime + slf4j-api jars in
# ${BDP_E2E_HOME:-/opt/bdp-e2e}/hadoop-jars (tests/e2e/install.sh --only hadoop installs them).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
E2E_HOME=${BDP_E2E_HOME:-/opt/bdp-e2e}
JARS=$E2E_HOME/hadoop-jars
BDP=${BDP:-$ROOT/target/release/bdp}
W=$(mktemp -d /tmp/bdp-e2e-hdfs.XXXXXX)
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
pass=0; fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
not_ok() { # not_ok NAME [LOG]
  fail=$((fail + 1)); echo "NOT OK $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then grep -v '^  ok   ' "$2" | tail -n "${TAIL:-15}" | sed 's/^/       /'; fi
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# ---------------------------------------------------------------- tools
PY=$E2E_HOME/venv/bin/python
"$PY" -c 'import yaml' 2>/dev/null || PY=python3
"$PY" -c 'import yaml' 2>/dev/null || { not_ok "python3 with PyYAML (tests/e2e/install.sh --only py)"; finish; }
[ -x "$BDP" ] || { not_ok "bdp binary $BDP (cargo build --release, or BDP=/path/to/bdp)"; finish; }
command -v java >/dev/null || { not_ok "java 17+ (tests/e2e/install.sh --only java)"; finish; }
cp=$(ls "$JARS"/hadoop-client-api-*.jar "$JARS"/hadoop-client-runtime-*.jar "$JARS"/slf4j-api-*.jar 2>/dev/null | paste -sd:)
if [ "$(tr ':' '\n' <<<"$cp" | grep -c .)" != 3 ]; then
  not_ok "Hadoop client jars in $JARS (tests/e2e/install.sh --only hadoop)"; finish
fi
# compile once when a compiler is there (faster); else Java's single-file source launcher
if command -v javac >/dev/null && javac -nowarn -d "$W/classes" -cp "$cp" "$HERE/Check.java" 2>"$W/javac.log"; then
  check_java() { java -Xshare:auto -Dslf4j.internal.verbosity=ERROR -cp "$W/classes:$cp" Check "$@"; }
else
  check_java() { java -Xshare:auto -Dslf4j.internal.verbosity=ERROR -cp "$cp" "$HERE/Check.java" "$@"; }
fi

# ---------------------------------------------------------------- the examples
if [ $# -gt 0 ]; then examples=("$@"); else
  mapfile -t examples < <(cd "$ROOT" && ls examples/hdfs-*.yaml 2>/dev/null | LC_ALL=C sort)
fi
[ ${#examples[@]} -gt 0 ] || { not_ok "HDFS examples: none under examples/hdfs-*.yaml"; finish; }
covered=""   # namenode counts whose configuration was checked
booted=""    # the example whose bootstrap scripts were run
cd "$ROOT"
for ex in "${examples[@]}"; do
  u=$(basename "$ex" .yaml)
  echo "# $ex"
  if ! "$BDP" render "$ex" >"$W/$u.yaml" 2>"$W/$u.render.log"; then
    not_ok "$u: bdp render" "$W/$u.render.log"; continue
  fi
  if ! "$PY" "$HERE/extract.py" "$ex" "$W/$u.yaml" "$W/$u" >"$W/$u.checks" 2>"$W/$u.extract.log"; then
    not_ok "$u: extract the HDFS configurations" "$W/$u.extract.log"; continue
  fi
  n_nn=0; n_client=0; i=0
  while IFS='|' read -r name dir envs args; do
    i=$((i + 1))
    if [ "${name#!}" != "$name" ]; then not_ok "$u: ${name#!}: $dir"; continue; fi
    case $name in *"namenode configuration"*) n_nn=$((n_nn + 1));; *"client configuration"*) n_client=$((n_client + 1));; esac
    log="$W/$u.$i.log"
    # ENV and ARGS are space-separated lists without blanks inside; POD_NAME etc. only for this JVM
    # shellcheck disable=SC2086
    if (for kv in $envs; do export "${kv?}"; done; check_java "$dir" $args) >"$log" 2>&1; then
      ok "$u: $name"
    else
      not_ok "$u: $name" "$log"
    fi
    nns=$(sed -n 's/.*--namenodes \([^ ]*\).*/\1/p' <<<"$args" | tr ',' '\n' | grep -c .)
    covered="$covered $nns"
  done <"$W/$u.checks"
  # the init-container guards of an HA example, run against a stub hdfs (once: all render the same)
  if [ -z "$booted" ] && grep -q 'name: format-zk' "$W/$u.yaml"; then
    booted=$u
    PY=$PY "$HERE/bootstrap.sh" "$W/$u.yaml" >"$W/$u.boot.log" 2>&1
    while IFS= read -r line; do
      case $line in
        "ok   "*) pass=$((pass + 1)); echo "ok   $u: ${line#ok   }";;
        "NOT OK "*) fail=$((fail + 1)); echo "NOT OK $u: ${line#NOT OK }";;
        "       "*) echo "$line";;
      esac
    done <"$W/$u.boot.log"
    grep -Eq '^(ok   |NOT OK )' "$W/$u.boot.log" || not_ok "$u: bootstrap scripts" "$W/$u.boot.log"
  fi
  if [ "$n_nn" -gt 0 ] && [ "$n_client" -gt 0 ]; then
    ok "$u: checked $n_nn namenode view(s) and the client (discovery) configuration"
  else
    not_ok "$u: expected namenode and client configurations, found $n_nn namenode view(s) and $n_client client one(s)"
  fi
done

# the bootstrap scripts of a secure HA cluster too (kinit before haadmin)
if [ $# -eq 0 ]; then
  sec=examples/secure-hdfs.yaml
  if "$BDP" render "$sec" >"$W/secure.yaml" 2>"$W/secure.render.log" && grep -q 'name: KRB5CCNAME' "$W/secure.yaml"; then
    PY=$PY "$HERE/bootstrap.sh" "$W/secure.yaml" >"$W/secure.boot.log" 2>&1
    while IFS= read -r line; do
      case $line in
        "ok   "*) pass=$((pass + 1)); echo "ok   secure-hdfs: ${line#ok   }";;
        "NOT OK "*) fail=$((fail + 1)); echo "NOT OK secure-hdfs: ${line#NOT OK }";;
        "       "*) echo "$line";;
      esac
    done <"$W/secure.boot.log"
    grep -q 'secure: kinit' "$W/secure.boot.log" || not_ok "secure-hdfs: the secure bootstrap scenarios did not run" "$W/secure.boot.log"
  else
    not_ok "secure-hdfs: render with a KRB5CCNAME for the format init container" "$W/secure.render.log"
  fi
fi

# the suite must keep covering HA with 2 and 3 namenodes and the single-namenode form
if [ $# -eq 0 ]; then
  missing=""
  for n in 1 2 3; do grep -qw "$n" <<<"$covered" || missing="$missing $n"; done
  if [ -z "$missing" ]; then ok "coverage: configurations with 1, 2 and 3 namenodes were checked"
  else not_ok "coverage: no example checked a configuration with${missing} namenode(s)"; fi
  if [ -n "$booted" ]; then ok "coverage: the bootstrap scripts were run (from $booted)"
  else not_ok "coverage: no HA example, so the bootstrap scripts were not run"; fi
fi
finish
