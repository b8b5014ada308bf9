#!/usr/bin/env bash
# kafka.sh -- Kafka in KRaft mode (stacks/hadoop-3.3/kafka.yaml) on podrun, with Kafka 3.9.1's own
# jars: examples/kafka.yaml (3 controllers, 3 brokers) with small heaps runs as real processes; a
# topic with replication factor 3 and min.insync.replicas 2 takes 10,000 records from Kafka's
# VerifiableProducer (acks=all, with the producer's default retries and idempotence) while a broker
# is SIGKILLed; every record is consumed
# back exactly once, also right after another broker is SIGKILLed; the killed brokers come back
# (re-created pod, same volume, storage not formatted again) and rejoin every partition's ISR; the
# active controller is SIGKILLed and another takes over. The clients run on the host with the
# profile's jars, resolving the pods' FQDNs through podrun's hosts file (-Djdk.net.hosts.file), and
# bootstrap from the rendered discovery ConfigMap (key KAFKA). The rendered smoke test Job runs too.
# One line per check, closing line "N passed, M failed". Needs root and tests/e2e/install.sh --only podrun.
set -uo pipefail
. "$(dirname "$0")/common.sh"
PY=$E2E_PY
podrun_workdir kafka-e2e PRODUCER
PRODUCER=
T0=$SECONDS
KLIB=${PODRUN_CACHE:-/var/cache/bdp-podrun}/kafka-3.9.1/lib
[ -d "$KLIB" ] || { bad "the kafka-3.9.1 jars are in $KLIB (tests/e2e/install.sh --only podrun)"; finish; }
printf 'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=[%%d] %%p %%m (%%c)%%n\nlog4j.appender.stderr.Target=System.err\n' >"$WORK/log4j.properties"
# kt CLASS ARGS...: a Kafka tool of the profile's jars on the host, resolving the pods through podrun's hosts file
kt() { java -Xmx256m -XX:TieredStopAtLevel=1 -cp "$KLIB/*" -Djdk.net.hosts.file="$STATE/hosts" -Dlog4j.configuration="file:$WORK/log4j.properties" "$@"; }

# the example with small heaps (6 JVMs on a shared 2-core machine)
"$PY" - examples/kafka.yaml "$WORK/c.yaml" <<'PYEOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
k = c["spec"]["services"]["kafka"]
k["brokerHeapMiB"] = 256
k["controllerHeapMiB"] = 192
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
PYEOF
if "$BDP" render "$WORK/c.yaml" >"$WORK/s.yaml"; then ok "render examples/kafka.yaml (heaps 256m/192m)"; else bad "render"; finish; fi
disc() { # disc KEY: a key of the rendered discovery ConfigMap
  "$PY" - "$WORK/s.yaml" "$1" <<'PYEOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"].endswith("-kafka-discovery"):
        print(d["data"][sys.argv[2]]); break
PYEOF
}
BS=$(disc KAFKA); CID=$(disc KAFKA_CLUSTER_ID)
NS=$(sed -n 's/^  namespace: *//p' examples/kafka.yaml | head -1)
CTL=$(sed -n 's/^  name: \(.*-kafka-controller\)$/\1/p' "$WORK/s.yaml" | head -1)
BRK=$(sed -n 's/^  name: \(.*-kafka-broker\)$/\1/p' "$WORK/s.yaml" | head -1)
check "discovery KAFKA names 3 brokers on pod FQDNs ($BS)" [ "$(echo "$BS" | tr , '\n' | grep -c "^$BRK-[0-2]\.$BRK\.$NS\.svc\..*:9092$")" = 3 ]
check "the cluster id is 22 characters of base64url ($CID)" bash -c "[[ '$CID' =~ ^[A-Za-z0-9_-]{22}\$ ]]"
"$BDP" render "$WORK/c.yaml" >"$WORK/s2.yaml"
check "the same render gives the same cluster id" [ "$(grep -c "$CID" "$WORK/s2.yaml")" = "$(grep -c "$CID" "$WORK/s.yaml")" ]
check "podrun accepts the rendered stream" "$PODRUN" check "$WORK/s.yaml"

