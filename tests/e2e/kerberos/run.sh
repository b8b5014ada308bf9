#!/usr/bin/env bash
# tests/e2e/kerberos/run.sh [EXAMPLE...] -- the Kerberos part of bdp's output, run for real.
#
# For each example (default: examples/seed.yaml examples/secure-hdfs.yaml
# examples/kerberos-external.yaml) it renders the stream and the -o directory, then:
#   k8s        strict schema (1.30, 1.33; cert-manager Certificates allowed as CRD instances),
#              wiring (only the admin Secret the user makes and the Secrets cert-manager makes from
#              the rendered Certificates may be missing), kustomize = stream, checkov; no rendered
#              Secret at all (bdp references Secrets, never renders them)
#   in-cluster KDC (the example renders one):
#     bootstrap  the KDC StatefulSet's rendered `bootstrap` init container creates the database
#                from the rendered kdc.conf; run again, it changes nothing (kdb5_util dump equal)
#     daemons    the rendered krb5kdc and kadmind commands serve the realm on loopback
#   external realm (the example points at one): no KDC is rendered, krb5.conf lists the given
#     KDCs and admin server; a stand-in KDC for that realm is started with the ACL docs/kerberos.md
#     tells an external realm's admin to grant
#   then, either way:
#     keytab     the rendered `keytab` init container script of every pod of every StatefulSet that
#                has one (all pods at once, as a Parallel StatefulSet starts them) creates its
#                principals and writes a keytab; each principal kinits from it through the rendered
#                krb5.conf and gets a service ticket (kvno)
#     idempotent running every init container again yields the same keys, and the keytabs written
#                before still work; pods sharing a role principal hold the same key
#     acl        the provisioner cannot re-randomise a key, nor read krbtgt's or K/M's
#     hadoop     Hadoop's UserGroupInformation logs in from the keytab with the rendered
#                dfs.<role>.kerberos.principal of namenode, datanode and journalnode pods (core-site
#                and hdfs-site as rendered), auth_to_local maps them to `hdfs` and nothing foreign
# Host adaptations (printed): KDC paths -> a temp dir, ports -> free loopback ports, the kdc and
# admin_server relations of krb5.conf -> loopback, keytab paths -> temp dirs. Only processes this
# script started are stopped, by PID.
# Each check prints `ok   NAME` or `NOT OK NAME`; the last line is `N passed, M failed`; exit 1 if
# anything failed. A missing tool fails with CI=true, else is skipped with the install hint.
# KEEP=1 keeps the work directory (rendered files, adapted configs, keytabs, logs).
# Needs: tests/e2e/install.sh (krb, java, hadoop, py, kubectl, checkov).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
E2E=$ROOT/tests/e2e
. "$E2E/env.sh"
cd "$ROOT"
CI=${CI:-false}
export PATH="$PATH:/usr/sbin:/sbin"
EXPECTED_USER=hdfs   # the short name every HDFS principal maps to (docs/kerberos.md)
if [ $# -gt 0 ]; then EXAMPLES=("$@"); else
  EXAMPLES=(examples/seed.yaml examples/secure-hdfs.yaml examples/kerberos-external.yaml); fi

W=$(mktemp -d /tmp/bdp-e2e-krb.XXXXXX)
PIDS=()
stop_daemons() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
                 for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done; PIDS=(); }
trap 'stop_daemons; if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept: $W"; else rm -rf "$W"; fi' EXIT
trap 'exit 130' INT TERM
pass=0; fail=0; skip=0; T0=$SECONDS

