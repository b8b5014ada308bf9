#!/usr/bin/env bash
# zookeeper_dynamic.sh -- issue 11's online ZooKeeper resize on podrun: `membership: dynamic`
# (ZooKeeper's reconfiguration). A client writes 20 times a second from the host through every
# step; each step is one commit synced as ArgoCD would: `podrun apply` of the new render, then its
# post-sync Jobs (`podrun run`: the hook `membership`, which issues the reconfig, and the smoke
# test). Steps, from a static 3-server ensemble:
#   switch    static → dynamic, 3 servers (each server restarts with the membership it runs)
#   grow      3 → 5 and 5 → 7 (the new servers join without a vote, sync, and are added)
#   shrink    7 → 5 and 5 → 3 (the servers that go stop, then are removed)
#   restart   the leader SIGKILLed: it rejoins as a participant
# After each: every server's `conf` shows the same membership of exactly the role's pods as
# participants, one leader; the writer's counts: attempted, failed = 0, lost = 0.
# The gate (`bdp diff --check`) in dynamic mode: growth allowed (3 → 5, 3 → 7), shrink to a
# majority of the old size allowed (7 → 5, 5 → 3), 7 → 3 and 3 → 1 refused, a switch with a
# resize refused, the way back to static refused (tried by hand: the quorum was lost). What counts as a failed or lost write: see zk_writer.py. One line per check,
# closing "N passed, M failed". Needs root and tests/e2e/install.sh --only podrun.
set -uo pipefail
. "$(dirname "$0")/common.sh"
. tests/e2e/podrun/zk_lib.sh  # common.sh went to the repository root
PY=$E2E_PY
podrun_workdir zk-dyn WRITER
WRITER=
PW="zk-super-$RANDOM$RANDOM$RANDOM"

# cluster NAME MEMBERSHIP REPLICAS: examples/zookeeper.yaml with the setting and the replicas;
# the stream adds the super user's Secret (which bdp never renders) and the host client's policy
cluster() {
  {
    cat examples/zookeeper.yaml
    printf '      membership: %s\n' "$2"
    [ "$2" = dynamic ] && printf '      superUserSecret: zk-superuser\n'
    printf '      roles:\n        server:\n          replicas: %s\n' "$3"
  } >"$WORK/c-$1.yaml"
  "$BDP" render "$WORK/c-$1.yaml" >"$WORK/s-$1.yaml" || return 1
  client_policy bigdata >>"$WORK/s-$1.yaml"
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: zk-superuser, namespace: bigdata}\nstringData: {password: %s}\n' "$PW" >>"$WORK/s-$1.yaml"
}
[ "$(tail -n 1 examples/zookeeper.yaml)" = "    zookeeper:" ] || { bad "examples/zookeeper.yaml ends in 'zookeeper:' (settings are appended)"; finish; }
for c in "static3 static 3" "dyn1 dynamic 1" "dyn3 dynamic 3" "dyn5 dynamic 5" "dyn7 dynamic 7" "static5 static 5"; do
  # shellcheck disable=SC2086
  cluster $c || { bad "render $c"; finish; }
done
gate() { # gate FROM TO WANT: bdp diff --check's exit code
  "$BDP" diff --check "$WORK/c-$1.yaml" "$WORK/c-$2.yaml" >"$WORK/gate-$1-$2.txt" 2>&1; local rc=$?
  check "bdp diff --check $1 → $2: exit $rc (want $3)" [ $rc = "$3" ]
}
gate static3 dyn3 0; gate dyn3 static3 1; gate dyn3 dyn5 0; gate dyn5 dyn7 0; gate dyn3 dyn7 0; gate dyn7 dyn5 0; gate dyn5 dyn3 0
gate dyn7 dyn3 1; gate dyn3 dyn1 1; gate static3 dyn5 1; gate static3 static5 1
check "the refusal of 7 → 3 says the quorum is lost until the reconfiguration" grep -q "fewer than a majority (4) of the 7 members" "$WORK/gate-dyn7-dyn3.txt"
check "the refusal of a switch with a resize says to switch first" grep -q "switch the membership first" "$WORK/gate-static3-dyn5.txt"
check "the refusal of the way back gives the new-Cluster procedure" grep -q "leave dynamic membership in place" "$WORK/gate-dyn3-static3.txt"
check "the dynamic render has the hook membership as a post-sync Job, the static one has none" \
  all 'grep -q "^  name: zk-zookeeper-hook-membership$" "$WORK/s-dyn3.yaml"' '! grep -q "hook-membership" "$WORK/s-static3.yaml"'
check "a resize leaves the dynamic servers' StatefulSet template as it was (no roll)" \
  all '[ "$("$PY" - "$WORK/s-dyn3.yaml" "$WORK/s-dyn7.yaml" <<'"'"'PYEOF'"'"'
import sys, yaml
def tmpl(f):
    return [d["spec"]["template"] for d in yaml.safe_load_all(open(f)) if d and d.get("kind") == "StatefulSet"]
print(tmpl(sys.argv[1]) == tmpl(sys.argv[2]))
PYEOF
)" = True ]'

# membership N: every server's `conf` (4lw) shows the same membership, N participants, one leader
cat >"$WORK/membership.py" <<'PYEOF'
import json, socket, sys
n = int(sys.argv[1])
views, modes = set(), []
def ask(addr, word):
    s = socket.create_connection((addr, 2181), timeout=3); s.sendall(word)
    d = b""
    while True:
        b = s.recv(4096)
        if not b: break
        d += b
    return d.decode()
