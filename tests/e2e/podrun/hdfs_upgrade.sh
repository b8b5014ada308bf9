#!/usr/bin/env bash
# hdfs_upgrade.sh -- issue 11 on podrun: the HDFS rolling upgrade 3.3.6 → 3.4.1 of a 2-namenode HA
# cluster and its rollback before finalize, done as the stack's `versions` steps tell a user.
# The Cluster (1 ZooKeeper, 3 journalnodes, 2 namenodes with ZKFC, 2 datanodes, dfs.replication 2)
# is rendered by the hadoop-3.3 stack (apache/hadoop:3.3.6, zookeeper:3.8.4) and run by podrun.
#   1  files written and checksummed before `prepare`;
#   2  `bdp diff --check` of hadoop-3.3 → hadoop-3.4 passes and prints the HDFS steps; the stack's
#      action Jobs `rolling-upgrade prepare` / `query` (bdp action + podrun run) until "Proceed";
#      a file written after prepare; fail over to namenode-0 as step 2 says;
#   3  `podrun apply` of the hadoop-3.4 render rolls every pod while a client (HdfsLoad.java, the
#      3.3.6 client jars on the host, the discovery ConfigMap's HA configuration) writes and reads
#      back files; zero failed operations; every daemon's log says version 3.4.1 since its last
#      start; the files read back identical; the rolling upgrade is still in progress;
#   4  the rollback: the revert (hadoop-3.3, ZooKeeper pinned at 3.9.3 as docs/operations.md says,
#      since ZooKeeper cannot go back across series) passes `bdp diff --check` with the rollback
#      steps, `podrun apply` rolls it back under the same client; every daemon runs 3.3.6; the
#      files of before prepare are intact; which later files survive is printed;
#   5  finalize: `rolling-upgrade finalize` then `query` shows none in progress.
# Prints the time of each phase, the client's counts and the number of JVMs. One line per check,
# closing "N passed, M failed". Needs root and tests/e2e/install.sh --only podrun (the hadoop-3.3.6,
# hadoop-3.4.1, zookeeper-3.8.4 and -3.9.3 jar caches; a JDK for the client's source launcher).
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$(e2e_any_python)
podrun_workdir hdfs-upgrade CLIENT
STATE=$WORK/state
CLIENT=

