#!/usr/bin/env bash
# actions.sh -- issue 11, sections 4 and 5 on podrun: every management action that `bdp action`
# renders runs as a Job (`podrun run`) against a running insecure HA HDFS with a 3-server
# ZooKeeper (3 journalnodes, 2 namenodes with ZKFC, 2 datanodes, dfs.replication 2), and the
# smoke test Jobs of the render pass on the healthy cluster and fail when their service is down.
#   actions  hdfs: report (2 live datanodes), fsck / (HEALTHY), safemode enter/get/leave,
#            snapshot of /e2e, rolling-upgrade prepare/query/finalize, refresh-nodes, balancer;
#            zookeeper: srvr and mntr of each server, health (one leader, quorum)
#   refused  bad arguments: exit 1 naming the allowed values; a malformed --arg: exit 2
#   smoke    the render's smoke test Jobs (ZooKeeper, HDFS) pass, and its post-sync hook Job
#            (HDFS base-directories: /tmp 1777, /user) runs; with the ZooKeeper servers gone its
#            smoke test fails (exit 1)
# Not run here: the secure mode (keytab init container, ticket cache) and the KDC's actions
# (they mount the KDC's PVC, which podrun's Jobs do not): tests/actions.rs checks their render.
# One line per check, closing line "N passed, M failed". Needs root and
# tests/e2e/install.sh --only podrun. PODRUN_E2E_PROFILE=debug uses debug builds.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$(e2e_any_python)
podrun_workdir actions
STATE=$WORK/state

