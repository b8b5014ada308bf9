#!/usr/bin/env bash
hdfs zkfc -formatZK -nonInteractive
rc=$?
case $rc in
  0) echo "created the failover znode";;
  2) echo "the failover znode exists already";;
  *) echo "hdfs zkfc -formatZK failed with exit code $rc" >&2; exit "$rc";;
esac
