#!/usr/bin/env bash
# run.sh -- bdp's end-to-end suite: what `bdp render` emits for every example is judged by the real
# tools, not by golden files.
#
# For every input under examples/ -- each *.yaml file, except that a folder named `fleet` is one
# input rendered as a whole directory -- it renders the stream (`bdp render IN > out.yaml`) and the
# directory (`bdp render IN -o DIR`), then checks:
#   render        both renderings succeed, and rendering twice gives the same bytes (a pure compiler)
#   schema        every object is valid for Kubernetes 1.30 and 1.33, strictly (check_k8s_schema.py)
#   yamllint      the stream is clean YAML without duplicate keys (yamllint.yaml)
#   wiring        Services, StatefulSets, mounts, host:port references hang together (check_wiring.py)
#   kustomize     `kubectl kustomize DIR` builds the same objects as the stream (check_kustomize.py)
#   checkov       0 failed security checks, every skip with a reason (check_checkov.py; one checkov
#                 run over all inputs' directories, as that is several times faster than one each)
#   hadoop/krb5   when the output has core-site.xml+hdfs-site.xml or krb5.conf in a ConfigMap: Hadoop's
#                 Configuration loads them / an MIT KDC works through that krb5.conf
# and boots a real ZooKeeper ensemble from the rendered manifests (zk_ensemble.py) for every input
# whose output has a <cluster>-zookeeper-server StatefulSet with static membership (a dynamic one,
# examples/zookeeper-dynamic.yaml, boots on podrun: tests/e2e/podrun/zookeeper_dynamic.sh);
# examples/zookeeper.yaml (3 servers) and examples/zookeeper-5.yaml (5 servers) must be among them.
# Each check prints `ok   NAME` or `NOT OK NAME` with the tail of its output; the last line is
# `N passed, M failed`; exit 1 if anything failed. A missing tool fails when CI=true, else SKIPs
# with the install hint. BDP=/path/to/bdp skips the cargo build. Needs: tests/e2e/install.sh.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/env.sh"
ROOT=$(cd "$E2E/../.." && pwd)
cd "$ROOT"
CI=${CI:-false}
K8S_VERSIONS=(1.30 1.33)
ZK_EXAMPLES=(examples/zookeeper.yaml examples/zookeeper-5.yaml)
# CRD instances bdp may render: there is no official schema for them to check against.
ALLOW_KINDS=(monitoring.coreos.com/v1/PrometheusRule monitoring.coreos.com/v1/ServiceMonitor monitoring.coreos.com/v1/PodMonitor
             cert-manager.io/v1/Certificate)

W=$(mktemp -d /tmp/bdp-e2e-run.XXXXXX)
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
pass=0; fail=0; skip=0; T_START=$SECONDS

# ---------------------------------------------------------------- reporting
report() { # report RC NAME LOGFILE SECONDS
  if [ "$1" -eq 0 ]; then pass=$((pass+1)); echo "ok   $2 (${4}s)"
  else fail=$((fail+1)); echo "NOT OK $2 (${4}s)"; [ -s "$3" ] && tail -n "${TAIL:-8}" "$3" | sed 's/^/       /'; fi
}
t() { # t NAME CMD... : run one check
  local name=$1; shift
  local t0=$SECONDS rc=0 log="$W/log.$((pass+fail+skip))"
  "$@" >"$log" 2>&1 || rc=$?
  report $rc "$name" "$log" $((SECONDS-t0))
  return $rc
}
missing() { # missing NAME PART WHAT : a check whose tool is not installed
  if [ "$CI" = true ]; then
    fail=$((fail+1)); echo "NOT OK $1: $3 is not installed (tests/e2e/install.sh --only $2)"
  else
    skip=$((skip+1)); echo "SKIP $1: $3 is not installed (run: sudo tests/e2e/install.sh --only $2)"
  fi
}
# tool presence, by install.sh part
have() {
  case $1 in
    py)      [ -x "$E2E_PY" ] && "$E2E_PY" -c 'import kubernetes_validate, yaml, kazoo' 2>/dev/null && [ -x "$E2E_VENV/bin/yamllint" ];;
    kubectl) e2e_kubectl >/dev/null;;
    checkov) [ -x "$E2E_CHECKOV" ];;
    zk)      [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null;;
    krb)     PATH=$PATH:/usr/sbin command -v krb5kdc >/dev/null && command -v kinit >/dev/null;;
    hadoop)  ls "$E2E_JARS"/hadoop-client-api-*.jar >/dev/null 2>&1 && command -v java >/dev/null;;
  esac
}
check() { # check NAME PART... -- CMD... : run CMD if every PART's tool is there
  local name=$1 p; shift
  while [ "$1" != -- ]; do
    have "$1" || { missing "$name" "$1" "$(case $1 in py) echo "the Python venv";; *) echo "$1";; esac)"; return 0; }
    shift
  done
  shift
  t "$name" "$@" || true
}

