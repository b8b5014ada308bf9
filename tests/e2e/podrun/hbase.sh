#!/usr/bin/env bash
# hbase.sh -- HBase on HDFS and ZooKeeper on podrun (issue 13): the rendered ZooKeeper (1 server),
# HDFS (1 namenode, 1 datanode) and HBase (2 masters: one active, one backup; 2 regionservers)
# pods of one Cluster run as real processes with the HBase 2.6.1 / Hadoop 3.3.6 / ZooKeeper jars of
# podrun's image profiles, heaps lowered through configOverrides.
#   1  `podrun up`; one master is active, the other a backup (their JMX tag.isActiveMaster, and
#      ZooKeeper's <znodeParent>/master and backup-masters read by the client); hbase.rootdir exists
#      on the HDFS; the client (HBase's Java client: tests/e2e/podrun/hbase/HBaseE2E.java, compiled
#      with javac against the profile's jars, run in a regionserver pod with its rendered
#      hbase-site.xml) creates a table, puts 500 rows and gets them back; failed operations counted.
#   2  SIGKILL the active master: a backup becomes active (time printed; ZooKeeper names it), the
#      rows are still readable, 500 more rows are put and read, a second table is created (DDL
#      needs the new active master); the killed pod comes back as a backup.
# One line per check, closing line "N passed, M failed". Needs root and
# tests/e2e/install.sh --only podrun. PODRUN_E2E_PROFILE=debug uses debug builds.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$(e2e_any_python)
podrun_workdir hbase
STATE=$WORK/state

C=store; NS=bigtable
HM=$C-hbase-master; RS=$C-hbase-regionserver; ZK=$C-zookeeper-server; NN=$C-hdfs-namenode
ZNODE=/hbase-$NS-$C
cat >"$WORK/cluster.yaml" <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata:
  name: $C
  namespace: $NS
spec:
  stack: hadoop-3.3
  services:
    zookeeper:
      roles:
        server:
          replicas: 1
    hdfs:
      smokeTest: false
      configOverrides:
        hdfs-site.xml:
          dfs.replication: "1"
        hadoop-env.sh:
          HDFS_NAMENODE_OPTS: "-Xmx256m"
          HDFS_DATANODE_OPTS: "-Xmx256m"
      roles:
        namenode:
          replicas: 1
        datanode:
          replicas: 1
    hbase:
      configOverrides:
        hbase-site.xml:
          # a crashed master's ZooKeeper session ends after 20 s, not 90 (ZooKeeper caps it at
          # 20 ticks = 40 s anyway): the backup takes over sooner
          zookeeper.session.timeout: "20000"
        hbase-env.sh:
          HBASE_MASTER_OPTS: "-Xmx256m"
          HBASE_REGIONSERVER_OPTS: "-Xmx384m"
      roles:
        master:
          replicas: 2
        regionserver:
          replicas: 2
EOF

pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
pods_json() { pr status --json; }
podf() { pods_json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
total() { pods_json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["pods"]))'; }
ready_count() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p["ready"] and p["phase"]=="Running"))'; }
all_ready() { local n; n=$(total); [ "$n" -gt 0 ] && [ "$(ready_count)" = "$n" ]; }
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
# a master's own view (JMX of its web port, open to clients): active, backup or down
master_state() { "$PY" - "$(podf "$1" address)" <<'PYEOF'
import json, sys, urllib.request
try:
    d = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}:16010/jmx?qry=Hadoop:service=HBase,name=Master,sub=Server", timeout=3))
    b = d["beans"][0] if d["beans"] else {}
    print({"true": "active", "false": "backup"}.get(str(b.get("tag.isActiveMaster", "")).lower(), "down"))
except Exception:
    print("down")
