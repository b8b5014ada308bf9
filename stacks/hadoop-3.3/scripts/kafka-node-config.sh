#!/bin/bash
# Init container `node-config` of both Kafka roles (stacks/hadoop-3.3/kafka.yaml):
# 1. the node's own server.properties: the rendered, shared file plus the two keys that differ per
#    pod (node.id from the ordinal plus the role's offset, advertised.listeners on the pod's FQDN),
#    written to a scratch dir (emptyDir) the server container reads it from;
# 2. the storage formatted once: `kafka-storage.sh format --ignore-formatted` with the Cluster's
#    cluster id, a no-op on a volume that holds meta.properties already; a volume of another
#    node or cluster is refused before Kafka would start on it.
# Environment: POD_NAME, KAFKA_NODE_ID_OFFSET, KAFKA_ADVERTISED_PREFIX and _SUFFIX (the advertised
# listener is PREFIX<pod name>SUFFIX: `BROKER://` and `.<headless Service>:9092`), KAFKA_CLUSTER_ID,
# KAFKA_CONF (the rendered file), KAFKA_NODE_CONF (the file written), KAFKA_DATA (log.dirs),
# KAFKA_FORMAT_HEAP_OPTS (the heap of the format JVM).
set -euo pipefail
ordinal="${POD_NAME##*-}"
case "$ordinal" in ''|*[!0-9]*) echo "cannot take an ordinal from POD_NAME=$POD_NAME" >&2; exit 1;; esac
node_id=$((ordinal + KAFKA_NODE_ID_OFFSET))
meta="$KAFKA_DATA/meta.properties"
if [ -s "$meta" ]; then
  have_id=$(sed -n 's/^node\.id=//p' "$meta")
  have_cluster=$(sed -n 's/^cluster\.id=//p' "$meta")
  if [ -n "$have_id" ] && [ "$have_id" != "$node_id" ]; then
    echo "$meta holds node.id=$have_id, expected $node_id: this volume belongs to another node" >&2
    exit 1
  fi
  if [ -n "$have_cluster" ] && [ "$have_cluster" != "$KAFKA_CLUSTER_ID" ]; then
    echo "$meta holds cluster.id=$have_cluster, expected $KAFKA_CLUSTER_ID: this volume belongs to another Kafka cluster" >&2
    exit 1
  fi
fi
mkdir -p "$(dirname "$KAFKA_NODE_CONF")"
{
  cat "$KAFKA_CONF"
  printf '\n# per pod, written by the init container node-config\nnode.id=%s\nadvertised.listeners=%s\n' \
    "$node_id" "${KAFKA_ADVERTISED_PREFIX}${POD_NAME}${KAFKA_ADVERTISED_SUFFIX}"
} >"$KAFKA_NODE_CONF"
echo "node.id=$node_id advertised.listeners=${KAFKA_ADVERTISED_PREFIX}${POD_NAME}${KAFKA_ADVERTISED_SUFFIX}"
# the format's own heap, and the tools' logging (WARN) instead of the server's
KAFKA_HEAP_OPTS="$KAFKA_FORMAT_HEAP_OPTS" KAFKA_LOG4J_OPTS=-Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties \
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "$KAFKA_CLUSTER_ID" --config "$KAFKA_NODE_CONF" --ignore-formatted
