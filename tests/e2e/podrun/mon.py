"""mon.py -- helpers of tests/e2e/podrun/monitoring.sh (the live half of issue 12).

  mon.py split STREAM OUT             OUT: STREAM without the monitoring.coreos.com objects (podrun
                                      runs pods; the operator's objects are read by this test)
  mon.py scale STREAM STS N OUT       OUT: STREAM with StatefulSet STS at N replicas
  mon.py targets STREAM STATUS OUT    OUT (JSON): one scrape target per pod a PodMonitor selects,
                                      as the operator would generate it: pod address, the named
                                      port's number, path, the operator's target labels
  mon.py promconfig TARGETS STREAM FOR DIR
                                      DIR/prometheus.yml (static targets, scrape/eval every 2 s)
                                      and DIR/rules-<name>.yml per PrometheusRule, every `for:`
                                      replaced by FOR
  mon.py scrape TARGETS DIR           GET every target (from the network namespace it runs in);
                                      DIR/<i>.txt per target; one line per target
  mon.py compare NAMES SCRAPEDIR      every selector of NAMES (promql_names.py output) against the
                                      scraped samples; exit 1 on an unknown metric or label
"""
import json
import os
import re
import sys
import urllib.request

import yaml

# Metrics no daemon of the stack serves, and who does: they cannot appear in a daemon's scrape.
NOT_DAEMON = {
    "up": "Prometheus (one per target, 1 when the scrape succeeded)",
    "ALERTS": "Prometheus (the alert states)",
}
NOT_DAEMON_PREFIX = {
    "kube_": "kube-state-metrics (not run by podrun)",
    "probe_": "the blackbox exporter (the KDC probe)",
}
# labels the operator (and this test's static targets) attach to every scraped series
TARGET_LABELS = {"namespace", "pod", "container", "endpoint", "job", "instance", "service"}


def docs(path):
    return [d for d in yaml.safe_load_all(open(path)) if isinstance(d, dict)]


def split(src, out):
    keep = [d for d in docs(src) if not str(d.get("apiVersion", "")).startswith("monitoring.coreos.com/")]
    yaml.safe_dump_all(keep, open(out, "w"), sort_keys=False)


def scale(src, sts, n, out):
    ds = docs(src)
    hit = [d for d in ds if d.get("kind") == "StatefulSet" and d["metadata"]["name"] == sts]
    if len(hit) != 1:
        sys.exit(f"no StatefulSet {sts}")
    hit[0]["spec"]["replicas"] = int(n)
    yaml.safe_dump_all(ds, open(out, "w"), sort_keys=False)


def targets(src, status, out):
    ds = docs(src)
    pods = json.load(open(status))["pods"]
    res = []
    for pm in (d for d in ds if d.get("kind") == "PodMonitor"):
        ns = pm["metadata"].get("namespace")
        sel = pm["spec"]["selector"].get("matchLabels") or {}
        for i, ep in enumerate(pm["spec"]["podMetricsEndpoints"]):
            for st in (d for d in ds if d.get("kind") == "StatefulSet" and d["metadata"].get("namespace") == ns):
                tpl = st["spec"]["template"]
                if not all(tpl["metadata"].get("labels", {}).get(k) == v for k, v in sel.items()):
                    continue
                ports = [(c["name"], p["containerPort"]) for c in tpl["spec"]["containers"] for p in c.get("ports") or [] if p.get("name") == ep["port"]]
                if len(ports) != 1:
                    sys.exit(f"PodMonitor {pm['metadata']['name']}: port {ep['port']} names {len(ports)} container ports")
                container, port = ports[0]
                for p in pods:
                    if p["namespace"] == ns and p.get("statefulset") == st["metadata"]["name"]:
                        res.append({
                            "job": f"podMonitor/{ns}/{pm['metadata']['name']}/{i}",
                            "address": f"{p['address']}:{port}",
                            "path": ep.get("path", "/metrics"),
                            "labels": {"namespace": ns, "pod": p["name"], "container": container, "endpoint": ep["port"]},
                            "metricRelabelings": ep.get("metricRelabelings") or [],
                        })
    json.dump(res, open(out, "w"), indent=1)


