#!/usr/bin/env bash
# hdfs.sh -- the HDFS scenarios of issue 10 on podrun (insecure HA): the rendered ZooKeeper,
# journalnode, namenode (+ ZKFC) and datanode pods of a Cluster scaled for 2 cores (1 ZooKeeper,
# 3 journalnodes, 2 namenodes, 2 datanodes, dfs.replication 2) run as real processes with the
# Hadoop 3.3.6 jars (podrun profile apache/hadoop:3.3.6).
#   1  `podrun up`; a client (hdfs dfs in a datanode pod, with the pod's rendered config) writes a
#      file and reads it back byte for byte.
#   2  SIGKILL the active namenode: a namenode is active again (the standby, or the re-created pod
#      when it wins the election first; time and winner printed), the file is still readable, then
#      one is active and one standby, and the killed pod kept its clusterID, not reformatted.
#   3  namenode-0's volume is wiped and the pod re-created while the other namenode is active: it
#      bootstraps from it (bootstrapStandby), becomes standby, clusterID unchanged.
#   5  one pod of every role is SIGKILLed at once: everything is Ready again, the file is intact.
#   review finding 3: datanodeRacks puts datanode-0 in /zone-a, datanode-1 in /zone-b
#      (`hdfs dfsadmin -printTopology`).
#   review finding 11: a namenode is not Ready while in safe mode or before it is active/standby, a
#      datanode not before it registered with a namenode (readiness from JMX, not a TCP port).
# One line per check, closing line "N passed, M failed". Needs root and
# tests/e2e/install.sh --only podrun. PODRUN_E2E_PROFILE=debug uses debug builds.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$(e2e_any_python)
podrun_workdir hdfs
STATE=$WORK/state

C=lake; NS=bigdata
NN=$C-hdfs-namenode; JN=$C-hdfs-journalnode; DN=$C-hdfs-datanode; ZK=$C-zookeeper-server
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
      datanodeRacks: [/zone-a, /zone-b]
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

pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
pods_json() { pr status --json; }
# pod field: address, ready, phase of one pod
podf() { pods_json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
total() { pods_json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["pods"]))'; }
ready_count() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p["ready"] and p["phase"]=="Running"))'; }
all_ready() { local n; n=$(total); [ "$n" -gt 0 ] && [ "$(ready_count)" = "$n" ]; }
# wait_for SECONDS CMD...: poll every second; prints nothing, returns CMD's last status
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
# JMX from the host (the web port is open to clients): a namenode's HA state
jmx() { "$PY" - "$1" "$2" "$3" <<'PYEOF'
import json, sys, urllib.request
addr, port, qry = sys.argv[1:]
try:
    d = json.load(urllib.request.urlopen(f"http://{addr}:{port}/jmx?qry={qry}", timeout=3))
    b = d["beans"][0] if d["beans"] else {}
    print(json.dumps(b))
except Exception:
    print("{}")
PYEOF
}
nn_state() { jmx "$(podf "$1" address)" 9870 Hadoop:service=NameNode,name=NameNodeStatus | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("State","down"))'; }
is_state() { [ "$(nn_state "$1")" = "$2" ]; }
one_active() { local n=0 i; for i in 0 1; do is_state $NN-$i active && n=$((n+1)); done; [ $n = 1 ]; }
not_active() { ! is_state "$1" active; }
active_standby() { [ "$( { nn_state $NN-0; nn_state $NN-1; } | sort | tr '\n' ' ')" = 'active standby ' ]; }
active_nn() { local i; for i in 0 1; do is_state $NN-$i active && { echo $NN-$i; return; }; done; echo none; }
# the client: hdfs in a datanode pod (its hdfs-site.xml is the discovery one: nameservice, failover proxy)
CLIENT=$DN-1
hdfs_c() { pr exec "$CLIENT" -- hdfs "$@" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader' >&2); }
read_back() { hdfs_c dfs -cat /e2e/data.bin >"$WORK/read.bin" && cmp -s "$WORK/data.bin" "$WORK/read.bin"; }
cluster_id() { pr exec "$1" -c namenode -- sed -n 's/^clusterID=//p' /data/name/current/VERSION; }
# the section of a container log since its last start
last_start() { awk '/^--- podrun: start /{buf=""; next} {buf=buf $0 "\n"} END{printf "%s", buf}' "$STATE/logs/${NS}_$1/$2.log"; }

T0=$SECONDS
"$BDP" render "$WORK/cluster.yaml" >"$WORK/stream.yaml" || { bad "render"; finish; }
check "podrun accepts the rendered stream (k8s-openapi types, runnable)" "$PODRUN" check "$WORK/stream.yaml"

echo "=== scenario 1: up, write, read"
t=$SECONDS
# finding 11: sample readiness while the cluster starts; a namenode or datanode Ready before its
# real state is reached fails below
( while [ ! -e "$WORK/stop-sampler" ]; do
    for p in $NN-0 $NN-1 $DN-0 $DN-1; do
      a=$(podf $p address 2>/dev/null); r=$(podf $p ready 2>/dev/null)
      [ "$r" = True ] || continue
      case $p in
        $NN-*) s=$(jmx "$a" 9870 Hadoop:service=NameNode,name=NameNodeInfo | "$PY" -c 'import json,sys; b=json.load(sys.stdin); print("safemode" if b.get("Safemode") else "ok" if b else "down")')
               h=$(nn_state $p); echo "$p ready state=$h safemode=$s" ;;
        $DN-*) s=$(jmx "$a" 9864 Hadoop:service=DataNode,name=DataNodeInfo | "$PY" -c 'import json,sys; b=json.load(sys.stdin); print("registered" if "RUNNING" in b.get("BPServiceActorInfo","") else "unregistered")')
               echo "$p ready $s" ;;
      esac
    done
    sleep 1
  done >"$WORK/readiness.log" 2>/dev/null ) &
