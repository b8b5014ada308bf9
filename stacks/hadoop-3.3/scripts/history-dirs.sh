#!/usr/bin/env bash
# The `history-dirs` init container of the jobhistory role: creates the MapReduce directories
# on HDFS that the JobHistory server, the ApplicationMasters and the NodeManagers' log
# aggregation write to, and sets their modes. Idempotent: `mkdir -p` leaves existing directories
# (and their owners) alone, the modes are set again. Waits (bounded) for HDFS to answer first.
# Three client JVMs in all (each `hdfs dfs` is one): the wait, mkdir, one chmod per mode.
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
declare -a dirs=()
declare -A by_mode=()
while read -r dir mode; do
  [ -n "$dir" ] || continue
  dirs+=("$dir")
  by_mode[$mode]+="$dir "
done <<<"$DIRS"
if ! hdfs dfs -mkdir -p "${dirs[@]}"; then
  echo "cannot create ${dirs[*]} on $HDFS: their parents must be writable by this principal or user; create them once as the HDFS superuser (operation history-dirs)" >&2
  exit 1
fi
for mode in "${!by_mode[@]}"; do
  # shellcheck disable=SC2086 # the paths have no spaces (the stack's DIRS)
  hdfs dfs -chmod "$mode" ${by_mode[$mode]} || { echo "cannot set mode $mode on ${by_mode[$mode]}" >&2; exit 1; }
done
echo "MapReduce directories on $HDFS: ${dirs[*]}"
