#!/usr/bin/env bash
# The `history-dirs` init container of the jobhistory role: creates the MapReduce directories
# on HDFS that the JobHistory server, the ApplicationMasters and the NodeManagers' log
# aggregation write to, with their documented permissions. Idempotent: a directory that exists
# keeps its owner (only the mode is set again). Waits (bounded) for HDFS to answer first.
# In secure mode the `keytab` init container left a ticket of the pod's mapred/ principal in
# KRB5CCNAME.
set -u
tries=0
until hdfs dfs -test -d / 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge "$WAIT_TRIES" ]; then
    echo "HDFS ($HDFS) did not answer after $tries tries" >&2
    exit 1
  fi
  sleep 5
done
# DIRS: "path mode" pairs, one per line
while read -r dir mode; do
  [ -n "$dir" ] || continue
  if hdfs dfs -test -d "$dir" 2>/dev/null; then
    echo "$dir exists"
  elif hdfs dfs -mkdir -p "$dir"; then
    echo "$dir created"
  else
    echo "cannot create $dir on $HDFS: its parent must be writable by this principal or user; create it once as the HDFS superuser (operation history-dirs)" >&2
    exit 1
  fi
  hdfs dfs -chmod "$mode" "$dir" || { echo "cannot set mode $mode on $dir" >&2; exit 1; }
done <<<"$DIRS"
