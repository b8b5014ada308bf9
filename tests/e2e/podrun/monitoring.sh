#!/usr/bin/env bash
# monitoring.sh -- issue 12 on live daemons: the rendered scrape objects and alert rules of an
# insecure HDFS HA + 3-server ZooKeeper Cluster with `monitoring: prometheus-operator`, against the
# real daemons under podrun (ZooKeeper 3.8.4, Hadoop 3.3.6 jars; 3 ZooKeeper servers, 3
# journalnodes, 2 namenodes + ZKFC, 2 datanodes, small heaps: 12 JVMs).
#
# How the scraper is modelled. The stack admits Prometheus to the metrics ports with a NetworkPolicy
# `<role>-scrape` per role (settings scraperNamespaceSelector / scraperPodSelector, defaults
# namespace `monitoring`, pods `app.kubernetes.io/name: prometheus`). The test adds a pod that
# matches them (StatefulSet monitoring/prometheus, a `sleep` container: its network namespace is
# the scraper's) and one that does not (monitoring/grafana). The host counts as outside the cluster
# for podrun's nftables rules, so it is NOT a scraper: it cannot reach a journalnode's metrics port
# (peer + scraper only). Every scrape below, and the real Prometheus, run in the scraper pod's
# network namespace (nsenter), started and stopped by this test by PID, their files in a temp dir.
#
#   scrape    every endpoint the rendered PodMonitors name (pod addresses from `podrun status
#             --json`, port and path from the PodMonitor) answers, and every metric name (and
#             non-target label) used by a rendered PrometheusRule expr or a Grafana dashboard panel
#             (ConfigMaps labelled grafana_dashboard: "1") appears in a real scrape; names are
#             taken from the PromQL syntax tree (tests/e2e/promql_names.py, PyPI promql-parser)
#   prom      Debian's Prometheus (/usr/bin/prometheus) with a scrape config generated from the
#             PodMonitors (static targets = the pod addresses, the operator's target labels, as the
#             operator would generate it) and the PrometheusRules as rule files with every `for:`
#             shortened to $FOR; scrape and evaluation every 2 s
#   healthy   every target up, no alert pending or firing during a settle window
#   faults    (each time from the fault to firing is printed; the pods are stopped by scaling
#             their StatefulSet with `podrun apply`, so they stay down, as `kubectl scale` would)
#             datanode-1 stopped -> HdfsDeadDataNodes (the test's Cluster shortens the namenode's
#                                   dead-node detection: dfs.heartbeat.interval 1 s,
#                                   dfs.namenode.heartbeat.recheck-interval 5 s -> 20 s)
#             both namenodes stopped -> HdfsNoActiveNameNode
#             2 of 3 ZooKeeper servers stopped -> ZooKeeperQuorumLost and ZooKeeperNoLeader
#   non-HA    a second Cluster with one namenode (no HA): its rules' names and labels (hastate)
#             against a real scrape too
# One line per check, closing line "N passed, M failed". Needs root, tests/e2e/install.sh --only
# podrun --only prom. PODRUN_E2E_PROFILE=debug uses debug builds.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$E2E_PROMQL_PY                        # PyYAML + promql-parser
FOR=${MON_E2E_FOR:-10s}
[ -x "$PY" ] && "$PY" -c 'import promql_parser, yaml' 2>/dev/null || { bad "promql-parser venv $PY (tests/e2e/install.sh --only prom)"; finish; }
[ -x /usr/bin/prometheus ] || { bad "/usr/bin/prometheus (tests/e2e/install.sh --only prom)"; finish; }
podrun_workdir mon PROM
STATE=$WORK/state; PROM=
MON="$PY tests/e2e/podrun/mon.py"

C=mon; NS=obs
NN=$C-hdfs-namenode; JN=$C-hdfs-journalnode; DN=$C-hdfs-datanode; ZK=$C-zookeeper-server
# ZooKeeper's avg_latency is an average since the server started; on a shared 2-core machine the
# start-up requests alone reach 100 ms, so the test's threshold is 1000 ms.
cat >"$WORK/cluster.yaml" <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata: {name: $C, namespace: $NS}
spec:
  stack: hadoop-3.3
  services:
    zookeeper:
      monitoring: prometheus-operator
      alertAvgLatencyMs: 1000
      configOverrides:
        java.env: {ZK_SERVER_HEAP: "128"}
    hdfs:
      monitoring: prometheus-operator
      configOverrides:
        hdfs-site.xml:
          dfs.replication: "2"
          dfs.heartbeat.interval: "1"
          dfs.namenode.heartbeat.recheck-interval: "5000"
      roles:
        namenode:
          replicas: 2
          configOverrides: {hadoop-env.sh: {HDFS_NAMENODE_OPTS: "-Xmx256m", HDFS_ZKFC_OPTS: "-Xmx96m"}}
        journalnode:
          replicas: 3
          configOverrides: {hadoop-env.sh: {HDFS_JOURNALNODE_OPTS: "-Xmx128m"}}
        datanode:
          replicas: 2
          configOverrides: {hadoop-env.sh: {HDFS_DATANODE_OPTS: "-Xmx192m"}}
