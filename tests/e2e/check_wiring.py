#!/usr/bin/env python3
"""check_wiring.py -- do the rendered objects hang together the way Kubernetes would wire them?

A schema says each object is well-formed; this says they work together. Without a cluster, it
models what the API server, cluster DNS, Service selectors and the kubelet would resolve:
  * names: Services/StatefulSets/Deployments/Namespaces are DNS-1123 labels, other objects
    DNS-1123 subdomains; StatefulSet names <= 52 characters (pods get a controller-revision-hash
    label); container port names are IANA service names (<= 15 chars, the API server refuses more);
  * every Service with a selector selects some workload's pods, and each targetPort (number or
    name) is a containerPort of those pods;
  * every StatefulSet has its serviceName as a rendered, headless Service that selects its pods,
    and its spec.selector matches its own pod template;
  * PodDisruptionBudgets and NetworkPolicies (non-empty podSelector) select some workload (for a
    NetworkPolicy: or the pods of a Job template in a hooks ConfigMap, which bdp-controller creates), and a
    NetworkPolicy's ingress ports are ports of the pods it selects;
  * every volumeMount names a pod volume or a volumeClaimTemplate; every ConfigMap/Secret a pod
    mounts or reads (volumes, projected volumes, env, envFrom) is rendered with the keys it needs
    (Secrets made elsewhere are declared with --external-secret NAME); a non-default
    serviceAccountName is a rendered ServiceAccount;
  * every host name `X.svc.<domain>` (optionally `:PORT`) in ConfigMap data and container
    commands, args and env uses one cluster domain per namespace (--domain: that one) and resolves: `<svc>.<ns>.svc.<domain>` to a rendered Service (PORT one of
    its ports); `<pod>.<svc>.<ns>.svc.<domain>` to an existing ordinal of a StatefulSet governed by
    that Service (PORT one of its containerPorts).
Usage: check_wiring.py [--domain D] [--external-secret NAME]... [--external-host SUFFIX]... FILE|DIR|-...
Prints one line per problem, then PASS or FAIL; exit 0 or 1.
"""
import argparse, glob, os, re, sys
import yaml

ap = argparse.ArgumentParser(description="model-based wiring check of rendered Kubernetes objects")
ap.add_argument("--domain", help="the cluster domain every host name must use (default: any, one per namespace)")
ap.add_argument("--external-secret", action="append", default=[], metavar="NAME")
ap.add_argument("--external-host", action="append", default=[], metavar="SUFFIX", help="host names served elsewhere")
ap.add_argument("paths", nargs="+")
a = ap.parse_args()

docs = []
for p in a.paths:
    files = sorted(glob.glob(os.path.join(p, "**", "*.y*ml"), recursive=True)) if os.path.isdir(p) else [p]
    for f in files:
        try:
            with (sys.stdin if f == "-" else open(f)) as fh:
                for d in yaml.safe_load_all(fh):
                    if isinstance(d, dict) and d.get("kind") == "List":
                        docs += [x for x in d.get("items") or [] if isinstance(x, dict)]
                    elif isinstance(d, dict):
                        docs.append(d)
        except (OSError, yaml.YAMLError) as e:
            print(f"FAIL: cannot read {f}: {e}"); sys.exit(1)
# a kustomization.yaml in a rendered directory is not an object of the cluster
docs = [d for d in docs if d.get("kind") != "Kustomization" or not str(d.get("apiVersion", "")).startswith("kustomize.config.k8s.io")]
if not docs:
    print("FAIL: no objects"); sys.exit(1)

problems = []
def bad(msg): problems.append(msg)
def md(o): return o.get("metadata") or {}
def ns_of(o): return md(o).get("namespace") or "default"
def name_of(o): return md(o).get("name") or ""
def spec(o): return o.get("spec") or {}

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
IANA = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$")  # lowercase, digits, single hyphens, a letter
for o in docs:
    n, k = name_of(o), o.get("kind")
    if not n:
        bad(f"{k}: no metadata.name"); continue
    if k in ("Service", "StatefulSet", "Deployment", "Namespace"):
        if len(n) > 63 or not LABEL.match(n): bad(f"{k}/{n}: name is not a DNS-1123 label")
    elif len(n) > 253 or not SUBDOMAIN.match(n):
        bad(f"{k}/{n}: name is not a DNS-1123 subdomain")
    if k == "StatefulSet" and len(n) > 52:
        bad(f"StatefulSet/{n}: name longer than 52 characters (its pods' controller-revision-hash label would be too long)")