report() { # report RC NAME LOG SECONDS
  if [ "$1" -eq 0 ]; then pass=$((pass+1)); echo "ok   $2 (${4}s)"
  else fail=$((fail+1)); echo "NOT OK $2 (${4}s)"; [ -s "$3" ] && tail -n "${TAIL:-10}" "$3" | sed 's/^/       /'; fi
}
t() { # t NAME CMD... : one check
  local name=$1; shift
  local t0=$SECONDS rc=0 log="$W/log.$((pass+fail+skip))"
  "$@" >"$log" 2>&1 </dev/null || rc=$?
  report $rc "$name" "$log" $((SECONDS-t0))
  return $rc
}
missing() { # missing NAME WHAT PART
  if [ "$CI" = true ]; then fail=$((fail+1)); echo "NOT OK $1: $2 is not installed (tests/e2e/install.sh --only $3)"
  else skip=$((skip+1)); echo "SKIP $1: $2 is not installed (run: sudo tests/e2e/install.sh --only $3)"; fi
}
have() {
  case $1 in
    krb)     for b in kdb5_util krb5kdc kadmind kadmin.local kadmin kinit klist kvno; do command -v $b >/dev/null || return 1; done;;
    py)      [ -x "$E2E_PY" ] && "$E2E_PY" -c 'import yaml, kubernetes_validate' 2>/dev/null;;
    hadoop)  ls "$E2E_JARS"/hadoop-client-api-*.jar "$E2E_JARS"/hadoop-client-runtime-*.jar >/dev/null 2>&1 && command -v java >/dev/null;;
    kubectl) e2e_kubectl >/dev/null;;
    checkov) [ -x "$E2E_CHECKOV" ];;
  esac
}
free_port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT PID : until 127.0.0.1:PORT accepts TCP, or PID died
  local i
  for i in $(seq 100); do
    "$PY" -c 'import socket,sys;socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
jq_() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(" + sys.argv[2] + ")")' "$@"; }

# ------------------------------------------------------------------ tools
for part in py krb; do
  have $part || { missing "tools" "$part" "$part"; echo "$pass passed, $fail failed"; exit 1; }
done
PY=$E2E_PY
HAVE_HADOOP=1; have hadoop || HAVE_HADOOP=0
if [ -n "${BDP:-}" ]; then t "bdp binary given: $BDP" test -x "$BDP" || { echo "$pass passed, $fail failed"; exit 1; }
else BDP=$ROOT/target/release/bdp
  TAIL=20 t "cargo build --release" cargo build --release --workspace --quiet || { echo "$pass passed, $fail failed"; exit 1; }
fi

# ------------------------------------------------------------------ pieces
k8s_checks() { # k8s_checks UNIT STREAM DIR XDIR INPUT
  local u=$1 s=$2 d=$3 x=$4 in=$5 v ext=()
  # the Secrets the example declares (`# external-secret: NAME`) as made outside bdp ...
  while IFS= read -r n; do ext+=(--external-secret "$n"); done < <(sed -nE 's/^# external-secret: *([^ ]+) *$/\1/p' "$in")
  # ... must be exactly the admin Secret the user creates (named in the kerberos discovery) and the
  # Secrets cert-manager creates for the rendered Certificates
  t "$u: declared external Secrets = the admin Secret + the Certificates' Secrets" declared_secrets "$s" "$x/plan.json" "$in"
  for v in 1.30 1.33; do
    t "$u: schema (k8s $v, strict, Certificate as CRD)" "$PY" "$E2E/check_k8s_schema.py" -q -k $v --allow-kind cert-manager.io/v1/Certificate "$s"
  done
  t "$u: wiring (external: ${ext[*]//--external-secret /})" "$PY" "$E2E/check_wiring.py" "${ext[@]}" "$s"
  t "$u: no Secret is rendered" "$PY" -c '
import sys, yaml
s = [d["metadata"]["name"] for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict) and d.get("kind") == "Secret"]
print("rendered Secrets:", s); sys.exit(1 if s else 0)' "$s"
  if have kubectl; then
    t "$u: kustomize (-o DIR builds the stream's objects)" "$PY" "$E2E/check_kustomize.py" --kubectl "$(e2e_kubectl)" --stream "$s" "$d"
  else missing "$u: kustomize" kubectl kubectl; fi
  if have checkov; then
    mkdir -p "$W/ck/$u" && cp -r "$d/." "$W/ck/$u/"
    TAIL=14 t "$u: checkov (0 failed, every skip with a reason)" "$E2E_HOME/venv-checkov/bin/python" "$E2E/check_checkov.py" "$W/ck/$u"
  else missing "$u: checkov" checkov checkov; fi
}

