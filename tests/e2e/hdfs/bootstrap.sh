#!/usr/bin/env bash
# bootstrap.sh STREAM.yaml -- the HDFS bootstrap guards, run for real against a stub `hdfs`.
#
# Takes the init-container scripts exactly as rendered in STREAM (an HA example: the namenode's
# `format` and `format-zk`, the datanode's `wait-for-namenode`) and runs each with bash, with the
# rendered environment, except: NAME_DIR is a temp dir, the journalnode/namenode addresses point at
# local TCP listeners (open or closed), WAIT_TRIES is 1, and `hdfs` on PATH is a stub that records
# its arguments (and answers `haadmin -getServiceState` / `zkfc -formatZK` as a scenario says).
# Proves the guards: format only on namenode-0 with an empty directory and every journalnode
# reachable, never over existing data, bootstrapStandby elsewhere (or when a namenode is active)
# and only once another namenode answers (the namenodes start in Parallel), formatZK exit code 2
# accepted, the bounded waits give up. For a secure stream (KRB5CCNAME rendered), a stub `kinit`
# records its arguments too: the ticket is there before `hdfs haadmin` asks the other namenodes.
# Prints `ok   NAME` / `NOT OK NAME` per scenario; exit 1 if any failed.
set -u
STREAM=${1:?usage: bootstrap.sh STREAM.yaml}
PY=${PY:-python3}
W=$(mktemp -d /tmp/bdp-e2e-hdfs-boot.XXXXXX)
listener=""
cleanup() { [ -n "$listener" ] && kill "$listener" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
pass=0; fail=0

# the scripts and their plain environment, as rendered
"$PY" - "$STREAM" "$W" <<'PY' || { echo "NOT OK bootstrap: cannot extract the init containers from $STREAM"; exit 1; }
import sys, yaml, shlex
stream, w = sys.argv[1:3]
found = set()
for o in yaml.safe_load_all(open(stream)):
    if not isinstance(o, dict) or o.get("kind") != "StatefulSet":
        continue
    role = o["metadata"]["labels"].get("kubebdp.github.io/role")
    for c in o["spec"]["template"]["spec"].get("initContainers") or []:
        key = f"{role}.{c['name']}"
        if key not in ("namenode.format", "namenode.format-zk", "datanode.wait-for-namenode"):
            continue
        found.add(key)
        with open(f"{w}/{key}.cmd", "w") as f:
            f.write("\0".join(c["command"]))
        with open(f"{w}/{key}.env", "w") as f:
            for e in c.get("env") or []:
                if "value" in e:
                    f.write(f"export {e['name']}={shlex.quote(e['value'])}\n")
missing = {"namenode.format", "namenode.format-zk", "datanode.wait-for-namenode"} - found
if missing:
    sys.exit(f"missing init containers: {sorted(missing)}")
PY

# a stub `hdfs`: records its arguments, answers as STUB_* say
mkdir -p "$W/bin"
cat >"$W/bin/hdfs" <<'EOF'
#!/usr/bin/env bash
if [ -n "${KRB5CCNAME:-}" ] && [ -s "${KRB5CCNAME#FILE:}" ]; then echo "ticket cache present" >>"$STUB_LOG"; fi
echo "hdfs $*" >>"$STUB_LOG"
case "$*" in
  "haadmin -getServiceState "*) [ "$3" = "${STUB_ACTIVE:-}" ] && echo active || echo standby;;
  "zkfc -formatZK -nonInteractive") exit "${STUB_ZK_RC:-0}";;
  "namenode -format -nonInteractive"|"namenode -bootstrapStandby -nonInteractive") mkdir -p "$NAME_DIR/current"; exit 0;;
  *) echo "stub hdfs: unexpected arguments: $*" >&2; exit 99;;
