#!/usr/bin/env bash
# selftest.sh -- the e2e checkers themselves are tested: each must PASS its good fixtures and FAIL
# each bad one (for the reason the bad fixture was made for, where a --has TEXT is given), so no
# checker can pass silently. Fixtures are under tests/e2e/fixtures/; the ZooKeeper variants are made
# from fixtures/zk/good.yaml by one edit each. Ends with the line "N passed, M failed"; exit 1 if M>0.
# Needs: tests/e2e/install.sh. With CI=true a missing tool is a failure (as everywhere here).
set -u
cd "$(dirname "$0")"
. ./env.sh
export PATH="$E2E_VENV/bin:$PATH"
F=fixtures
W=$(mktemp -d /tmp/bdp-e2e-selftest.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0

# t EXPECT(0|1) NAME [--has TEXT]... -- CMD...   (EXPECT 0: must pass; 1: must fail, printing each TEXT)
t() {
  local exp=$1 name=$2 has=() ; shift 2
  while [ "$1" = --has ]; do has+=("$2"); shift 2; done
  [ "$1" = -- ] && shift
  local t0=$SECONDS rc=0 why=""
  "$@" >"$W/out" 2>&1 || rc=$?
  if [ "$exp" = 0 ] && [ $rc -ne 0 ]; then why="expected PASS, got rc=$rc"; fi
  if [ "$exp" = 1 ] && [ $rc -eq 0 ]; then why="expected FAIL, got rc=0"; fi
  for h in "${has[@]}"; do grep -qF -- "$h" "$W/out" || why="${why:+$why; }output lacks '$h'"; done
  if [ -z "$why" ]; then pass=$((pass+1)); echo "ok   $name ($((SECONDS-t0))s)"
  else fail=$((fail+1)); echo "NOT OK $name: $why"; tail -6 "$W/out" | sed 's/^/       /'; fi
}

PY=$E2E_PY CKPY=$E2E_HOME/venv-checkov/bin/python
[ -x "$PY" ] && [ -x "$CKPY" ] || { echo "NOT OK tools: run tests/e2e/install.sh first"; echo "0 passed, 1 failed"; exit 1; }

# strict schema
t 0 "schema: good objects (1.30, 1.33)"  -- bash -c "$PY check_k8s_schema.py -k 1.30 $F/k8s/good && $PY check_k8s_schema.py -k 1.33 $F/k8s/good"
t 1 "schema: kind typo"         --has "kind: 'Statefulset'"          -- $PY check_k8s_schema.py -k 1.30 $F/k8s/bad/kind-typo.yaml
t 1 "schema: missing required"  --has "'name' is a required property" -- $PY check_k8s_schema.py -k 1.30 $F/k8s/bad/missing-required.yaml
t 1 "schema: removed API"       --has "has no apps/v1beta2 StatefulSet" -- $PY check_k8s_schema.py -k 1.30 $F/k8s/bad/old-api.yaml
t 1 "schema: unknown field"     --has "'replica' was unexpected"      -- $PY check_k8s_schema.py -k 1.33 $F/k8s/bad/unknown-field.yaml
t 1 "schema: wrong type"        --has "'two' is not of type"         -- $PY check_k8s_schema.py -k 1.33 $F/k8s/bad/wrong-type.yaml
t 1 "schema: unknown kind (CRD) fails" --has "no example.com/v1 Foo"  -- $PY check_k8s_schema.py -k 1.30 $F/k8s/crd.yaml
t 0 "schema: CRD allowed explicitly"                                 -- $PY check_k8s_schema.py -k 1.30 --allow-kind example.com/v1/Foo $F/k8s/crd.yaml
t 1 "schema: unshipped k8s version" --has "not shipped"              -- $PY check_k8s_schema.py -k 1.99 $F/k8s/good

# wiring
t 0 "wiring: good"                                                    -- $PY check_wiring.py $F/wiring/good.yaml
t 0 "wiring: zk fixture"                                              -- $PY check_wiring.py $F/zk/good.yaml
t 1 "wiring: bad hosts/ports/keys" --has "ordinal 3, but" --has "has no port 2182" --has "targetPort election" --has "has no key 'ZK_HOSTS'" \
                                                                      -- $PY check_wiring.py $F/wiring/bad.yaml
sed 's/p-zookeeper.data.svc.cluster.local:2181/p-zookeeper.data.svc.k8s.example.internal:2181/' $F/wiring/good.yaml >"$W/wiring-mixed.yaml"
sed 's/svc.cluster.local/svc.k8s.example.internal/g' $F/wiring/bad.yaml >"$W/wiring-custom.yaml"
t 1 "wiring: one namespace, two cluster domains" --has "several cluster domains" -- $PY check_wiring.py "$W/wiring-mixed.yaml"
t 1 "wiring: a custom cluster domain is checked too" --has "ordinal 3, but" --has "has no port 2182" -- $PY check_wiring.py "$W/wiring-custom.yaml"
t 1 "wiring: --domain enforced" --has "expected k8s.example.internal" -- $PY check_wiring.py --domain k8s.example.internal $F/wiring/good.yaml
t 1 "wiring: bad pod needs" --has "not an IANA service name" --has "selects no workload" --has "volumeMount 'conf'" --has "serviceAccountName 'hdfs-namenode'" \
                                                                      -- $PY check_wiring.py $F/wiring/bad-pod.yaml

# kustomize
kubectl_bin=$(e2e_kubectl) || kubectl_bin=kubectl
"$kubectl_bin" kustomize $F/kz/good >"$W/kz-good.yaml"
sed 's/replicas: 2/replicas: 3/' "$W/kz-good.yaml" >"$W/kz-drift.yaml"
t 0 "kustomize: good + schema + same as stream"                       -- $PY check_kustomize.py --kubectl "$kubectl_bin" -k 1.30 -k 1.33 --stream "$W/kz-good.yaml" $F/kz/good
t 1 "kustomize: missing resource" --has "missing.yaml"                -- $PY check_kustomize.py --kubectl "$kubectl_bin" -k 1.30 $F/kz/bad
t 1 "kustomize: missing configMapGenerator file" --has "hdfs-site.xml" -- $PY check_kustomize.py --kubectl "$kubectl_bin" -k 1.30 $F/kz/bad2
t 1 "kustomize: invalid kustomization" --has "resourcez"             -- $PY check_kustomize.py --kubectl "$kubectl_bin" -k 1.30 $F/kz/bad3
t 1 "kustomize: directory drifted from stream" --has "/spec/replicas: 2 (built) vs 3 (stream)" \
                                                                      -- $PY check_kustomize.py --kubectl "$kubectl_bin" --stream "$W/kz-drift.yaml" $F/kz/good
t 1 "kustomize: other objects than stream" --has "not built from the directory: StatefulSet/bigdata/demo-zookeeper-server" \
                                                                      -- $PY check_kustomize.py --kubectl "$kubectl_bin" --stream $F/zk/good.yaml $F/kz/good

# checkov (one run over all units, as run.sh does)
mkdir -p "$W/ck"; cp -r $F/ck/hardened $F/ck/annot $F/ck/naive $F/ck/broken "$W/ck/"
mkdir -p "$W/ck/noreason"; sed 's/CKV_K8S_43=tag pinned by release process/CKV_K8S_43=/' $F/ck/annot/all.yaml >"$W/ck/noreason/all.yaml"
"$CKPY" check_checkov.py --each "$W/ck" >"$W/ck.out" 2>&1
ck_unit() { grep -E "^(ok  |FAIL) $1(:|\$)" "$W/ck.out"; grep -qE "^ok +$1\$" "$W/ck.out"; } # its line; 0 iff ok
t 0 "checkov: hardened"                                                    -- ck_unit hardened
t 0 "checkov: skip annotation with a reason"                               -- ck_unit annot
t 1 "checkov: naive StatefulSet"      --has "failed CKV_K8S_"              -- ck_unit naive
t 1 "checkov: broken YAML"            --has "YAML parse error"             -- ck_unit broken
t 1 "checkov: skip without a reason"  --has "has no reason"                -- ck_unit noreason
t 1 "checkov: single broken dir (0 resources)" --has "0 resources" -- "$CKPY" check_checkov.py $F/ck/broken
t 0 "checkov: single hardened dir"                                  -- "$CKPY" check_checkov.py $F/ck/hardened

# yamllint
t 0 "yamllint: good streams" -- yamllint -s -c yamllint.yaml $F/yl/multi-good.yaml $F/yl/kz-out.yaml $F/k8s/good/all.yaml $F/zk/good.yaml
t 1 "yamllint: duplicate key" --has "duplication of key" -- yamllint -s -c yamllint.yaml $F/yl/multi-bad.yaml

# ZooKeeper: the good fixture, and one edit each that must break it
zk() { # zk NAME SED-EXPR: a variant of the good fixture
  sed -e "$2" $F/zk/good.yaml >"$W/zk-$1.yaml"; cmp -s $F/zk/good.yaml "$W/zk-$1.yaml" && { echo "variant $1 changed nothing" >&2; return 1; }; echo "$W/zk-$1.yaml"
}
t 0 "zk: 3-server ensemble from the fixture" --has "1 leader, 2 followers" --has "readiness probe fails" -- $PY zk_ensemble.py $F/zk/good.yaml
$PY - "$F/zk/good.yaml" "$W/zk-five.yaml" <<'PYEOF'
import sys
s = open(sys.argv[1]).read().replace("replicas: 3", "replicas: 5")
line = "    server.3=demo-zookeeper-server-2.demo-zookeeper-server.bigdata.svc.cluster.local:2888:3888;2181\n"
extra = "".join(line.replace("server.3", f"server.{n}").replace("server-2.", f"server-{n-1}.") for n in (4, 5))
open(sys.argv[2], "w").write(s.replace(line, line + extra))
PYEOF
t 0 "zk: 5-server ensemble" --has "1 leader, 4 followers" -- $PY zk_ensemble.py "$W/zk-five.yaml"
t 0 "zk: one server runs standalone" --has "modes ['standalone']" -- $PY zk_ensemble.py "$(zk one 's/replicas: 3/replicas: 1/; /server\.[23]=/d')"
t 1 "zk: membership differs from replicas" --has "lists 3 server.N lines but the StatefulSet has 5" -- $PY zk_ensemble.py "$(zk five-no-lines 's/replicas: 3/replicas: 5/')"
t 1 "zk: server does not read the rendered zoo.cfg" --has "which is not key zoo.cfg" -- $PY zk_ensemble.py "$(zk conf 's#{name: config, mountPath: /conf}#{name: config, mountPath: /etc/zk}#')"
t 1 "zk: myid off by one"  --has "myid 0 has no server.0"    -- $PY zk_ensemble.py "$(zk myid 's/ordinal + 1/ordinal/')"
t 1 "zk: myid/host mismatch" --has "server.3 host is demo-zookeeper-server-3" -- $PY zk_ensemble.py "$(zk host 's/server.3=demo-zookeeper-server-2/server.3=demo-zookeeper-server-3/')"
t 1 "zk: ruok not whitelisted" --has "does not allow srvr and ruok" -- $PY zk_ensemble.py "$(zk 4lw 's/srvr, mntr, ruok, conf, isro/srvr, mntr/')"
t 1 "zk: myid off the data volume" --has "on no volume" -- $PY zk_ensemble.py "$(zk dd 's#value: /data/zookeeper#value: /var/lib/zookeeper#')"
t 1 "zk: election port not a containerPort" --has "port 3889 is not a containerPort" -- $PY zk_ensemble.py "$(zk port 's/2888:3888;2181/2888:3889;2181/')"
t 1 "zk: real ZooKeeper refuses a cfg without initLimit" --has "exited" -- $PY zk_ensemble.py "$(zk init '/initLimit=10/d')"
t 1 "zk: readiness probe that cannot fail" --has "after losing quorum" -- $PY zk_ensemble.py "$(zk probe "s#exec 3<>/dev/tcp/127.0.0.1/2181 \&\& echo srvr >\&3 \&\& grep '^Mode: ' <\&3#test -n 127.0.0.1#")"
t 1 "zk: OrderedReady deadlock" --has "bootstrap deadlock" -- $PY zk_ensemble.py "$(zk pmp '/podManagementPolicy: Parallel/d')"

# KDC
t 0 "krb: default realm"                                     -- ./krb.sh nn/host-0.hdfs.ns.svc.cluster.local
t 0 "krb: through a rendered krb5.conf" --has "HDFS.EXAMPLE.COM" -- ./krb.sh -c $F/krb/good-krb5.conf nn/host-0.hdfs.ns.svc.cluster.local
t 1 "krb: krb5.conf syntax error" --has "Improper format"       -- ./krb.sh -c $F/krb/bad-syntax-krb5.conf nn/x
t 1 "krb: DES-only enctypes"      --has "No supported encryption types" -- ./krb.sh -c $F/krb/bad-enctype-krb5.conf nn/x

# Hadoop
t 0 "hadoop: HA conf resolves" --has "failover proxy provider" -- ./hadoop_check.sh $F/hadoop/good
t 1 "hadoop: malformed XML"    --has "cannot parse"            -- ./hadoop_check.sh $F/hadoop/bad
t 1 "hadoop: namenode without rpc-address" --has "rpc-address" -- ./hadoop_check.sh $F/hadoop/bad2
t 1 "hadoop: proxy provider typo" --has "ClassNotFoundException" -- ./hadoop_check.sh $F/hadoop/bad3
t 1 "hadoop: defaultFS not a nameservice" --has "names no configured nameservice" -- ./hadoop_check.sh $F/hadoop/bad4
t 1 "hadoop: hdfs-site.xml missing" --has "does not exist"     -- ./hadoop_check.sh $F/kz/bad2
t 1 "hadoop: one bad dir among good ones" --has "1 of 2 config dir(s)" --has "names no configured nameservice" -- ./hadoop_check.sh $F/hadoop/good $F/hadoop/bad4
t 0 "krb + hadoop: UGI keytab login" --has "UGI login nn/host-0" -- \
  ./krb.sh -x "$PWD/hadoop_krblogin.sh $PWD/$F/hadoop/good conf:dfs.namenode.kerberos.principal host-0.hdfs.ns.svc.cluster.local" nn/host-0.hdfs.ns.svc.cluster.local
t 1 "krb + hadoop: realm mismatch" --has "UGI login" -- \
  ./krb.sh -c $F/krb/good-krb5.conf -x "$PWD/hadoop_krblogin.sh $PWD/$F/hadoop/good conf:dfs.namenode.kerberos.principal host-0.hdfs.ns.svc.cluster.local" nn/host-0.hdfs.ns.svc.cluster.local

# promtool, graphviz
t 0 "prom: rules + unit test"       -- ./prom_check.sh $F/prom/hdfs-rules.yaml $F/prom/hdfs-rules.test.yaml
t 0 "prom: PrometheusRule manifest" -- ./prom_check.sh $F/prom/prometheusrule.yaml $F/prom/hdfs-rules.test.yaml
t 1 "prom: PromQL syntax error" --has "parse error" -- ./prom_check.sh $F/prom/bad-rules.yaml
t 1 "prom: wrong expectation"   --has "FAILED"      -- ./prom_check.sh $F/prom/hdfs-rules.yaml $F/prom/bad-expect.test.yaml
t 1 "prom: duplicate rule"      --has "duplicate rule" -- ./prom_check.sh $F/prom/dup-rules.yaml
printf 'digraph plan {\n  zookeeper -> hdfs;\n}\n' >"$W/g.dot"; printf 'digraph plan {\n  zookeeper -> \n' >"$W/bad.dot"
t 0 "dot: graph lays out"     -- ./check_dot.sh "$W/g.dot"
t 1 "dot: syntax error" --has "syntax error" -- ./check_dot.sh "$W/bad.dot"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