STATE=$WORK/state
t=$SECONDS
if "$PODRUN" up "$WORK/s.yaml" --state "$STATE" --timeout 400 >"$WORK/up.log" 2>&1; then
  ok "podrun up: 3 controllers and 3 brokers Ready in $((SECONDS-t))s"
else
  bad "podrun up"; tail -100 "$WORK/up.log"; finish
fi
pods_json() { "$PODRUN" status --state "$STATE" --json; }
ready_count() { pods_json | "$PY" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["pods"] if p["ready"] and p["phase"]=="Running" and p["statefulset"]))'; }
addr() { pods_json | "$PY" -c 'import json,sys; print(next(p["address"] for p in json.load(sys.stdin)["pods"] if p["name"]==sys.argv[1]))' "$1"; }
jvms() { # the JVMs of the pods: main processes named java
  local n=0 p
  for p in $(pods_json | "$PY" -c 'import json,sys; print(" ".join(str(c["pid"]) for p in json.load(sys.stdin)["pods"] for c in p["containers"] if c["pid"]))'); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = java ] && n=$((n+1))
  done
  echo $n
}
wait_ready() { # wait_ready N SECONDS
  local t=$SECONDS
  while [ $((SECONDS-t)) -lt "$2" ]; do [ "$(ready_count)" = "$1" ] && return 0; sleep 1; done
  return 1
}
echo "     JVMs: $(jvms) (pods' main processes), bootstrap: $BS"
check "6 JVMs run (3 controllers, 3 brokers)" [ "$(jvms)" = 6 ]
for i in 0 1 2; do
  check "$BRK-$i: meta.properties holds node.id=$i and the rendered cluster id" bash -c "m=\$('$PODRUN' exec $BRK-$i --state '$STATE' -- cat /var/lib/kafka/data/log/meta.properties) && grep -qx 'node.id=$i' <<<\"\$m\" && grep -qx 'cluster.id=$CID' <<<\"\$m\""
