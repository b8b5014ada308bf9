#!/usr/bin/env bash
# hdfs_secure.sh -- issue 10 scenarios 1, 2 and 3 on podrun, secure: examples/seed.yaml made HA and
# scaled for 2 cores (Kerberos KDC, 1 ZooKeeper, 3 journalnodes, 2 namenodes with ZKFC, 1 datanode,
# dfs.replication 1) runs as real processes.
# What bdp does not render is made here, as the user and cert-manager would: the admin Secret, and
# for each rendered cert-manager Certificate its Secret (tls.crt, tls.key, ca.crt, keystore.jks,
# truststore.jks with the setting tlsKeystorePassword) from a test CA (openssl, keytool); the
# Certificates themselves are dropped from the stream (podrun has no cert-manager).
# Checks: `podrun up`; a client in the datanode pod kinits from the pod's keytab and writes a file
# and reads it back byte for byte; without a ticket the namenode refuses it; the active namenode is
# SIGKILLed: a namenode is active again (the standby, or the re-created pod when it wins the
# election first; time printed), the file is still readable, then one is active and one standby,
# and the killed one was not reformatted.
# Finding 7 (SPNEGO): anonymous HTTPS requests to /jmx, /conf, /stacks, /logs/ and the UI of a
# namenode, a datanode and a journalnode get 401; `curl --negotiate` with the client's ticket gets
# 200 (/logs/ too: the ticket maps to the HDFS superuser, dfs.cluster.administrators); /prom
# answers without a ticket (monitoring: prometheus-operator whitelists it; the PodMonitors, dropped
# from the stream like the Certificates, are checked to scrape it over HTTPS with the role's CA).
# Scenario 3 (finding 5): namenode-0's volume is wiped and the pod re-created while namenode-1 is
# active: its format init container kinits, finds namenode-1 active with haadmin and bootstraps;
# it becomes standby with the same clusterID, namenode-1 stays active, the file is intact.
# One line per check, closing line "N passed, M failed". Needs root and tests/e2e/install.sh --only podrun.
set -uo pipefail
. "$(dirname "$0")/common.sh"
for b in openssl keytool kinit; do command -v $b >/dev/null || { bad "$b missing"; finish; }; done
PY=$(e2e_any_python)
podrun_workdir hdfs-sec
STATE=$WORK/state

C=seed; NS=bigdata
cat >"$WORK/cluster.yaml" <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata:
  name: $C
  namespace: $NS
spec:
  stack: hadoop-3.3
  services:
    kerberos:
    zookeeper:
      roles:
        server:
          replicas: 1
    hdfs:
      monitoring: prometheus-operator
      configOverrides:
        hdfs-site.xml:
          dfs.replication: "1"
      roles:
        namenode:
          replicas: 2
        journalnode:
          replicas: 3
        datanode:
          replicas: 1