EOF
# the scraper's pod (matches the stack's default scraper selectors) and a pod that does not
sandbox() { # sandbox NAME: a StatefulSet of one pod in namespace monitoring whose container sleeps
  printf -- '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: %s, namespace: monitoring}\nspec:\n  serviceName: %s\n  replicas: 1\n  selector: {matchLabels: {app.kubernetes.io/name: %s}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: %s}}\n    spec:\n      containers: [{name: netns, image: "zookeeper:3.8.4", command: [sleep, infinity]}]\n' "$1" "$1" "$1" "$1"
}

pr() { local c=$1; shift; "$PODRUN" "$c" --state "$STATE" "$@"; }
status() { pr status --json >"$WORK/status.json"; }
podf() { pr status --json | "$PY" -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]]; print(p[0][sys.argv[2]] if p else "")' "$1" "$2"; }
podpid() { pr status --json | "$PY" -c 'import json,sys; print([c["pid"] for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1] for c in p["containers"] if c["pid"]][0])' "$1"; }
gone() { [ -z "$(podf "$1" name)" ]; }
wait_for() { local t=$SECONDS lim=$1; shift; until "$@"; do [ $((SECONDS-t)) -ge "$lim" ] && return 1; sleep 1; done; }
port_open() { "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)' "$1" "$2" 2>/dev/null; }
port_closed() { ! port_open "$@"; }
in_netns() { local pid=$1; shift; nsenter --net=/proc/$pid/ns/net "$@"; }
# Prometheus' HTTP API, from the host (the scraper pod is selected by no NetworkPolicy)
api() { "$PY" - "http://$SADDR:9090/api/v1/$1" <<'PYEOF'
import sys, urllib.request
try: print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception as e: print('{"status": "error", "error": "%s"}' % e)
PYEOF
}
query() { api "query?query=$("$PY" -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")"; }
# alerts STATE: the names of the alerts in STATE (pending|firing), sorted, space-separated
alerts() { api alerts | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted({a["labels"]["alertname"] for a in d.get("data",{}).get("alerts",[]) if a["state"]==sys.argv[1]})))' "$1"; }
firing() { [[ " $(alerts firing) " == *" $1 "* ]]; }
# fault NAME ALERT... : after the fault (time in $T0F), wait for each ALERT to fire, print the time
fault_fires() {
  local what=$1 a; shift
  for a in "$@"; do
    if wait_for 240 firing "$a"; then
      ok "$what: $a fires $("$PY" -c "import time; print(f'{time.time()-$T0F:.1f}')")s after the fault"
    else bad "$what: $a fires (firing: $(alerts firing); pending: $(alerts pending))"; fi
  done
  echo "     firing now: $(alerts firing)"
}

T0=$SECONDS
"$BDP" render "$WORK/cluster.yaml" >"$WORK/stream.yaml" || { bad "render"; finish; }
{ sandbox prometheus; sandbox grafana; } >"$WORK/sandboxes.yaml"
$MON split "$WORK/stream.yaml" "$WORK/run0.yaml" && cat "$WORK/run0.yaml" "$WORK/sandboxes.yaml" >"$WORK/run.yaml"
check "podrun accepts the rendered stream without the operator's objects, plus the scraper pods" "$PODRUN" check "$WORK/run.yaml"
$PY tests/e2e/promql_names.py "$WORK/stream.yaml" >"$WORK/names.json" || { bad "promql_names.py"; finish; }
npm=$(grep -c '^kind: PodMonitor' "$WORK/stream.yaml"); npr=$(grep -c '^kind: PrometheusRule' "$WORK/stream.yaml")
ndb=$("$PY" -c 'import json,sys; print(sum(1 for s in json.load(open(sys.argv[1]))["selectors"] if s["where"].startswith("ConfigMap")))' "$WORK/names.json")
echo "     rendered: $npm PodMonitors, $npr PrometheusRules, $ndb selectors in dashboard panels"