C=lake; NS=bigdata
NN=$C-hdfs-namenode; JN=$C-hdfs-journalnode; DN=$C-hdfs-datanode; ZK=$C-zookeeper-server
JARS=${PODRUN_CACHE:-/var/cache/bdp-podrun}/hadoop-3.3.6/lib
# cluster STACK [ZK-TAG [ROLLING-UPGRADE]]: the Cluster on a stack, ZooKeeper's image pinned to
# ZK-TAG if not empty, the hdfs setting rollingUpgrade if given
cluster() {
  local pin= ru=
  [ -n "${2:-}" ] && pin=$(printf '\n      image:\n        tag: "%s"' "$2")
  [ -n "${3:-}" ] && ru=$(printf '\n      rollingUpgrade: %s' "$3")
  cat <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata:
  name: $C
  namespace: $NS
spec:
  stack: $1
  services:
    zookeeper:$pin
      roles:
        server:
          replicas: 1
    hdfs:$ru
      configOverrides:
        hdfs-site.xml:
          dfs.replication: "2"
      roles:
        namenode:
          replicas: 2
        journalnode:
          replicas: 3
        datanode:
          replicas: 2
EOF
}
pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
pods_json() { pr status --json; }
podf() { pods_json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
jvms() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] for c in p["containers"] if c["pid"]))'; }
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
jmx() { "$PY" - "$1" "$2" "$3" "$4" <<'PYEOF'
import json, sys, urllib.request
addr, port, qry, key = sys.argv[1:]
try:
    d = json.load(urllib.request.urlopen(f"http://{addr}:{port}/jmx?qry={qry}", timeout=3))
    print((d["beans"][0] if d["beans"] else {}).get(key, "down"))
except Exception:
    print("down")
PYEOF
}
nn_state() { jmx "$(podf "$1" address)" 9870 Hadoop:service=NameNode,name=NameNodeStatus State; }
ha_states() { for i in 0 1; do echo "$NN-$i=$(nn_state $NN-$i)"; done | tr '\n' ' '; }
active_standby() { [ "$( { nn_state $NN-0; nn_state $NN-1; } | sort | tr '\n' ' ')" = 'active standby ' ]; }
hdfs_c() { pr exec "$DN-0" -- hdfs "$@" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader' >&2); }
# the section of a container log since its last start
last_start() { awk '/^--- podrun: start /{buf=""; next} {buf=buf $0 "\n"} END{printf "%s", buf}' "$STATE/logs/${NS}_$1/$2.log"; }
# versions: "pod/container=VERSION" of every Hadoop daemon and ZooKeeper, from their logs since the last start
versions() {
  local p c v
  for p in $JN-0 $JN-1 $JN-2 $NN-0 $NN-1 $DN-0 $DN-1 $ZK-0; do
    case $p in $NN-*) cs="namenode zkfc";; $JN-*) cs=journalnode;; $DN-*) cs=datanode;; *) cs=zookeeper;; esac
    for c in $cs; do
      if [ "$c" = zookeeper ]; then v=$(last_start "$p" "$c" | sed -n 's/.*Server environment:zookeeper.version=\([0-9.]*\).*/\1/p' | head -1)
      else v=$(last_start "$p" "$c" | sed -n 's/^STARTUP_MSG:   version = \(.*\)/\1/p' | head -1); fi
      echo "$p/$c=${v:-none}"
    done
  done
}
# all_run VERSION: every Hadoop daemon's last start logged VERSION
all_run() { local n; n=$(versions | grep -v "$ZK" | grep -vc "=$1\$"); [ "$n" = 0 ]; }
# act NAME CLUSTER ACTION-ARGS...: render the stack's action Job and run it
act() {
  local name=$1 cl=$2; shift 2
  "$BDP" action "$cl" hdfs "$@" >"$WORK/$name.yaml" 2>"$WORK/$name.err" || { cat "$WORK/$name.err"; return 1; }
  pr run "$WORK/$name.yaml" --timeout 300 >"$WORK/$name.out" 2>&1
}
ran() { grep -q "^podrun: job .* succeeded" "$WORK/$1.out" && grep -Eq "$2" "$WORK/$1.out"; }
# the client on the host: the 3.3.6 client jars, the discovery ConfigMap's configuration, podrun's
# hosts file for the cluster names
client_conf() {
  mkdir -p "$WORK/conf"
  "$PY" - "$WORK/s1.yaml" "$WORK/conf" <<'PYEOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"].endswith("-hdfs-discovery"):
        for k in ("core-site.xml", "hdfs-site.xml"):
            open(f"{sys.argv[2]}/{k}", "w").write(d["data"][k])
PYEOF
  printf 'log4j.rootLogger=WARN,stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=%%d{ISO8601} %%p %%c{1}: %%m%%n\nlog4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR\n' >"$WORK/conf/log4j.properties"
}
client_start() { # client_start RUN
  rm -f "$WORK/stop"
  client_java --dir /load --run "$1" --stop-file "$WORK/stop" --max-seconds 1200 \
    --manifest "$WORK/manifest-$1.txt" >"$WORK/$1.json" 2>"$WORK/$1.err" &
  CLIENT=$!
  local t=$SECONDS
  until [ -s "$WORK/manifest-$1.txt" ] || [ $((SECONDS-t)) -ge 120 ]; do sleep 1; done
}
client_stop() { touch "$WORK/stop"; wait "$CLIENT"; CLIENT=; }
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.json" "$2" 2>/dev/null; }
# roll STREAM RUN: podrun apply under the client; prints its counts
roll() {
  local t
  client_start "$2"
  check "$2: the client works before the roll ($(wc -l <"$WORK/manifest-$2.txt") operations)" [ -s "$WORK/manifest-$2.txt" ]
  t=$SECONDS
  if pr apply "$1" --wait 900 >"$WORK/$2.log" 2>&1; then ok "$2: podrun apply rolled every pod in $((SECONDS-t))s"
  else bad "$2: podrun apply ($((SECONDS-t))s)"; tail -40 "$WORK/$2.log"; fi
  echo "     $2: roll $((SECONDS-t))s"
  wait_for 120 active_standby
  sleep 5
  client_stop
  echo "     client during $2: $(cat "$WORK/$2.json")"
  [ -s "$WORK/$2.err" ] && { echo "     client errors (first 5):"; head -5 "$WORK/$2.err" | sed 's/^/       /'; }
  check "$2: the client made operations during the roll ($(field "$2" attempted))" [ "$(field "$2" attempted)" -gt 5 ]
  check "$2: zero failed client operations ($(field "$2" failed) failed, $(field "$2" retried) retried)" [ "$(field "$2" failed)" = 0 ]
}
# check_manifest FILE: "INTACT GONE-OR-CHANGED" of the files it lists (path, SHA-256), read back by
# the host client in one JVM
client_java() { HADOOP_USER_NAME=hadoop java -Xmx256m -Djdk.net.hosts.file="$STATE/hosts" -cp "$WORK/conf:$JARS/*" tests/e2e/podrun/HdfsLoad.java "$@"; }
check_manifest() { client_java --verify "$1" 2>>"$WORK/verify.err" | tail -1; }
phase() { echo "     phase $1: $2s"; }