esac
EOF
chmod +x "$W/bin/hdfs"
# a stub `kinit` (secure mode): records its arguments, writes the cache named by -c
cat >"$W/bin/kinit" <<'EOF'
#!/usr/bin/env bash
echo "kinit $*" >>"$STUB_LOG"
[ "${STUB_KINIT_RC:-0}" = 0 ] || exit "$STUB_KINIT_RC"
while [ $# -gt 0 ]; do [ "$1" = -c ] && { echo ticket >"${2#FILE:}"; }; shift; done
EOF
chmod +x "$W/bin/kinit"

# one open local port (an "up" journalnode/namenode) and one closed port (a "down" one)
"$PY" - >"$W/port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
s.settimeout(0.2)
end = time.time() + 300
while time.time() < end:
    try:
        c, _ = s.accept(); c.close()
    except OSError:
        pass
PY
listener=$!
for _ in $(seq 50); do [ -s "$W/port" ] && break; sleep 0.1; done
UP="127.0.0.1:$(cat "$W/port")"
DOWN="127.0.0.1:$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

run() { # run SCRIPT POD [VAR=VALUE...] : run a rendered script as pod POD; sets rc, calls, out
  local key=$1 pod=$2; shift 2
  rm -f "$W/calls"; : >"$W/calls"
  mapfile -d '' -t cmd <"$W/$key.cmd"
  out=$( (
    . "$W/$key.env"
    export POD_NAME=$pod NAME_DIR=$W/name/$pod WAIT_TRIES=1 STUB_LOG=$W/calls PATH="$W/bin:$PATH"
    for kv in "$@"; do export "${kv?}"; done
    "${cmd[@]}"
  ) 2>&1 )
  rc=$?
  calls=$(cat "$W/calls")
}
verdict() { # verdict NAME COND...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   bootstrap: $name"
  else fail=$((fail + 1)); echo "NOT OK bootstrap: $name"; echo "       rc=$rc calls=[$calls]"; sed 's/^/       /' <<<"$out" | tail -5; fi
}
is() { [ "$1" = "$2" ]; }
has_call() { grep -qxF "hdfs $1" <<<"$calls"; }
no_call() { ! grep -q "hdfs namenode" <<<"$calls"; }
nn=$(. "$W/namenode.format.env"; echo "${NAMENODE_IDS%%,*}")
nn=${nn%-0}
[ -n "$nn" ] || { echo "NOT OK bootstrap: NAMENODE_IDS is empty (not an HA example?)"; exit 1; }

# the namenodes start in Parallel: a standby bootstraps only once another namenode answers
OTHER_UP="NAMENODE_RPC=$UP"
secure=$(. "$W/namenode.format.env"; echo "${KRB5CCNAME:-}")
SEC=()
[ -z "$secure" ] || SEC=("KRB5CCNAME=FILE:$W/init.ccache" "KRB_KEYTAB=$W/hdfs.keytab")

run namenode.format "$nn-0" "JOURNALNODES=$UP,$UP" "$OTHER_UP" "${SEC[@]}"
verdict "namenode-0, empty volume, journalnodes up: formats (non-interactively, once)" \
  eval 'is $rc 0 && has_call "namenode -format -nonInteractive" && ! grep -q -- "-force" <<<"$calls" && is "$(grep -c "namenode " <<<"$calls")" 1'
verdict "namenode-0 asks the other namenodes whether one is active, not itself" \
  eval 'has_call "haadmin -getServiceState $nn-1" && ! has_call "haadmin -getServiceState $nn-0"'

run namenode.format "$nn-0" "JOURNALNODES=$UP,$DOWN" "$OTHER_UP" "${SEC[@]}"
verdict "namenode-0, a journalnode unreachable: gives up (bounded) without formatting" \
  eval '! is $rc 0 && no_call'

mkdir -p "$W/name/$nn-0/current" && touch "$W/name/$nn-0/current/VERSION" "$W/name/$nn-0/current/fsimage_0000000000000000000"
run namenode.format "$nn-0" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}"
verdict "namenode-0, formatted volume: does nothing" eval 'is $rc 0 && is "$calls" ""'

