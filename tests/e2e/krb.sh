#!/usr/bin/env bash
# krb.sh [-c RENDERED_krb5.conf] [-r REALM] [-k KEYTAB_OUT] [-x CMD] PRINCIPAL...
# A real MIT KDC issues tickets for the given principals through the rendered krb5.conf.
#
# Proves: with Debian's MIT Kerberos (krb5kdc, kadmin.local, kinit, klist, kvno), a throwaway KDC
# for REALM (default: default_realm of the rendered file, else EXAMPLE.COM) creates each principal
# with a random key into a keytab, and for each one `kinit -kt` gets a TGT and `kvno` a service
# ticket. With -c, the rendered krb5.conf is really parsed and used: it is layered UNDER a tiny
# override that only points the realm's kdc at the loopback KDC (KRB5_CONFIG=override:rendered;
# MIT reads the list, first file wins per relation), so its libdefaults (default_realm, enctypes,
# rdns, ...) apply -- a syntax error or weak-only enctypes fail kinit.
# -x CMD runs (bash -c) while the KDC is up, with KDC_PORT, KEYTAB, REALM, KRB5_CONFIG and
# JAVA_KRB5_CONF exported (JAVA_KRB5_CONF: one file, the rendered one with the realm's kdc lines
# pointed at loopback -- Java reads a single file, not MIT's list). E.g. hadoop_krblogin.sh.
# Principals without @ get @REALM; "_HOST" is not expanded here. Nothing outside a temp dir is
# touched; the KDC listens on 127.0.0.1 only and is stopped by PID. PASS/FAIL, exit 0/1; KEEP=1
# keeps the work dir.
# Needs: tests/e2e/install.sh --only krb
set -u
. "$(dirname "$0")/env.sh"
T0=$(date +%s%N)
REALM=""; RENDERED=""; KTOUT=""; XCMD=""
while getopts "r:c:k:x:" o; do
  case $o in r) REALM=$OPTARG;; c) RENDERED=$OPTARG;; k) KTOUT=$OPTARG;; x) XCMD=$OPTARG;; *) exit 2;; esac
