# zk_lib.sh -- sourced by the ZooKeeper day-2 scenarios on podrun (zookeeper_upgrade.sh,
# zookeeper_scale.sh) after common.sh: the host client's NetworkPolicy, `srvr` of every server, and
# the continuous writer (zk_writer.py) around a `podrun apply`. Uses $WORK, $STATE, $PY, $PODRUN;
# sets $WRITER while a writer runs (podrun_workdir's EXIT trap kills it: name WRITER to it).

# client_policy NAMESPACE: the host's client needs a NetworkPolicy of its own (see zookeeper.sh)
client_policy() {
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e2e-zookeeper-clients, namespace: %s}\nspec:\n  podSelector: {matchLabels: {kubebdp.github.io/service: zookeeper}}\n  policyTypes: [Ingress]\n  ingress:\n    - from: [{ipBlock: {cidr: 10.192.0.0/10}}]\n      ports: [{port: 2181, protocol: TCP}]\n' "$1"
}
pods_json() { "$PODRUN" status --state "$STATE" --json; }
addrs() { pods_json | "$PY" -c 'import json,sys; print(" ".join(p["address"] for p in json.load(sys.stdin)["pods"]))'; }
srvr() { # srvr FIELD: that line of every server's `srvr`, counted by value: " 2 follower; 1 leader;"
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
zk_conn() { # zk_conn STREAM: the discovery ConfigMap's connection string
  "$PY" - "$1" <<'PYEOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"].endswith("-zookeeper-discovery"):
        print(d["data"]["ZOOKEEPER"]); break
PYEOF
}
writer_start() { # writer_start RUN CONNECTION: zk_writer.py on the host, with podrun's hosts file
  rm -f "$WORK/stop"
  unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$STATE/hosts" \
    "$PY" tests/e2e/podrun/zk_writer.py --hosts "$2" --run "$1" --stop-file "$WORK/stop" --max-seconds 900 >"$WORK/$1.json" 2>"$WORK/$1.err" &
  WRITER=$!
  sleep 3
}
writer_stop() { touch "$WORK/stop"; wait "$WRITER"; WRITER=; }
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.json" "$2" 2>/dev/null; }
roll() { # roll STREAM RUN WHAT CONNECTION [WAIT]: apply the stream while the writer runs; prints its
  # counts. With WAIT (seconds) the roll is measured, not checked: a roll that does not finish in
  # time is reported, not failed.
  local t=$SECONDS
  writer_start "$2" "$4"
  if "$PODRUN" apply "$1" --state "$STATE" --wait "${5:-600}" >"$WORK/$2.log" 2>&1; then
    if [ -n "${5:-}" ]; then echo "     $2: podrun apply $3 in $((SECONDS-t))s"; else ok "$2: podrun apply $3 in $((SECONDS-t))s"; fi
  elif [ -n "${5:-}" ]; then
    echo "     $2: the roll did not finish within $5s: $(tail -n 1 "$WORK/$2.log")"
  else
    bad "$2: podrun apply"; tail -40 "$WORK/$2.log"
  fi
  sleep 3
  writer_stop
  echo "     writes during $2: $(cat "$WORK/$2.json")"
}