# c1 the start, c2 the upgrade commit (step 3: the new stack and rollingUpgrade: true), c3 its revert
# (ZooKeeper pinned at 3.9.3: its way back across series is refused)
cluster hadoop-3.3 >"$WORK/c1.yaml"; cluster hadoop-3.4 "" true >"$WORK/c2.yaml"; cluster hadoop-3.3 3.9.3 >"$WORK/c3.yaml"
for i in 1 2 3; do "$BDP" render "$WORK/c$i.yaml" >"$WORK/s$i.yaml" || { bad "render c$i"; finish; }; done
client_conf

echo "=== 1: up on hadoop-3.3, files before prepare"
T=$SECONDS
if pr up "$WORK/s1.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then ok "podrun up: every pod Ready in $((SECONDS-T))s"
else bad "podrun up"; tail -60 "$WORK/up.log"; finish; fi
echo "     $(jvms) JVMs running (one per container)"
check "every Hadoop daemon runs 3.3.6" all_run 3.3.6
hdfs_c dfs -mkdir -p /e2e /load
: >"$WORK/manifest-before.txt"
for i in 1 2 3; do
  head -c $((i*1000000)) /dev/urandom >"$WORK/before-$i.bin"
  hdfs_c dfs -put - /e2e/before-$i.bin <"$WORK/before-$i.bin"
  echo "/e2e/before-$i.bin $(sha256sum <"$WORK/before-$i.bin" | cut -d' ' -f1)" >>"$WORK/manifest-before.txt"
done
r=$(check_manifest "$WORK/manifest-before.txt")
check "3 files (1, 2, 3 MB) written before prepare read back identical ($r intact/changed)" [ "$r" = "3 0" ]
phase 1 $((SECONDS-T))

echo "=== 2: bdp diff --check, prepare, query, fail over"
T=$SECONDS
"$BDP" diff --check "$WORK/c1.yaml" "$WORK/c2.yaml" >"$WORK/up.diff"; rc=$?
check "bdp diff --check allows hadoop-3.3 → hadoop-3.4 (exit $rc)" [ $rc = 0 ]
check "the namenodes of the upgrade commit start with -rollingUpgrade started" grep -q "exec hdfs namenode -rollingUpgrade started" "$WORK/s2.yaml"
check "bdp diff classifies HDFS 3.3.6 → 3.4.1 as an upgrade" grep -q "hdfs: 3.3.6 → 3.4.1: upgrade (series 3.3 → 3.4)" "$WORK/up.diff"
sed -n '/hdfs: 3.3.6 → 3.4.1/,/zookeeper: 3.8.4/p' "$WORK/up.diff" | sed '$d'
check "the steps name prepare, query, fail over, rollingUpgrade: true and finalize" bash -c "grep -q 'rollingUpgrade prepare' '$WORK/up.diff' && grep -q 'rollingUpgrade query' '$WORK/up.diff' && grep -q 'haadmin' '$WORK/up.diff' && grep -q 'rollingUpgrade: true' '$WORK/up.diff' && grep -q 'rollingUpgrade finalize' '$WORK/up.diff'"
t=$SECONDS; act ru-prepare "$WORK/c1.yaml" rolling-upgrade --arg step=prepare
check "rolling-upgrade prepare Job ($((SECONDS-t))s)" ran ru-prepare 'Preparing for upgrade|Proceed with rolling upgrade'
t=$SECONDS; n=0
until act ru-query "$WORK/c1.yaml" rolling-upgrade --arg step=query && grep -q 'Proceed with rolling upgrade' "$WORK/ru-query.out"; do
  n=$((n+1)); [ $((SECONDS-t)) -ge 300 ] && break; sleep 5
done
check "rolling-upgrade query Job: \"Proceed with rolling upgrade\", the rollback image exists ($((SECONDS-t))s, $((n+1)) queries)" ran ru-query 'Proceed with rolling upgrade'
head -c 1000000 /dev/urandom >"$WORK/after-prepare.bin"
hdfs_c dfs -put - /e2e/after-prepare.bin <"$WORK/after-prepare.bin"
echo "/e2e/after-prepare.bin $(sha256sum <"$WORK/after-prepare.bin" | cut -d' ' -f1)" >"$WORK/manifest-after-prepare.txt"
check "a file written after prepare" hdfs_c dfs -test -e /e2e/after-prepare.bin
echo "     HA before the failover: $(ha_states)"
if [ "$(nn_state $NN-0)" != active ]; then
  hdfs_c haadmin -failover $NN-1 $NN-0 >"$WORK/failover.out" 2>&1
fi
nn0_active() { [ "$(nn_state $NN-0) $(nn_state $NN-1)" = "active standby" ]; }
wait_for 60 nn0_active
st="$(nn_state $NN-0) $(nn_state $NN-1)"
check "after the failover: namenode-0 active, namenode-1 standby ($st)" [ "$st" = "active standby" ]
phase 2 $((SECONDS-T))

