#!/usr/bin/env bash
# hadoop_check.sh [--key KEY]... CONF_DIR... -- Hadoop's own Configuration parses the rendered
# core-site.xml and hdfs-site.xml of each CONF_DIR (one JVM for all), and its client code resolves
# each HA nameservice to every namenode's RPC address (hadoop/Check.java says exactly what is
# proved). One "ok   DIR" / "FAIL DIR: reason" line per directory, then PASS/FAIL; exit 0/1.
# Needs: tests/e2e/install.sh --only hadoop (client jars under $BDP_E2E_HOME/hadoop-jars, Java 17).
set -u
. "$(dirname "$0")/env.sh"
JARS=${JARS:-$E2E_JARS}
cp=$(ls "$JARS"/hadoop-client-api-*.jar "$JARS"/hadoop-client-runtime-*.jar "$JARS"/slf4j-api-*.jar 2>/dev/null | paste -sd:)
[ "$(tr ':' '\n' <<<"$cp" | grep -c .)" = 3 ] || { echo "FAIL: hadoop-client-api/-runtime and slf4j-api jars not found in $JARS (install.sh --only hadoop)"; exit 1; }
exec java -Xshare:auto -Dslf4j.internal.verbosity=ERROR -cp "$cp" "$E2E_DIR/hadoop/Check.java" "$@"