# ---------------------------------------------------------------- build
if [ -n "${BDP:-}" ]; then
  t "bdp binary given: $BDP" test -x "$BDP" || { echo "$pass passed, $fail failed"; exit 1; }
else
  BDP=$ROOT/target/release/bdp
  TAIL=20 t "cargo build --release" cargo build --release --workspace --quiet || { echo "$pass passed, $fail failed"; exit 1; }
fi

# ---------------------------------------------------------------- the inputs
inputs=()
while IFS= read -r f; do
  case /$f/ in */fleet/*) inputs+=("${f%%/fleet/*}/fleet");; *) inputs+=("$f");; esac
done < <(find examples -type f \( -name '*.yaml' -o -name '*.yml' \) 2>/dev/null | LC_ALL=C sort)
mapfile -t inputs < <(printf '%s\n' "${inputs[@]}" | awk 'NF && !seen[$0]++')
if [ ${#inputs[@]} -eq 0 ]; then
  fail=$((fail+1)); echo "NOT OK examples: no inputs under examples/"
fi

unit_of() { local u=${1#examples/}; u=${u%.yaml}; u=${u%.yml}; echo "${u//\//__}"; }
mkdir -p "$W/stream" "$W/out"

same_bytes() { "$BDP" render "$1" >"$W/again.yaml" && cmp "$2" "$W/again.yaml"; }
extract_cm_files() { # extract_cm_files STREAM DEST KEY... : for each ConfigMap holding all KEYs, write
  # them as files into DEST/<namespace>.<name>/ and print that directory
  "$E2E_PY" - "$@" <<'PY'
import os, sys, yaml
stream, dest, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
hits = [d for d in yaml.safe_load_all(open(stream)) if isinstance(d, dict) and d.get("kind") == "ConfigMap"
        and all(k in (d.get("data") or {}) for k in keys)]
for cm in hits:
    md = cm["metadata"]
    out = os.path.join(dest, f"{md.get('namespace') or 'default'}.{md['name']}"); os.makedirs(out, exist_ok=True)
    for k in keys:
        open(os.path.join(out, k), "w").write(cm["data"][k])
    print(out)
PY
}

for in in "${inputs[@]}"; do
  u=$(unit_of "$in"); s="$W/stream/$u.yaml"; d="$W/out/$u"
  echo "# $in"
  t "render $u (stream)" bash -c '"$1" render "$2" >"$3"' _ "$BDP" "$in" "$s" || continue
  t "render $u (deterministic: twice, same bytes)" same_bytes "$in" "$s"
  t "render $u (-o DIR)" "$BDP" render "$in" -o "$d" || rm -rf "$d"
  allow=(); for k in "${ALLOW_KINDS[@]}"; do allow+=(--allow-kind "$k"); done
  for v in "${K8S_VERSIONS[@]}"; do
    check "schema $u (k8s $v, strict)" py -- "$E2E_PY" "$E2E/check_k8s_schema.py" -q -k "$v" "${allow[@]}" "$s"
  done
  check "yamllint $u" py -- "$E2E_VENV/bin/yamllint" -s -c "$E2E/yamllint.yaml" "$s"
  # Secrets made outside bdp (by the user, or by cert-manager for a rendered Certificate), as the
  # example declares them in `# external-secret: NAME` lines
  ext=(); if [ -f "$in" ]; then while IFS= read -r n; do ext+=(--external-secret "$n"); done < <(sed -nE 's/^# external-secret: *([^ ]+) *$/\1/p' "$in"); fi
  check "wiring $u" py -- "$E2E_PY" "$E2E/check_wiring.py" "${ext[@]}" "$s"
  if [ -d "$d" ]; then
    check "kustomize $u (-o DIR builds the stream's objects)" py kubectl -- "$E2E_PY" "$E2E/check_kustomize.py" --kubectl "$(e2e_kubectl)" --stream "$s" "$d"
  fi
  if have py; then
    mapfile -t confs < <(extract_cm_files "$s" "$W/hadoop-$u" core-site.xml hdfs-site.xml)
    if [ ${#confs[@]} -gt 0 ]; then
      TAIL=12 check "hadoop conf $u (${#confs[@]} ConfigMaps with core-site.xml + hdfs-site.xml)" hadoop -- "$E2E/hadoop_check.sh" "${confs[@]}"
    fi
    while IFS= read -r conf; do
      check "krb5.conf $u ($(basename "$conf")): a real KDC through it" krb -- "$E2E/krb.sh" -c "$conf/krb5.conf" bdp-e2e/probe
    done < <(extract_cm_files "$s" "$W/krb-$u" krb5.conf)
  fi
done

# ---------------------------------------------------------------- checkov, once over every input's directory
if [ -n "$(ls -A "$W/out" 2>/dev/null)" ]; then
  if have checkov; then
    t0=$SECONDS
    "$E2E_HOME/venv-checkov/bin/python" "$E2E/check_checkov.py" --each "$W/out" >"$W/checkov.log" 2>&1
    echo "# checkov: one run over all $(ls "$W/out" | wc -l) output directories took $((SECONDS-t0))s"
    for d in "$W"/out/*/; do
      u=$(basename "$d")
      line=$(grep -E "^(ok  |FAIL) $u(:|\$)" "$W/checkov.log" | head -1)
      grep -E "^  $u: " "$W/checkov.log" | sed "s/^  $u: //" >"$W/checkov.$u.log"
      [ -n "$line" ] || echo "checkov reported nothing for $u: $(tail -3 "$W/checkov.log")" >>"$W/checkov.$u.log"
      case $line in "ok  "*) rc=0;; *) rc=1;; esac
      TAIL=12 report $rc "checkov $u (0 failed, every skip with a reason)" "$W/checkov.$u.log" 0
    done
  else
    for d in "$W"/out/*/; do missing "checkov $(basename "$d")" checkov checkov; done
  fi
fi

# ---------------------------------------------------------------- real ZooKeeper ensembles
# every input whose output has a <cluster>-zookeeper-server StatefulSet; these two must exist
for in in "${ZK_EXAMPLES[@]}"; do
  [ -f "$in" ] || { fail=$((fail+1)); echo "NOT OK zookeeper ensemble $(unit_of "$in"): $in does not exist"; }
done
has_zk() { "$E2E_PY" -c 'import sys, yaml
sys.exit(0 if any(isinstance(d, dict) and d.get("kind") == "StatefulSet" and str((d.get("metadata") or {}).get("name", "")).endswith("-zookeeper-server")
                  for d in yaml.safe_load_all(open(sys.argv[1]))) else 1)' "$1" 2>/dev/null; }
for in in "${inputs[@]}"; do
  u=$(unit_of "$in"); s="$W/stream/$u.yaml"
  if [ ! -s "$s" ]; then
    case " ${ZK_EXAMPLES[*]} " in *" $in "*) fail=$((fail+1)); echo "NOT OK zookeeper ensemble $u: $in did not render";; esac
    continue
  fi
  if have py && ! has_zk "$s"; then
    case " ${ZK_EXAMPLES[*]} " in *" $in "*) fail=$((fail+1)); echo "NOT OK zookeeper ensemble $u: no *-zookeeper-server StatefulSet rendered";; esac
    continue
  fi
  if grep -q '^ *reconfigEnabled=true$' "$s"; then
    # zk_ensemble.py boots static membership (server.N lines); a dynamic one starts through its
    # start script and the hook's reconfig, which run as pods on podrun
    echo "--   zookeeper ensemble $u: dynamic membership, booted by tests/e2e/podrun/zookeeper_dynamic.sh instead"
    continue
  fi
  TAIL=14 check "zookeeper ensemble $u (real ZooKeeper from the rendered manifests)" py zk -- "$E2E_PY" "$E2E/zk_ensemble.py" "$s"
done

[ $skip -gt 0 ] && echo "($skip skipped: tools not installed)"
echo "# e2e suite took $((SECONDS-T_START))s"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