t=$SECONDS
if pr up "$WORK/run.yaml" --timeout 900 >"$WORK/up.log" 2>&1; then ok "podrun up: every pod Ready in $((SECONDS-t))s"
else bad "podrun up"; tail -60 "$WORK/up.log"; finish; fi
status
SPID=$(podpid prometheus-0); SADDR=$(podf prometheus-0 address); GPID=$(podpid grafana-0)
$MON targets "$WORK/stream.yaml" "$WORK/status.json" "$WORK/targets.json"
NT=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/targets.json")
check "the PodMonitors select all 10 daemon pods ($NT targets)" [ "$NT" = 10 ]

echo "=== NetworkPolicy: who reaches the metrics ports"
JA=$(podf $JN-0 address)
check "the host (outside the cluster, not a scraper) cannot reach journalnode metrics port 8480" port_closed "$JA" 8480
check "a pod in namespace monitoring without the scraper's labels (grafana-0) cannot reach it" in_netns "$GPID" bash -c "$(declare -f port_open port_closed); PY='$PY'; port_closed $JA 8480"
check "the scraper pod (monitoring/prometheus-0) reaches it" in_netns "$SPID" bash -c "$(declare -f port_open); PY='$PY'; port_open $JA 8480"

echo "=== live scrape: every metric a rule or dashboard uses exists"
live_scrape() { # live_scrape TAG: scrape $WORK/TAG.targets.json from the scraper pod, compare with $WORK/TAG.names.json
  local r rc n
  n=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/$1.targets.json")
  mkdir -p "$WORK/$1.scrape"
  if r=$(in_netns "$SPID" $MON scrape "$WORK/$1.targets.json" "$WORK/$1.scrape"); then ok "$1: the scraper scraped all $n endpoints the PodMonitors name"; else bad "$1: scrape every endpoint"; fi
  sed 's/^/     /' <<<"$r"
  r=$($MON compare "$WORK/$1.names.json" "$WORK/$1.scrape"); rc=$?
  sed 's/^/     /' <<<"$r"
  check "$1: every metric name and label used by the rules and dashboards is in a real scrape ($(head -1 <<<"$r"))" [ $rc = 0 ]
}
cp "$WORK/targets.json" "$WORK/ha.targets.json"; cp "$WORK/names.json" "$WORK/ha.names.json"
live_scrape ha

echo "=== a real Prometheus with the rendered rules (every for: shortened to $FOR by this test)"
mkdir -p "$WORK/prom/data"
$MON promconfig "$WORK/targets.json" "$WORK/stream.yaml" "$FOR" "$WORK/prom"
check "promtool accepts the generated config and rule files" promtool check config "$WORK/prom/prometheus.yml"
nrules=$(cat "$WORK"/prom/rules-*.yml | grep -c '^ *- alert:')
nsenter --net=/proc/$SPID/ns/net /usr/bin/prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/prom/data" \
  --web.listen-address="$SADDR:9090" --log.level=warn >"$WORK/prom.log" 2>&1 &
