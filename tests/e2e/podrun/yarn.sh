#!/usr/bin/env bash
# yarn.sh -- the YARN proof of issue 13 on podrun: the rendered ZooKeeper (1 server), HDFS (1
# namenode, 1 datanode) and YARN (2 ResourceManagers in HA, 2 NodeManagers, the MapReduce
# JobHistory server) pods of one Cluster run as real processes with the Hadoop 3.3.6 jars
# (podrun profile apache/hadoop:3.3.6), and a client runs real MapReduce jobs on them.
#   1  `podrun up`; one RM is active, the other standby (`yarn rmadmin -getServiceState`); both
#      NodeManagers are RUNNING with the memory the stack derived from their pods' limits; the
#      JobHistory server's init container created the MapReduce directories on HDFS.
#   2  a client (`yarn jar hadoop-mapreduce-examples pi 2 100` in the jobhistory pod, with its
#      rendered client configuration) runs the job on YARN; it succeeds with pi's estimate.
#   3  while idle, the active RM is frozen (SIGSTOP, a partitioned node or a long GC pause): its
#      ZooKeeper session expires and the standby becomes active (time printed); resumed, the old
#      active steps down to standby (one active RM, never two); SIGKILLed, its pod comes back as
#      standby, and a second pi job completes through the new active RM. (Frozen first, not just
#      killed: a killed pod is recreated at once, and its new RM can reach ZooKeeper before the old
#      session expires and win the election again -- a correct outcome, seen twice in CI, that would
#      leave the standby's takeover unproven.)
#   4  both jobs are in the JobHistory server (REST API, state SUCCEEDED), and
#      `mapred job -status` of the first one answers from it.
#      The render's smoke test Jobs (ZooKeeper, HDFS, YARN: `yarn node -list`) pass, and the
#      actions service-state and node-list run as Jobs (`podrun run`).
#   5  a process that left the NodeManager container's process group (setsid, as
#      DefaultContainerExecutor starts containers) dies with the killed NodeManager pod.
# Failed client operations are counted and printed; so are times and the number of JVMs.
# The jobs' JVM options add -Djdk.net.hosts.file=/etc/hosts and
# --add-opens=java.base/java.lang=ALL-UNNAMED: podrun's cluster DNS and its Java 17 (the MR AM's
# web app uses Guice 4.0), which the profile gives the daemons (JAVA_TOOL_OPTIONS,
# PODRUN_HADOOP_JVM_OPTS) but a NodeManager does not pass on to containers; the real image's Java 8
# needs neither, so they are the test's, not the stack's. One line per check, closing line "N passed, M failed". Needs root and
# tests/e2e/install.sh --only podrun. PODRUN_E2E_PROFILE=debug uses debug builds.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$(e2e_any_python)
podrun_workdir yarn
STATE=$WORK/state

C=mr; NS=bigdata
RM=$C-yarn-resourcemanager; NM=$C-yarn-nodemanager; JHS=$C-yarn-jobhistory
JOPTS="-Djdk.net.hosts.file=/etc/hosts --add-opens=java.base/java.lang=ALL-UNNAMED"
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
      configOverrides:
        hdfs-site.xml:
          dfs.replication: "1"
      roles:
        namenode:
          replicas: 1
        datanode:
          replicas: 1
    yarn:
      nodemanagerHeapMb: 384
      configOverrides:
        # the test's volumes are directories of the machine's one disk, filled by builds and
        # caches that are not the NodeManagers': at the default 90 % a busy CI disk marks them
        # UNHEALTHY (seen: "local-dirs usable space is below configured utilization percentage")
        yarn-site.xml:
          yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage: "99"
        mapred-site.xml:
          yarn.app.mapreduce.am.resource.mb: "512"
          yarn.app.mapreduce.am.command-opts: "-Xmx384m $JOPTS"
          mapreduce.map.memory.mb: "512"
          mapreduce.reduce.memory.mb: "512"
          mapreduce.map.java.opts: "-Xmx384m $JOPTS"
          mapreduce.reduce.java.opts: "-Xmx384m $JOPTS"
      roles:
        resourcemanager:
          replicas: 2
        nodemanager:
          replicas: 2
          resources:
            requests: {cpu: 500m, memory: 2Gi}
            limits: {cpu: "2", memory: 2Gi}
EOF

pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
pods_json() { pr status --json; }
podf() { pods_json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
total() { pods_json | "$PY" -c 'import json,sys; print(len([p for p in json.load(sys.stdin)["pods"] if p.get("statefulset")]))'; }
ready_count() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p.get("statefulset") and p["ready"] and p["phase"]=="Running"))'; }
all_ready() { local n; n=$(total); [ "$n" -gt 0 ] && [ "$(ready_count)" = "$n" ]; }
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
# every client operation leaves a line in $WORK/ops ("ok"/"failed" and the command; a file, as
# many run in command substitutions)
: >"$WORK/ops"
op() { local rc=$1; shift; if [ "$rc" = 0 ]; then echo "ok $*"; else echo "failed $*"; fi >>"$WORK/ops"; return "$rc"; }
# c CMD...: a client command in the jobhistory pod (its rendered core/hdfs/yarn/mapred-site.xml are
# the discovery ConfigMap's client files), counted
c() {
  pr exec "$JHS-0" -- "$@" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader' >>"$WORK/client.err")
  op $? "$@"
}
# an RM's HA state (a failed query counts as a failed operation unless it is the killed RM's)
rm_state() { local s; s=$(pr exec "$JHS-0" -- yarn rmadmin -getServiceState "$1" 2>/dev/null); op $? rmadmin -getServiceState "$1" >/dev/null; printf '%s\n' "${s//[[:space:]]/}"; }
states() { { rm_state $RM-0; rm_state $RM-1; } | sort | tr '\n' ' '; }
active_standby() { [ "$(states)" = 'active standby ' ]; }
active_rm() { local i; for i in 0 1; do [ "$(rm_state $RM-$i)" = active ] && { echo $RM-$i; return; }; done; echo none; }
is_state() { [ "$(rm_state "$1")" = "$2" ]; }
# pi JOB_NAME: runs the examples' pi (2 maps x 100 samples); its output in $WORK/JOB_NAME.out
EXAMPLES=
pi() {
  pr exec "$JHS-0" -- yarn jar "$EXAMPLES" pi 2 100 >"$WORK/$1.out" 2>&1
  op $? pi "$1"
}
# pi's estimate, computed here from the same Halton sequence (bases 2 and 3, points 1..200) as
# QuasiMonteCarlo does: 4 * inside / total, 20 decimals
PI_EXPECTED=$("$PY" -c "
from decimal import Decimal, ROUND_HALF_UP
def rad(i, b):
    x, q = 0.0, 1.0
    while i > 0:
        q /= b; x += (i % b) * q; i //= b
    return x
inside = sum(1 for k in range(1, 201) if (rad(k, 2) - 0.5) ** 2 + (rad(k, 3) - 0.5) ** 2 <= 0.25)
print((Decimal(4) * inside / Decimal(200)).quantize(Decimal('1.' + '0' * 20), rounding=ROUND_HALF_UP))")
pi_ok() { grep -qx "Estimated value of Pi is $PI_EXPECTED" "$WORK/$1.out" && grep -q "Job job_.* completed successfully" "$WORK/$1.out"; }
job_id() { sed -n 's/.*Job \(job_[0-9_]*\) completed successfully.*/\1/p' "$WORK/$1.out" | head -1; }
jhs_state() { "$PY" - "$(podf "$JHS-0" address)" "$1" <<'PYEOF'
import json, sys, urllib.request
addr, job = sys.argv[1:]
try:
    d = json.load(urllib.request.urlopen(f"http://{addr}:19888/ws/v1/history/mapreduce/jobs/{job}", timeout=5))
    print(d["job"]["state"])
except Exception as e:
    print("none", e)
PYEOF
}
nm_memory() { "$PY" - "$(podf "$RM-$1" address)" <<'PYEOF'
import json, sys, urllib.request
try:
    d = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}:8088/ws/v1/cluster/nodes", timeout=5))
    print(" ".join(sorted(f'{n["nodeHostName"].split(".")[0]}={n["state"]}/{n["availMemoryMB"]+n["usedMemoryMB"]}MB' for n in d["nodes"]["node"])))
except Exception as e:
    print("none")
PYEOF
}

T0=$SECONDS
"$BDP" render "$WORK/cluster.yaml" >"$WORK/stream.yaml" || { bad "render"; finish; }
check "podrun accepts the rendered stream (k8s-openapi types, runnable)" "$PODRUN" check "$WORK/stream.yaml"