C=ops; NS=bigdata
NN=$C-hdfs-namenode; DN=$C-hdfs-datanode; ZK=$C-zookeeper-server
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
          replicas: 3
    hdfs:
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
hdfs_c() { pr exec "$DN-1" -- hdfs "$@" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader' >&2); }
# act NAME SERVICE ACTION [--arg k=v]...: render the action's Job and run it; its output in $WORK/NAME.out
act() {
  local name=$1; shift
  "$BDP" action "$WORK/cluster.yaml" "$@" >"$WORK/$name.yaml" 2>"$WORK/$name.err" || { cat "$WORK/$name.err"; return 1; }
  pr run "$WORK/$name.yaml" --timeout 300 >"$WORK/$name.out" 2>&1
}
# outcome NAME WORD PATTERN...: the Job's run ended with WORD (succeeded or FAILED) and its output
# has every (extended regex) pattern; else the output's end is printed
outcome() {
  local name=$1 word=$2 p; shift 2
  grep -q "^podrun: job .* $word" "$WORK/$name.out" || { tail -30 "$WORK/$name.out"; return 1; }
  for p in "$@"; do grep -Eq "$p" "$WORK/$name.out" || { echo "     missing /$p/ in:"; tail -30 "$WORK/$name.out"; return 1; }; done
}
ran() { outcome "$1" succeeded "${@:2}"; }
failed() { outcome "$1" FAILED "${@:2}"; }
count() { grep -Ec "$2" "$WORK/$1.out"; }
# only_jobs NAME-REGEX: the Job documents of the stream whose metadata.name matches
only_jobs() { "$PY" - "$1" "$WORK/stream.yaml" <<'PYEOF'
import re, sys
docs = open(sys.argv[2]).read().split("\n---\n")
for d in docs:
    if re.search(r"^kind: Job$", d, re.M) and re.search(r"^  name: (" + sys.argv[1] + r")$", d, re.M):
        print("---\n" + d.strip("-\n") + "\n")
PYEOF
}

T0=$SECONDS
"$BDP" render "$WORK/cluster.yaml" >"$WORK/stream.yaml" || { bad "render"; finish; }
jobs=$(grep -c '^kind: Job$' "$WORK/stream.yaml")
check "the render holds the smoke test Jobs of ZooKeeper and HDFS and HDFS's base-directories hook ($jobs Jobs, PostSync hooks)" all '[ "$jobs" = 3 ]' 'grep -q "argocd.argoproj.io/hook: PostSync" "$WORK/stream.yaml"' 'grep -q "^  name: $C-hdfs-hook-base-directories$" "$WORK/stream.yaml"'
check "podrun accepts the stream with its Jobs" "$PODRUN" check "$WORK/stream.yaml"

echo "=== bdp refuses bad arguments"
"$BDP" action "$WORK/cluster.yaml" hdfs safemode --arg mode=off >/dev/null 2>"$WORK/bad1.err"; rc=$?
check "safemode mode=off: exit 1 with the allowed values (rc $rc)" all "[ $rc = 1 ]" 'grep -q "allowed values: get, enter, leave, wait" "$WORK/bad1.err"'
"$BDP" action "$WORK/cluster.yaml" hdfs balancer --arg threshold=0 >/dev/null 2>"$WORK/bad2.err"; rc=$?
check "balancer threshold=0: exit 1, an integer from 1 to 100 (rc $rc)" all "[ $rc = 1 ]" 'grep -q "an integer from 1 to 100" "$WORK/bad2.err"'
"$BDP" action "$WORK/cluster.yaml" hdfs fsck --arg 'path=/a/../b' >/dev/null 2>"$WORK/bad3.err"; rc=$?
check "fsck path=/a/../b: exit 1 (rc $rc)" all "[ $rc = 1 ]" 'grep -q "segment" "$WORK/bad3.err"'
"$BDP" action "$WORK/cluster.yaml" hdfs format-everything >/dev/null 2>"$WORK/bad4.err"; rc=$?
check "unknown action: exit 1, the actions listed (rc $rc)" all "[ $rc = 1 ]" 'grep -q rolling-upgrade "$WORK/bad4.err"'
"$BDP" action "$WORK/cluster.yaml" hdfs fsck --arg path >/dev/null 2>&1; rc=$?
check "--arg without NAME=VALUE: usage error, exit 2 (rc $rc)" [ $rc = 2 ]

echo "=== up"
t=$SECONDS
if pr up "$WORK/stream.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then
  ok "podrun up: every pod Ready in $((SECONDS-t))s (the Jobs are not started)"
else
  bad "podrun up"; tail -60 "$WORK/up.log"; finish
fi
head -c 1000000 /dev/urandom >"$WORK/data.bin"
hdfs_c dfs -mkdir -p /e2e && hdfs_c dfs -put - /e2e/data.bin <"$WORK/data.bin"
check "a client wrote /e2e/data.bin" hdfs_c dfs -test -e /e2e/data.bin

echo "=== hdfs actions"
t=$SECONDS; act report hdfs report
check "report: both datanodes live ($((SECONDS-t))s)" ran report 'Live datanodes \(2\)'
t=$SECONDS; act fsck hdfs fsck --arg path=/
check "fsck /: HEALTHY ($((SECONDS-t))s)" ran fsck 'is HEALTHY'
t=$SECONDS; act sm-enter hdfs safemode --arg mode=enter
check "safemode enter: ON on both namenodes ($((SECONDS-t))s)" ran sm-enter 'Safe mode is ON'
act sm-get hdfs safemode --arg mode=get
n=$(count sm-get 'Safe mode is ON')
check "safemode get: ON ($n namenodes)" ran sm-get 'Safe mode is ON'
act sm-leave hdfs safemode --arg mode=leave
check "safemode leave: OFF" ran sm-leave 'Safe mode is OFF'
act sm-get2 hdfs safemode --arg mode=get
check "safemode get: OFF again" ran sm-get2 'Safe mode is OFF'
t=$SECONDS; act snapshot hdfs snapshot --arg path=/e2e --arg name=before-upgrade
check "snapshot of /e2e created ($((SECONDS-t))s)" ran snapshot 'Created snapshot /e2e/.snapshot/before-upgrade'
check "the snapshot holds the file" hdfs_c dfs -test -e /e2e/.snapshot/before-upgrade/data.bin
act snapshot2 hdfs snapshot --arg path=/e2e --arg name=before-upgrade
check "the same snapshot again fails (not idempotent: backoffLimit 0, one pod)" failed snapshot2 'already a snapshot with the same name'
t=$SECONDS; act ru-prepare hdfs rolling-upgrade --arg step=prepare
check "rolling-upgrade prepare ($((SECONDS-t))s)" ran ru-prepare 'Preparing for upgrade|Proceed with rolling upgrade'
t=$SECONDS; tries=0
until act ru-query hdfs rolling-upgrade --arg step=query && grep -q 'Proceed with rolling upgrade' "$WORK/ru-query.out"; do
  tries=$((tries+1)); [ $((SECONDS-t)) -ge 240 ] && break; sleep 10
done
check "rolling-upgrade query: proceed, the rollback image exists ($((SECONDS-t))s, $((tries+1)) queries)" ran ru-query 'Proceed with rolling upgrade'
act ru-finalize hdfs rolling-upgrade --arg step=finalize
check "rolling-upgrade finalize" ran ru-finalize '[Ff]inalize'
act ru-query2 hdfs rolling-upgrade --arg step=query
check "rolling-upgrade query after finalize: none in progress" ran ru-query2 'no rolling upgrade in progress|finalized'
act refresh hdfs refresh-nodes
check "refresh-nodes: successful" ran refresh 'Refresh nodes successful'
t=$SECONDS; act balancer hdfs balancer --arg threshold=10
check "balancer threshold 10: balanced ($((SECONDS-t))s)" ran balancer 'The cluster is balanced|Exiting'

echo "=== zookeeper actions"
act srvr zookeeper srvr
n=$(count srvr '^Mode: (leader|follower)')
check "srvr of each of the 3 servers ($n modes, $(count srvr '^Mode: leader') leader)" all "ran srvr '^Mode: leader'" "[ $n = 3 ]"
act mntr zookeeper mntr
n=$(count mntr '^zk_server_state')
check "mntr of each of the 3 servers ($n zk_server_state)" all "ran mntr zk_znode_count" "[ $n = 3 ]"
act health zookeeper health
check "health: $(grep '^serving' "$WORK/health.out")" ran health 'health: OK' 'serving: 3 of 3'

echo "=== smoke tests"
t=$SECONDS
pr run "$WORK/stream.yaml" --timeout 300 >"$WORK/smoke.out" 2>&1; rc=$?
check "the render's smoke test Jobs pass on the healthy cluster ($((SECONDS-t))s, rc $rc)" [ $rc = 0 ]
check "zookeeper smoke test: znode created, read, deleted" grep -q 'smoke test: created, read and deleted /bdp-smoke-test-' "$WORK/smoke.out"
check "hdfs smoke test: file written, read, deleted" grep -q 'smoke test: wrote, read and deleted /bdp-smoke-test/' "$WORK/smoke.out"
check "hdfs base-directories hook (post-sync Job, no controller): /tmp 1777 (sticky) and /user 755 exist" all "grep -qE 'drwxrwxrwt .* /tmp\$' '$WORK/smoke.out'" "grep -qE 'drwxr-xr-x .* /user\$' '$WORK/smoke.out'"
only_jobs "$C-zookeeper-smoke-test" >"$WORK/zk-smoke.yaml"
# the ZooKeeper servers gone: the stream without their StatefulSet
"$PY" - "$WORK/stream.yaml" "$ZK" >"$WORK/nozk.yaml" <<'PYEOF'
import re, sys
docs = open(sys.argv[1]).read().split("\n---\n")
keep = [d for d in docs if not (re.search(r"^kind: StatefulSet$", d, re.M) and re.search(r"^  name: " + re.escape(sys.argv[2]) + r"$", d, re.M))]
print("\n---\n".join(keep))
PYEOF
pr apply "$WORK/nozk.yaml" >/dev/null 2>&1
gone() { ! pr status --json | "$PY" -c 'import json,sys; sys.exit(0 if any(p["name"].startswith(sys.argv[1]) for p in json.load(sys.stdin)["pods"]) else 1)' "$ZK-"; }
w=$SECONDS; until gone; do [ $((SECONDS-w)) -ge 90 ] && break; sleep 1; done
check "the ZooKeeper servers are gone ($((SECONDS-w))s)" gone
t=$SECONDS
pr run "$WORK/zk-smoke.yaml" --timeout 300 >"$WORK/smoke-down.out" 2>&1; rc=$?
check "with ZooKeeper down its smoke test fails: exit $rc ($((SECONDS-t))s)" all "[ $rc = 1 ]" "failed smoke-down"
echo "     scenario: $((SECONDS-T0))s"
finish