done
shift $((OPTIND-1))
[ $# -ge 1 ] || { echo "usage: krb.sh [-c krb5.conf] [-r REALM] [-k KEYTAB] [-x CMD] PRINCIPAL..." >&2; exit 2; }
PATH=$PATH:/usr/sbin:/sbin
for b in kdb5_util krb5kdc kadmin.local kinit klist kvno kdestroy; do
  command -v $b >/dev/null || { echo "FAIL: $b not installed (tests/e2e/install.sh --only krb)"; exit 1; }
done
if [ -n "$RENDERED" ]; then
  [ -r "$RENDERED" ] || { echo "FAIL: cannot read $RENDERED"; exit 1; }
  RENDERED=$(cd "$(dirname "$RENDERED")" && pwd)/$(basename "$RENDERED")
  [ -n "$REALM" ] || REALM=$(sed -nE 's/^[[:space:]]*default_realm[[:space:]]*=[[:space:]]*([^[:space:]]+).*/\1/p' "$RENDERED" | head -1)
fi
REALM=${REALM:-EXAMPLE.COM}
W=$(mktemp -d /tmp/bdp-e2e-krb.XXXXXX); KPID=""
cleanup() {
  if [ -n "$KPID" ]; then kill "$KPID" 2>/dev/null; wait "$KPID" 2>/dev/null; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; [ -f "$W/kdc.log" ] && tail -3 "$W/kdc.log" | sed 's/^/  kdc.log: /'; exit 1; }
PORT=$("$(e2e_any_python)" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$W/kdc.conf" <<EOF
[kdcdefaults]
 kdc_listen = 127.0.0.1:$PORT
 kdc_tcp_listen = 127.0.0.1:$PORT
[realms]
 $REALM = {
  database_name = $W/principal
  key_stash_file = $W/stash
  acl_file = $W/kadm5.acl
  max_life = 10h 0m 0s
  max_renewable_life = 7d 0h 0m 0s
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }
[logging]
 kdc = FILE:$W/kdc.log
 default = FILE:$W/kdc.log
EOF
cat >"$W/krb5.override.conf" <<EOF
[libdefaults]
 dns_lookup_kdc = false
 dns_lookup_realm = false
[realms]
 $REALM = {
  kdc = 127.0.0.1:$PORT
 }
EOF
if [ -n "$RENDERED" ]; then
  export KRB5_CONFIG="$W/krb5.override.conf:$RENDERED"
else
  printf '[libdefaults]\n default_realm = %s\n rdns = false\n' "$REALM" >>"$W/krb5.override.conf"
  export KRB5_CONFIG="$W/krb5.override.conf"
fi
export KRB5_KDC_PROFILE="$W/kdc.conf" KRB5CCNAME="FILE:$W/ccache" KRB5RCACHEDIR="$W"
: >"$W/kadm5.acl"

kdb5_util create -s -P "bdp-e2e-$$-$RANDOM" -r "$REALM" >"$W/kdb.log" 2>&1 || fail "kdb5_util create: $(tail -1 "$W/kdb.log")"
krb5kdc -n -r "$REALM" >"$W/krb5kdc.out" 2>&1 & KPID=$!
for _ in $(seq 100); do
  grep -q "commencing operation" "$W/kdc.log" 2>/dev/null && break
  kill -0 $KPID 2>/dev/null || fail "krb5kdc exited: $(cat "$W/krb5kdc.out")"
  sleep 0.1
done
grep -q "commencing operation" "$W/kdc.log" 2>/dev/null || fail "krb5kdc did not start within 10s"
echo "KDC pid $KPID, realm $REALM, 127.0.0.1:$PORT (udp+tcp); KRB5_CONFIG=$KRB5_CONFIG"

KT=${KTOUT:-$W/service.keytab}
full() { case $1 in *@*) echo "$1";; *) echo "$1@$REALM";; esac; }
for p in "$@"; do
  p=$(full "$p")
  out=$(kadmin.local -r "$REALM" -q "addprinc -randkey $p" 2>&1); grep -q "created" <<<"$out" || fail "addprinc $p: $out"
  out=$(kadmin.local -r "$REALM" -q "ktadd -k $KT $p" 2>&1); grep -q "added to keytab" <<<"$out" || fail "ktadd $p: $out"
done
for p in "$@"; do
  p=$(full "$p")
  kinit -kt "$KT" "$p" 2>"$W/err" || fail "kinit -kt $p: $(cat "$W/err")"
  klist 2>/dev/null | grep -q "krbtgt/$REALM@$REALM" || fail "no TGT krbtgt/$REALM@$REALM for $p"
  kvno "$p" >"$W/kvno" 2>&1 || fail "kvno (service ticket) $p: $(cat "$W/kvno")"
  echo "ok  $p: kinit -kt, TGT krbtgt/$REALM, service ticket: $(cat "$W/kvno")"
  kdestroy 2>/dev/null
done
if [ -n "$XCMD" ]; then
  if [ -n "$RENDERED" ]; then
    # one file for Java: the rendered one, its kdc lines pointed at the loopback KDC
    sed -E "s/^([[:space:]]*kdc[[:space:]]*=).*/\1 127.0.0.1:$PORT/" "$RENDERED" >"$W/krb5.java.conf"
  else
    cp "$W/krb5.override.conf" "$W/krb5.java.conf"
  fi
  export KDC_PORT=$PORT KEYTAB=$KT REALM JAVA_KRB5_CONF="$W/krb5.java.conf"
  echo "running -x: $XCMD"
  bash -c "$XCMD" || fail "-x command failed"
fi
echo "PASS ($(( ($(date +%s%N) - T0) / 1000000 )) ms)"
