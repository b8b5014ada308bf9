#!/usr/bin/env bash
# The Hive Metastore's `warehouse` init container (stacks/hadoop-3.3/hive.yaml): creates the
# warehouse directory $WAREHOUSE on HDFS when absent. Idempotent: an existing directory is left
# as it is (owner, mode, content). Without Kerberos it acts as the HDFS superuser
# (HADOOP_USER_NAME) and gives the directory to `hive`, mode 1777; with Kerberos it acts as the
# metastore's principal (ticket cache from the `keytab` init container, KRB5CCNAME).
# Bounded: an unreachable namenode fails the pod after ~5 minutes and the kubelet retries.
for i in $(seq 1 30); do
  if timeout 60 hdfs dfs -test -d "$WAREHOUSE"; then
    echo "warehouse $WAREHOUSE exists"
    exit 0
  fi
  if timeout 60 hdfs dfs -mkdir -p "$WAREHOUSE"; then
    if [ "$SECURE" != true ]; then
      hdfs dfs -chown hive "$WAREHOUSE"
      hdfs dfs -chmod 1777 "$WAREHOUSE"
    fi
    echo "warehouse $WAREHOUSE created"
    hdfs dfs -ls -d "$WAREHOUSE"
    exit 0
  fi
  if [ "$SECURE" = true ] && timeout 60 hdfs dfs -ls / >/dev/null 2>&1; then
    # HDFS answers, so the mkdir was refused: hive may not write the parent
    echo "cannot create $WAREHOUSE as the metastore's principal; as an HDFS superuser run:" >&2
    echo "  hdfs dfs -mkdir -p $WAREHOUSE && hdfs dfs -chown hive $WAREHOUSE && hdfs dfs -chmod 1777 $WAREHOUSE" >&2
    exit 1
  fi
  echo "HDFS not ready (attempt $i), retrying in 10 s" >&2
  sleep 10
done
echo "HDFS did not answer; giving up (the pod restarts this step)" >&2
exit 1