done
check "$CTL-2: meta.properties holds node.id=1002" bash -c "'$PODRUN' exec $CTL-2 --state '$STATE' -- cat /var/lib/kafka/data/log/meta.properties | grep -qx 'node.id=1002'"
port_open() { "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)' "$1" "$2" 2>/dev/null; }
port_closed() { ! port_open "$@"; }
b0=$(addr "$BRK-0"); c0=$(addr "$CTL-0")
check "NetworkPolicy: the host (any client) reaches a broker's port 9092" port_open "$b0" 9092
check "NetworkPolicy: the host cannot reach a controller's port 9093 (this Cluster's pods only)" port_closed "$c0" 9093
check "a broker pod reaches a controller's port 9093" "$PODRUN" exec "$BRK-0" --state "$STATE" -- bash -c "exec 3<>/dev/tcp/$c0/9093"

kt org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$BS" describe --status >"$WORK/quorum.txt" 2>&1
sed 's/^/     /' "$WORK/quorum.txt"
check "the quorum's ClusterId is the rendered one" grep -Eq "^ClusterId:[[:space:]]*$CID\$" "$WORK/quorum.txt"
check "the quorum has a leader among the voters 1000-1002" grep -Eq "^LeaderId:[[:space:]]*100[0-2]\$" "$WORK/quorum.txt"
check "the voters are 1000, 1001, 1002" bash -c "grep '^CurrentVoters:' '$WORK/quorum.txt' | grep -q '\"id\": *1000' && grep '^CurrentVoters:' '$WORK/quorum.txt' | grep -q '\"id\": *1002' || grep -Eq '^CurrentVoters: *\[1000, *1001, *1002\]' '$WORK/quorum.txt'"

# the topic: retried while the brokers register and are unfenced (Ready is the listener's port)
t=$SECONDS; created=0
while [ $((SECONDS-t)) -lt 120 ]; do
  if kt org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic e2e --partitions 3 --replication-factor 3 --config min.insync.replicas=2 >"$WORK/create.log" 2>&1; then created=1; break; fi
  grep -q "already exists" "$WORK/create.log" && { created=1; break; }
  sleep 3
done
if [ $created = 1 ]; then ok "topic e2e created (3 partitions, replication factor 3, min.insync.replicas 2) $((SECONDS-t))s after Ready"; else bad "topic e2e created"; cat "$WORK/create.log"; fi
describe() { kt org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --describe --topic e2e 2>/dev/null; }
isr_full() { # every partition of e2e has 3 replicas in sync
  local d; d=$(describe) || return 1
  [ "$(grep -c 'Partition: ' <<<"$d")" = 3 ] && [ "$(grep -Ec 'Isr: [0-9]+,[0-9]+,[0-9]+' <<<"$d")" = 3 ]
}
describe | sed 's/^/     /'
check "every partition has 3 replicas, all in sync" isr_full

# 10,000 records, acks=all, 1,000 a second; a broker SIGKILLed 6 s after the producer starts (its JVM starts in about 3)
# VerifiableProducer sets retries=0 unless told otherwise: a client with Kafka's producer defaults
# (retries within delivery.timeout.ms, idempotence) is what the count of failed sends is about
printf 'acks=all\nenable.idempotence=true\nretries=2147483647\ndelivery.timeout.ms=120000\nmax.in.flight.requests.per.connection=5\n' >"$WORK/producer.properties"
kt org.apache.kafka.tools.VerifiableProducer --bootstrap-server "$BS" --topic e2e --max-messages 10000 --throughput 1000 --acks -1 \
  --producer.config "$WORK/producer.properties" >"$WORK/produce.json" 2>"$WORK/produce.err" &
PRODUCER=$!
tp=$SECONDS
sleep 6
"$PODRUN" kill "$BRK-1" --state "$STATE" >/dev/null; tk=$SECONDS
echo "     SIGKILL $BRK-1 $((tk-tp))s into the production"
wait "$PRODUCER"; prc=$?; PRODUCER=
read -r sent acked succ errs < <("$PY" - "$WORK/produce.json" <<'PYEOF'
import json, sys
sent = acked = succ = errs = 0
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    n = e.get("name")
    if n == "producer_send_success": succ += 1
    elif n == "producer_send_error": errs += 1
    elif n == "tool_data": sent, acked = e.get("sent", 0), e.get("acked", 0)
print(sent, acked, succ, errs)
PYEOF
)
echo "     production: $((SECONDS-tp))s, sent $sent, acked $acked, send errors $errs (producer rc $prc)"
check "the producer acknowledged 10,000 records (acks=all) across the broker kill" bash -c "[ '$acked' = 10000 ] && [ '$succ' = 10000 ]"
check "zero failed sends" [ "$errs" = 0 ]
[ "$errs" = 0 ] || grep -m 3 producer_send_error "$WORK/produce.json"
if wait_ready 6 180; then ok "the SIGKILLed broker was re-created and Ready again $((SECONDS-tk))s after the kill"; else bad "the killed broker came back"; fi
check "$BRK-1's volume was not formatted again (kafka-storage.sh: already formatted)" bash -c "'$PODRUN' logs $BRK-1 -c node-config --state '$STATE' | grep -qi 'already formatted'"

endsum() { kt org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$BS" --topic e2e --time -1 2>/dev/null | awk -F: '{s+=$3} END {print s+0}'; }
consume() { # consume GROUP OUT: every record of e2e, values one a line
  kt org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$BS" --topic e2e --group "$1" --from-beginning \
    --max-messages 10000 --timeout-ms 60000 >"$WORK/$2" 2>"$WORK/$2.err"
}
count() { # count FILE: "records distinct missing" against the values 0..9999
  "$PY" - "$WORK/$1" <<'PYEOF'
import sys
vals = [l.strip() for l in open(sys.argv[1]) if l.strip()]
want = {str(i) for i in range(10000)}
print(len(vals), len(set(vals)), len(want - set(vals)))
PYEOF
}
check "the topic holds exactly 10,000 records (sum of end offsets: no duplicate written)" [ "$(endsum)" = 10000 ]
t=$SECONDS; consume e2e-count-1 all.txt
read -r n d miss < <(count all.txt)
echo "     consumed with every broker up: $n records, $d distinct, $miss missing in $((SECONDS-t))s"
check "every record consumed exactly once (10,000 of 0..9999, none missing)" bash -c "[ '$n' = 10000 ] && [ '$d' = 10000 ] && [ '$miss' = 0 ]"

"$PODRUN" kill "$BRK-2" --state "$STATE" >/dev/null; tk=$SECONDS
t=$SECONDS; consume e2e-count-2 after-kill.txt
read -r n d miss < <(count after-kill.txt)
echo "     consumed right after SIGKILL of $BRK-2: $n records, $d distinct, $miss missing in $((SECONDS-t))s"
check "after a second broker's SIGKILL: all 10,000 records consumed, none lost" bash -c "[ '$n' = 10000 ] && [ '$d' = 10000 ] && [ '$miss' = 0 ]"
if wait_ready 6 180; then ok "$BRK-2 re-created and Ready again $((SECONDS-tk))s after the kill"; else bad "$BRK-2 came back"; fi
t=$SECONDS; full=0
while [ $((SECONDS-t)) -lt 120 ]; do isr_full && { full=1; break; }; sleep 3; done
if [ $full = 1 ]; then ok "the killed brokers rejoined every partition's ISR ($((SECONDS-t))s after Ready)"; else bad "the killed brokers rejoined the ISR"; describe; fi

# the rendered smoke test (the Job a GitOps tool runs after every sync) against the running cluster
t=$SECONDS
if "$PODRUN" run "$WORK/s.yaml" --state "$STATE" --timeout 300 >"$WORK/smoke.log" 2>&1; then
  ok "the smoke test Job passed in $((SECONDS-t))s ($(grep -o 'smoke test: produced and read back ok-.*' "$WORK/smoke.log" | head -1))"
else
  bad "the smoke test Job passed"; tail -40 "$WORK/smoke.log"
fi

# the active controller SIGKILLed: another voter leads, writes go on
kt org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$BS" describe --status >"$WORK/quorum.txt" 2>&1
leader=$(sed -n 's/^LeaderId:[[:space:]]*//p' "$WORK/quorum.txt")
lpod=$CTL-$((leader - 1000))
"$PODRUN" kill "$lpod" --state "$STATE" >/dev/null; tk=$SECONDS
t=$SECONDS; newleader=
while [ $((SECONDS-t)) -lt 90 ]; do
  newleader=$(kt org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$BS" describe --status 2>/dev/null | sed -n 's/^LeaderId:[[:space:]]*//p')
  [ -n "$newleader" ] && [ "$newleader" != "$leader" ] && [ "$newleader" != -1 ] && break
  sleep 2
done
if [ -n "$newleader" ] && [ "$newleader" != "$leader" ]; then ok "active controller $leader ($lpod) SIGKILLed: $newleader leads $((SECONDS-tk))s later"; else bad "another controller leads after $lpod's SIGKILL (leader: ${newleader:-none})"; fi
kt org.apache.kafka.tools.VerifiableProducer --bootstrap-server "$BS" --topic e2e --max-messages 100 --acks -1 --producer.config "$WORK/producer.properties" >"$WORK/produce2.json" 2>/dev/null
check "100 more records acknowledged after the controller failover" grep -q '"acked":100' "$WORK/produce2.json"
if wait_ready 6 180; then ok "$lpod re-created and Ready again $((SECONDS-tk))s after the kill"; else bad "$lpod came back"; fi
echo "     JVMs: $(jvms)"

# the brokers go first, while the controllers can still acknowledge their controlled shutdown (a
# broker whose controllers are gone waits for them until its grace period ends)
"$PY" - "$WORK/s.yaml" "$WORK/controllers.yaml" <<'PYEOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("metadata", {}).get("labels", {}).get("kubebdp.github.io/role") != "broker" and d.get("kind") != "Job"]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PYEOF
t=$SECONDS
if "$PODRUN" apply "$WORK/controllers.yaml" --state "$STATE" --wait 200 >"$WORK/apply.log" 2>&1; then
  ok "the brokers' StatefulSet removed: the brokers stopped in $((SECONDS-t))s (controlled shutdown)"
else
  bad "the brokers stopped"; tail -20 "$WORK/apply.log"
fi
tag=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' "$STATE/net.json")
t=$SECONDS
"$PODRUN" down --state "$STATE" >/dev/null; STATE=
echo "     down in $((SECONDS-t))s"
check "down leaves no network namespace" bash -c "! ip netns list | grep -q 'podrun-$tag-'"
echo "     total $((SECONDS-T0))s"
finish
