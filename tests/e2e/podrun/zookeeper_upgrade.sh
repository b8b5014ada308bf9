#!/usr/bin/env bash
# zookeeper_upgrade.sh -- issue 11 on podrun: a 3-server ZooKeeper ensemble rendered by the
# hadoop-3.3 stack (zookeeper:3.8.4) is upgraded to the hadoop-3.4 stack (zookeeper:3.9.3) by the
# StatefulSet's rolling update, one server at a time, while a client on the host writes 20 times a
# second through the discovery ConfigMap's connection string: no write may fail or be lost, and
# every server must answer `srvr` with 3.9.3 afterwards. `bdp diff --check` must allow the upgrade
# (exit 0, with the steps) and refuse the way back across series (exit 1). The way back is then
# rolled anyway and measured the same way, as information for the stack's rule (not a check).
# What counts as a failed write: see zk_writer.py. One line per check, closing "N passed, M failed".
# Needs root and tests/e2e/install.sh --only podrun (the zookeeper-3.8.4 and -3.9.3 jar caches).
set -uo pipefail
. "$(dirname "$0")/common.sh"
. tests/e2e/podrun/zk_lib.sh  # common.sh went to the repository root
PY=$E2E_PY
podrun_workdir zk-upgrade${PODRUN_E2E_SUFFIX:+-$PODRUN_E2E_SUFFIX} WRITER
WRITER=

# the Cluster: examples/zookeeper.yaml (3 servers) on a given stack
cluster() { sed "s/^  stack: hadoop-3.3\$/  stack: $1/" examples/zookeeper.yaml >"$2"; grep -q "stack: $1" "$2"; }
cluster hadoop-3.3 "$WORK/c1.yaml" && cluster hadoop-3.4 "$WORK/c2.yaml" || { bad "write the Clusters"; finish; }
"$BDP" diff --check "$WORK/c1.yaml" "$WORK/c2.yaml" >"$WORK/up.diff"; rc=$?
check "bdp diff --check allows hadoop-3.3 → hadoop-3.4 (exit $rc)" [ $rc = 0 ]
check "bdp diff classifies ZooKeeper 3.8.4 → 3.9.3 as an upgrade with its steps" grep -q "zookeeper: 3.8.4 → 3.9.3: upgrade (series 3.8 → 3.9)" "$WORK/up.diff"
"$BDP" diff --check "$WORK/c2.yaml" "$WORK/c1.yaml" >"$WORK/down.diff"; rc=$?
check "bdp diff --check refuses the way back across series (exit $rc)" [ $rc = 1 ]
"$BDP" render "$WORK/c1.yaml" >"$WORK/s1.yaml" && "$BDP" render "$WORK/c2.yaml" >"$WORK/s2.yaml" || { bad "render"; finish; }
client_policy bigdata >>"$WORK/s1.yaml"; client_policy bigdata >>"$WORK/s2.yaml"
check "the upgrade changes only the image (and the version label) of the pods" bash -c "diff <(grep -v 'zookeeper:3\.[89]\|app.kubernetes.io/version' '$WORK/s1.yaml') <(grep -v 'zookeeper:3\.[89]\|app.kubernetes.io/version' '$WORK/s2.yaml') >/dev/null"

STATE=$WORK/state
t=$SECONDS
if "$PODRUN" up "$WORK/s1.yaml" --state "$STATE" --timeout 300 >"$WORK/up.log" 2>&1; then
  ok "podrun up: 3 servers of zookeeper:3.8.4 Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -60 "$WORK/up.log"; finish
fi
v=$(srvr "Zookeeper version"); check "every server runs 3.8.4 ($v)" [ "$v" = " 3 3.8.4;" ]

roll "$WORK/s2.yaml" upgrade "rolled 3 servers" "$(zk_conn "$WORK/s1.yaml")"
check "upgrade: writes were made during the roll" [ "$(field upgrade attempted)" -gt 50 ]
check "upgrade: zero failed writes" [ "$(field upgrade failed)" = 0 ]
check "upgrade: no written znode lost" [ "$(field upgrade lost)" = 0 ]
v=$(srvr "Zookeeper version"); check "every server runs 3.9.3 ($v)" [ "$v" = " 3 3.9.3;" ]
m=$(srvr Mode); check "one leader and 2 followers after the upgrade ($m)" [ "$m" = " 2 follower; 1 leader;" ]
order=$(sed -n 's/.*delete [^ ]*\/zk-zookeeper-server-\([0-9]*\) .*/\1/p' "$STATE/daemon.log" | tr '\n' ' ')
check "rolled from the highest ordinal down ($order)" [ "$order" = "2 1 0 " ]

# the way back, which the stack refuses: measured, not checked
roll "$WORK/s1.yaml" downgrade-measured "rolled 3 servers" "$(zk_conn "$WORK/s1.yaml")"
v=$(srvr "Zookeeper version"); m=$(srvr Mode)
echo "     after the refused 3.9.3 → 3.8.4 roll (information): versions$v modes$m failed=$(field downgrade-measured failed) lost=$(field downgrade-measured lost)"

t=$SECONDS
"$PODRUN" down --state "$STATE" >/dev/null; STATE=
echo "     down in $((SECONDS-t))s"
finish