def relabel(r):
    """An operator RelabelConfig (camelCase) as Prometheus' relabel_config (snake_case)."""
    return {re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), k): v for k, v in r.items()}


def promconfig(tfile, src, for_, d):
    ts = json.load(open(tfile))
    jobs = {}
    for t in ts:
        j = jobs.setdefault(t["job"], {"job_name": t["job"], "metrics_path": t["path"], "static_configs": []})
        if t["metricRelabelings"]:
            j["metric_relabel_configs"] = [relabel(r) for r in t["metricRelabelings"]]
        j["static_configs"].append({"targets": [t["address"]], "labels": t["labels"]})
    files = []
    for pr in (x for x in docs(src) if x.get("kind") == "PrometheusRule"):
        groups = pr["spec"]["groups"]
        for g in groups:
            for r in g["rules"]:
                if "for" in r:
                    r["for"] = for_
        f = os.path.join(os.path.abspath(d), f"rules-{pr['metadata']['name']}.yml")
        yaml.safe_dump({"groups": groups}, open(f, "w"), sort_keys=False)
        files.append(f)
    cfg = {
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"},
        "rule_files": files,
        "scrape_configs": list(jobs.values()),
    }
    head = ("# Generated by tests/e2e/podrun/monitoring.sh from the rendered PodMonitors: static targets\n"
            "# (pod address + the named port), the labels the operator sets, as the operator would.\n")
    open(os.path.join(d, "prometheus.yml"), "w").write(head + yaml.safe_dump(cfg, sort_keys=False))


def scrape(tfile, d):
    bad = 0
    for i, t in enumerate(json.load(open(tfile))):
        u = f"http://{t['address']}{t['path']}"
        try:
            body = urllib.request.urlopen(u, timeout=15).read().decode()
            open(os.path.join(d, f"{i}.txt"), "w").write(body)
            print(f"{t['labels']['pod']} {u}: {len(body)} bytes")
        except Exception as e:
            bad += 1
            print(f"{t['labels']['pod']} {u}: FAILED {e}")
    sys.exit(1 if bad else 0)


def samples(d):
    """{metric: [labels dict...]} of every sample line of every scrape in d."""
    line = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s')
    lab = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
    out = {}
    for f in sorted(os.listdir(d)):
        for ln in open(os.path.join(d, f)):
            m = line.match(ln)
            if m:
                out.setdefault(m.group(1), []).append(dict(lab.findall(m.group(3) or "")))
    return out


def compare(nfile, d):
    n = json.load(open(nfile))
    got = samples(d)
    bad, checked, other = list(n["errors"]), set(), {}
    recorded = set(n["recorded"])
    for s in n["selectors"]:
        name = s["name"]
        why = NOT_DAEMON.get(name) or next((v for k, v in NOT_DAEMON_PREFIX.items() if name.startswith(k)), None)
        if why or name in recorded:
            other[name] = why or "a recording rule of the stack"
            continue
        checked.add(name)
        if name not in got:
            bad.append(f"{s['where']}: metric {name} is in no scrape")
            continue
        for l, (op, v) in s["labels"].items():
            if l in TARGET_LABELS:
                continue
            have = [x[l] for x in got[name] if l in x]
            if not have:
                bad.append(f"{s['where']}: {name} has no label {l} in any scrape")
            elif op == "Equal" and v not in have:
                bad.append(f"{s['where']}: no scraped {name} has {l}={v!r} (seen: {sorted(set(have))})")
    print(f"{n['exprs']} expressions, {len(checked)} metric names checked against {len(got)} scraped names")
    for k in sorted(other):
        print(f"  not a daemon metric: {k} ({other[k]})")
    for b in bad:
        print(f"  {b}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"split": split, "scale": scale, "targets": targets, "promconfig": promconfig, "scrape": scrape, "compare": compare}[cmd](*args)