SAMPLER=$!
if pr up "$WORK/stream.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then
  ok "podrun up: $(total) pods Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -80 "$WORK/up.log"; touch "$WORK/stop-sampler"; wait $SAMPLER; finish
fi
touch "$WORK/stop-sampler"; wait $SAMPLER
JVMS=$(pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] for c in p["containers"] if c["pid"]))')
echo "     $JVMS JVMs running at once (one per container)"
m=$(grep -c ready "$WORK/readiness.log"); w=$(grep -E 'state=(down|initializing)|safemode=safemode|unregistered' "$WORK/readiness.log" | head -3)
check "finding 11: no namenode Ready in safe mode or before active/standby, no datanode Ready before it registered ($m samples)${w:+: $w}" [ -z "$w" ]
st=$(for i in 0 1; do nn_state $NN-$i; done | sort | tr '\n' ' ')
check "one namenode active, one standby ($st)" [ "$st" = "active standby " ]
head -c 3000000 /dev/urandom >"$WORK/data.bin"
t=$SECONDS
hdfs_c dfs -mkdir -p /e2e && hdfs_c dfs -put - /e2e/data.bin <"$WORK/data.bin"
check "client wrote a 3 MB file ($((SECONDS-t))s)" hdfs_c dfs -test -e /e2e/data.bin
check "client read it back, byte for byte" read_back
rep=$(hdfs_c dfs -stat %r /e2e/data.bin)
check "the file has dfs.replication=2 replicas ($rep)" [ "$rep" = 2 ]
# finding 3: rack awareness from the setting datanodeRacks (topology.sh resolves the datanodes' IPs)
topo=$(hdfs_c dfsadmin -printTopology 2>/dev/null | awk '/^Rack:/{r=$2; next} /\(/{h=$2; gsub(/[()]/, "", h); split(h, a, "."); print a[1], r}' | sort | tr '\n' ' ')
check "dfsadmin -printTopology: each datanode in its rack ($topo)" [ "$topo" = "$DN-0 /zone-a $DN-1 /zone-b " ]
CID=$(cluster_id $NN-0)
CID1=$(cluster_id $NN-1)
check "both namenodes share the clusterID ($CID)" [ -n "$CID" -a "$CID1" = "$CID" ]
echo "     scenario 1: $((SECONDS-T0))s"

echo "=== review finding 11: readiness follows safe mode"
t=$SECONDS
hdfs_c dfsadmin -safemode enter >/dev/null
nn_unready() { [ "$(podf $NN-0 ready)" = False ] && [ "$(podf $NN-1 ready)" = False ]; }
check "namenodes in safe mode are not Ready (readiness reads JMX FSState, not a TCP port) ($((SECONDS-t))s)" wait_for 90 nn_unready
hdfs_c dfsadmin -safemode leave >/dev/null
check "out of safe mode they are Ready again" wait_for 90 all_ready

