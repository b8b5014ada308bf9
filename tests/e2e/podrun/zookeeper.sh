#!/usr/bin/env bash
# zookeeper.sh -- scenario 4 of issue 10 on podrun: the rendered ZooKeeper pods (3 and 5 servers) run
# as real processes in their own network namespaces; a client on the host writes continuously while
# `podrun apply` rolls a zoo.cfg change (rolling update from the highest ordinal, each pod waiting
# for Ready) and while a server is SIGKILLed and re-created; no write may fail.
# What counts as a failed write: see zk_writer.py (not written within the session timeout, retried
# on ConnectionLoss within the session; a write that went through only after the timeout is failed). One line per check, closing line "N passed, M failed".
# Needs root (namespaces, bridge, nftables) and tests/e2e/install.sh --only podrun.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$E2E_PY
podrun_workdir zk-e2e WRITER
WRITER=

# cluster FILE OUT [KEY=VALUE...]: the example with extra zoo.cfg keys
cluster() {
  "$PY" - "$@" <<'PYEOF'
import sys, yaml
src, out, *kv = sys.argv[1:]
c = yaml.safe_load(open(src))
zk = c["spec"]["services"]["zookeeper"] or {}
c["spec"]["services"]["zookeeper"] = zk
cfg = zk.setdefault("configOverrides", {}).setdefault("zoo.cfg", {})
for s in kv:
    k, v = s.split("=", 1)
    cfg[k] = v
yaml.safe_dump(c, open(out, "w"), sort_keys=False)
PYEOF
}

# The stack opens client port 2181 only to the pods of the ZooKeeper service and of the services
# depending on it (`access: dependents`); a client the stack does not know, such as this test's on
# the host, needs a NetworkPolicy of its own, as a user adds one for their applications.
client_policy() { # client_policy NAMESPACE: admits 10.192.0.0/10 (podrun's subnets, the host's .1) to 2181
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e2e-zookeeper-clients, namespace: %s}\nspec:\n  podSelector: {matchLabels: {kubebdp.github.io/service: zookeeper}}\n  policyTypes: [Ingress]\n  ingress:\n    - from: [{ipBlock: {cidr: 10.192.0.0/10}}]\n      ports: [{port: 2181, protocol: TCP}]\n' "$1"
}
pods_json() { "$PODRUN" status --state "$STATE" --json; }
addrs() { pods_json | "$PY" -c 'import json,sys; print(",".join(p["address"]+":2181" for p in json.load(sys.stdin)["pods"]))'; }
ready_count() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p["ready"] and p["phase"]=="Running"))'; }
modes() { # one line per server: its srvr Mode, asked from the host
  local a
  for a in $(addrs | tr , ' '); do
    "$PY" - "${a%:*}" <<'PYEOF'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 2181), timeout=3); s.sendall(b"srvr")
    d = b""
    while True:
        b = s.recv(4096)
        if not b: break
        d += b
    print(next((l.split(": ")[1] for l in d.decode().splitlines() if l.startswith("Mode: ")), "none"))
except OSError as e:
    print("unreachable")