echo "=== scenario 1: up"
t=$SECONDS
if pr up "$WORK/stream.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then
  ok "podrun up: $(total) pods Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -80 "$WORK/up.log"; finish
fi
JVMS=$(pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] for c in p["containers"] if c["pid"]))')
echo "     $JVMS daemon JVMs running at once (one per container)"
check "one ResourceManager active, one standby ($(states))" wait_for 120 active_standby
A=$(active_rm); A_I=${A##*-}
# what the stack derives from the pod's limit: 2Gi - nodemanagerHeapMb 384 - nodemanagerOverheadMb 256
NM_MB=$((2048 - 384 - 256))
nodes() { [ "$(nm_memory "$A_I")" = "$NM-0=RUNNING/${NM_MB}MB $NM-1=RUNNING/${NM_MB}MB" ]; }
check "both NodeManagers RUNNING with $NM_MB MB each (2Gi limit - 384 heap - 256 overhead): $(nm_memory "$A_I")" wait_for 120 nodes
dirs=$(c hdfs dfs -ls -d /mr-history/done /mr-history/tmp /tmp/hadoop-yarn/staging /tmp/logs 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' ')
check "history-dirs init container created the MapReduce directories on HDFS, mode 1777 ($dirs)" [ "$dirs" = "drwxrwxrwt " ]
EXAMPLES=$(pr exec "$JHS-0" -- bash -c 'ls /opt/hadoop/share/hadoop/mapreduce/hadoop-mapreduce-examples-*.jar /opt/hadoop/share/hadoop/yarn/lib/hadoop-mapreduce-examples-*.jar 2>/dev/null | head -1')
check "the examples jar is in the image ($EXAMPLES)" [ -n "$EXAMPLES" ]
echo "     scenario 1: $((SECONDS-T0))s"

echo "=== scenario 2: a MapReduce pi job"
T2=$SECONDS
pi pi-1
JOB1=$(job_id pi-1)
if pi_ok pi-1; then ok "pi (2 maps x 100 samples) completed: $(grep '^Estimated' "$WORK/pi-1.out"), as computed here ($JOB1, $((SECONDS-T2))s)"
else bad "pi job 1"; tail -40 "$WORK/pi-1.out"; fi

echo "=== scenario 3: freeze, then kill the active ResourceManager while idle"
T3=$SECONDS
# sig_pod POD SIGNAL: the signal to every process of the pod's containers (each container is a
# mount namespace of its own in podrun), as a frozen or dead node would leave them
sig_pod() {
  local pid ns p
  for pid in $(pods_json | "$PY" -c 'import json,sys; [print(c["pid"]) for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1] for c in p["containers"] if c["pid"]]' "$1"); do
    ns=$(readlink "/proc/$pid/ns/mnt") || continue
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && kill -"$2" "${p#/proc/}" 2>/dev/null
    done
  done
  return 0
}
A=$(active_rm); case $A in $RM-0) S=$RM-1;; $RM-1) S=$RM-0;; *) S=;; esac
if [ -z "$S" ]; then bad "an active ResourceManager to freeze"; else
  t0=$(date +%s.%N)
  sig_pod "$A" STOP
  # only the standby is asked while the active is frozen (an RPC to a frozen RM waits for its timeout)
  if wait_for 120 is_state "$S" active; then
    ok "the standby $S became active $("$PY" -c "import time; print(f'{time.time()-$t0:.1f}')")s after the active $A was frozen (SIGSTOP)"
  else
    bad "the standby $S became active after $A was frozen (SIGSTOP): $(rm_state "$S")"
    grep -E "ActiveStandbyElector|Transitioning|transitionTo|Session|election|fenc" "$STATE/logs/${NS}_$S/resourcemanager.log" 2>/dev/null | tail -n 25 | cut -c1-300
  fi
  sig_pod "$A" CONT
  stepped_down() { [ "$(rm_state "$S")" = active ] && [ "$(rm_state "$A")" = standby ]; }
  check "resumed, the old active $A steps down to standby, $S stays active (one active RM)" wait_for 120 stepped_down
  pr kill "$A" >/dev/null
  unready() { [ "$(podf "$A" ready)" != True ]; }
  check "SIGKILLed (podrun kill), $A is no longer Ready" wait_for 30 unready
  check "the killed $A is Ready again" wait_for 600 all_ready
  check "$A is back as standby, $S stays active ($(states))" wait_for 120 active_standby
  A_I=${S##*-}
  check "both NodeManagers re-registered with the new active RM: $(nm_memory "$A_I")" wait_for 120 nodes
  t=$SECONDS
  pi pi-2
  JOB2=$(job_id pi-2)
  if pi_ok pi-2; then ok "a second pi job completed through the new active RM $S ($JOB2, $((SECONDS-t))s)"
  else bad "pi job 2 after the failover"; tail -40 "$WORK/pi-2.out"; fi
fi
echo "     scenario 3: $((SECONDS-T3))s"

echo "=== scenario 4: the JobHistory server"
for j in pi-1 pi-2; do
  id=$(job_id $j)
  st=$(jhs_state "${id:-none}")
  check "$j ($id) is in the JobHistory server: $st" [ "$st" = SUCCEEDED ]
done
st=$(c mapred job -status "$JOB1" 2>/dev/null | sed -n 's/^Job state: *//p')
check "\`mapred job -status $JOB1\` answers from the JobHistory server (state $st)" [ "$st" = SUCCEEDED ]

echo "=== the smoke tests and the yarn actions (Jobs, podrun run)"
# act NAME SERVICE ACTION: render the action's Job and run it; its output in $WORK/NAME.out
act() {
  local name=$1; shift
  "$BDP" action "$WORK/cluster.yaml" "$@" >"$WORK/$name.yaml" 2>"$WORK/$name.err" || { cat "$WORK/$name.err"; return 1; }
  pr run "$WORK/$name.yaml" --timeout 300 >"$WORK/$name.out" 2>&1
}
t=$SECONDS
pr run "$WORK/stream.yaml" --timeout 300 >"$WORK/smoke.out" 2>&1; rc=$?
check "the render's smoke test Jobs (ZooKeeper, HDFS, YARN) pass ($((SECONDS-t))s, rc $rc)" [ $rc = 0 ]
check "yarn smoke test: 2 NodeManagers RUNNING" grep -q 'smoke test: 2 NodeManager(s) RUNNING' "$WORK/smoke.out"
act state yarn service-state
n_act=$(grep -cE ':[0-9]+[[:space:]]+active[[:space:]]*$' "$WORK/state.out"); n_sb=$(grep -cE ':[0-9]+[[:space:]]+standby[[:space:]]*$' "$WORK/state.out")
check "action service-state (yarn rmadmin -getAllServiceState): $n_act active, $n_sb standby" [ "$n_act" = 1 -a "$n_sb" = 1 ]
act nodes yarn node-list
check "action node-list (yarn node -list -all): 2 nodes" grep -q 'Total Nodes:2' "$WORK/nodes.out"

echo "=== scenario 5: a killed NodeManager pod takes its containers' sessions with it"
# DefaultContainerExecutor starts each container with setsid, out of the NodeManager's process
# group; a kubelet kills the whole container (cgroup), podrun every process of its mount namespace
mark=$((RANDOM + 40000))
pr exec "$NM-1" -- setsid -f sleep "$mark" >/dev/null 2>&1
running() { pgrep -f "^sleep $mark\$" >/dev/null; }
gone() { ! running; }
check "a setsid process in $NM-1's container runs (sleep $mark)" wait_for 10 running
pr kill "$NM-1" >/dev/null
check "it is gone after \`podrun kill $NM-1\`" wait_for 10 gone
check "$NM-1 is Ready again" wait_for 300 all_ready

OPS=$(wc -l <"$WORK/ops"); FAILED_OPS=$(grep -c '^failed' "$WORK/ops")
echo "     client operations: $OPS, failed: $FAILED_OPS (the queries of the killed RM's state while it was down are among them)"
grep '^failed' "$WORK/ops" | sort | uniq -c | sed 's/^/       /'
check "no job, HDFS or history client operation failed (only state queries of the killed RM may)" bash -c "! grep '^failed' '$WORK/ops' | grep -qv 'getServiceState $A'"
t=$SECONDS
pr down >/dev/null
echo "     down in $((SECONDS-t))s; total $((SECONDS-T0))s"
finish