declared_secrets() { # declared_secrets STREAM PLAN INPUT
  "$PY" - "$@" <<'PY'
import json, re, sys, yaml
want = {json.load(open(sys.argv[2]))["discovery"]["ADMIN_SECRET"]}
want |= {d["spec"]["secretName"] for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict) and d.get("kind") == "Certificate"}
have = set(re.findall(r"(?m)^# external-secret: *(\S+) *$", open(sys.argv[3]).read()))
print("declared:", sorted(have)); print("expected:", sorted(want)); sys.exit(0 if have == want else 1)
PY
}

start_kdc() { # start_kdc UNIT XDIR KDIR JSON : the daemons of kdc.json with the adapted files
  local u=$1 x=$2 k=$3 j=$4 n pid
  for n in $(jq_ "$j" '" ".join(c["name"] for c in d["daemons"])'); do
    pid=$("$PY" "$HERE/run_container.py" "$j" "daemon:$n" --bg "$k/$n.log" \
      --set KRB5_CONFIG="$k/krb5.conf" --set KRB5_KDC_PROFILE="$k/kdc.conf" --set KRB5RCACHEDIR="$k/rc" 2>>"$k/adapt.log") || return 1
    PIDS+=("$pid"); echo "$n: pid $pid"
  done
  wait_port "$KDC_PORT" "${PIDS[0]}" && wait_port "$KADMIN_PORT" "${PIDS[-1]}" || { tail -5 "$k"/*.log; return 1; }
  echo "listening on 127.0.0.1:$KDC_PORT (kdc) and 127.0.0.1:$KADMIN_PORT (kadmind)"
}

admin_login() { # admin_login KDIR : a kadmin/admin ticket for the provisioner, in KDIR/admin.cc
  printf '%s\n' "$ADMIN_PW" | KRB5_CONFIG=$1/krb5.conf kinit -c "FILE:$1/admin.cc" -S "kadmin/admin@$REALM" "$ADMIN_PRINCIPAL" >/dev/null
}

provision_all() { # provision_all XDIR KDIR ROUND : every keytab init container of every pod, in parallel
  local x=$1 k=$2 r=$3 sts n i pod kt pids=() names=() rc=0
  for sts in $(jq_ "$x/plan.json" '" ".join(e["sts"] for e in d["keytab"])'); do
    n=$(jq_ "$x/plan.json" "next(e['replicas'] for e in d['keytab'] if e['sts']=='$sts')")
    kt=$(jq_ "$x/plan.json" "next(e['env']['KRB_KEYTAB'] for e in d['keytab'] if e['sts']=='$sts')")
    cc=$(jq_ "$x/plan.json" "next(e['env'].get('KRB_CCACHE', '') for e in d['keytab'] if e['sts']=='$sts')")
    for i in $(seq 0 $((n-1))); do
      pod=$sts-$i; mkdir -p "$k/pods/$pod" "$k/tmp/$pod" "$k/cc"
      local ccset=()
      [ -z "$cc" ] || ccset=(--set KRB_CCACHE="FILE:$k/cc/$pod")
      "$PY" "$HERE/run_container.py" "$x/plan.json" "keytab:$sts" --secrets "$k/secrets.json" --root "$k/root/$pod" "${ccset[@]}" \
        --set POD_NAME="$pod" --set POD_NAMESPACE="$(jq_ "$x/plan.json" "next(e['namespace'] for e in d['keytab'] if e['sts']=='$sts')")" \
        --set KRB5_CONFIG="$k/krb5.conf" --set KRB_KEYTAB="$k/pods/$pod/$(basename "$kt")" --set TMPDIR="$k/tmp/$pod" \
        >"$k/pods/$pod/round$r.log" 2>&1 &
      pids+=($!); names+=("$pod")
    done
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then echo "${names[$i]}: ok"; else echo "${names[$i]}: FAILED"; tail -5 "$k/pods/${names[$i]}/round$r.log"; rc=1; fi
  done
  return $rc
}

keytab_checks() { # keytab_checks UNIT XDIR KDIR : per pod: the keytab holds what was asked, every principal kinits
  local u=$1 x=$2 k=$3
  local pod ktfile principals
  while IFS=$'\t' read -r pod ktfile principals; do
    t "$u: keytab of $pod holds and kinits $principals" keytab_ok "$k" "$ktfile" $principals
    t "$u: $pod: keys and service tickets (kvno, klist -e) are aes256/aes128-cts-hmac-sha1-96 only (Java 8)" java8_enctypes "$k" "$ktfile"
  done < <("$PY" - "$x/plan.json" "$k" "$REALM" <<'PY'

import json, sys
plan, k, realm = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
for e in plan["keytab"]:
    dom = e["env"]["KRB_POD_DOMAIN"]
    want_prefix = e["pod_domain"] + "."
    if not dom.startswith(want_prefix):
        print(f"{e['sts']}\t-\tKRB_POD_DOMAIN={dom} is not the headless Service domain {want_prefix}*"); continue
    for i in range(e["replicas"]):
        pod = f"{e['sts']}-{i}"
        host = f"{pod}.{dom}".lower()
        ps = [p.replace("_HOST", host) for p in e["env"]["KRB_PRINCIPALS"].split()]
        ps = [p if "@" in p else f"{p}@{realm}" for p in ps]
        print(f"{pod}\t{k}/pods/{pod}/{e['env']['KRB_KEYTAB'].rsplit('/', 1)[-1]}\t{' '.join(ps)}")
PY
)
}
keytab_ok() { # keytab_ok KDIR KEYTAB PRINCIPAL... : exactly these principals, each kinit + kvno
  local k=$1 kt=$2 p; shift 2
  [ -s "$kt" ] || { echo "no keytab $kt"; return 1; }
  local have want
  have=$(klist -k "$kt" | awk 'NR>3 {print $2}' | sort -u | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
  [ "$have" = "$want" ] || { echo "keytab holds: $have"; echo "expected:     $want"; return 1; }
  for p in "$@"; do
    KRB5_CONFIG=$k/krb5.conf kinit -k -t "$kt" -c "FILE:$k/check.cc" "$p" || return 1
    KRB5_CONFIG=$k/krb5.conf kvno -c "FILE:$k/check.cc" "$p" || return 1
  done
  klist -kte "$kt"
}
java8_enctypes() { # java8_enctypes KDIR KEYTAB : every key of the keytab, and the service ticket of
  # each principal (ticket and session key, `klist -e`), only of the types Java 8 has
  local k=$1 kt=$2 p bad
  bad=$(klist -ke "$kt" | awk 'NR>3' | grep -v -E '\((aes256-cts-hmac-sha1-96|aes128-cts-hmac-sha1-96)\) *$')
  [ -z "$bad" ] || { echo "keys Java 8 cannot use:"; echo "$bad"; return 1; }
  for p in $(klist -k "$kt" | awk 'NR>3 {print $2}' | sort -u); do
    KRB5_CONFIG=$k/krb5.conf kinit -k -t "$kt" -c "FILE:$k/etype.cc" "$p" || return 1
    KRB5_CONFIG=$k/krb5.conf kvno -c "FILE:$k/etype.cc" "$p" >/dev/null || return 1
    klist -e -c "FILE:$k/etype.cc" | grep -A1 " $p\$" | tee "$k/etype.txt"
    grep -q "Etype (skey, tkt): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96" "$k/etype.txt" || { echo "service ticket of $p: not aes256-cts-hmac-sha1-96"; return 1; }
  done
}
ccache_ok() { # every ticket cache the keytab init containers left holds a valid nn/ ticket
  local c n=0
  for c in "$1"/cc/*; do [ -f "$c" ] || continue; n=$((n+1))
    klist -s -c "FILE:$c" || { echo "$c: no valid ticket"; return 1; }
    klist -c "FILE:$c" | tee /dev/stderr | grep -q "^Default principal: nn/" || return 1
  done; [ $n -gt 0 ]; }
keys_of() { klist -kK "$1" | awk 'NR>3 {print $1, $2, $3}' | sort; }

idempotence_checks() { # idempotence_checks UNIT XDIR KDIR
  local u=$1 x=$2 k=$3 f
  rm -rf "$k/round1"; mkdir -p "$k/round1"
  for f in "$k"/pods/*/*; do case $f in *.log) ;; *) mkdir -p "$k/round1/$(basename "$(dirname "$f")")"; cp "$f" "$k/round1/$(basename "$(dirname "$f")")/";; esac; done
  t "$u: every keytab init container again (restarts)" provision_all "$x" "$k" 2
  t "$u: the second run exported the same keys (kvno and key bytes)" same_keys "$k"
  t "$u: keytabs written before still authenticate" old_keytabs_work "$k"
  t "$u: pods of a role hold the same key for the role principal" shared_keys "$k"
}
same_keys() { local d pod kt rc=0 n=0
  for d in "$1"/round1/*/; do pod=$(basename "$d"); for kt in "$d"*; do
    [ -f "$kt" ] || continue; n=$((n+1))
    if [ "$(keys_of "$kt")" = "$(keys_of "$1/pods/$pod/$(basename "$kt")")" ]; then echo "$pod: same keys"
    else echo "$pod: keys changed"; diff <(keys_of "$kt") <(keys_of "$1/pods/$pod/$(basename "$kt")"); rc=1; fi
  done; done; [ $n -gt 0 ] || { echo "no keytab from the first run"; rc=1; }; return $rc; }
old_keytabs_work() { local kt p rc=0 n=0
  for kt in "$1"/round1/*/*; do [ -f "$kt" ] || continue; for p in $(klist -k "$kt" | awk 'NR>3 {print $2}' | sort -u); do
    n=$((n+1)); KRB5_CONFIG=$1/krb5.conf kinit -k -t "$kt" -c "FILE:$1/old.cc" "$p" && echo "ok $p ($kt)" || rc=1
  done; done; [ $n -gt 0 ] || { echo "no keytab from the first run"; rc=1; }; return $rc; }