EOF
"$BDP" render "$WORK/cluster.yaml" >"$WORK/rendered.yaml" || { bad "render"; finish; }
STOREPW=changeit   # the stack's default tlsKeystorePassword
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bdp-e2e-ca" \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" >/dev/null 2>&1 || { bad "test CA"; finish; }
# the Certificates out, their Secrets and the admin Secret in
"$PY" - "$WORK" "$STOREPW" "$C-kerberos-admin" "$NS" "$WORK/rendered.yaml" >"$WORK/stream.yaml" <<'PYEOF' || { bad "cert-manager's Secrets"; finish; }
import base64, os, subprocess, sys, yaml
work, pw, admin, ns, rendered = sys.argv[1:]
def run(*a):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out = []
for d in yaml.safe_load_all(open(rendered)):
    if not d:
        continue
    if d.get("apiVersion", "").startswith("monitoring.coreos.com/"):
        continue   # PodMonitors, PrometheusRules: no operator here (checked in the test)
    if d.get("kind") != "Certificate":
        out.append(d); continue
    s = d["spec"]; name = s["secretName"]; p = os.path.join(work, name)
    with open(p + ".ext", "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + n for n in s["dnsNames"]) + "\nextendedKeyUsage=serverAuth,clientAuth\n")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", p + ".key", "-out", p + ".csr")
    run("openssl", "x509", "-req", "-in", p + ".csr", "-CA", f"{work}/ca.crt", "-CAkey", f"{work}/ca.key", "-CAcreateserial", "-days", "2", "-extfile", p + ".ext", "-out", p + ".crt")
    run("openssl", "pkcs12", "-export", "-in", p + ".crt", "-inkey", p + ".key", "-certfile", f"{work}/ca.crt", "-name", "certificate", "-passout", "pass:" + pw, "-out", p + ".p12")
    run("keytool", "-importkeystore", "-srckeystore", p + ".p12", "-srcstoretype", "PKCS12", "-srcstorepass", pw, "-destkeystore", p + ".keystore.jks", "-deststoretype", "JKS", "-deststorepass", pw, "-destkeypass", pw, "-noprompt")
    run("keytool", "-importcert", "-alias", "ca", "-file", f"{work}/ca.crt", "-keystore", p + ".truststore.jks", "-storetype", "JKS", "-storepass", pw, "-noprompt")
    b = lambda f: base64.b64encode(open(f, "rb").read()).decode()
    out.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": name, "namespace": d["metadata"].get("namespace", ns)},
                "data": {"tls.crt": b(p + ".crt"), "tls.key": b(p + ".key"), "ca.crt": b(f"{work}/ca.crt"),
                         "keystore.jks": b(p + ".keystore.jks"), "truststore.jks": b(p + ".truststore.jks")}})
out.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": admin, "namespace": ns},
            "stringData": {"master-password": "master-" + os.urandom(6).hex(), "admin-password": "admin-" + os.urandom(6).hex()}})
yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
PYEOF
pm=$("$PY" - "$WORK/rendered.yaml" <<'PYEOF'
import sys, yaml
d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x.get("kind") == "PodMonitor"]
ok = [x["metadata"]["name"] for x in d for e in x["spec"]["podMetricsEndpoints"]
      if e.get("scheme") == "https" and e.get("path") == "/prom" and e["tlsConfig"]["ca"]["secret"]["name"] == x["metadata"]["name"] + "-tls"]
print(len(d), len(ok))
PYEOF
)
check "monitoring: prometheus-operator renders PodMonitors scraping /prom over HTTPS with the role's CA (${pm#* } of ${pm% *})" [ "$pm" = "3 3" ]
check "the stream: $(grep -c '^kind: Certificate' "$WORK/rendered.yaml") Certificates replaced by their Secrets (JKS keystore/truststore, test CA), admin Secret added" "$PODRUN" check "$WORK/stream.yaml"

pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
all_ready() { pr status --json | "$PY" -c 'import json,sys; p=json.load(sys.stdin)["pods"]; sys.exit(0 if p and all(x["ready"] and x["phase"]=="Running" for x in p) else 1)'; }
T0=$SECONDS
if pr up "$WORK/stream.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then
  ok "podrun up: KDC, ZooKeeper, journalnodes, namenodes, datanode Ready in $((SECONDS-T0))s"
else
  bad "podrun up"; tail -120 "$WORK/up.log"; finish