def pod_template(o):
    k = o.get("kind")
    if k in ("StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job"):
        return spec(o).get("template") or {}
    if k == "CronJob":
        return (spec(spec(o).get("jobTemplate") or {})).get("template") or {}
    if k == "Pod":
        return o
    return None
def pod_spec(o): return (pod_template(o) or {}).get("spec") or {}
def pod_labels(o): return md(pod_template(o) or {}).get("labels") or {}
def containers(ps): return (ps.get("initContainers") or []) + (ps.get("containers") or [])
def pod_ports(ps):
    out = set()
    for c in ps.get("containers") or []:
        for p in c.get("ports") or []:
            out.add(p.get("containerPort"))
            if p.get("name"): out.add(p["name"])
    return out
def selects(sel, labels): return bool(sel) and all(labels.get(k) == v for k, v in sel.items())
def label_selects(sel, labels):  # a LabelSelector: matchLabels + matchExpressions (In/NotIn/Exists/DoesNotExist)
    if not sel: return False
    ml = sel.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in ml.items()): return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in vals: return False
        if op == "NotIn" and labels.get(key) in vals: return False
        if op == "Exists" and key not in labels: return False
        if op == "DoesNotExist" and key in labels: return False
    return bool(ml or sel.get("matchExpressions"))

workloads = [o for o in docs if pod_template(o) is not None]
def index(kind): return {(ns_of(o), name_of(o)): o for o in docs if o.get("kind") == kind}
services, cms, secrets, stss, sas = index("Service"), index("ConfigMap"), index("Secret"), index("StatefulSet"), index("ServiceAccount")

for w in workloads:
    who = f"{w['kind']} {ns_of(w)}/{name_of(w)}"
    for c in (pod_spec(w).get("containers") or []) + (pod_spec(w).get("initContainers") or []):
        for p in c.get("ports") or []:
            pn = p.get("name")
            if pn and (len(pn) > 15 or not IANA.match(pn)):
                bad(f"{who} container {c.get('name')}: port name {pn!r} is not an IANA service name (<= 15 chars)")

# Services, StatefulSets, PDBs, NetworkPolicies
for (ns, n), s in services.items():
    sel = spec(s).get("selector") or {}
    if not sel:
        continue  # fed by hand-made Endpoints/EndpointSlices
    targets = [w for w in workloads if ns_of(w) == ns and selects(sel, pod_labels(w))]
    if not targets:
        bad(f"Service {ns}/{n}: selector {sel} matches no workload"); continue
    for p in spec(s).get("ports") or []:
        tp = p.get("targetPort", p.get("port"))
        for w in targets:
            if tp not in pod_ports(pod_spec(w)):
                bad(f"Service {ns}/{n}: targetPort {tp} is not a containerPort of {w['kind']}/{name_of(w)}")
for (ns, n), st in stss.items():
    sn = spec(st).get("serviceName")
    svc = services.get((ns, sn))
    if not label_selects(spec(st).get("selector") or {}, pod_labels(st)):
        bad(f"StatefulSet {ns}/{n}: spec.selector does not match its pod template labels")
    if not svc:
        bad(f"StatefulSet {ns}/{n}: serviceName {sn!r} is not a rendered Service"); continue
    if spec(svc).get("clusterIP") != "None":
        bad(f"StatefulSet {ns}/{n}: its Service {sn} is not headless (clusterIP: None), so pods get no DNS names")
    if not selects(spec(svc).get("selector") or {}, pod_labels(st)):
        bad(f"StatefulSet {ns}/{n}: its Service {sn} does not select its pods")