echo "=== 3: the upgrade: podrun apply of the hadoop-3.4 render under the client"
T=$SECONDS
roll "$WORK/s2.yaml" upgrade
v=$(versions | tr '\n' ' ')
echo "     $v"
check "every Hadoop daemon (3 journalnodes, 2 namenodes, 2 ZKFC, 2 datanodes) runs 3.4.1" all_run 3.4.1
check "ZooKeeper runs 3.9.3" bash -c "echo '$v' | grep -q '$ZK-0/zookeeper=3.9.3'"
sv=$(for i in 0 1; do jmx "$(podf $NN-$i address)" 9870 Hadoop:service=NameNode,name=NameNodeInfo SoftwareVersion; done | tr '\n' ' ')
check "both namenodes report SoftwareVersion 3.4.1 over JMX ($sv)" [ "$sv" = "3.4.1 3.4.1 " ]
check "one namenode active, one standby ($(ha_states))" active_standby
r=$(check_manifest "$WORK/manifest-before.txt"); check "the files of before prepare read back identical on 3.4.1 ($r intact/changed)" [ "$r" = "3 0" ]
r=$(check_manifest "$WORK/manifest-upgrade.txt"); check "every file the client wrote during the roll reads back identical ($r intact/changed)" [ "${r#* }" = 0 ]
act ru-query2 "$WORK/c2.yaml" rolling-upgrade --arg step=query
check "rolling-upgrade query on 3.4.1: still in progress (not finalized)" ran ru-query2 'Proceed with rolling upgrade|Preparing for upgrade'
echo "     $(jvms) JVMs running"
phase 3 $((SECONDS-T))

echo "=== 4: the rollback before finalize: revert (ZooKeeper pinned at 3.9.3), podrun apply"
T=$SECONDS
cluster hadoop-3.3 >"$WORK/c1r.yaml"
"$BDP" diff --check "$WORK/c2.yaml" "$WORK/c1r.yaml" >"$WORK/down1.diff"; rc=$?
check "the plain revert to hadoop-3.3 is refused for ZooKeeper 3.9 → 3.8 (exit $rc)" [ $rc = 1 ]
"$BDP" diff --check "$WORK/c2.yaml" "$WORK/c3.yaml" >"$WORK/down.diff"; rc=$?
check "the revert with ZooKeeper pinned at 3.9.3 passes bdp diff --check (exit $rc)" [ $rc = 0 ]
check "bdp diff classifies HDFS 3.4.1 → 3.3.6 as a rollback with its steps" grep -q "hdfs: 3.4.1 → 3.3.6: rollback" "$WORK/down.diff"
sed -n '/hdfs: 3.4.1 → 3.3.6: rollback/,/Data risks:/p' "$WORK/down.diff" | sed '$d'
roll "$WORK/s3.yaml" rollback
v=$(versions | tr '\n' ' ')
echo "     $v"
check "every Hadoop daemon runs 3.3.6 again" all_run 3.3.6
check "ZooKeeper stays on 3.9.3" bash -c "echo '$v' | grep -q '$ZK-0/zookeeper=3.9.3'"
check "one namenode active, one standby ($(ha_states))" active_standby
r=$(check_manifest "$WORK/manifest-before.txt"); check "the files of before prepare are intact after the rollback ($r intact/changed)" [ "$r" = "3 0" ]
for m in after-prepare upgrade rollback; do
  r=$(check_manifest "$WORK/manifest-$m.txt")
  echo "     files written $m (after prepare): ${r% *} readable and identical, ${r#* } gone or changed"
done
act ru-query3 "$WORK/c3.yaml" rolling-upgrade --arg step=query
grep -E 'rolling upgrade|Rolling upgrade|Proceed' "$WORK/ru-query3.out" | head -3 | sed 's/^/     query: /'
echo "     $(jvms) JVMs running"
phase 4 $((SECONDS-T))

echo "=== 5: finalize"
T=$SECONDS
act ru-finalize "$WORK/c3.yaml" rolling-upgrade --arg step=finalize
check "rolling-upgrade finalize Job" ran ru-finalize '[Ff]inalize'
act ru-query4 "$WORK/c3.yaml" rolling-upgrade --arg step=query
check "rolling-upgrade query after finalize: none in progress" ran ru-query4 'no rolling upgrade in progress|finalized'
r=$(check_manifest "$WORK/manifest-before.txt"); check "the files of before prepare are intact after finalize ($r intact/changed)" [ "$r" = "3 0" ]
phase 5 $((SECONDS-T))

t=$SECONDS
pr down >/dev/null; STATE=
echo "     down in $((SECONDS-t))s"
finish