PROM=$!
nup() { query 'sum(up)' | "$PY" -c 'import json,sys; r=json.load(sys.stdin).get("data",{}).get("result",[]); print(int(float(r[0]["value"][1])) if r else 0)'; }
all_up() { [ "$(nup)" = "$NT" ]; }
check "Prometheus (pid $PROM) scrapes all $NT targets up" wait_for 90 all_up
nloaded=$(api rules | "$PY" -c 'import json,sys; print(sum(1 for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"] if r["type"]=="alerting"))')
check "Prometheus loaded all $nrules alerting rules ($nloaded)" [ "$nloaded" = "$nrules" ]
# FSNamesystem's TotalSyncTimes tag changes with every edit-log sync (a new series each time): the
# PodMonitor drops it (metricRelabelings), so the stored series keep their identity
raw=$(grep -l '^fs_namesystem_blocks_total{.*totalsynctimes=' "$WORK"/ha.scrape/*.txt | wc -l)
nsync() { query 'count({__name__=~"fs_namesystem_.+", totalsynctimes!=""}) or vector(0)' | "$PY" -c 'import json,sys; print(int(float(json.load(sys.stdin)["data"]["result"][0]["value"][1])))'; }
nfs() { query 'count({__name__=~"fs_namesystem_.+"}) or vector(0)' | "$PY" -c 'import json,sys; print(int(float(json.load(sys.stdin)["data"]["result"][0]["value"][1])))'; }
stored=$(nsync); nstored=$(nfs)
check "the namenodes label FSNamesystem metrics totalsynctimes ($raw scrapes); Prometheus, with the PodMonitor's metricRelabelings, stores $nstored such series, $stored with it" [ "$raw" = 2 -a "$stored" = 0 -a "$nstored" -gt 0 ]
sleep 30
quiet=$(query 'count by (alertname, alertstate) (count_over_time(ALERTS[30s]))' | "$PY" -c 'import json,sys; print(" ".join(r["metric"]["alertname"]+"/"+r["metric"]["alertstate"] for r in json.load(sys.stdin)["data"]["result"]))')
check "healthy cluster: no alert pending or firing in the last 30 s (of $nloaded; HdfsZkfcUnhealthy reads kube-state-metrics, absent here)${quiet:+: $quiet}" [ -z "$quiet" ]

echo "=== fault: stop datanode-1"
$MON scale "$WORK/run.yaml" $DN 1 "$WORK/run-dn.yaml"
T0F=$(date +%s.%N); pr apply "$WORK/run-dn.yaml" --wait 0 >/dev/null
check "$DN-1 is gone" wait_for 150 gone $DN-1
fault_fires "datanode-1 stopped" HdfsDeadDataNodes

echo "=== fault: stop both namenodes"
$MON scale "$WORK/run-dn.yaml" $NN 0 "$WORK/run-nn.yaml"
T0F=$(date +%s.%N); pr apply "$WORK/run-nn.yaml" --wait 0 >/dev/null
nn_gone() { gone $NN-0 && gone $NN-1; }
check "both namenodes are gone" wait_for 150 nn_gone
fault_fires "both namenodes stopped" HdfsNoActiveNameNode

echo "=== fault: stop 2 of 3 ZooKeeper servers"
$MON scale "$WORK/run-nn.yaml" $ZK 1 "$WORK/run-zk.yaml"
T0F=$(date +%s.%N); pr apply "$WORK/run-zk.yaml" --wait 0 >/dev/null
zk_gone() { gone $ZK-1 && gone $ZK-2; }
check "$ZK-1 and -2 are gone" wait_for 150 zk_gone
fault_fires "2 of 3 ZooKeeper servers stopped" ZooKeeperQuorumLost ZooKeeperNoLeader

kill "$PROM"; wait "$PROM" 2>/dev/null; PROM=
t=$SECONDS; pr down >/dev/null
echo "     down in $((SECONDS-t))s"

# A namenode without HA: does it label its FSNamesystem metrics hastate="active" too (the rules
# select the active namenode by it)? One namenode, one datanode, no ZooKeeper.
echo "=== non-HA HDFS: one namenode"
cat >"$WORK/single.yaml" <<EOF
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata: {name: one, namespace: $NS}
spec:
  stack: hadoop-3.3
  services:
    hdfs:
      monitoring: prometheus-operator
      configOverrides: {hdfs-site.xml: {dfs.replication: "1"}}
      roles:
        namenode: {replicas: 1, configOverrides: {hadoop-env.sh: {HDFS_NAMENODE_OPTS: "-Xmx256m"}}}
        datanode: {replicas: 1, configOverrides: {hadoop-env.sh: {HDFS_DATANODE_OPTS: "-Xmx192m"}}}
EOF
STATE=$WORK/state-single
if "$BDP" render "$WORK/single.yaml" >"$WORK/single.yaml.out" && $MON split "$WORK/single.yaml.out" "$WORK/single.run0.yaml" \
   && { cat "$WORK/single.run0.yaml"; sandbox prometheus; } >"$WORK/single.run.yaml" \
   && $PY tests/e2e/promql_names.py "$WORK/single.yaml.out" >"$WORK/single.names.json"; then
  t=$SECONDS
  if pr up "$WORK/single.run.yaml" --timeout 600 >"$WORK/up-single.log" 2>&1; then
    ok "podrun up (one namenode, one datanode): Ready in $((SECONDS-t))s"
    status; SPID=$(podpid prometheus-0)
    $MON targets "$WORK/single.yaml.out" "$WORK/status.json" "$WORK/single.targets.json"
    live_scrape single
  else bad "podrun up (one namenode)"; tail -40 "$WORK/up-single.log"; fi
  pr down >/dev/null
else bad "render the single-namenode Cluster"; fi
echo "     total $((SECONDS-T0))s"
finish