echo "=== scenario 2: kill the active namenode"
T2=$SECONDS
A=$(active_nn); case $A in $NN-0) S=$NN-1;; $NN-1) S=$NN-0;; *) S=;; esac
if [ -z "$S" ]; then bad "an active namenode to kill"; else
  t0=$(date +%s.%N)
  pr kill "$A" >/dev/null
  # The standby's ZKFC takes the lock when the killed ZKFC's ZooKeeper session expires
  # (ha.zookeeper.session-timeout.ms, 10 s). The StatefulSet re-creates the killed pod at once, as
  # a kubelet does; when its namenode is healthy before that expiry, its new ZKFC races the
  # standby's for the lock and may win (seen once in CI). Either way one namenode is active and
  # the other standby; which one took over is printed.
  wait_for 30 not_active "$A"   # the SIGKILL has taken effect
  if wait_for 180 one_active; then
    ft=$("$PY" -c "import time; print(f'{time.time()-$t0:.1f}')")
    if is_state "$S" active; then ok "the standby $S became active ${ft}s after the active $A was SIGKILLed"
    else ok "a namenode is active ${ft}s after the active $A was SIGKILLed (the re-created $A won the election before its old ZooKeeper session expired)"; fi
  else bad "a namenode is active again after the active $A was SIGKILLed"; fi
  check "the file is still readable, byte for byte" read_back
  check "the killed $A is Ready again" wait_for 600 all_ready
  check "one namenode active, the other standby" wait_for 120 active_standby
  check "$A kept its clusterID (VERSION unchanged: $CID)" [ -n "$CID" -a "$(cluster_id "$A")" = "$CID" ]
  check "$A was not reformatted (format init container: already formatted)" bash -c "grep -q 'is formatted; nothing to do' <<<\"\$1\"" _ "$(last_start "$A" format)"
fi
echo "     scenario 2: $((SECONDS-T2))s"

echo "=== scenario 3: wipe namenode-0's volume, re-create it while namenode-1 is active"
T3=$SECONDS
if ! is_state $NN-1 active; then
  hdfs_c haadmin -failover $NN-0 $NN-1 >/dev/null 2>&1
fi
check "namenode-1 is active" wait_for 120 is_state $NN-1 active
PVC=$STATE/pvc/$NS/data-$NN-0
check "namenode-0's volume is a directory under the state dir ($PVC)" [ -f "$PVC/name/current/VERSION" ]
# wipe what the namenode wrote, then SIGKILL it at once: the StatefulSet re-creates it on the empty volume
find "$PVC" -mindepth 1 -delete; pr kill $NN-0 >/dev/null
check "namenode-0 is Ready again on the wiped volume" wait_for 900 all_ready
check "namenode-0 rejoined via bootstrapStandby (format init container log)" bash -c "grep -q 'bootstrapping .* as a standby' <<<\"\$1\" && ! grep -q 'formatting ' <<<\"\$1\"" _ "$(last_start $NN-0 format)"
check "namenode-0 is standby" wait_for 120 is_state $NN-0 standby
check "namenode-1 stayed active" is_state $NN-1 active
check "namenode-0's new VERSION has the same clusterID ($CID)" [ -n "$CID" -a "$(cluster_id $NN-0)" = "$CID" ]
check "the file is still readable, byte for byte" read_back
echo "     scenario 3: $((SECONDS-T3))s"

echo "=== scenario 5: kill one pod of every role"
T5=$SECONDS
CLIENT=$DN-1
for p in $ZK-0 $JN-1 $NN-0 $DN-0; do pr kill "$p" >/dev/null; done
sleep 2
check "every pod is Ready again after killing $ZK-0 $JN-1 $NN-0 $DN-0" wait_for 900 all_ready
echo "     all Ready $((SECONDS-T5))s after the kills"
check "exactly one namenode is active again" wait_for 180 one_active
check "the file is intact, byte for byte" read_back
head -c 1000000 /dev/urandom >"$WORK/data2.bin"
hdfs_c dfs -put - /e2e/data2.bin <"$WORK/data2.bin"
check "a new file can be written and read back" bash -c "'$PODRUN' exec '$CLIENT' --state '$STATE' -- hdfs dfs -cat /e2e/data2.bin 2>/dev/null | cmp -s - '$WORK/data2.bin'"
echo "     scenario 5: $((SECONDS-T5))s"

t=$SECONDS
pr down >/dev/null
echo "     down in $((SECONDS-t))s; total $((SECONDS-T0))s"
finish