shared_keys() { # a principal found in several keytabs must have identical keys in each
  "$PY" - "$1" <<'PY'
import glob, subprocess, sys, collections
seen = collections.defaultdict(dict)
for kt in glob.glob(sys.argv[1] + "/pods/*/*"):
    if kt.endswith(".log"): continue
    out = subprocess.run(["klist", "-kK", kt], capture_output=True, text=True, check=True).stdout.splitlines()[3:]
    for line in out:
        kvno, princ, key = line.split()[:3]
        seen[princ].setdefault(kt, set()).add((kvno, key))
shared = {p: v for p, v in seen.items() if len(v) > 1}
bad = [p for p, v in shared.items() if len({frozenset(x) for x in v.values()}) != 1]
for p, v in sorted(shared.items()):
    print(("DIFFERENT " if p in bad else "same ") + p + " in " + str(len(v)) + " keytabs")
if not shared: print("no principal is shared by several pods"); sys.exit(1)
sys.exit(1 if bad else 0)
PY
}

acl_checks() { # acl_checks UNIT XDIR KDIR : what the provisioner must not be able to do
  local u=$1 x=$2 k=$3 shared
  shared=$(klist -k "$(ls "$k"/pods/*/* | grep -v '\.log$' | head -1)" | awk 'NR>3 && $2 !~ /^HTTP\// {print $2; exit}')
  t "$u: the provisioner cannot re-randomise $shared" refused "$k" "cpw -randkey $shared" "change-password"
  t "$u: the provisioner cannot extract krbtgt's keys" refused "$k" "ktadd -norandkey -k $k/stolen.kt krbtgt/$REALM@$REALM" "privilege"
  t "$u: the provisioner cannot read the master key principal" refused "$k" "getprinc K/M@$REALM" "privilege"
  t "$u: the provisioner cannot create evil/admin (an administrator)" refused "$k" "addprinc -randkey evil/admin@$REALM" "privilege"
  t "$u: the provisioner cannot create nn/admin (a service primary, but */admin)" refused "$k" "addprinc -randkey nn/admin@$REALM" "privilege"
  t "$u: the provisioner cannot create foo/bar (no service uses that primary)" refused "$k" "addprinc -randkey foo/bar@$REALM" "privilege"
  t "$u: the provisioner cannot create a one-part principal (a user)" refused "$k" "addprinc -randkey mallory@$REALM" "privilege"
}
refused() { # refused KDIR QUERY TEXT : kadmin as the provisioner answers with TEXT (a refusal)
  admin_login "$1" || return 1
  local out; out=$(KRB5_CONFIG=$1/krb5.conf kadmin -c "FILE:$1/admin.cc" -r "$REALM" -q "$2" 2>&1)
  echo "$out"; grep -q "$3" <<<"$out" && ! grep -q "added to keytab\|Key for .* randomized" <<<"$out"
}