def hook_pods(ns, ps):
    """Does the podSelector select the pods of a Job template in a rendered hooks ConfigMap
    (`<cluster>-bdp-hooks`, key hooks.yaml) of the namespace?"""
    for cm in docs:
        if cm.get("kind") != "ConfigMap" or ns_of(cm) != ns or not name_of(cm).endswith("-bdp-hooks"):
            continue
        try:
            hooks = (yaml.safe_load((cm.get("data") or {}).get("hooks.yaml") or "{}") or {}).get("hooks") or []
        except yaml.YAMLError:
            bad(f"ConfigMap {ns}/{name_of(cm)}: hooks.yaml is not YAML"); continue
        if any(label_selects(ps, pod_labels(h["job"])) for h in hooks if h.get("job")):
            return True
    return False
for o in docs:
    k, ns, n = o.get("kind"), ns_of(o), name_of(o)
    if k == "PodDisruptionBudget":
        if not any(ns_of(w) == ns and label_selects(spec(o).get("selector") or {}, pod_labels(w)) for w in workloads):
            bad(f"PodDisruptionBudget {ns}/{n}: selects no workload")
    if k == "NetworkPolicy":
        ps = spec(o).get("podSelector") or {}
        if not ps:
            continue  # {} selects every pod of the namespace
        sel = [w for w in workloads if ns_of(w) == ns and label_selects(ps, pod_labels(w))]
        if not sel and hook_pods(ns, ps):
            continue  # the pods of Jobs bdp-controller creates at runtime from the hooks ConfigMap
        if not sel:
            bad(f"NetworkPolicy {ns}/{n}: podSelector selects no workload"); continue
        for rule in spec(o).get("ingress") or []:
            for p in rule.get("ports") or []:
                port = p.get("port")
                if port is not None and p.get("endPort") is None and not any(port in pod_ports(pod_spec(w)) for w in sel):
                    bad(f"NetworkPolicy {ns}/{n}: ingress port {port} is no containerPort of the pods it selects")

# what a pod needs to start
def need(kind, ns, ref, key, optional, who):
    if optional: return
    table = cms if kind == "ConfigMap" else secrets
    if (ns, ref) not in table:
        if kind == "Secret" and ref in a.external_secret: return
        bad(f"{who}: {kind} {ref!r} is not rendered" + (" (or declare it with --external-secret)" if kind == "Secret" else "")); return
    if key is not None:
        o = table[(ns, ref)]
        data = {**(o.get("data") or {}), **(o.get("binaryData") or {}), **(o.get("stringData") or {})}
        if key not in data: bad(f"{who}: {kind} {ref} has no key {key!r}")
for w in workloads:
    ps, ns, who = pod_spec(w), ns_of(w), f"{w['kind']} {ns_of(w)}/{name_of(w)}"
    vols = {v.get("name") for v in ps.get("volumes") or []}
    if w.get("kind") == "StatefulSet":
        vols |= {name_of(t) for t in spec(w).get("volumeClaimTemplates") or []}
    for c in containers(ps):
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in vols:
                bad(f"{who} container {c.get('name')}: volumeMount {m.get('name')!r} is neither a volume nor a volumeClaimTemplate")
    san = ps.get("serviceAccountName")
    if san and san != "default" and (ns, san) not in sas:
        bad(f"{who}: serviceAccountName {san!r} is not a rendered ServiceAccount")
    for v in ps.get("volumes") or []:
        if "configMap" in v:
            cm = v["configMap"]
            for it in cm.get("items") or [None]:
                need("ConfigMap", ns, cm.get("name"), it and it.get("key"), cm.get("optional"), who)
        if "secret" in v:
            se = v["secret"]
            for it in se.get("items") or [None]:
                need("Secret", ns, se.get("secretName"), it and it.get("key"), se.get("optional"), who)
        for src in (v.get("projected") or {}).get("sources") or []:
            for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
                if key in src:
                    for it in src[key].get("items") or [None]:
                        need(kind, ns, src[key].get("name"), it and it.get("key"), src[key].get("optional"), who)
    for c in containers(ps):
        for e in c.get("envFrom") or []:
            if "configMapRef" in e: need("ConfigMap", ns, e["configMapRef"].get("name"), None, e["configMapRef"].get("optional"), who)
            if "secretRef" in e: need("Secret", ns, e["secretRef"].get("name"), None, e["secretRef"].get("optional"), who)
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf:
                r = vf["configMapKeyRef"]; need("ConfigMap", ns, r.get("name"), r.get("key"), r.get("optional"), who)
            if "secretKeyRef" in vf:
                r = vf["secretKeyRef"]; need("Secret", ns, r.get("name"), r.get("key"), r.get("optional"), who)

