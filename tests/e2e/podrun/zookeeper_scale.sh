#!/usr/bin/env bash
# zookeeper_scale.sh -- issue 11's ZooKeeper resize on podrun: what `bdp diff --check` allows and
# refuses, against what a roll does to a client that writes 20 times a second from the host. Each
# resize is one commit rolled by the StatefulSet (Parallel pod management: new servers start at
# once, removed ones stop at once, then the others roll one at a time from the highest ordinal).
#   gate      3 → 5 and 5 → 7 refused (two leaders possible during the roll), 7 → 5 allowed,
#             5 → 3 refused (quorum lost during the roll); the refusals give the maintenance window
#   7 → 5     (allowed) rolled under writes: no write may fail or be lost; afterwards every server
#             answers `srvr`, one leader, four followers
#   5 → 7     (refused) rolled anyway under writes and measured, as information for the rule (not
#             a check; at most 150 s, as the roll may stall): failed and lost writes, which pods
#             are left out of the quorum, each server's zxid
# What counts as a failed or lost write: see zk_writer.py. One line per check, closing
# "N passed, M failed". Needs root and tests/e2e/install.sh --only podrun (zookeeper-3.8.4 jars).
set -uo pipefail
. "$(dirname "$0")/common.sh"
. tests/e2e/podrun/zk_lib.sh  # common.sh went to the repository root
PY=$E2E_PY
podrun_workdir zk-scale WRITER
WRITER=

# the Cluster of N servers: examples/zookeeper.yaml with the server role's replicas
cluster() {
  { cat examples/zookeeper.yaml; printf '      roles:\n        server:\n          replicas: %s\n' "$1"; } >"$WORK/c$1.yaml"
  "$BDP" render "$WORK/c$1.yaml" >"$WORK/s$1.yaml" && client_policy bigdata >>"$WORK/s$1.yaml"
}
[ "$(tail -n 1 examples/zookeeper.yaml)" = "    zookeeper:" ] || { bad "examples/zookeeper.yaml ends in 'zookeeper:' (the roles are appended)"; finish; }
for n in 3 5 7; do cluster $n || { bad "render $n servers"; finish; }; done
gate() { # gate FROM TO WANT: bdp diff --check's exit code
  "$BDP" diff --check "$WORK/c$1.yaml" "$WORK/c$2.yaml" >"$WORK/gate-$1-$2.txt" 2>&1; local rc=$?
  check "bdp diff --check $1 → $2 servers: exit $rc (want $3)" [ $rc = "$3" ]
}
gate 3 5 1; gate 5 7 1; gate 7 5 0; gate 5 3 1
check "the refusal of 3 → 5 names the split brain" grep -q "two leaders at once (split brain)" "$WORK/gate-3-5.txt"
check "the refusals give the maintenance window" grep -q "zk_num_alive_connections 0" "$WORK/gate-5-3.txt"

STATE=$WORK/state
t=$SECONDS
if "$PODRUN" up "$WORK/s7.yaml" --state "$STATE" --timeout 300 >"$WORK/up.log" 2>&1; then
  ok "podrun up: 7 servers Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -60 "$WORK/up.log"; finish
fi
CONN=$(zk_conn "$WORK/s5.yaml")   # the client knows the 5 servers that stay, as a client would
members() { # members N: N servers answer, one leader
  local m; m=$(srvr Mode)
  check "$1 servers after the roll: one leader, $(($1-1)) followers ($m)" [ "$m" = " $(($1-1)) follower; 1 leader;" ]
}
roll "$WORK/s5.yaml" scale-7-5 "resized 7 → 5 servers" "$CONN"
check "scale-7-5: writes were made during the roll" [ "$(field scale-7-5 attempted)" -gt 50 ]
check "scale-7-5: zero failed writes" [ "$(field scale-7-5 failed)" = 0 ]
check "scale-7-5: no written znode lost" [ "$(field scale-7-5 lost)" = 0 ]
members 5

# 5 → 7 in one commit, which the gate refuses: measured, not checked
roll "$WORK/s7.yaml" scale-5-7-measured "resized 5 → 7 servers (refused by the gate; measured)" "$CONN" 150
echo "     pods after it (information): $(pods_json | "$PY" -c 'import json,sys; print(" ".join(p["name"].rsplit("-", 1)[1] + ("" if p["ready"] else "(not ready)") for p in sorted(json.load(sys.stdin)["pods"], key=lambda p: p["name"])))')"
echo "     after the refused 5 → 7 roll (information): modes$(srvr Mode) attempted=$(field scale-5-7-measured attempted) failed=$(field scale-5-7-measured failed) lost=$(field scale-5-7-measured lost) max_latency_s=$(field scale-5-7-measured max_latency_s)"
echo "     zxids after it (information):$(srvr Zxid)"

t=$SECONDS
"$PODRUN" down --state "$STATE" >/dev/null; STATE=
echo "     down in $((SECONDS-t))s"
finish