fi
DN=$C-hdfs-datanode-0
# the datanode pod's principal dn/<headless Service>@REALM, from its rendered hdfs-site.xml
P=$(pr exec "$DN" -- hdfs getconf -confKey dfs.datanode.kerberos.principal 2>/dev/null)
check "the datanode's principal ($P)" [ -n "$P" ]
inpod() { pr exec "$DN" -- bash -c "export KRB5_CONFIG=/etc/krb5/krb5.conf KRB5CCNAME=FILE:/tmp/e2e.ccache; $1" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader' >&2); }
noticket=$(pr exec "$DN" -- bash -c 'KRB5CCNAME=FILE:/tmp/none hdfs dfs -ls / 2>&1; echo "rc=$?"')
check "no ticket: the namenode refuses the client (Kerberos required)" bash -c "grep -q 'Client cannot authenticate via:\[TOKEN, KERBEROS\]' <<<\"\$1\" && ! grep -q '^rc=0' <<<\"\$1\"" _ "$noticket"
check "kinit from the pod's keytab" inpod "kinit -k -t /etc/security/keytabs/hdfs.keytab '$P'"
head -c 2000000 /dev/urandom >"$WORK/data.bin"
t=$SECONDS
inpod "hdfs dfs -mkdir -p /e2e && hdfs dfs -put - /e2e/data.bin" <"$WORK/data.bin"
check "the client wrote a 2 MB file over SASL block transfer ($((SECONDS-t))s)" inpod "hdfs dfs -test -e /e2e/data.bin"
inpod "hdfs dfs -cat /e2e/data.bin" >"$WORK/read.bin"
check "and read it back, byte for byte" cmp -s "$WORK/data.bin" "$WORK/read.bin"

echo "=== finding 7: SPNEGO on every web server (HTTPS on the web ports)"
podf() { pr status --json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
fqdn() { echo "$1.${1%-*}.$NS.svc.cluster.local"; }
NN0=$C-hdfs-namenode-0; JN0=$C-hdfs-journalnode-0
# anonymous: curl on the host (outside the cluster: the namenode's and datanode's web ports are
# open to clients), no ticket; the journalnode's web port admits only the cluster's pods, so the
# anonymous curl to it runs in the datanode pod, without --negotiate
anon() { curl -k -s -o /dev/null -m 10 -w '%{http_code}' "https://$(podf "$1" address):$2$3"; }
anon_in() { pr exec "$DN" -- curl -k -s -o /dev/null -m 10 -w '%{http_code}' "https://$(fqdn "$1"):$2$3" 2>/dev/null; }
for t in "$NN0 9870 /jmx" "$NN0 9870 /conf" "$NN0 9870 /stacks" "$NN0 9870 /logs/" "$NN0 9870 /index.html" "$DN 9864 /jmx" "$DN 9864 /conf" "$DN 9864 /stacks"; do
  set -- $t; code=$(anon "$1" "$2" "$3")
  check "anonymous GET https://$1:$2$3 is refused: $code (want 401)" [ "$code" = 401 ]
done
for t in "$JN0 8480 /jmx" "$JN0 8480 /stacks"; do
  set -- $t; code=$(anon_in "$1" "$2" "$3")
  check "anonymous GET https://$1:$2$3 (from the datanode pod) is refused: $code (want 401)" [ "$code" = 401 ]
done
# with a ticket: curl --negotiate in the datanode pod (the client's principal, the issuer's CA from
# the pod's tls Secret), to each server by its FQDN (the HTTP/<fqdn> principal of that pod's keytab)
neg() { inpod "curl -s -o /dev/null -m 20 -w '%{http_code}' --negotiate -u : --cacert /etc/hadoop/tls/ca.crt https://$(fqdn "$1"):$2$3" 2>/dev/null; }
for t in "$NN0 9870 /jmx" "$DN 9864 /jmx" "$JN0 8480 /jmx"; do
  set -- $t; code=$(neg "$1" "$2" "$3")
  check "with a ticket (SPNEGO) GET https://$(fqdn "$1"):$2$3: $code (want 200)" [ "$code" = 200 ]
done
code=$(neg "$NN0" 9870 /logs/)
check "with a ticket mapped to the HDFS superuser, /logs/ (dfs.cluster.administrators only): $code (want 200)" [ "$code" = 200 ]
# metrics stay scrapable without Kerberos: /prom only (hadoop.http.authentication.kerberos.endpoint.whitelist)
for t in "$NN0 9870" "$DN 9864" "$JN0 8480"; do
  set -- $t
  if [ "$1" = "$JN0" ]; then prom=$(pr exec "$DN" -- curl -k -s -m 10 "https://$(fqdn "$1"):$2/prom" 2>/dev/null)
  else prom=$(curl -k -s -m 10 "https://$(podf "$1" address):$2/prom"); fi
  check "anonymous GET https://$1:$2/prom serves Prometheus metrics ($(grep -c '^[a-z]' <<<"$prom") samples)" grep -q '^jvm_metrics_mem_heap_used_m' <<<"$prom"
done

ha() { inpod "hdfs haadmin -getAllServiceState" 2>/dev/null; }
A=$(ha | awk '$2=="active"{split($1,a,"."); print a[1]}')
case $A in $C-hdfs-namenode-0) S=$C-hdfs-namenode-1;; $C-hdfs-namenode-1) S=$C-hdfs-namenode-0;; *) S=;; esac
if [ -z "$S" ]; then bad "an active namenode (haadmin with the client's ticket): $(ha)"; else
  ok "haadmin with the client's ticket: $A active"
  t0=$SECONDS
  pr kill "$A" >/dev/null
  is_active() { ha | grep -q "^$1\..* active"; }
  # the standby takes over when the killed ZKFC's ZooKeeper session expires; the re-created pod
  # may win that race when its namenode is healthy first (see hdfs.sh): one active either way
  one_active() { [ "$(ha | awk '$2=="active"' | wc -l)" = 1 ]; }
  if wait_for 240 one_active; then
    if is_active "$S"; then ok "the standby $S became active"
    else ok "a namenode is active again (the re-created $A won the election before its old ZooKeeper session expired)"; fi
  else bad "a namenode is active again after the SIGKILL: $(ha)"; fi
  echo "     failover seen $((SECONDS-t0))s after the SIGKILL (haadmin polls, a JVM each: coarse)"
  inpod "hdfs dfs -cat /e2e/data.bin" >"$WORK/read2.bin"
  check "the file is still readable, byte for byte" cmp -s "$WORK/data.bin" "$WORK/read2.bin"
  check "every pod is Ready again" wait_for 600 all_ready
  active_standby() { [ "$(ha | awk '{print $2}' | sort | tr '\n' ' ')" = 'active standby ' ]; }
  check "one namenode active, the other standby" wait_for 240 active_standby
  check "$A was not reformatted" bash -c "awk '/^--- podrun: start /{b=\"\"; next} {b=b \$0 \"\\n\"} END{printf \"%s\", b}' '$STATE/logs/${NS}_$A/format.log' | grep -q 'is formatted; nothing to do'"