# host names in configs and commands, as cluster DNS would resolve them
texts = []
for (ns, n), cm in cms.items():
    for k, v in (cm.get("data") or {}).items():
        texts.append((f"ConfigMap {ns}/{n}[{k}]", str(v)))
for w in workloads:
    for c in containers(pod_spec(w)):
        parts = [str(x) for x in (c.get("command") or []) + (c.get("args") or [])]
        parts += [str(e.get("value", "")) for e in c.get("env") or []]
        texts.append((f"{w['kind']} {ns_of(w)}/{name_of(w)} container {c.get('name')}", " ".join(parts)))
# A host name is <labels>.svc.<domain>[:port]; every domain found is checked (a fleet may span
# clusters with different domains), but one namespace must use one domain, and --domain is enforced.
LBL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
host_re = re.compile(r"(?<![-a-z0-9.])((?:" + LBL + r"\.)+?)svc\.(" + LBL + r"(?:\." + LBL + r")*)\.?(?![-a-z0-9])(?::(\d+))?")
seen, domains, ns_domains = 0, set(), {}
for where, t in texts:
    for m in host_re.finditer(t):
        seen += 1
        head, domain, port = m.group(1).rstrip("."), m.group(2), m.group(3)
        full = f"{head}.svc.{domain}"
        if any(full.endswith(s) for s in a.external_host):
            continue
        domains.add(domain)
        if a.domain and domain != a.domain:
            bad(f"{where}: {full}: cluster domain {domain}, expected {a.domain}"); continue
        parts = head.split(".")
        ns_domains.setdefault(parts[-1], {}).setdefault(domain, where)
        if len(parts) == 2:  # <service>.<namespace>
            s = services.get((parts[1], parts[0]))
            if not s:
                bad(f"{where}: {full} names no rendered Service"); continue
            if port and int(port) not in {p.get("port") for p in spec(s).get("ports") or []}:
                bad(f"{where}: {full}:{port}: Service {parts[0]} has no port {port}")
        elif len(parts) == 3:  # <pod>.<service>.<namespace>
            pod, svc, ns = parts
            owners = [st for (sns, sn), st in stss.items() if sns == ns and spec(st).get("serviceName") == svc
                      and pod.startswith(sn + "-") and pod[len(sn) + 1:].isdigit()]
            if not owners:
                bad(f"{where}: {full}: no StatefulSet governed by Service {svc} in {ns} owns a pod {pod}"); continue
            st = owners[0]; i = int(pod[len(name_of(st)) + 1:]); reps = int(spec(st).get("replicas", 1))
            if i >= reps:
                bad(f"{where}: {full}: ordinal {i}, but {name_of(st)} has {reps} replicas")
            if port and int(port) not in pod_ports(pod_spec(st)):
                bad(f"{where}: {full}:{port}: port {port} is not a containerPort of {name_of(st)}")
        else:
            bad(f"{where}: {full}: neither <service>.<namespace> nor <pod>.<service>.<namespace>")
for ns, ds in sorted(ns_domains.items()):
    if len(ds) > 1:
        bad(f"namespace {ns}: host names use several cluster domains: " + "; ".join(f"{d} (e.g. {w})" for d, w in sorted(ds.items())))
for p in problems:
    print("  " + p)
print(f"{'PASS' if not problems else 'FAIL'}: {len(docs)} objects, {len(workloads)} workloads, {seen} host references "
      f"(cluster domains: {', '.join(sorted(domains)) or 'none'}), {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