PYEOF
  done
}
port_open() { "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)' "$1" "$2" 2>/dev/null; }
port_closed() { ! port_open "$@"; }
# The client connects as a client in the cluster would: to the connection string of the rendered
# discovery ConfigMap (pod FQDNs), resolved through podrun's hosts file bound over /etc/hosts in a
# mount namespace of its own (so a deleted pod's name is gone at once, as from cluster DNS).
zk_conn() {
  "$PY" - "$WORK/s1.yaml" <<'PYEOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"].endswith("-zookeeper-discovery"):
        print(d["data"]["ZOOKEEPER"]); break
PYEOF
}
writer_start() { # writer_start RUN: background writer, result in $WORK/RUN.json
  rm -f "$WORK/stop"
  unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$STATE/hosts" \
    "$PY" tests/e2e/podrun/zk_writer.py --hosts "$(zk_conn)" --run "$1" --stop-file "$WORK/stop" --max-seconds 900 >"$WORK/$1.json" 2>"$WORK/$1.err" &
  WRITER=$!
  sleep 3
}
writer_stop() { touch "$WORK/stop"; wait "$WRITER"; WRITER=; } # not in $(...): wait needs this shell
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.json" "$2" 2>/dev/null; }

scenario() { # scenario EXAMPLE N
  local ex=$1 n=$2 t sts name
  echo "=== $ex: $n servers"
  cluster "$ex" "$WORK/c1.yaml"
  cluster "$ex" "$WORK/c2.yaml" "maxClientCnxns=61"
  "$BDP" render "$WORK/c1.yaml" >"$WORK/s1.yaml" && "$BDP" render "$WORK/c2.yaml" >"$WORK/s2.yaml" || { bad "$ex: render"; return; }
  local ns; ns=$(sed -n 's/^  namespace: *//p' "$ex" | head -1)
  client_policy "$ns" >>"$WORK/s1.yaml"; client_policy "$ns" >>"$WORK/s2.yaml"
  sts=$(sed -n 's/^  name: \(.*-zookeeper-server\)$/\1/p' "$WORK/s1.yaml" | sort -u | head -1)
  check "$ex: podrun accepts the rendered stream (k8s-openapi types, runnable)" "$PODRUN" check "$WORK/s1.yaml"
  check "$ex: the roll changes the config checksum" bash -c "! diff -q <(grep config-checksum '$WORK/s1.yaml') <(grep config-checksum '$WORK/s2.yaml') >/dev/null"
  STATE=$WORK/state-$n
  t=$SECONDS
  if "$PODRUN" up "$WORK/s1.yaml" --state "$STATE" --timeout 300 >"$WORK/up.log" 2>&1; then
    ok "$ex: podrun up: $n pods Ready in $((SECONDS-t))s"
  else
    bad "$ex: podrun up"; tail -80 "$WORK/up.log"; "$PODRUN" down --state "$STATE" >/dev/null 2>&1; STATE=; return
  fi
  check "$ex: status --json lists $n Ready pods with addresses" [ "$(ready_count)" = "$n" ]
  local m; m=$(modes | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  check "$ex: one leader and $((n-1)) followers, asked from the host ($m)" [ "$m" = " $((n-1)) follower; 1 leader;" ]
  local a0; a0=$(addrs | cut -d, -f1); a0=${a0%:*}
  check "$ex: NetworkPolicy: the host (outside the cluster) reaches client port 2181 (the test's own client policy)" port_open "$a0" 2181
  # 3888 (leader election) is listened on by every server; 2888 by the leader only
  check "$ex: NetworkPolicy: the host cannot reach election port 3888 (peers only)" port_closed "$a0" 3888
  check "$ex: a peer pod reaches election port 3888 of another" "$PODRUN" exec "$sts-1" --state "$STATE" -- bash -c "exec 3<>/dev/tcp/$a0/3888"

  writer_start roll-$n
  t=$SECONDS
  if "$PODRUN" apply "$WORK/s2.yaml" --state "$STATE" --wait 600 >"$WORK/apply.log" 2>&1; then
    ok "$ex: podrun apply rolled the config change to $n pods in $((SECONDS-t))s"
  else
    bad "$ex: podrun apply rolled the config change"; cat "$WORK/apply.log"
  fi
  sleep 3
  writer_stop roll-$n; local r; r=$(cat "$WORK/roll-$n.json")
  echo "     writes during the roll: $r"
  check "$ex: writes were made during the roll" [ "$(field roll-$n attempted)" -gt 50 ]
  check "$ex: zero failed writes during the roll" [ "$(field roll-$n failed)" = 0 ]
  check "$ex: no written znode lost" [ "$(field roll-$n lost)" = 0 ]
  local order; order=$(sed -n "s/.*delete [^ ]*\/$sts-\([0-9]*\) .*/\1/p" "$STATE/daemon.log" | tr '\n' ' ')
  local want; want=$(seq $((n-1)) -1 0 | tr '\n' ' ')
  check "$ex: rolled from the highest ordinal down ($order)" [ "$order" = "$want" ]
  check "$ex: every pod runs the new zoo.cfg" bash -c "for i in \$(seq 0 $((n-1))); do '$PODRUN' exec $sts-\$i --state '$STATE' -- grep -q '^maxClientCnxns=61\$' /conf/zoo.cfg || exit 1; done"

  writer_start kill-$n
  t=$SECONDS
  "$PODRUN" kill "$sts-1" --state "$STATE" >/dev/null
  sleep 1
  local back=0
  while [ $((SECONDS-t)) -lt 180 ]; do
    if [ "$(ready_count)" = "$n" ]; then back=1; break; fi
    sleep 0.5
  done
  if [ $back = 1 ]; then ok "$ex: a SIGKILLed server was re-created and Ready again in $((SECONDS-t))s"; else bad "$ex: the killed server came back"; fi
  sleep 3
  writer_stop kill-$n; r=$(cat "$WORK/kill-$n.json")
  echo "     writes around the kill: $r"
  check "$ex: zero failed writes around the kill" [ "$(field kill-$n failed)" = 0 ]
  check "$ex: the re-created server kept its volume (myid 2)" [ "$("$PODRUN" exec "$sts-1" --state "$STATE" -- cat /data/myid)" = 2 ]
  m=$(modes | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  check "$ex: still one leader and $((n-1)) followers ($m)" [ "$m" = " $((n-1)) follower; 1 leader;" ]

  local tag; tag=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' "$STATE/net.json")
  # every process podrun started for this cluster: the daemon and each container's main process
  # (a zombie waiting for init to reap it counts as gone)
  local pids; pids="$(cat "$STATE/daemon.pid") $(pods_json | "$PY" -c 'import json,sys; print(" ".join(str(c["pid"]) for p in json.load(sys.stdin)["pods"] for c in p["containers"] if c["pid"]))')"
  t=$SECONDS
  "$PODRUN" down --state "$STATE" >/dev/null
  echo "     down in $((SECONDS-t))s"
  check "$ex: down leaves no network namespace" bash -c "! ip netns list | grep -q 'podrun-$tag-'"
  check "$ex: down leaves no bridge or veth" bash -c "! ip -o link | grep -qE 'p[bv]$tag'"
  check "$ex: down leaves no mount under the state dir" bash -c "! grep -q ' $STATE' /proc/self/mountinfo"
  check "$ex: down leaves none of the $(echo $pids | wc -w) processes it started (daemon, containers)" bash -c "for p in $pids; do s=\$(sed -n 's/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p' /proc/\$p/status 2>/dev/null); [ -n \"\$s\" ] && [ \"\$s\" != Z ] && exit 1; done; exit 0"
  STATE=
}

T0=$SECONDS
scenario examples/zookeeper.yaml 3
scenario examples/zookeeper-5.yaml 5
echo "     total ${SECONDS}s (from $T0)"
finish
