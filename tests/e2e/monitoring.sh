#!/usr/bin/env bash
# monitoring.sh -- the rendered alert rules and scrape objects (issue 12) are what Prometheus and
# its operator accept, and every alert is proven by a unit test to fire on its fault and to stay
# silent on a healthy cluster.
#
# Renders two Clusters with `monitoring: prometheus-operator` (A: Kerberos + ZooKeeper, B: HA HDFS
# + ZooKeeper; a secure HDFS is scraped over HTTPS, proven live by tests/e2e/podrun/hdfs_secure.sh)
# and checks, one line each:
#   lint      each PrometheusRule passes `promtool check rules --lint=all --lint-fatal`
#             (tests/e2e/prom_check.sh)
#   unit      each service's tests, stacks/hadoop-3.3/alerts/<service>.promtest, pass
#             `promtool test rules` against the rendered rules (@NAMESPACE@/@CLUSTER@ replaced by
#             the Cluster's; annotations are left out of that comparison, `fields` checks them)
#   coverage  every rendered alert has a test where it fires and one where it does not, and every
#             alert a test names exists
#   fields    every alert has `for`, a severity (warning|critical), summary, description and a
#             runbook_url whose anchor is a section of docs/runbooks.md
#   setting   raising a threshold setting (hdfs alertCapacityWarningPercent 80 -> 99) makes the
#             unit tests fail: the rules read the settings, the tests bind to their defaults
#   default   every example (monitoring: none) renders no monitoring.coreos.com object
#   annot     `monitoring: annotations` renders Services annotated prometheus.io/scrape|port|path
#             (selecting the role's pods, on a port the pods have) and no CRD object
#   dashboards each service's Grafana dashboard ConfigMap (grafana_dashboard: "1") is valid JSON with
#             a schemaVersion, a distinct uid, the ${datasource} variable, a target with an expr in
#             every panel, and every expr passes `promtool check rules` as a recording rule
#   scrapecfg `monitoring: annotations` also renders a ConfigMap <cluster>-<service>-scrape-config
#             whose scrape-configs.yaml `promtool check config` accepts (Debian's Prometheus 2.42 is
#             built without Kubernetes discovery: its kubernetes_sd_configs, checked here to be
#             role endpoints in the Cluster's namespace, is swapped for a file_sd_configs first),
#             and whose keep regex (anchored, as Prometheus' RE2) keeps exactly the annotated Services
#   scraper   with monitoring on, every role has a NetworkPolicy <role>-scrape admitting the
#             scraper selectors (settings; their defaults here) to the port its PodMonitor or
#             annotated Service names; the examples (monitoring none) render none; a selector
#             value that is no Kubernetes label is refused
#   schema    the renders pass tests/e2e/check_k8s_schema.py (strict; the operator's kinds allowed)
#   refused   a bad `monitoring` value, and `annotations` for a secure HDFS, exit 1 with a message
# Prints `ok NAME` / `NOT OK NAME` per check and `N passed, M failed` last; exits 1 on a failure.
# Needs: promtool (tests/e2e/install.sh --only prom). BDP=/path/to/bdp skips the cargo build.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
cd "$ROOT"
. "$E2E/env.sh"
PY=$(e2e_any_python)
W=$(mktemp -d /tmp/bdp-e2e-mon.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
notok() { fail=$((fail+1)); echo "NOT OK $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2" | head -12; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
ALERTS=stacks/hadoop-3.3/alerts

if [ -z "${BDP:-}" ]; then
  cargo build --quiet 2>"$W/build.err" || { notok build "$(cat "$W/build.err")"; finish; }
  BDP=$ROOT/target/debug/bdp
fi
command -v promtool >/dev/null || { notok "promtool installed" "tests/e2e/install.sh --only prom"; finish; }

cluster() { # cluster FILE NAME NAMESPACE HDFS_MONITORING SERVICES_YAML
  cat >"$1" <<Y
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata: {name: $2, namespace: $3}
spec:
  stack: hadoop-3.3
  services:
$4
Y
}
cluster "$W/a.yaml" sec obs "    kerberos: {monitoring: prometheus-operator}
    zookeeper: {monitoring: prometheus-operator}"
cluster "$W/b.yaml" analytics bigdata "    zookeeper: {monitoring: prometheus-operator}
    hdfs:
      monitoring: prometheus-operator
      roles: {namenode: {replicas: 2}, journalnode: {replicas: 3}, datanode: {replicas: 3}}"

# split NAME RENDER: one file per PrometheusRule ($W/NAME.<service>.rules.yaml, with annotations;
# .bare.yaml without), and $W/NAME.meta listing "service namespace cluster"
split() {
  "$PY" - "$W/$1" "$2" <<'PY'
import sys, yaml
out, src = sys.argv[1], sys.argv[2]
meta = []
for d in yaml.safe_load_all(open(src)):
    if not isinstance(d, dict) or d.get("kind") != "PrometheusRule":
        continue
    m = d["metadata"]; svc = m["labels"]["kubebdp.github.io/service"]
    meta.append(f'{svc} {m["namespace"]} {m["labels"]["kubebdp.github.io/cluster"]}')
    yaml.safe_dump(d, open(f"{out}.{svc}.rules.yaml", "w"), sort_keys=False)
    groups = d["spec"]["groups"]
    for g in groups:
        for r in g["rules"]:
            r.pop("annotations", None)
    yaml.safe_dump({"groups": groups}, open(f"{out}.{svc}.bare.yaml", "w"), sort_keys=False)
open(f"{out}.meta", "w").write("".join(x + "\n" for x in meta))
PY
}

for c in a b; do
  if "$BDP" render "$W/$c.yaml" >"$W/$c.out" 2>"$W/$c.err"; then ok "render $c"; else notok "render $c" "$(cat "$W/$c.err")"; continue; fi
  split "$c" "$W/$c.out"
  while read -r svc ns cl; do
    r=$("$E2E/prom_check.sh" "$W/$c.$svc.rules.yaml" 2>&1) && ok "lint $c/$svc" || notok "lint $c/$svc" "$r"
    t=$ALERTS/$svc.promtest
    if [ ! -f "$t" ]; then notok "unit $c/$svc" "no test file $t"; continue; fi
    sed -e "s/@NAMESPACE@/$ns/g; s/@CLUSTER@/$cl/g" "$t" >"$W/$c.$svc.test.yaml"
    r=$("$E2E/prom_check.sh" "$W/$c.$svc.bare.yaml" "$W/$c.$svc.test.yaml" 2>&1) && ok "unit $c/$svc" || notok "unit $c/$svc" "$(grep -v '^ *$' <<<"$r" | tail -12)"
    r=$("$PY" - "$W/$c.$svc.rules.yaml" "$t" <<'PY' 2>&1
import sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["spec"]["groups"] for r in g["rules"] if "alert" in r]
fires, silent = set(), set()
for t in yaml.safe_load(open(sys.argv[2]))["tests"]:
    for a in t.get("alert_rule_test") or []:
        (fires if a.get("exp_alerts") else silent).add(a["alertname"])
names = {r["alert"] for r in rules}
bad = [f"{n}: no test where it fires" for n in sorted(names - fires)]
bad += [f"{n}: no test where it stays silent" for n in sorted(names - silent)]
print(f"{len(names)} alerts, {len(fires & names)} with a firing test, {len(silent & names)} with a silent one")
if bad: print("\n".join(bad)); sys.exit(1)
PY
) && ok "coverage $c/$svc: $r" || notok "coverage $c/$svc" "$r"
    r=$("$PY" - "$W/$c.$svc.rules.yaml" docs/runbooks.md <<'PY' 2>&1
import re, sys, yaml
anchors = {re.sub(r"[^a-z0-9 -]", "", l[3:].strip().lower()).replace(" ", "-") for l in open(sys.argv[2]) if l.startswith("## ")}
bad = []
for g in yaml.safe_load(open(sys.argv[1]))["spec"]["groups"]:
    for r in g["rules"]:
        n, a, l = r.get("alert"), r.get("annotations") or {}, r.get("labels") or {}
        if not r.get("for"): bad.append(f"{n}: no for")
        if l.get("severity") not in ("warning", "critical"): bad.append(f"{n}: severity {l.get('severity')!r}")
        for k in ("summary", "description", "runbook_url"):
            if not a.get(k): bad.append(f"{n}: no {k}")
        anchor = (a.get("runbook_url") or "#").rsplit("#", 1)[1]
        if anchor not in anchors: bad.append(f"{n}: runbook anchor #{anchor} is no section of docs/runbooks.md")
if bad: print("\n".join(bad)); sys.exit(1)
PY
) && ok "fields $c/$svc" || notok "fields $c/$svc" "$r"
  done <"$W/$c.meta"
  # every alert test file of the stack is used by some rendered rule
done
for t in "$ALERTS"/*.promtest; do
  s=$(basename "$t" .promtest)
  grep -qs "^$s " "$W/a.meta" "$W/b.meta" && ok "test file $s.promtest runs" || notok "test file $s.promtest runs" "no rendered PrometheusRule of service $s"
done

# setting: a threshold setting reaches the rules (the tests then fail)
sed 's/      monitoring: prometheus-operator/      monitoring: prometheus-operator\n      alertCapacityWarningPercent: 99/' "$W/b.yaml" >"$W/m.yaml"
if "$BDP" render "$W/m.yaml" >"$W/m.out" 2>"$W/m.err"; then
  split m "$W/m.out"
  sed -e "s/@NAMESPACE@/bigdata/g; s/@CLUSTER@/analytics/g" "$ALERTS/hdfs.promtest" >"$W/m.test.yaml"
  if "$E2E/prom_check.sh" "$W/m.hdfs.bare.yaml" "$W/m.test.yaml" >"$W/m.log" 2>&1; then
    notok "setting alertCapacityWarningPercent reaches the rule" "the unit tests still pass with the threshold at 99"
  elif grep -q "HdfsCapacityHigh" "$W/m.log"; then ok "setting alertCapacityWarningPercent reaches the rule (unit test HdfsCapacityHigh fails at 99)"
  else notok "setting alertCapacityWarningPercent reaches the rule" "$(tail -5 "$W/m.log")"; fi
else notok "setting render" "$(cat "$W/m.err")"; fi

# default: no CRD object without monitoring
for e in examples/*.yaml examples/fleet; do
  if ! "$BDP" render "$e" >"$W/e.out" 2>"$W/e.err"; then notok "default $e renders" "$(cat "$W/e.err")"; continue; fi
  n=$(grep -c '^apiVersion: monitoring.coreos.com/' "$W/e.out")
  [ "$n" -eq 0 ] && ok "default $e: no monitoring.coreos.com object" || notok "default $e: $n monitoring.coreos.com objects"
done

# annotations
sed 's/prometheus-operator/annotations/' "$W/b.yaml" >"$W/n.yaml"
if "$BDP" render "$W/n.yaml" >"$W/n.out" 2>"$W/n.err"; then
  r=$("$PY" - "$W/n.out" <<'PY' 2>&1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict)]
bad = [f"{d['kind']} {d['metadata']['name']}: needs a CRD" for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
pods = {}
for d in docs:
    if d["kind"] == "StatefulSet":
        t = d["spec"]["template"]
        pods[d["metadata"]["name"]] = (t["metadata"]["labels"], {p["name"]: p["containerPort"] for c in t["spec"]["containers"] for p in c.get("ports") or []})
svcs = [d for d in docs if d["kind"] == "Service" and (d["metadata"].get("annotations") or {}).get("prometheus.io/scrape") == "true"]
for s in svcs:
    a, sel, port = s["metadata"]["annotations"], s["spec"]["selector"], s["spec"]["ports"][0]
    match = [n for n, (l, _) in pods.items() if all(l.get(k) == v for k, v in sel.items())]
    if len(match) != 1: bad.append(f"{s['metadata']['name']}: selects {match}")
    elif pods[match[0]][1].get(port["targetPort"]) != int(a["prometheus.io/port"]): bad.append(f"{s['metadata']['name']}: port {a['prometheus.io/port']} is not the pods' {port['targetPort']}")
    if not a.get("prometheus.io/path", "").startswith("/"): bad.append(f"{s['metadata']['name']}: path {a.get('prometheus.io/path')!r}")
if len(svcs) != 4: bad.append(f"{len(svcs)} annotated Services, expected 4 (zookeeper server, namenode, journalnode, datanode)")
print(f"{len(svcs)} annotated Services")
if bad: print("\n".join(bad)); sys.exit(1)
PY
) && ok "annot: $r" || notok "annot" "$r"
else notok "annot render" "$(cat "$W/n.err")"; fi

# dashboards: each Grafana dashboard ConfigMap (label grafana_dashboard "1", in the Cluster's
# namespace) holds valid JSON with a schemaVersion, a uid derived from cluster + service (distinct per
# Cluster, at most 40 characters), the data source as the variable ${datasource}, and panels whose
# every target has an expr; every expr is valid PromQL: each becomes a recording rule of a throwaway
# rule file that `promtool check rules` must accept.
for c in a:kerberos,zookeeper b:hdfs,zookeeper n:hdfs,zookeeper; do
  f=${c%%:*}; want=${c#*:}
  r=$("$PY" - "$W/$f.out" "$want" "$W/$f.dash.rules.yaml" <<'PY' 2>&1
import json, re, sys, yaml
src, want, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
docs = [d for d in yaml.safe_load_all(open(src)) if isinstance(d, dict)]
ns = {d["metadata"]["namespace"] for d in docs if d["kind"] == "StatefulSet"}
cms = [d for d in docs if d["kind"] == "ConfigMap" and (d["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"]
bad, rules, uids, seen = [], [], set(), []
for cm in cms:
    m = cm["metadata"]
    if m["namespace"] not in ns: bad.append(f"{m['name']}: namespace {m['namespace']} is not the Cluster's {ns}")
    seen.append(m["labels"]["kubebdp.github.io/service"])
    for key, text in (cm.get("data") or {}).items():
        where = f"{m['name']}/{key}"
        try: d = json.loads(text)
        except ValueError as e: bad.append(f"{where}: not JSON: {e}"); continue
        if not isinstance(d.get("schemaVersion"), int): bad.append(f"{where}: no schemaVersion")
        uid = d.get("uid") or ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid) or uid in uids: bad.append(f"{where}: uid {uid!r} (1-40 of [A-Za-z0-9_-], one per dashboard)")
        uids.add(uid)
        tv = [v for v in d.get("templating", {}).get("list", []) if v.get("name") == "datasource" and v.get("type") == "datasource"]
        if not tv: bad.append(f"{where}: no datasource variable")
        if not d.get("panels"): bad.append(f"{where}: no panels")
        for p in d.get("panels", []):
            pw = f"{where} panel {p.get('id')} {p.get('title')!r}"
            if (p.get("datasource") or {}).get("uid") != "${datasource}": bad.append(f"{pw}: datasource is not ${{datasource}}")
            ts = p.get("targets") or []
            if not ts: bad.append(f"{pw}: no target")
            for t in ts:
                if not (t.get("expr") or "").strip(): bad.append(f"{pw}: a target without expr"); continue
                if (t.get("datasource") or {}).get("uid") != "${datasource}": bad.append(f"{pw}: target datasource is not ${{datasource}}")
                rules.append({"record": f"dashboard:{m['labels']['kubebdp.github.io/service']}_p{p.get('id')}:{t.get('refId')}", "expr": t["expr"]})
if sorted(seen) != sorted(want): bad.append(f"dashboards of {sorted(seen)}, expected {sorted(want)}")
yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, open(out, "w"), sort_keys=False)
print(f"{len(cms)} dashboards ({', '.join(sorted(seen))}), {len(rules)} exprs")
if bad: print("\n".join(bad)); sys.exit(1)
PY
) || { notok "dashboards $f" "$r"; continue; }
  p=$(promtool check rules "$W/$f.dash.rules.yaml" 2>&1) && ok "dashboards $f: $r, each valid PromQL (promtool check rules)" || notok "dashboards $f: promtool check rules" "$p"
done
# scrapecfg: the plain Prometheus scrape config of `monitoring: annotations`
if [ -s "$W/n.out" ]; then
  r=$("$PY" - "$W/n.out" "$W" <<'PY' 2>&1
import re, subprocess, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict)]
svcs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service" and (d["metadata"].get("annotations") or {}).get("prometheus.io/scrape") == "true"}
cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-scrape-config")]
bad, kept = [], set()
for cm in cms:
    name, ns = cm["metadata"]["name"], cm["metadata"]["namespace"]
    cfg = yaml.safe_load(cm["data"]["scrape-configs.yaml"])
    for job in cfg["scrape_configs"]:
        if job.get("kubernetes_sd_configs") != [{"role": "endpoints", "namespaces": {"names": [ns]}}]:
            bad.append(f"{name}: kubernetes_sd_configs {job.get('kubernetes_sd_configs')}")
        job.pop("kubernetes_sd_configs", None)
        job["file_sd_configs"] = [{"files": ["targets.json"]}]
        keep = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
        for s in svcs:
            if keep and re.fullmatch(keep[0]["regex"], "true;" + s):
                kept.add(s)
        labels = {r.get("target_label") for r in job["relabel_configs"]}
        if not {"namespace", "pod", "__address__", "__metrics_path__"} <= labels:
            bad.append(f"{name}: relabeling sets {sorted(l for l in labels if l)}")
    f = f"{sys.argv[2]}/{name}.yml"
    yaml.safe_dump(cfg, open(f, "w"))
    p = subprocess.run(["promtool", "check", "config", f], capture_output=True, text=True)
    if p.returncode:
        bad.append(f"{name}: promtool check config: {p.stdout}{p.stderr}")
if kept != set(svcs):
    bad.append(f"the keep regexes keep {sorted(kept)}, the annotated Services are {sorted(svcs)}")
print(f"{len(cms)} scrape-config ConfigMaps, promtool accepts them, they keep the {len(kept)} annotated Services")
if bad or len(cms) != 2: print("\n".join(bad) or "expected 2 (zookeeper, hdfs)"); sys.exit(1)
PY
) && ok "scrapecfg: $r" || notok "scrapecfg" "$r"
fi

# scraper: a NetworkPolicy per role admits the scraper to the metrics port
for c in b n; do
  r=$("$PY" - "$W/$c.out" <<'PY' 2>&1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict)]
want = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
ports = {}  # role StatefulSet name -> metrics port number (from the PodMonitor, or the annotated Service)
sts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "StatefulSet"}
def port_of(st, name):
    return next(p["containerPort"] for c in st["spec"]["template"]["spec"]["containers"] for p in c.get("ports") or [] if p["name"] == name)
for d in docs:
    if d["kind"] == "PodMonitor":
        sel = d["spec"]["selector"]["matchLabels"]
        for n, st in sts.items():
            if all(st["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items()):
                ports[n] = port_of(st, d["spec"]["podMetricsEndpoints"][0]["port"])
    elif d["kind"] == "Service" and (d["metadata"].get("annotations") or {}).get("prometheus.io/scrape") == "true":
        ports[d["metadata"]["name"].removesuffix("-metrics")] = int(d["metadata"]["annotations"]["prometheus.io/port"])
bad = []
for n, port in sorted(ports.items()):
    nps = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == n + "-scrape"]
    if len(nps) != 1: bad.append(f"{n}: no NetworkPolicy {n}-scrape"); continue
    sp = nps[0]["spec"]
    if sp["podSelector"]["matchLabels"] != sts[n]["spec"]["selector"]["matchLabels"]: bad.append(f"{n}-scrape selects {sp['podSelector']}")
    if sp["ingress"] != [{"from": [want], "ports": [{"port": port, "protocol": "TCP"}]}]: bad.append(f"{n}-scrape: ingress {sp['ingress']}")
print(f"{len(ports)} roles with a metrics port, each with its scraper NetworkPolicy")
if bad or len(ports) != 4: print("\n".join(bad) or f"{len(ports)} roles"); sys.exit(1)
PY
) && ok "scraper $c: $r" || notok "scraper $c" "$r"
done
n=$(for e in examples/*.yaml examples/fleet; do "$BDP" render "$e" 2>/dev/null; done | grep -c -- '-scrape$')
[ "$n" -eq 0 ] && ok "scraper: the examples (monitoring none) render no scraper NetworkPolicy" || notok "scraper: $n scraper NetworkPolicies in the examples"
sed 's/    zookeeper: {monitoring: prometheus-operator}/    zookeeper: {monitoring: prometheus-operator, scraperPodSelector: {app: "prom etheus"}, scraperNamespaceSelector: {"Bad Key": x}}/' "$W/b.yaml" >"$W/z.yaml"
"$BDP" render "$W/z.yaml" >/dev/null 2>"$W/z.err"; rc=$?
[ $rc -eq 1 ] && grep -q "scraperPodSelector" "$W/z.err" && grep -q "scraperNamespaceSelector" "$W/z.err" && grep -q "label" "$W/z.err" \
  && ok "refused: scraper selectors that are no Kubernetes labels" || notok "refused: scraper selectors that are no Kubernetes labels (rc $rc)" "$(cat "$W/z.err")"

# schema: the objects (the annotated Services, everything else of the three renders) pass the strict
# Kubernetes schema check; the operator's kinds are CRD instances without an offline schema
for c in a b n; do
  r=$("$E2E_PY" "$E2E/check_k8s_schema.py" -q -k 1.30 --allow-kind monitoring.coreos.com/v1/PodMonitor \
      --allow-kind monitoring.coreos.com/v1/PrometheusRule --allow-kind monitoring.coreos.com/v1/Probe \
      --allow-kind cert-manager.io/v1/Certificate "$W/$c.out" 2>&1) && ok "schema $c" || notok "schema $c" "$r"
done

# refused
sed 's/zookeeper: {monitoring: prometheus-operator}/zookeeper: {monitoring: prometheus}/' "$W/b.yaml" >"$W/x.yaml"
"$BDP" render "$W/x.yaml" >/dev/null 2>"$W/x.err"; rc=$?
[ $rc -eq 1 ] && grep -q "monitoring must be" "$W/x.err" && ok "refused: monitoring: prometheus" || notok "refused: monitoring: prometheus (rc $rc)" "$(cat "$W/x.err")"
cluster "$W/y.yaml" sec obs "    kerberos:
    zookeeper:
    hdfs: {monitoring: annotations}"
"$BDP" render "$W/y.yaml" >/dev/null 2>"$W/y.err"; rc=$?
[ $rc -eq 1 ] && grep -q "not available with Kerberos" "$W/y.err" && ok "refused: monitoring: annotations of a secure HDFS (HTTPS, no CA for the scrape job)" || notok "refused: monitoring: annotations of a secure HDFS (rc $rc)" "$(cat "$W/y.err")"
finish