for p in json.load(sys.stdin)["pods"]:
    try:
        conf, srvr = ask(p["address"], b"conf"), ask(p["address"], b"srvr")
    except OSError as e:
        print("%s: unreachable (%s)" % (p["name"], e)); sys.exit(1)
    lines = conf.split("membership:", 1)[-1].splitlines()
    views.add(tuple(sorted(l.split(";")[0] for l in lines if l.startswith("server."))))
    modes.append(next((l.split(": ")[1] for l in srvr.splitlines() if l.startswith("Mode: ")), "none"))
view = sorted(views)[0] if views else ()
ok = len(views) == 1 and len(modes) == n and len(view) == n and all(l.endswith(":participant") for l in view) and modes.count("leader") == 1
print("     %s servers answer; %d view(s), the first of %d participants; modes %s" % (len(modes), len(views), sum(l.endswith(":participant") for l in view), " ".join(sorted(modes))))
sys.exit(0 if ok else 1)
PYEOF
membership() { pods_json | "$PY" "$WORK/membership.py" "$1"; }
leader() { # the pod whose srvr says leader
  local p a
  pods_json | "$PY" -c 'import json,sys; [print(p["name"], p["address"]) for p in json.load(sys.stdin)["pods"]]' | while read -r p a; do
    "$PY" -c 'import socket,sys; s=socket.create_connection((sys.argv[1],2181),timeout=3); s.sendall(b"srvr"); d=s.makefile().read(); sys.exit(0 if "Mode: leader" in d else 1)' "$a" 2>/dev/null && echo "$p"
  done
}
ready_count() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p["ready"] and p["phase"]=="Running"))'; }

# step STREAM RUN CONNECTION: commit STREAM under writes: podrun apply, then the post-sync Jobs
step() {
  local t=$SECONDS
  writer_start "$2" "$3"
  if "$PODRUN" apply "$WORK/s-$1.yaml" --state "$STATE" --wait 600 >"$WORK/$2.log" 2>&1; then
    ok "$2: podrun apply in $((SECONDS-t))s"
  else
    bad "$2: podrun apply"; tail -40 "$WORK/$2.log"
  fi
  if "$PODRUN" run "$WORK/s-$1.yaml" --state "$STATE" --timeout 600 >"$WORK/$2.jobs" 2>&1; then
    ok "$2: post-sync Jobs ($(grep -c "^kind: Job$" "$WORK/s-$1.yaml"): hook membership if dynamic, smoke test) succeeded, $((SECONDS-t))s in all"
  else
    bad "$2: post-sync Jobs"; tail -60 "$WORK/$2.jobs"
  fi
  grep -E "^=== reconfig|^membership:" "$WORK/$2.jobs" | sed 's/^/     /' | tail -n 6
  sleep 3
  writer_stop
  echo "     writes during $2: $(cat "$WORK/$2.json")"
  check "$2: writes were made" [ "$(field "$2" attempted)" -gt 50 ]
  check "$2: zero failed writes" [ "$(field "$2" failed)" = 0 ]
  check "$2: no written znode lost" [ "$(field "$2" lost)" = 0 ]
}

STATE=$WORK/state
t=$SECONDS
if "$PODRUN" up "$WORK/s-static3.yaml" --state "$STATE" --timeout 300 >"$WORK/up.log" 2>&1; then
  ok "podrun up: 3 static servers Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -60 "$WORK/up.log"; finish
fi
CONN3=$(zk_conn "$WORK/s-dyn3.yaml")  # the client knows the 3 servers that stay throughout
step dyn3 switch-static-dynamic "$CONN3"
check "switch: the servers run the membership they had: 3 participants" membership 3
step dyn5 grow-3-5 "$CONN3"
check "grow 3 → 5: 5 participants after the reconfig" membership 5
step dyn7 grow-5-7 "$CONN3"
check "grow 5 → 7: 7 participants after the reconfig" membership 7
step dyn5 shrink-7-5 "$CONN3"
check "shrink 7 → 5: 5 participants after the reconfig" membership 5
step dyn3 shrink-5-3 "$CONN3"
check "shrink 5 → 3: 3 participants after the reconfig" membership 3
# a restart in dynamic mode: the leader SIGKILLed and re-created (same volume) under writes
L=$(leader)
if [ -n "$L" ]; then
  writer_start kill-leader "$CONN3"
  "$PODRUN" kill "$L" --state "$STATE" >/dev/null; tk=$SECONDS
  sleep 5
  while [ "$(ready_count)" != 3 ] && [ $((SECONDS-tk)) -lt 180 ]; do sleep 2; done
  check "kill-leader: $L SIGKILLed, re-created and Ready again within $((SECONDS-tk))s" [ "$(ready_count)" = 3 ]
  sleep 3
  writer_stop
  echo "     writes during kill-leader: $(cat "$WORK/kill-leader.json")"
  check "kill-leader: zero failed writes" [ "$(field kill-leader failed)" = 0 ]
  check "kill-leader: no written znode lost" [ "$(field kill-leader lost)" = 0 ]
  check "kill-leader: the restarted server is a participant again: 3 participants" membership 3
else
  bad "kill-leader: no server says it leads"
fi

t=$SECONDS
"$PODRUN" down --state "$STATE" >/dev/null; STATE=
echo "     down in $((SECONDS-t))s"
finish