hadoop_checks() { # hadoop_checks UNIT XDIR KDIR : UGI keytab login for namenode, datanode, journalnode pods
  local u=$1 x=$2 k=$3 sts role kt fqdn roles=""
  if [ $HAVE_HADOOP = 0 ]; then missing "$u: hadoop UGI logins" "Hadoop client jars / java" hadoop; return; fi
  local cp; cp=$(ls "$E2E_JARS"/hadoop-client-api-*.jar "$E2E_JARS"/hadoop-client-runtime-*.jar "$E2E_JARS"/slf4j-api-*.jar 2>/dev/null | paste -sd:)
  for sts in $(jq_ "$x/plan.json" '" ".join(e["sts"] for e in d["keytab"])'); do
    role=$(jq_ "$x/plan.json" "next(e['role'] for e in d['keytab'] if e['sts']=='$sts')")
    case $role in namenode|datanode|journalnode) ;; *) continue;; esac
    roles="$roles $role"
    kt=$(jq_ "$x/plan.json" "next(e['env']['KRB_KEYTAB'] for e in d['keytab'] if e['sts']=='$sts')")
    fqdn="$sts-0.$(jq_ "$x/plan.json" "next(e['env']['KRB_POD_DOMAIN'] for e in d['keytab'] if e['sts']=='$sts')")"
    t "$u: hadoop UGI login of $sts-0 with dfs.$role.kerberos.principal -> $EXPECTED_USER" \
      java -Dslf4j.internal.verbosity=ERROR -Djava.security.krb5.conf="$k/krb5.conf" -cp "$cp" "$HERE/KeytabLogin.java" \
        "$x/pods/$sts" "$role" "$k/pods/$sts-0/$(basename "$kt")" "$fqdn" "$EXPECTED_USER"
  done
  t "$u: UGI logins covered namenode and datanode (and journalnode when present):$roles" \
    bash -c 'case "$1" in *namenode*) ;; *) exit 1;; esac; case "$1" in *datanode*) ;; *) exit 1;; esac' _ "$roles"
}

