#!/usr/bin/env bash
# hive.sh -- the Hive Metastore's workload proof (issue 13) on podrun: the rendered metastore pod
# (podrun profile apache/hive:4.0.1) on a small HDFS (1 namenode, 1 datanode; apache/hadoop:3.3.6)
# with its database in a PostgreSQL server the test starts (Debian's postgresql binaries, a
# cluster of its own) inside a network namespace the test creates and attaches to podrun's pod
# bridge, as podrun attaches a pod: the metastore reaches it at <pod subnet>.250, nothing outside
# this machine's test namespaces can. The Cluster names it (databaseHost), a Secret in the stream
# holds the user and password, the JDBC driver comes from the driver image
# (bdp-e2e/postgresql-jdbc:42.7.4) through the init container jdbc-driver.
#   1  `podrun up` of HDFS; PostgreSQL up with an empty database `metastore` owned by `hive`;
#      `podrun apply` of the stream with the metastore: Ready, the `schema` init container ran
#      schematool -initOrUpgradeSchema on the empty database (4.0.0 schema), the `warehouse` init
#      container made /user/hive/warehouse (owner hive, mode 1777).
#   2  a Thrift client (hms_client.py: hmsclient-hive-3 from PyPI) creates database e2e and table
#      e2e.sales through the metastore's Thrift port and reads them back; the database's directory
#      is on HDFS under the warehouse.
#   3  SIGKILL of the metastore pod: it is re-created and Ready again, `schema` is a no-op this time
#      ("No schema upgrade required", still one VERSION row), `warehouse` finds the directory, and
#      the database and table read back.
# Prints times and the JVM count; counts failed client operations. One line per check, closing
# line "N passed, M failed". Needs root and tests/e2e/install.sh --only podrun.
# PODRUN_E2E_PROFILE=debug uses debug builds.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$(e2e_any_python)
HMS_PY=$E2E_HIVE_VENV/bin/python
podrun_workdir hive
chmod 711 "$WORK"   # the postgres user reaches its data directory below
STATE=$WORK/state
PGNS=bdp-hivepg-$$; PGVETH=hpg$(printf %05d $(($$ % 100000))); PGDATA=$WORK/pg/data
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_started=false
cleanup_more() {
  $pg_started && su postgres -s /bin/sh -c "'$PGBIN/pg_ctl' -D '$PGDATA' -m immediate stop" >/dev/null 2>&1
  ip link del "$PGVETH" >/dev/null 2>&1
  ip netns del "$PGNS" >/dev/null 2>&1
}
[ -x "$HMS_PY" ] || { bad "the Thrift client's venv $E2E_HIVE_VENV (tests/e2e/install.sh --only podrun)"; finish; }
[ -x "$PGBIN/initdb" ] || { bad "Debian's postgresql (tests/e2e/install.sh --only podrun)"; finish; }

C=meta; NS=warehouse
MS=$C-hive-metastore; NN=$C-hdfs-namenode; DN=$C-hdfs-datanode
DBPASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cluster() { # cluster WITH_HIVE DBHOST
  cat <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata:
  name: $C
  namespace: $NS
spec:
  stack: hadoop-3.3
  services:
    hdfs:
      smokeTest: false
      configOverrides:
        hdfs-site.xml: {dfs.replication: "1"}
      roles:
        namenode: {replicas: 1}
        datanode: {replicas: 1}
EOF
  [ "$1" = yes ] && cat <<EOF
    hive:
      databaseType: postgres
      databaseHost: $2
      databaseName: metastore
      databaseSecret: hms-db
      jdbcDriverImage: bdp-e2e/postgresql-jdbc:42.7.4
      jdbcDriverPath: /jdbc/postgresql-42.7.4.jar
EOF
}

pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
pods_json() { pr status --json; }
podf() { pods_json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
ctr_pid() { pods_json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; c=[c for c in (p[0]["containers"] if p else []) if c["name"]==sys.argv[2]]; print(c[0]["pid"] if c and c[0]["pid"] else "")' "$1" "$2"; }
running_pods() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p["phase"]=="Running" and p["statefulset"]))'; }
ready() { [ "$(podf "$1" ready)" = True ]; }
new_and_ready() { local p; p=$(ctr_pid "$MS-0" metastore); [ -n "$p" ] && [ "$p" != "$1" ] && ready "$MS-0"; }
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
last_start() { awk '/^--- podrun: start /{buf=""; next} {buf=buf $0 "\n"} END{printf "%s", buf}' "$STATE/logs/${NS}_$1/$2.log"; }
starts() { grep -c '^--- podrun: start ' "$STATE/logs/${NS}_$1/$2.log" 2>/dev/null || echo 0; }
psql_q() { su postgres -s /bin/sh -c "'$PGBIN/psql' -h '$PGIP' -p 5432 -U postgres -d metastore -At -c \"$1\"" 2>&1; }
hdfs_nn() { pr exec "$NN-0" -- hdfs "$@" 2> >(grep -v 'JAVA_TOOL_OPTIONS\|NativeCodeLoader' >&2); }
CLIENT_FAILED=0
client() { # client OP DB TABLE: the Thrift client against metastore-0, its output indented
  local out rc
  out=$("$HMS_PY" tests/e2e/podrun/hms_client.py "$(podf "$MS-0" address)" 9083 "$1" "$2" "$3" "$WAREHOUSE_URI" 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/     /'
  CLIENT_FAILED=$((CLIENT_FAILED + $(printf '%s\n' "$out" | grep -c '^FAILED') ))
  [ $rc -eq 0 ] || { printf '%s\n' "$out" | grep -q '^FAILED' || CLIENT_FAILED=$((CLIENT_FAILED + 1)); }
  return $rc
}

T0=$SECONDS
cluster no >"$WORK/hdfs.yaml"
"$BDP" render "$WORK/hdfs.yaml" >"$WORK/stream-hdfs.yaml" || { bad "render (HDFS)"; finish; }

echo "=== scenario 1: HDFS, PostgreSQL, the metastore"
t=$SECONDS
if pr up "$WORK/stream-hdfs.yaml" --timeout 600 >"$WORK/up.log" 2>&1; then
  ok "podrun up: HDFS (1 namenode, 1 datanode) Ready in $((SECONDS-t))s"
else
  bad "podrun up (HDFS)"; tail -60 "$WORK/up.log"; finish
fi
# PostgreSQL in a namespace of its own on podrun's bridge, at .250 of the pods' /24
read -r BRIDGE PREFIX < <("$PY" -c 'import json,sys; n=json.load(open(sys.argv[1])); print(n["bridge"], n["prefix"])' "$STATE/net.json")
PGIP=$PREFIX.250
ip netns add "$PGNS" && ip link add "$PGVETH" type veth peer name eth0 netns "$PGNS" \
  && ip link set "$PGVETH" master "$BRIDGE" && ip link set "$PGVETH" up \
  && ip -n "$PGNS" addr add "$PGIP/24" dev eth0 && ip -n "$PGNS" link set eth0 up && ip -n "$PGNS" link set lo up \
  || { bad "a network namespace for PostgreSQL on $BRIDGE"; finish; }
mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
su postgres -s /bin/sh -c "'$PGBIN/initdb' -D '$PGDATA' -U postgres --auth-local=trust --auth-host=scram-sha-256 >'$WORK/pg/initdb.log' 2>&1" \
  || { bad "initdb"; cat "$WORK/pg/initdb.log"; finish; }
# the superuser from the host (.1, for the checks below) without password; everyone else by password
printf 'host all postgres %s.1/32 trust\nhost metastore hive %s.0/24 scram-sha-256\n' "$PREFIX" "$PREFIX" >"$PGDATA/pg_hba.conf"
t=$SECONDS
if ip netns exec "$PGNS" su postgres -s /bin/sh -c "'$PGBIN/pg_ctl' -D '$PGDATA' -w -t 60 -l '$WORK/pg/server.log' -o \"-c listen_addresses=$PGIP -c port=5432 -c unix_socket_directories='$WORK/pg'\" start" >/dev/null; then
  pg_started=true
  ok "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') up at $PGIP:5432 (namespace $PGNS) in $((SECONDS-t))s"
else
  bad "PostgreSQL start"; tail -20 "$WORK/pg/server.log"; finish
fi
su postgres -s /bin/sh -c "'$PGBIN/psql' -h '$PGIP' -U postgres -d postgres -q -c \"CREATE USER hive PASSWORD '$DBPASS'\" -c 'CREATE DATABASE metastore OWNER hive'" \
  || { bad "create the user hive and the database metastore"; finish; }
check "the database metastore is empty (no tables)" test "$(psql_q "SELECT count(*) FROM pg_tables WHERE schemaname='public'")" = 0

cluster yes "$PGIP" >"$WORK/cluster.yaml"
"$BDP" render "$WORK/cluster.yaml" >"$WORK/stream.yaml" || { bad "render (HDFS + metastore)"; finish; }
check "bdp renders no Secret (the database's is the user's)" bash -c '! grep -q "^kind: Secret" "$1"' _ "$WORK/stream.yaml"
# the user's Secret, made outside bdp: the database user and password
cat >>"$WORK/stream.yaml" <<EOF
---
apiVersion: v1
kind: Secret
metadata: {name: hms-db, namespace: $NS}
type: Opaque
stringData: {username: hive, password: "$DBPASS"}
EOF
check "podrun accepts the stream" "$PODRUN" check "$WORK/stream.yaml"
WAREHOUSE_URI=$(sed -n 's|.*<value>\(hdfs://[^<]*/user/hive/warehouse\)</value>.*|\1|p' "$WORK/stream.yaml" | head -1)
[ -n "$WAREHOUSE_URI" ] || WAREHOUSE_URI=hdfs://
t=$SECONDS
if pr apply "$WORK/stream.yaml" --wait 600 >"$WORK/apply.log" 2>&1 && wait_for 60 ready "$MS-0"; then
  ok "podrun apply: the metastore Ready in $((SECONDS-t))s (jdbc-driver, warehouse, schema, then HiveMetaStore)"
else
  bad "podrun apply (metastore)"; tail -40 "$WORK/apply.log"
  for c in jdbc-driver warehouse schema metastore; do echo "--- $c"; tail -30 "$STATE/logs/${NS}_$MS-0/$c.log" 2>/dev/null; done
  finish
fi
check "schema: schematool initialised the empty database" bash -c 'grep -q "Initialization script completed" <<<"$1"' _ "$(last_start "$MS-0" schema)"
check "schema: the VERSION table holds one row, 4.0.0" test "$(psql_q 'SELECT count(*) || chr(32) || max(\"SCHEMA_VERSION\") FROM \"VERSION\"')" = "1 4.0.0"
check "warehouse: the init container created the directory" bash -c 'grep -q "warehouse /user/hive/warehouse created" <<<"$1"' _ "$(last_start "$MS-0" warehouse)"
check "warehouse: /user/hive/warehouse on HDFS is owned by hive, mode 1777" test "$(hdfs_nn dfs -stat '%u %a' /user/hive/warehouse)" = "hive 1777"
check "jdbc-driver: the driver jar came from the driver image (the hive image has none)" \
  bash -c '[ "$1" = postgresql-42.7.4.jar ] && [ "$2" = 0 ]' _ "$(pr exec "$MS-0" -c metastore -- ls /opt/bdp/jdbc 2>/dev/null)" "$(pr exec "$MS-0" -c metastore -- ls /opt/hive/lib 2>/dev/null | grep -c -i 'postgres')"

echo "=== scenario 2: a database and a table through the Thrift API"
t=$SECONDS
check "client: create database e2e and table e2e.sales, read both back" client create e2e sales
echo "     client run: $((SECONDS-t))s"
db_dir_is_hive() { [ "$(hdfs_nn dfs -stat %u /user/hive/warehouse/e2e.db)" = hive ]; }
check "the metastore created the database's directory on HDFS (owner hive)" db_dir_is_hive
check "the table is in PostgreSQL's TBLS" test "$(psql_q 'SELECT \"TBL_NAME\" FROM \"TBLS\"')" = sales

echo "=== scenario 3: SIGKILL the metastore pod"
PID0=$(ctr_pid "$MS-0" metastore); S0=$(starts "$MS-0" schema)
t=$SECONDS
pr kill "$MS-0" >/dev/null
if wait_for 600 new_and_ready "$PID0"; then
  ok "the metastore pod is re-created and Ready $((SECONDS-t))s after SIGKILL"
else
  bad "the metastore pod Ready again after SIGKILL"; for c in schema metastore; do echo "--- $c"; tail -30 "$STATE/logs/${NS}_$MS-0/$c.log"; done
fi
check "schema ran again (start $((S0 + 1)))" test "$(starts "$MS-0" schema)" -gt "$S0"
check "schema: a no-op the second time (No schema upgrade required)" bash -c 'grep -q "No schema upgrade required" <<<"$1" && ! grep -q "Initialization script" <<<"$1"' _ "$(last_start "$MS-0" schema)"
check "schema: still one VERSION row, 4.0.0" test "$(psql_q 'SELECT count(*) || chr(32) || max(\"SCHEMA_VERSION\") FROM \"VERSION\"')" = "1 4.0.0"
check "warehouse: found the directory, changed nothing" bash -c 'grep -q "warehouse /user/hive/warehouse exists" <<<"$1"' _ "$(last_start "$MS-0" warehouse)"
check "client: database e2e and table e2e.sales read back after the kill" client check e2e sales

JVMS=$(running_pods)
echo "=== JVMs: $JVMS long-running (namenode, datanode, metastore), plus 2 short ones per metastore start (the warehouse step's hdfs client, schematool); total $((SECONDS-T0))s"
check "failed client operations: $CLIENT_FAILED" test "$CLIENT_FAILED" = 0
finish
