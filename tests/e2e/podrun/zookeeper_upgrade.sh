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
PY=$E2E_PY
WORK=$(mktemp -d "/tmp/podrun-zk-upgrade${PODRUN_E2E_SUFFIX:+-$PODRUN_E2E_SUFFIX}.XXXXXX")
STATE=; WRITER=
cleanup() {
  [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null
  [ -n "$STATE" ] && "$PODRUN" down --state "$STATE" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# the Cluster: examples/zookeeper.yaml (3 servers) on a given stack
cluster() { sed "s/^  stack: hadoop-3.3\$/  stack: $1/" examples/zookeeper.yaml >"$2"; grep -q "stack: $1" "$2"; }
# the host's client needs a NetworkPolicy of its own (see zookeeper.sh)
client_policy() {
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e2e-zookeeper-clients, namespace: %s}\nspec:\n  podSelector: {matchLabels: {kubebdp.github.io/service: zookeeper}}\n  policyTypes: [Ingress]\n  ingress:\n    - from: [{ipBlock: {cidr: 10.192.0.0/10}}]\n      ports: [{port: 2181, protocol: TCP}]\n' "$1"
}
pods_json() { "$PODRUN" status --state "$STATE" --json; }
addrs() { pods_json | "$PY" -c 'import json,sys; print(" ".join(p["address"] for p in json.load(sys.stdin)["pods"]))'; }
srvr() { # srvr FIELD: that line of every server's `srvr`, one per server, sorted
  local a
  for a in $(addrs); do
    "$PY" - "$a" "$1" <<'PYEOF'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 2181), timeout=3); s.sendall(b"srvr")
    d = b""
    while True:
        b = s.recv(4096)
        if not b: break
        d += b
    print(next((l.split(": ", 1)[1].split("-")[0].split(",")[0] for l in d.decode().splitlines() if l.startswith(sys.argv[2] + ": ")), "none"))
except OSError:
    print("unreachable")
PYEOF
  done | sort | uniq -c | tr -s ' ' | tr '\n' ';'
}
zk_conn() {
  "$PY" - "$WORK/s1.yaml" <<'PYEOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"].endswith("-zookeeper-discovery"):
        print(d["data"]["ZOOKEEPER"]); break
PYEOF
}
writer_start() {
  rm -f "$WORK/stop"
  unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$STATE/hosts" \
    "$PY" tests/e2e/podrun/zk_writer.py --hosts "$(zk_conn)" --run "$1" --stop-file "$WORK/stop" --max-seconds 900 >"$WORK/$1.json" 2>"$WORK/$1.err" &
  WRITER=$!
  sleep 3
}
writer_stop() { touch "$WORK/stop"; wait "$WRITER"; WRITER=; }
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.json" "$2" 2>/dev/null; }
roll() { # roll STREAM RUN: apply the stream while the writer runs; prints the writer's counts
  local t=$SECONDS
  writer_start "$2"
  if "$PODRUN" apply "$1" --state "$STATE" --wait 600 >"$WORK/$2.log" 2>&1; then
    ok "$2: podrun apply rolled 3 servers in $((SECONDS-t))s"
  else
    bad "$2: podrun apply"; tail -40 "$WORK/$2.log"
  fi
  sleep 3
  writer_stop
  echo "     writes during $2: $(cat "$WORK/$2.json")"
}

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

roll "$WORK/s2.yaml" upgrade
check "upgrade: writes were made during the roll" [ "$(field upgrade attempted)" -gt 50 ]
check "upgrade: zero failed writes" [ "$(field upgrade failed)" = 0 ]
check "upgrade: no written znode lost" [ "$(field upgrade lost)" = 0 ]
v=$(srvr "Zookeeper version"); check "every server runs 3.9.3 ($v)" [ "$v" = " 3 3.9.3;" ]
m=$(srvr Mode); check "one leader and 2 followers after the upgrade ($m)" [ "$m" = " 2 follower; 1 leader;" ]
order=$(sed -n 's/.*delete [^ ]*\/zk-zookeeper-server-\([0-9]*\) .*/\1/p' "$STATE/daemon.log" | tr '\n' ' ')
check "rolled from the highest ordinal down ($order)" [ "$order" = "2 1 0 " ]

# the way back, which the stack refuses: measured, not checked
roll "$WORK/s1.yaml" downgrade-measured
v=$(srvr "Zookeeper version"); m=$(srvr Mode)
echo "     after the refused 3.9.3 → 3.8.4 roll (information): versions$v modes$m failed=$(field downgrade-measured failed) lost=$(field downgrade-measured lost)"

t=$SECONDS
"$PODRUN" down --state "$STATE" >/dev/null; STATE=
echo "     down in $((SECONDS-t))s"
finish