# ------------------------------------------------------------------ one example
example() {
  local in=$1 u s d x k
  u=$(basename "$in" .yaml); s=$W/$u.yaml; d=$W/$u.out; x=$W/$u.x; k=$W/$u.k
  echo "# $in"
  t "$u: render (stream)" bash -c '"$1" render "$2" >"$3"' _ "$BDP" "$in" "$s" || return
  t "$u: render (-o DIR)" "$BDP" render "$in" -o "$d" || return
  t "$u: extract the Kerberos pieces" "$PY" "$HERE/extract.py" "$s" "$x" || return
  k8s_checks "$u" "$s" "$d" "$x" "$in"
  REALM=$(jq_ "$x/plan.json" 'd["discovery"]["REALM"]')
  ADMIN_PRINCIPAL=$(jq_ "$x/plan.json" 'd["discovery"]["ADMIN_PRINCIPAL"]')
  ADMIN_SECRET=$(jq_ "$x/plan.json" 'd["discovery"]["ADMIN_SECRET"]')
  ADMIN_PW="admin-$RANDOM-$RANDOM-$$"; local master="master-$RANDOM-$RANDOM-$$"
  mkdir -p "$k/db" "$k/rc"
  printf '{"%s/admin-password": "%s", "%s/master-password": "%s"}\n' "$ADMIN_SECRET" "$ADMIN_PW" "$ADMIN_SECRET" "$master" >"$k/secrets.json"
  KDC_PORT=$(free_port); KADMIN_PORT=$(free_port); local kpw; kpw=$(free_port)
  t "$u: krb5.conf adapted to loopback (kdc, admin_server only)" \
    "$PY" "$HERE/adapt.py" krb5-conf "$x/krb5.conf" "$k/krb5.conf" --kdc "$KDC_PORT" --kadmin "$KADMIN_PORT" || return
  if [ "$(jq_ "$x/plan.json" 'd["kdc"]')" = True ]; then
    t "$u: the KDC pod mounts the krb5.conf that the services get" cmp "$x/kdc/krb5.conf" "$x/krb5.conf"
    cp "$x/kdc/kadm5.acl" "$k/kadm5.acl"
    t "$u: kdc.conf adapted (database, acl, ports)" "$PY" "$HERE/adapt.py" kdc-conf "$x/kdc/kdc.conf" "$k/kdc.conf" \
      --db "$k/db" --acl "$k/kadm5.acl" --kdc "$KDC_PORT" --kadmin "$KADMIN_PORT" --kpasswd "$kpw" || return
    local boot=("$PY" "$HERE/run_container.py" "$x/kdc.json" bootstrap --secrets "$k/secrets.json" --root "$k/root/kdc"
                --set KRB_DB_DIR="$k/db" --set KRB5_CONFIG="$k/krb5.conf" --set KRB5_KDC_PROFILE="$k/kdc.conf"
                --set KRB5RCACHEDIR="$k/rc" --set POD_NAME="$(jq_ "$x/kdc.json" 'd["sts"]')-0" --set POD_NAMESPACE=test)
    t "$u: bootstrap (rendered init container) creates the database and the provisioner" \
      bash -c '"${@:2}" >"$1" 2>&1; rc=$?; cat "$1"; [ $rc = 0 ] && grep -q "creating the database" "$1" && grep -q "created" "$1"' _ "$k/boot1.log" "${boot[@]}" || return
    KRB5_KDC_PROFILE=$k/kdc.conf KRB5_CONFIG=$k/krb5.conf kdb5_util -r "$REALM" dump "$k/dump1" >/dev/null 2>&1
    t "$u: bootstrap again (rendered init container) finds the database and the provisioner" \
      bash -c '"${@:2}" >"$1" 2>&1 || exit 1; cat "$1"; [ "$(grep -c " exists" "$1")" = 2 ]' _ "$k/boot2.log" "${boot[@]}"
    KRB5_KDC_PROFILE=$k/kdc.conf KRB5_CONFIG=$k/krb5.conf kdb5_util -r "$REALM" dump "$k/dump2" >/dev/null 2>&1
    t "$u: bootstrap twice: the database dump is byte for byte the same" cmp "$k/dump1" "$k/dump2"
    t "$u: bootstrap re-creates a lost stash file from the master password in the Secret" \
      bash -c 'rm -f "$2/stash"; "${@:3}" >"$1" 2>&1 || exit 1; cat "$1"; grep -q "stashing the master key" "$1" && [ -s "$2/stash" ]' \
      _ "$k/boot3.log" "$k/db" "${boot[@]}"
    t "$u: rendered krb5kdc and kadmind serve the realm on loopback" start_kdc "$u" "$x" "$k" "$x/kdc.json" || { stop_daemons; return; }
  else
    t "$u: no KDC StatefulSet is rendered for an external realm" \
      "$PY" -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["kdc_statefulsets"]); sys.exit(1 if p["kdc_statefulsets"] else 0)' "$x/plan.json"
    t "$u: krb5.conf names the external KDCs and admin server of the Cluster" external_conf "$in" "$x/krb5.conf"
    t "$u: a stand-in KDC for $REALM, with the ACL docs/kerberos.md asks of an external realm" standin_kdc "$k" "$master" || { stop_daemons; return; }
  fi
  t "$u: the provisioner logs in to kadmind" admin_login "$k"
  t "$u: the admin Secret reaches only the keytab init containers, and only its admin-password" \
    "$PY" -c '
