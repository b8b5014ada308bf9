#!/usr/bin/env bash
# hadoop_krblogin.sh CONF_DIR PRINCIPAL|conf:KEY [HOST] -- run under `krb.sh -x`: Hadoop's
# UserGroupInformation logs in from the KDC's keytab with the rendered principal pattern ("_HOST"
# expanded with HOST), through the krb5.conf krb.sh prepared (see hadoop/KrbLogin.java).
set -u
. "$(dirname "$0")/env.sh"
JARS=${JARS:-$E2E_JARS}
cp=$(ls "$JARS"/hadoop-client-api-*.jar "$JARS"/hadoop-client-runtime-*.jar "$JARS"/slf4j-api-*.jar 2>/dev/null | paste -sd:)
[ -n "$cp" ] || { echo "FAIL: hadoop jars not found in $JARS"; exit 1; }
exec java -Dslf4j.internal.verbosity=ERROR -Djava.security.krb5.conf="${JAVA_KRB5_CONF:?run under krb.sh -x}" \
  -cp "$cp" "$E2E_DIR/hadoop/KrbLogin.java" "${1:?conf dir}" "${2:?principal}" "${KEYTAB:?run under krb.sh -x}" "${3:-localhost}"
