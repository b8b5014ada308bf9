#!/usr/bin/env bash
ordinal="${POD_NAME##*-}"
case "$ordinal" in ''|*[!0-9]*) echo "cannot take an ordinal from POD_NAME=$POD_NAME" >&2; exit 1;; esac
current="$NAME_DIR/current"
if [ -f "$current/VERSION" ]; then
  if ! ls "$current"/fsimage_* >/dev/null 2>&1; then
    echo "$current/VERSION exists but there is no fsimage: an earlier format or bootstrap did not finish." >&2
    echo "Only for a brand-new filesystem: empty $NAME_DIR on this pod's volume and restart the pod." >&2
    exit 1
  fi
  echo "$NAME_DIR is formatted; nothing to do"
  exit 0
fi
if [ -d "$NAME_DIR" ] && [ -n "$(ls -A "$NAME_DIR")" ]; then
  echo "$NAME_DIR holds data but no current/VERSION; refusing to format over it." >&2
  echo "Inspect the volume; only for a brand-new filesystem empty $NAME_DIR and restart the pod." >&2
  exit 1
fi
wait_for() {
  tries=0
  until timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${1%:*}" "${1##*:}" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$WAIT_TRIES" ]; then
      echo "$1 did not accept connections after $tries tries" >&2
      return 1
    fi
    sleep 5
  done
  echo "$1 is up"
}
bootstrap() {
  # Parallel start: wait (bounded) until another namenode answers, then copy its namespace
  others=""
  for nn in ${NAMENODE_RPC//,/ }; do [ "${nn%%.*}" = "$POD_NAME" ] || others="$others $nn"; done
  tries=0
  until for nn in $others; do timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${nn%:*}" "${nn##*:}" 2>/dev/null && break; false; done; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$WAIT_TRIES" ]; then
      echo "no other namenode accepted connections after $tries tries:$others" >&2
      exit 1
    fi
    sleep 5
  done
  echo "bootstrapping $NAME_DIR as a standby of a running namenode"
  exec hdfs namenode -bootstrapStandby -nonInteractive
}
# secure mode: a Kerberos ticket for hdfs haadmin and bootstrapStandby (RPC to the
# other namenodes), from this pod's keytab; the `keytab` init container left one in
# KRB5CCNAME, renewed here when the image has kinit
if [ -n "${KRB5CCNAME:-}" ]; then
  if command -v kinit >/dev/null 2>&1; then
    kinit -k -t "$KRB_KEYTAB" -c "$KRB5CCNAME" "$KRB_PRINCIPAL" || { echo "kinit $KRB_PRINCIPAL from $KRB_KEYTAB failed" >&2; exit 1; }
  fi
  [ -s "${KRB5CCNAME#FILE:}" ] || { echo "no Kerberos ticket cache ${KRB5CCNAME#FILE:}: cannot ask the other namenodes" >&2; exit 1; }
  echo "Kerberos ticket cache ${KRB5CCNAME#FILE:} ready"
else
  unset KRB5CCNAME
fi
if [ "$ordinal" != 0 ]; then bootstrap; fi
# namenode-0 formats only a new filesystem: if another namenode is active, the
# filesystem exists and this pod's volume is new, so it joins as a standby
for id in ${NAMENODE_IDS//,/ }; do
  [ "$id" = "$POD_NAME" ] && continue
  if [ "$(timeout 60 hdfs haadmin -getServiceState "$id" 2>/dev/null)" = active ]; then
    echo "namenode $id is active"
    bootstrap
  fi
done
for jn in ${JOURNALNODES//,/ }; do wait_for "$jn"; done
echo "formatting $NAME_DIR"
exec hdfs namenode -format -nonInteractive