fi

echo "=== scenario 3 (finding 5): wipe namenode-0's volume, re-create it while namenode-1 is active"
T3=$SECONDS
NN=$C-hdfs-namenode
# haadmin prints "%-50s %-10s": address, state, trailing blanks
is_state() { ha | awk -v n="$1." -v s="$2" 'index($1, n) == 1 && $2 == s {f = 1} END {exit !f}'; }
cluster_id() { pr exec "$1" -c namenode -- sed -n 's/^clusterID=//p' /data/name/current/VERSION; }
last_start() { awk '/^--- podrun: start /{b=""; next} {b=b $0 "\n"} END{printf "%s", b}' "$STATE/logs/${NS}_$1/$2.log"; }
CID=$(cluster_id $NN-1)
is_state $NN-1 active || inpod "hdfs haadmin -failover $NN-0 $NN-1" >/dev/null 2>&1
check "namenode-1 is active" wait_for 120 is_state $NN-1 active
PVC=$STATE/pvc/$NS/data-$NN-0
check "namenode-0's volume holds a formatted name directory ($PVC)" [ -f "$PVC/name/current/VERSION" ]
find "$PVC" -mindepth 1 -delete; pr kill $NN-0 >/dev/null
check "namenode-0 is Ready again on the wiped volume" wait_for 900 all_ready
f=$(last_start $NN-0 format)
check "its format init container took a Kerberos ticket, found namenode-1 active with haadmin and bootstrapped (no format)" bash -c "grep -q 'ticket cache .* ready' <<<\"\$1\" && grep -q 'namenode $NN-1 is active' <<<\"\$1\" && grep -q 'bootstrapping .* as a standby' <<<\"\$1\" && ! grep -q 'formatting ' <<<\"\$1\"" _ "$f"
check "namenode-0 is standby" wait_for 120 is_state $NN-0 standby
check "namenode-1 stayed active" is_state $NN-1 active
check "namenode-0's new VERSION has the same clusterID ($CID)" [ -n "$CID" -a "$(cluster_id $NN-0)" = "$CID" ]
inpod "hdfs dfs -cat /e2e/data.bin" >"$WORK/read3.bin"
check "the file is still readable, byte for byte" cmp -s "$WORK/data.bin" "$WORK/read3.bin"
echo "     scenario 3: $((SECONDS-T3))s"
echo "     total $((SECONDS-T0))s"
finish