import json, sys
p = json.load(open(sys.argv[1])); bad = []; adm = p["discovery"]["ADMIN_SECRET"]
for e in p["keytab"]:
    mine = [m for m in e["mounts"] if m["secret"] == adm]
    theirs = [m for m in e["daemon_secret_mounts"] if m["secret"] == adm]
    print(e["sts"], "keytab init container mounts", mine, "- daemons mount", theirs)
    if theirs: bad.append(e["sts"] + ": a daemon container mounts the admin Secret")
    if e["secrets"]: bad.append(e["sts"] + ": Secret values in env " + str(e["secrets"]))
    if [m["items"] for m in mine] != [["admin-password"]]: bad.append(e["sts"] + ": the keytab init container mounts " + str(mine))
print("\n".join(bad)); sys.exit(1 if bad or not p["keytab"] else 0)' "$x/plan.json"
  t "$u: every keytab init container of every pod at once (rendered script)" provision_all "$x" "$k" 1
  if [ -n "$(jq_ "$x/plan.json" '" ".join(e["sts"] for e in d["keytab"] if e["env"].get("KRB_CCACHE"))')" ]; then
    t "$u: HA namenodes: the keytab init container left a ticket of the nn/ principal for the format init container (haadmin)" ccache_ok "$k"
  fi
  keytab_checks "$u" "$x" "$k"
  idempotence_checks "$u" "$x" "$k"
  acl_checks "$u" "$x" "$k"
  hadoop_checks "$u" "$x" "$k"
  stop_daemons
}

