#!/bin/bash
# bin/kafka-run-class.sh and the bin/kafka-*.sh scripts of podrun's apache/kafka:3.9.1 image profile
# (podrun/images.yaml): one file, bound at every script path the profile lists, that acts on the
# name it is called by. The Kafka 3.9.1 tarball's bin/ is not on Maven Central, so this does, for
# the foreground use the pods and the tests make of them, what those scripts do:
#   - kafka-run-class.sh [-name N] [-loggc] [-daemon] CLASS ARGS: the classpath of every jar in
#     libs/ beside bin/ (/opt/kafka/libs) (and CLASSPATH before it), KAFKA_HEAP_OPTS (default -Xmx256M),
#     KAFKA_JVM_PERFORMANCE_OPTS (upstream's default: G1, MaxGCPauseMillis=20,
#     InitiatingHeapOccupancyPercent=35, ExplicitGCInvokesConcurrent, MaxInlineLevel=15, headless),
#     KAFKA_JMX_OPTS (upstream's default: JMX on, no authentication or SSL; a port only with
#     JMX_PORT), KAFKA_LOG4J_OPTS (default: the tools' console logging at WARN), -Dkafka.logs.dir=
#     LOG_DIR (default logs/ beside bin/, created), -loggc as upstream's GC log in LOG_DIR, KAFKA_OPTS,
#     then exec java (the daemon is the container's process and gets its signals);
#   - kafka-server-start.sh CONFIG [--override K=V]...: KAFKA_HEAP_OPTS default -Xmx1G -Xms1G,
#     EXTRA_ARGS default "-name kafkaServer -loggc", kafka.Kafka;
#   - the tools, each its upstream main class (and heap default where upstream sets one):
#     kafka-storage.sh, kafka-topics.sh, kafka-console-producer.sh, kafka-console-consumer.sh,
#     kafka-producer-perf-test.sh, kafka-consumer-perf-test.sh, kafka-verifiable-producer.sh,
#     kafka-verifiable-consumer.sh, kafka-metadata-quorum.sh, kafka-get-offsets.sh,
#     kafka-consumer-groups.sh, kafka-broker-api-versions.sh, kafka-log-dirs.sh,
#     kafka-reassign-partitions.sh, kafka-configs.sh, kafka-features.sh, kafka-cluster.sh.
# Not done: -daemon (exits 1: pods run in the foreground), kafka-server-stop.sh, the Connect,
# Streams, MirrorMaker and ZooKeeper scripts (their jars are not all in the profile either).
set -u
# the installation above bin/, as upstream (/opt/kafka in the image)
base_dir=$(cd "$(dirname "$0")/.." && pwd)
NAME=$(basename "$0")

run_class() {
  local daemon_name="" loggc=false
  while [ $# -gt 0 ]; do
    case $1 in
      -name) daemon_name=$2; shift 2;;
      -loggc) loggc=true; shift;;
      -daemon) echo "$NAME: -daemon is not supported by podrun's scripts (pods run in the foreground)" >&2; exit 1;;
      *) break;;
    esac
  done
  [ $# -gt 0 ] || { echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2; exit 1; }
  local cp="" j
  for j in "$base_dir"/libs/*.jar; do cp="${cp:+$cp:}$j"; done
  [ -n "${CLASSPATH:-}" ] && cp="$CLASSPATH:$cp"
  : "${KAFKA_JMX_OPTS:=-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}"
  if [ -n "${JMX_PORT:-}" ]; then
    KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.port=$JMX_PORT"
    [ -n "${JMX_RMI_PORT:-}" ] && KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.rmi.port=$JMX_RMI_PORT"
  fi
  LOG_DIR=${LOG_DIR:-$base_dir/logs}
  mkdir -p "$LOG_DIR"
  : "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:$base_dir/config/tools-log4j.properties}"
  KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"
  : "${KAFKA_HEAP_OPTS:=-Xmx256M}"
  : "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
  local gc=""
  if $loggc && [ -n "$daemon_name" ]; then
    gc="-Xlog:gc*:file=$LOG_DIR/$daemon_name-gc.log:time,tags:filecount=10,filesize=100M"
  fi
  local java=java
  [ -n "${JAVA_HOME:-}" ] && java=$JAVA_HOME/bin/java
  # shellcheck disable=SC2086  # the *_OPTS are word lists, as upstream's script uses them
  exec "$java" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $gc $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS -cp "$cp" ${KAFKA_OPTS:-} "$@"
}

heap() { [ -n "${KAFKA_HEAP_OPTS:-}" ] || export KAFKA_HEAP_OPTS="$1"; }
case $NAME in
  kafka-run-class.sh) run_class "$@";;
  kafka-server-start.sh)
    [ $# -ge 1 ] || { echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2; exit 1; }
    : "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:$base_dir/config/log4j.properties}"
    export KAFKA_LOG4J_OPTS
    heap "-Xmx1G -Xms1G"
    EXTRA_ARGS=${EXTRA_ARGS-'-name kafkaServer -loggc'}
    # shellcheck disable=SC2086
    run_class $EXTRA_ARGS kafka.Kafka "$@";;
  kafka-storage.sh) run_class kafka.tools.StorageTool "$@";;
  kafka-topics.sh) run_class org.apache.kafka.tools.TopicCommand "$@";;
  kafka-console-producer.sh) heap -Xmx512M; run_class kafka.tools.ConsoleProducer "$@";;
  kafka-console-consumer.sh) heap -Xmx512M; run_class org.apache.kafka.tools.consumer.ConsoleConsumer "$@";;
  kafka-producer-perf-test.sh) heap -Xmx512M; run_class org.apache.kafka.tools.ProducerPerformance "$@";;
  kafka-consumer-perf-test.sh) heap -Xmx512M; run_class org.apache.kafka.tools.ConsumerPerformance "$@";;
  kafka-verifiable-producer.sh) heap -Xmx512M; run_class org.apache.kafka.tools.VerifiableProducer "$@";;
  kafka-verifiable-consumer.sh) heap -Xmx512M; run_class org.apache.kafka.tools.VerifiableConsumer "$@";;
  kafka-metadata-quorum.sh) run_class org.apache.kafka.tools.MetadataQuorumCommand "$@";;
  kafka-get-offsets.sh) run_class org.apache.kafka.tools.GetOffsetShell "$@";;
  kafka-consumer-groups.sh) run_class org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@";;
  kafka-broker-api-versions.sh) run_class kafka.admin.BrokerApiVersionsCommand "$@";;
  kafka-log-dirs.sh) run_class org.apache.kafka.tools.LogDirsCommand "$@";;
  kafka-reassign-partitions.sh) run_class org.apache.kafka.tools.reassign.ReassignPartitionsCommand "$@";;
  kafka-configs.sh) run_class kafka.admin.ConfigCommand "$@";;
  kafka-features.sh) run_class org.apache.kafka.tools.FeatureCommand "$@";;
  kafka-cluster.sh) run_class org.apache.kafka.tools.ClusterTool "$@";;
  *) echo "$NAME: not one of the scripts podrun's apache/kafka profile provides" >&2; exit 1;;
esac
