#!/usr/bin/env bash
# kerberos.sh -- the Kerberos parts of issue 10 on podrun: the rendered KDC pod (bootstrap init
# container, krb5kdc, kadmind) and a secure ZooKeeper (keytab init container running the kerberos
# service's vars.keytabScript, SASL/Kerberos server login) run as real processes, each pod in its
# own network namespace. Checks: the admin logs in from a client with the discovery ConfigMap's
# krb5.conf; review finding 2 live (the provisioner creates and extracts the service principals it
# needs but can neither create evil/admin nor change an admin nor re-randomise a key); review
# finding 9 live (a SASL-authenticated client creates a znode with a sasl ACL, an anonymous client
# can neither read nor change it, a pod outside the NetworkPolicy cannot reach 2181); a SIGKILLed
# KDC comes back Ready with its database, and a re-created ZooKeeper pod gets the same keys.
# The stack's `list-principals` action runs as a Job beside the KDC (issue 11).
# The admin Secret (which bdp never renders: the user creates it) is added to the stream here.
# One line per check, closing line "N passed, M failed".
# Needs root (namespaces, bridge, nftables) and tests/e2e/install.sh --only podrun (Debian's
# krb5-kdc, krb5-admin-server, krb5-user; ZooKeeper 3.8.4's jars).
set -uo pipefail
. "$(dirname "$0")/common.sh"
for b in kinit kadmin klist; do command -v $b >/dev/null || { bad "$b missing (tests/e2e/install.sh --only podrun)"; finish; }; done
PY=$E2E_PY
podrun_workdir krb-e2e
STATE=$WORK/state

NS=bigdata; CL=krb
cat >"$WORK/cluster.yaml" <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata:
  name: $CL
  namespace: $NS
spec:
  stack: hadoop-3.3
  services:
    kerberos:
    zookeeper:
      roles:
        server:
          replicas: 1
EOF
ADMIN_PW="admin-$RANDOM$RANDOM"; MASTER_PW="master-$RANDOM$RANDOM"
"$BDP" render "$WORK/cluster.yaml" >"$WORK/rendered.yaml" || { bad "render"; finish; }
cp "$WORK/rendered.yaml" "$WORK/stream.yaml"
cat >>"$WORK/stream.yaml" <<EOF
---
apiVersion: v1
kind: Secret
metadata:
  name: $CL-kerberos-admin
  namespace: $NS
stringData:
  master-password: $MASTER_PW
  admin-password: $ADMIN_PW