external_conf() { # external_conf CLUSTER_YAML KRB5CONF
  "$PY" - "$1" "$2" <<'PY'
import re, sys, yaml
c = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "Cluster")
k = c["spec"]["services"]["kerberos"]
text = open(sys.argv[2]).read()
kdcs = re.findall(r"^\s*kdc = (\S+)$", text, re.M)
adm = re.findall(r"^\s*admin_server = (\S+)$", text, re.M)
print("krb5.conf kdc:", kdcs, "admin_server:", adm)
ok = kdcs == k["externalKdcs"] and adm == [k["externalAdminServer"]] and f"default_realm = {k['realm']}" in text
sys.exit(0 if ok else 1)
PY
}

standin_kdc() { # standin_kdc KDIR MASTER : a KDC for $REALM (not rendered: the realm is external)
  local k=$1
  cat >"$k/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$KDC_PORT
  kdc_tcp_listen = 127.0.0.1:$KDC_PORT
[realms]
  $REALM = {
    database_name = $k/db/principal
    key_stash_file = $k/db/stash
    acl_file = $k/kadm5.acl
    kadmind_listen = 127.0.0.1:$KADMIN_PORT
    kpasswd_listen = 127.0.0.1:$(free_port)
    max_renewable_life = 7d
    # a modern realm: SHA-2 keys first (MIT's own default is SHA-1 only); the provisioning
    # script must still create keys of the Cluster's `enctypes` only (addprinc -e)
    supported_enctypes = aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  default = STDERR
EOF
  # the kadm5.acl lines docs/kerberos.md gives the external realm's administrator, verbatim
  grep -E "^[[:space:]]*$ADMIN_PRINCIPAL[[:space:]]" "$ROOT/docs/kerberos.md" | sed 's/^[[:space:]]*//' >"$k/kadm5.acl"
  [ -s "$k/kadm5.acl" ] || { echo "docs/kerberos.md gives no kadm5.acl lines for $ADMIN_PRINCIPAL"; return 1; }
  echo "kadm5.acl from docs/kerberos.md:"; cat "$k/kadm5.acl"
  export KRB5_KDC_PROFILE=$k/kdc.conf KRB5_CONFIG=$k/krb5.conf
  printf '%s\n%s\n' "$2" "$2" | kdb5_util -r "$REALM" create -s >/dev/null || return 1
  printf '%s\n%s\n' "$ADMIN_PW" "$ADMIN_PW" | kadmin.local -r "$REALM" -q "addprinc $ADMIN_PRINCIPAL" >/dev/null 2>&1
  local pid
  krb5kdc -n -r "$REALM" >"$k/kdc.log" 2>&1 & pid=$!; PIDS+=("$pid")
  KRB5RCACHEDIR=$k/rc kadmind -nofork -r "$REALM" >"$k/kadmind.log" 2>&1 & PIDS+=("$!")
  unset KRB5_KDC_PROFILE KRB5_CONFIG
  wait_port "$KDC_PORT" "$pid" && wait_port "$KADMIN_PORT" "${PIDS[-1]}" || { tail -5 "$k"/*.log; return 1; }
}

for in in "${EXAMPLES[@]}"; do
  if [ -f "$in" ]; then example "$in"; else fail=$((fail+1)); echo "NOT OK $in: no such example"; fi
done
[ $skip -gt 0 ] && echo "($skip skipped: tools not installed)"
echo "# kerberos e2e took $((SECONDS-T0))s"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