rm "$W/name/$nn-0/current/fsimage_0000000000000000000"
run namenode.format "$nn-0" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}"
verdict "namenode-0, VERSION without fsimage (half-finished format): refuses" eval '! is $rc 0 && no_call'

rm -rf "$W/name/$nn-0" && mkdir -p "$W/name/$nn-0/stray"
run namenode.format "$nn-0" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}"
verdict "namenode-0, data but no VERSION: refuses to format over it" eval '! is $rc 0 && no_call'

run namenode.format "$nn-1" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}"
verdict "namenode-1, empty volume: bootstraps as a standby, never formats" \
  eval 'is $rc 0 && has_call "namenode -bootstrapStandby -nonInteractive" && ! has_call "namenode -format -nonInteractive"'

rm -rf "$W/name/$nn-0"
run namenode.format "$nn-0" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}" "STUB_ACTIVE=$nn-1"
verdict "namenode-0, new volume while $nn-1 is active: bootstraps instead of formatting" \
  eval 'is $rc 0 && has_call "namenode -bootstrapStandby -nonInteractive" && ! has_call "namenode -format -nonInteractive"'

rm -rf "$W/name/$nn-1"
run namenode.format "$nn-1" "JOURNALNODES=$UP" "NAMENODE_RPC=$DOWN" "${SEC[@]}"
verdict "namenode-1, empty volume, no other namenode answers yet (Parallel start): waits, bounded, then fails without bootstrapping" \
  eval '! is $rc 0 && no_call'

if [ -n "$secure" ]; then
  rm -rf "$W/name/$nn-0" "$W/init.ccache"
  run namenode.format "$nn-0" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}" "STUB_ACTIVE=$nn-1"
  first_kinit=$(grep -n '^kinit ' <<<"$calls" | head -1 | cut -d: -f1)
  first_haadmin=$(grep -n '^hdfs haadmin ' <<<"$calls" | head -1 | cut -d: -f1)
  verdict "secure: kinit -k -t <keytab> nn/<role Service> into KRB5CCNAME before hdfs haadmin, which then finds the ticket" \
    eval '[ -n "$first_kinit" ] && [ -n "$first_haadmin" ] && [ "$first_kinit" -lt "$first_haadmin" ] && grep -q "^kinit -k -t $W/hdfs.keytab -c FILE:$W/init.ccache nn/" <<<"$calls" && is "$(sed -n "$((first_haadmin - 1))p" <<<"$calls")" "ticket cache present" && has_call "namenode -bootstrapStandby -nonInteractive"'
  rm -rf "$W/name/$nn-0" "$W/init.ccache"
  run namenode.format "$nn-0" "JOURNALNODES=$UP" "$OTHER_UP" "${SEC[@]}" "STUB_KINIT_RC=1"
  verdict "secure: no ticket (kinit fails): fails before asking or formatting anything" \
    eval '! is $rc 0 && ! grep -q "^hdfs " <<<"$calls"'
fi

for zk in 0 2; do
  run namenode.format-zk "$nn-0" "STUB_ZK_RC=$zk"
  verdict "formatZK exit code $zk counts as success" eval 'is $rc 0 && has_call "zkfc -formatZK -nonInteractive"'
done
run namenode.format-zk "$nn-0" "STUB_ZK_RC=3"
verdict "formatZK exit code 3 (no parent znode) fails the pod" eval 'is $rc 3'

run datanode.wait-for-namenode "x-hdfs-datanode-0" "NAMENODES=$DOWN,$UP"
verdict "datanode: starts once a namenode answers" eval 'is $rc 0'
run datanode.wait-for-namenode "x-hdfs-datanode-0" "NAMENODES=$DOWN"
verdict "datanode: gives up (bounded) when no namenode answers" eval '! is $rc 0'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
