#!/usr/bin/env bash
# zkEnv.sh of podrun's zookeeper:3.8.4 image profile (see podrun/images.yaml), sourced by zkServer.sh.
# Written for podrun after the behaviour of upstream ZooKeeper 3.8's bin/zkEnv.sh, which is not on
# Maven Central; Debian's own zkEnv.sh hard-codes /etc/zookeeper.

ZOOBINDIR="${ZOOBINDIR:-/usr/bin}"
ZOOKEEPER_PREFIX="${ZOOBINDIR}/.."

# ZOOCFGDIR if set, else the conf directory beside bin/, else /etc/zookeeper
if [ -z "$ZOOCFGDIR" ]; then
  if [ -e "${ZOOKEEPER_PREFIX}/conf" ]; then
    ZOOCFGDIR="$ZOOKEEPER_PREFIX/conf"
  else
    ZOOCFGDIR="$ZOOKEEPER_PREFIX/etc/zookeeper"
  fi
fi

if [ -f "${ZOOCFGDIR}/zookeeper-env.sh" ]; then
  . "${ZOOCFGDIR}/zookeeper-env.sh"
fi

if [ -z "$ZOOCFG" ]; then
  ZOOCFG="zoo.cfg"
fi
ZOOCFG="$ZOOCFGDIR/$ZOOCFG"

if [ -f "$ZOOCFGDIR/java.env" ]; then
  . "$ZOOCFGDIR/java.env"
fi

if [ -z "$ZOO_LOG_DIR" ]; then
  ZOO_LOG_DIR="$ZOOKEEPER_PREFIX/logs"
fi

if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  JAVA="$JAVA_HOME/bin/java"
elif type -p java >/dev/null; then
  JAVA=java
else
  echo "Error: JAVA_HOME is not set and java could not be found in PATH." 1>&2
  exit 1
fi

for i in "$ZOOKEEPER_PREFIX"/lib/*.jar; do
  CLASSPATH="$CLASSPATH:$i"
done
# the config directory first, so that its logback.xml is found
CLASSPATH="$ZOOCFGDIR:$CLASSPATH"

ZK_SERVER_HEAP="${ZK_SERVER_HEAP:-1000}"
export SERVER_JVMFLAGS="-Xmx${ZK_SERVER_HEAP}m $SERVER_JVMFLAGS"
ZK_CLIENT_HEAP="${ZK_CLIENT_HEAP:-256}"
export CLIENT_JVMFLAGS="-Xmx${ZK_CLIENT_HEAP}m $CLIENT_JVMFLAGS"