EOF
# discovery KEY [CONFIGMAP-SUFFIX]: a key of a rendered discovery ConfigMap
discovery() {
  "$PY" - "$WORK/rendered.yaml" "$CL-${2:-kerberos}-discovery" "$1" <<'PYEOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"] == sys.argv[2]:
        sys.stdout.write(d["data"][sys.argv[3]]); break
PYEOF
}
REALM=$(discovery REALM); ADMIN=$(discovery ADMIN_PRINCIPAL)
discovery krb5.conf >"$WORK/krb5.conf"
ZKP=$(discovery ZOOKEEPER_PRINCIPAL zookeeper)          # zookeeper/<headless Service>
ZKHOST=${ZKP#zookeeper/}
KDC=$CL-kerberos-kdc-0; ZK=$CL-zookeeper-server-0
check "render: realm $REALM, admin $ADMIN, ZooKeeper principal $ZKP" [ -n "$REALM" -a -n "$ADMIN" -a -n "$ZKHOST" ]
check "podrun accepts the stream (k8s-openapi types, every image has a profile, sysctl allowed)" "$PODRUN" check "$WORK/stream.yaml"

ready() { "$PODRUN" status --state "$STATE" --json 2>/dev/null | "$PY" -c 'import json,sys; sys.exit(0 if any(p["name"]==sys.argv[1] and p["ready"] and p["phase"]=="Running" for p in json.load(sys.stdin)["pods"]) else 1)' "$1" 2>/dev/null; }  # no state yet: not ready
T0=$SECONDS
# the KDC's own start time, measured beside `up` (which waits for every pod)
( while [ $((SECONDS-T0)) -lt 300 ]; do if ready "$KDC"; then echo $((SECONDS-T0)) >"$WORK/kdc-ready"; break; fi; sleep 0.3; done ) &
if "$PODRUN" up "$WORK/stream.yaml" --state "$STATE" --timeout 300 >"$WORK/up.log" 2>&1; then
  wait
  ok "podrun up: KDC Ready in $(cat "$WORK/kdc-ready" 2>/dev/null || echo ?)s, KDC and secure ZooKeeper Ready in $((SECONDS-T0))s"
else
  bad "podrun up"; tail -80 "$WORK/up.log"; finish
fi
logs() { "$PODRUN" logs "$1" -c "$2" --state "$STATE" 2>/dev/null; }
check "bootstrap created the database and the provisioner" bash -c "'$PODRUN' logs $KDC -c bootstrap --state '$STATE' | grep -q 'bootstrap: $ADMIN created'"
check "krb5kdc binds port 88 as uid 10000 (pod sysctl ip_unprivileged_port_start=0)" bash -c "'$PODRUN' logs $KDC -c kdc --state '$STATE' | grep -q 'commencing operation'"

# Clients on the host: the discovery ConfigMap's krb5.conf, podrun's hosts file over /etc/hosts in
# a mount namespace of their own (the names of the krb5.conf resolve as in the cluster).
host() { KRB5_CONFIG=$WORK/krb5.conf unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$STATE/hosts" "$@"; }
CC=FILE:$WORK/admin.ccache
admin_kinit() { printf '%s\n' "$1" | host kinit -c "$CC" -S "kadmin/admin@$REALM" "$ADMIN" >"$WORK/kinit.log" 2>&1; }
kad() { host kadmin -c "$CC" -r "$REALM" -q "$1" 2>&1; }
check "kinit as $ADMIN from the host (the discovery krb5.conf, the KDC Service's name)" admin_kinit "$ADMIN_PW"
check "the ticket is for kadmin/admin@$REALM" bash -c "KRB5_CONFIG='$WORK/krb5.conf' klist -c '$CC' | grep -q 'kadmin/admin@$REALM'"
wrong_kinit() { ! printf 'wrong\n' | host kinit -c "FILE:$WORK/x.ccache" "$ADMIN" >/dev/null 2>&1; }
check "kinit with a wrong password is refused" wrong_kinit
admin_kinit "$ADMIN_PW"

# review finding 2, live: what the provisioner may and may not do (kadmin exits 0 on refusals:
# its output says)
SP="zookeeper/e2e-$RANDOM.$NS.svc.cluster.local@$REALM"
out=$(kad "addprinc -randkey $SP")
check "the provisioner creates a service principal it needs ($SP)" bash -c "printf '%s' \"\$0\" | grep -q 'created'" "$out"
out=$(kad "ktadd -norandkey -k $WORK/sp.keytab $SP")
check "the provisioner extracts its keys unchanged (ktadd -norandkey)" bash -c "printf '%s' \"\$0\" | grep -q 'with kvno 1'" "$out"
check "the extracted key logs in (kinit -k)" host kinit -k -t "$WORK/sp.keytab" -c "FILE:$WORK/sp.ccache" "$SP"
out=$(kad "ktadd -k $WORK/sp2.keytab $SP")
check "the provisioner cannot re-randomise a key (ktadd without -norandkey): $(printf '%s' "$out" | grep -o 'Operation requires[^:]*' | head -1)" bash -c "printf '%s' \"\$0\" | grep -q 'Operation requires' && ! printf '%s' \"\$0\" | grep -q 'with kvno 2'" "$out"
out=$(kad "addprinc -randkey evil/admin@$REALM")
check "the provisioner cannot create evil/admin: $(printf '%s' "$out" | grep -o 'Operation requires[^:]*' | head -1)" bash -c "printf '%s' \"\$0\" | grep -q 'Operation requires'" "$out"
kl() { "$PODRUN" exec "$KDC" -c kadmind --state "$STATE" -- kadmin.local -r "$REALM" -p root/admin -q "$1" 2>/dev/null; }
check "evil/admin does not exist (kadmin.local in the KDC pod)" bash -c "! printf '%s' \"\$0\" | grep -q '^Principal: '" "$(kl "getprinc evil/admin@$REALM")"
out=$(kad "addprinc -randkey nn/e2e.$NS.svc.cluster.local@$REALM")
check "the provisioner cannot create principals of primaries no service of the realm uses (nn/...)" bash -c "printf '%s' \"\$0\" | grep -q 'Operation requires'" "$out"
kl "addprinc -pw human-$RANDOM root/admin@$REALM" >/dev/null
check "a human admin root/admin made with kadmin.local (as docs/kerberos.md shows)" bash -c "printf '%s' \"\$0\" | grep -q '^Principal: root/admin@'" "$(kl "getprinc root/admin@$REALM")"
kvno_before=$(kl "getprinc root/admin@$REALM" | sed -n 's/^Key: vno \([0-9]*\).*/\1/p' | head -1)
out=$(kad "cpw -randkey root/admin@$REALM")
check "the provisioner cannot change the admin's keys (cpw root/admin): $(printf '%s' "$out" | grep -o 'Operation requires[^:]*' | head -1)" bash -c "printf '%s' \"\$0\" | grep -q 'Operation requires'" "$out"
out=$(kad "modprinc -allow_tix root/admin@$REALM")
check "the provisioner cannot modify the admin (modprinc root/admin)" bash -c "printf '%s' \"\$0\" | grep -q 'Operation requires'" "$out"
# (MIT kadmind lets every principal change its own keys whatever kadm5.acl says; the provisioner
# could lock itself out that way, which needs its password and gains nothing, so it is not tried)
check "root/admin's keys unchanged (kvno $kvno_before)" [ "$(kl "getprinc root/admin@$REALM" | sed -n 's/^Key: vno \([0-9]*\).*/\1/p' | head -1)" = "$kvno_before" ]

# the keytab init container (vars.keytabScript) of the secure ZooKeeper
check "ZooKeeper's keytab init container created $ZKP@$REALM" bash -c "'$PODRUN' logs $ZK -c keytab --state '$STATE' | grep -q 'keytab: $ZKP@$REALM created'"
kt=$("$PODRUN" exec "$ZK" --state "$STATE" -- klist -k -e /etc/security/keytabs/zookeeper.keytab | grep "$ZKP")
check "the keytab holds $ZKP in the realm's two enctypes only (aes256/aes128-cts-hmac-sha1-96)" [ "$(printf '%s\n' "$kt" | grep -c .)" = 2 -a "$(printf '%s\n' "$kt" | grep -c 'aes[0-9]*-cts-hmac-sha1-96')" = 2 ]
check "the ZooKeeper server logged in with its keytab (JAAS section Server)" bash -c "'$PODRUN' logs $ZK -c zookeeper --state '$STATE' | grep -q 'Server successfully logged in'"
zk_kvno() { kl "getprinc $ZKP@$REALM" | sed -n 's/^Key: vno \([0-9]*\).*/\1/p' | head -1; }
KV=$(zk_kvno)

# review finding 9, live: ZooKeeper's own CLI in the ZooKeeper pod (inside the NetworkPolicy)
# the SASL client's JAAS file in the ZooKeeper pod (written again after the pod is re-created)
client_jaas() {
  "$PODRUN" exec "$ZK" --state "$STATE" -- sh -c "cat >/tmp/client.jaas" <<EOF
Client {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true
  keyTab="/etc/security/keytabs/zookeeper.keytab"
  storeKey=true
  useTicketCache=false
  principal="$ZKP@$REALM";
};
EOF
}
client_jaas
ZKADDR=$ZK.$ZKHOST:2181
zkcli() { # zkcli sasl|anon ARGS...: ZooKeeperMain (the library of zkCli.sh) with or without SASL
  local mode=$1; shift
  local sasl=(-Djava.security.auth.login.config=/tmp/client.jaas -Dzookeeper.server.principal="$ZKP")
  [ "$mode" = anon ] && sasl=(-Dzookeeper.sasl.client=false)
  "$PODRUN" exec "$ZK" --state "$STATE" -- java -Djava.security.krb5.conf=/etc/krb5/krb5.conf "${sasl[@]}" \
    -Dlogback.configurationFile=/conf/logback.xml -cp "/apache-zookeeper-3.8.4-bin/lib/*" \
    org.apache.zookeeper.ZooKeeperMain -server "$ZKADDR" "$@" 2>&1
}
# a parent with the same ACL, as `hdfs zkfc -formatZK` makes /hadoop-ha/...: deleting a znode is
# the parent's `d` right, and the root's ACL is world:anyone:cdrwa
zkcli sasl create /e2e parent sasl:zookeeper:cdrwa >/dev/null
out=$(zkcli sasl create /e2e/secret s3cret sasl:zookeeper:cdrwa)
check "a SASL/Kerberos client ($ZKP) authenticates" bash -c "printf '%s' \"\$0\" | grep -q 'state:SaslAuthenticated'" "$out"
check "... and creates /e2e/secret with ACL sasl:zookeeper:cdrwa" bash -c "printf '%s' \"\$0\" | grep -q 'Created /e2e/secret'" "$out"
out=$(zkcli sasl getAcl /e2e/secret)
check "the ACL names the principal's short name (kerberos.removeHostFromPrincipal/removeRealmFromPrincipal)" bash -c "printf '%s' \"\$0\" | grep -q \"'sasl,'zookeeper\"" "$out"
check "the authenticated client reads it" bash -c "printf '%s' \"\$0\" | grep -q '^s3cret'" "$(zkcli sasl get /e2e/secret)"
check "an anonymous client cannot read it (NoAuth)" bash -c "printf '%s' \"\$0\" | grep -qi 'Insufficient permission\|NoAuth'" "$(zkcli anon get /e2e/secret)"
check "an anonymous client cannot change it (NoAuth)" bash -c "printf '%s' \"\$0\" | grep -qi 'Insufficient permission\|NoAuth'" "$(zkcli anon set /e2e/secret changed)"
check "an anonymous client cannot delete it (NoAuth)" bash -c "printf '%s' \"\$0\" | grep -qi 'Insufficient permission\|NoAuth'" "$(zkcli anon delete /e2e/secret)"
check "the value is unchanged" bash -c "printf '%s' \"\$0\" | grep -q '^s3cret'" "$(zkcli sasl get /e2e/secret)"

ZKIP=$("$PODRUN" status --state "$STATE" --json | "$PY" -c 'import json,sys; print(next(p["address"] for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]))' "$ZK")
port_open() { "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)' "$1" "$2" 2>/dev/null; }
port_closed() { ! port_open "$@"; }
check "NetworkPolicy: a ZooKeeper pod reaches 2181" "$PODRUN" exec "$ZK" --state "$STATE" -- bash -c "exec 3<>/dev/tcp/$ZKIP/2181"
check "NetworkPolicy: the KDC pod (kerberos does not depend on zookeeper) cannot reach 2181" bash -c "! timeout 10 '$PODRUN' exec $KDC -c kdc --state '$STATE' -- bash -c 'exec 3<>/dev/tcp/$ZKIP/2181' 2>/dev/null"
check "NetworkPolicy: the host (outside the cluster) cannot reach 2181" port_closed "$ZKIP" 2181
# the metrics port admits this Cluster's pods only (with monitoring on, also the scraper's
# selectors, proven by tests/e2e/podrun/monitoring.sh): not the host
check "NetworkPolicy: the host cannot reach the metrics port 7000 (monitoring is none)" port_closed "$ZKIP" 7000
check "NetworkPolicy: another pod of the Cluster (the KDC) reaches the metrics port 7000" bash -c "timeout 10 '$PODRUN' exec $KDC -c kdc --state '$STATE' -- bash -c 'exec 3<>/dev/tcp/$ZKIP/7000'"

# issue 11's KDC action, live: `bdp action … kerberos list-principals` is a Job that mounts the
# KDC's volume (kadmin.local) beside the running KDC; podrun runs it like any Job
"$BDP" action "$WORK/cluster.yaml" kerberos list-principals >"$WORK/lp.yaml" 2>"$WORK/lp.err" \
  && "$PODRUN" run "$WORK/lp.yaml" --state "$STATE" --timeout 300 >"$WORK/lp.out" 2>&1
if grep -q '^podrun: job .* succeeded' "$WORK/lp.out" && grep -qF "$ZKP@$REALM" "$WORK/lp.out" && grep -qF "$SP" "$WORK/lp.out" && grep -qF "$ADMIN" "$WORK/lp.out"; then
  ok "the list-principals action Job succeeds and lists $ZKP, $SP and $ADMIN"
else
  bad "the list-principals action Job succeeds and lists $ZKP, $SP and $ADMIN"; cat "$WORK/lp.err"; tail -25 "$WORK/lp.out"
fi

# a SIGKILLed KDC pod comes back with its database
# (ip asks the pod's network namespace; /sys in a podrun container is the host's)
mac() { "$PODRUN" exec "$KDC" -c kdc --state "$STATE" -- ip -o link show eth0 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
MAC0=$(mac)
t=$SECONDS
"$PODRUN" kill "$KDC" --state "$STATE" >/dev/null
sleep 1
back=0
while [ $((SECONDS-t)) -lt 180 ]; do if ready "$KDC"; then back=1; break; fi; sleep 0.5; done
if [ $back = 1 ]; then ok "a SIGKILLed KDC pod was re-created and Ready again in $((SECONDS-t))s"; else bad "the killed KDC pod came back"; fi
# the same address and MAC (podrun derives the MAC from the address), so the host's neighbour
# entry stays right and the first kinit below reaches the new pod (with a new random MAC, CI saw
# it fail: the host kept sending to the dead interface)
KDCIP=$("$PODRUN" status --state "$STATE" --json | "$PY" -c 'import json,sys; print(next(p["address"] for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]))' "$KDC")
MAC1=$(mac); WANT=$(printf '0a:58:%02x:%02x:%02x:%02x' ${KDCIP//./ })
check "the re-created KDC pod has the MAC of its address, as before the kill ($MAC0 -> $MAC1, $KDCIP)" [ "$MAC0" = "$WANT" -a "$MAC1" = "$WANT" ]
check "its bootstrap found the database (not re-initialised)" bash -c "'$PODRUN' logs $KDC -c bootstrap --state '$STATE' | tail -n 3 | grep -q 'the database of $REALM exists'"
check "the database was created once only" [ "$(logs "$KDC" bootstrap | grep -c '^bootstrap: creating the database')" = 1 ]
if admin_kinit "$ADMIN_PW"; then ok "kinit as $ADMIN again (its key survived)"
else bad "kinit as $ADMIN again (its key survived)"; sed 's/^/       /' "$WORK/kinit.log"; "$PODRUN" status --state "$STATE" | sed 's/^/       /'; fi
check "the principals still exist ($SP, root/admin)" bash -c "printf '%s' \"\$0\" | grep -q '^Principal: $SP' && printf '%s' \"\$1\" | grep -q '^Principal: root/admin@'" "$(kad "getprinc $SP")" "$(kl "getprinc root/admin@$REALM")"
check "the extracted service key still logs in" host kinit -k -t "$WORK/sp.keytab" -c "FILE:$WORK/sp.ccache" "$SP"

# a re-created ZooKeeper pod: the keytab init container finds the principal, exports the same keys
t=$SECONDS
"$PODRUN" kill "$ZK" --state "$STATE" >/dev/null
sleep 1
back=0
while [ $((SECONDS-t)) -lt 180 ]; do if ready "$ZK"; then back=1; break; fi; sleep 0.5; done
if [ $back = 1 ]; then ok "a SIGKILLed ZooKeeper pod Ready again in $((SECONDS-t))s (keytab init container, SASL login)"; else bad "the killed ZooKeeper pod came back"; fi
check "its keytab init container found $ZKP (no new principal)" bash -c "'$PODRUN' logs $ZK -c keytab --state '$STATE' | grep -q 'keytab: $ZKP@$REALM exists'"
check "the key was not re-randomised (kvno $KV)" [ "$(zk_kvno)" = "$KV" ]
client_jaas
check "the znode and its ACL survived, readable with SASL" bash -c "printf '%s' \"\$0\" | grep -q '^s3cret'" "$(zkcli sasl get /e2e/secret)"

t=$SECONDS
"$PODRUN" down --state "$STATE" >/dev/null
echo "     down in $((SECONDS-t))s"
echo "     total ${SECONDS}s"
finish