PYEOF
}
is_state() { [ "$(master_state "$1")" = "$2" ]; }
active_master() { local i; for i in 0 1; do is_state $HM-$i active && { echo $HM-$i; return; }; done; echo none; }
one_active() { [ "$(active_master)" != none ]; }
not_active() { ! is_state "$1" active; }
active_backup() { [ "$( { master_state $HM-0; master_state $HM-1; } | sort | tr '\n' ' ')" = 'active backup ' ]; }
CLIENT=$RS-0
# the client in a regionserver pod: its hbase-site.xml (quorum, znode parent) and the HDFS client config
CP=/tmp/e2e:/etc/hbase/conf:/stackable/hbase/lib/*:/etc/hadoop/conf
JOPTS="--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true -Dlog4j2.level=WARN"
install_client() { pr exec "$CLIENT" -- bash -c 'mkdir -p /tmp/e2e && cat >/tmp/e2e/HBaseE2E.class' <"$WORK/cls/HBaseE2E.class"; }
client() { pr exec "$CLIENT" -- bash -c "exec java $JOPTS -cp '$CP' HBaseE2E \"\$@\" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader\|SLF4J' >&2)" _ "$@"; }
# run the client, print its result line, succeed when no operation failed
# ZooKeeper's view through the client (the host is outside the NetworkPolicy of port 2181, which
# admits ZooKeeper's dependents): "ACTIVE BACKUP,..." from <znodeParent>/master and backup-masters
zk_masters() { client zk 2>/dev/null | sed -n 's/^zk //p'; }
op() { local out; out=$(client "$@" 2>"$WORK/client.err"); local rc=$?; echo "     $out"; [ $rc = 0 ] || tail -5 "$WORK/client.err"; return $rc; }

T0=$SECONDS
mkdir -p "$WORK/cls"
javac -d "$WORK/cls" -cp "${PODRUN_CACHE:-/var/cache/bdp-podrun}/hbase-2.6.1/lib/*" tests/e2e/podrun/hbase/HBaseE2E.java || { bad "javac HBaseE2E.java"; finish; }
"$BDP" render "$WORK/cluster.yaml" >"$WORK/stream.yaml" || { bad "render"; finish; }
check "podrun accepts the rendered stream (k8s-openapi types, runnable)" "$PODRUN" check "$WORK/stream.yaml"

echo "=== scenario 1: up, create, put, get"
t=$SECONDS
if pr up "$WORK/stream.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then
  ok "podrun up: $(total) pods Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -80 "$WORK/up.log"; finish
fi
JVMS=$(pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] for c in p["containers"] if c["pid"]))')
echo "     $JVMS JVMs running at once (one per container)"
check "one master active, the other a backup (JMX)" wait_for 180 active_backup
A=$(active_master)
install_client || bad "copy the client class into $CLIENT"
zkv=$(zk_masters)
other=$HM-0; [ "$A" = $HM-0 ] && other=$HM-1
check "ZooKeeper $ZNODE/master names the active $A, backup-masters the other ($zkv)" [ "$zkv" = "$A $other" ]
check "hbase.rootdir /hbase/$NS/$C exists on the HDFS (hbase.version written)" pr exec $NN-0 -- hdfs dfs -test -e /hbase/$NS/$C/hbase.version
check "client created table e2e" op create e2e
check "client put 500 rows, 0 failed" op put e2e 0 500
check "client got the 500 rows back, 0 failed" op get e2e 0 500
echo "     scenario 1: $((SECONDS-T0))s"

echo "=== scenario 2: SIGKILL the active master"
T2=$SECONDS
A=$(active_master); case $A in $HM-0) B=$HM-1;; $HM-1) B=$HM-0;; *) B=;; esac
if [ -z "$B" ]; then bad "an active master to kill"; else
  t0=$(date +%s.%N)
  pr kill "$A" >/dev/null
  wait_for 30 not_active "$A"   # the SIGKILL has taken effect
  # The backup takes <znode>/master when the killed master's ZooKeeper session expires
  # (zookeeper.session.timeout 20 s here). The StatefulSet re-creates the killed pod at once; when
  # its new master registers before that expiry it waits as a backup too and may win the race.
  # Either way one master is active again; which one is printed.
  if wait_for 240 one_active; then
    ft=$("$PY" -c "import time; print(f'{time.time()-$t0:.1f}')")
    N=$(active_master)
    if [ "$N" = "$B" ]; then ok "the backup $B became active ${ft}s after the active $A was SIGKILLed"
    else ok "a master is active ${ft}s after the active $A was SIGKILLed (the re-created $A won before its old session expired)"; fi
    zkv=$(zk_masters)
    check "ZooKeeper $ZNODE/master names the new active $N ($zkv)" [ "${zkv%% *}" = "$N" ]
  else bad "a master is active again after the active $A was SIGKILLed"; fi
  check "the 500 rows are still readable, 0 failed" op get e2e 0 500
  check "client put 500 more rows, 0 failed" op put e2e 500 500
  check "client got them back, 0 failed" op get e2e 500 500
  rows=$(client count e2e 2>/dev/null | sed -n 's/^count ok=\([0-9]*\) .*/\1/p')
  check "a scan counts 1000 rows ($rows)" [ "$rows" = 1000 ]
  check "client created table e2e2 (DDL through the new active master)" op create e2e2
  check "the killed $A is Ready again" wait_for 600 all_ready
  check "one master active, the other a backup" wait_for 180 active_backup
fi
echo "     scenario 2: $((SECONDS-T2))s"

t=$SECONDS
pr down >/dev/null
echo "     down in $((SECONDS-t))s; total $((SECONDS-T0))s"
finish
