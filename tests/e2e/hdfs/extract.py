#!/usr/bin/env python3
"""extract.py -- from one rendered HDFS example, the Hadoop configurations to check and what to expect.

Usage: extract.py INPUT.yaml STREAM.yaml OUTDIR

For every ConfigMap of an `hdfs` service that holds core-site.xml + hdfs-site.xml (each role's
ConfigMap and the discovery ConfigMap), writes its files into a directory under OUTDIR and prints
one check per line, separated by `|`:  NAME|CONF_DIR|ENV|ARGS
(ENV: space-separated KEY=VALUE for the JVM; ARGS: Check.java options). A namenode ConfigMap is
checked once per namenode pod, as that pod sees it (POD_NAME set, ${env.*} dependencies filled in
from the ConfigMaps the kubelet would read).

The expectations do not come from the configuration files: pod FQDNs are built from the rendered
StatefulSets (name, serviceName, namespace, replicas) and the Cluster's clusterDomain, ports from
their containerPorts, the ZooKeeper servers from the StatefulSet of the Cluster the hdfs
dependency points at. A problem found here (a ConfigMap not mounted at HADOOP_CONF_DIR, a
dependency ConfigMap that is not there) is printed as a check with NAME starting with `!`.
"""
import os
import sys

import yaml

inp, stream, outdir = sys.argv[1:4]
clusters = [d for d in yaml.safe_load_all(open(inp)) if isinstance(d, dict) and d.get("kind") == "Cluster"]
objs = [d for d in yaml.safe_load_all(open(stream)) if isinstance(d, dict)]


def md(o):
    return o.get("metadata") or {}


def labels(o):
    return md(o).get("labels") or {}


def ns_of(o):
    return md(o).get("namespace") or "default"


domains = {(c["metadata"].get("namespace") or "default", c["metadata"]["name"]): c["spec"].get("clusterDomain", "cluster.local")
           for c in clusters}
specs = {(c["metadata"].get("namespace") or "default", c["metadata"]["name"]): c["spec"] for c in clusters}


def sts(ns, cluster, service, role):
    for o in objs:
        l = labels(o)
        if (o.get("kind") == "StatefulSet" and ns_of(o) == ns and l.get("kubebdp.github.io/cluster") == cluster
                and l.get("kubebdp.github.io/service") == service and l.get("kubebdp.github.io/role") == role):
            return o
    return None


def containers(o):
    ps = o["spec"]["template"]["spec"]
    return ps.get("containers", []), ps.get("initContainers", [])


def port(o, container, name):
    for c in containers(o)[0]:
        if c["name"] == container:
            for p in c.get("ports") or []:
                if p.get("name") == name:
                    return p["containerPort"]
    raise SystemExit(f"{md(o)['name']}: container {container} has no port {name}")


def pods(o, container, portname):
    ns, cl = ns_of(o), labels(o)["kubebdp.github.io/cluster"]
    dom = domains.get((ns, cl), "cluster.local")
    p = port(o, container, portname)
    name, svc = md(o)["name"], o["spec"]["serviceName"]
    return [f"{name}-{i}.{svc}.{ns}.svc.{dom}:{p}" for i in range(int(o["spec"]["replicas"]))]


def configmap(ns, name):
    return next((o for o in objs if o.get("kind") == "ConfigMap" and ns_of(o) == ns and md(o)["name"] == name), None)


def emit(name, d, env, args):
    print("|".join([name, d, " ".join(f"{k}={v}" for k, v in sorted(env.items())), " ".join(args)]))


def problem(name, why):
    print("|".join(["!" + name, why, "", ""]))


def write(cm, keys, sub):
    d = os.path.join(outdir, sub)
    os.makedirs(d, exist_ok=True)
    for k in keys:
        with open(os.path.join(d, k), "w") as f:
            f.write(cm["data"][k])
    return d


for cm in objs:
    data = (cm.get("data") or {}) if cm.get("kind") == "ConfigMap" else {}
    if not ("core-site.xml" in data and "hdfs-site.xml" in data):
        continue
    l, ns, cmname = labels(cm), ns_of(cm), md(cm)["name"]
    if l.get("kubebdp.github.io/service") != "hdfs":
        continue
    cl = l["kubebdp.github.io/cluster"]
    nn = sts(ns, cl, "hdfs", "namenode")
    if nn is None:
        problem(cmname, "no namenode StatefulSet for this hdfs ConfigMap")
        continue
    base = ["--namenodes", ",".join(pods(nn, "namenode", "rpc")), "--http", ",".join(pods(nn, "namenode", "http"))]
    role = l.get("kubebdp.github.io/role")
    if role != "namenode":
        what = f"{role} configuration" if role else "client configuration (discovery ConfigMap)"
        extra = []
        if role == "journalnode":  # the JournalNodeSyncer's peers: every journalnode pod
            jn = sts(ns, cl, "hdfs", "journalnode")
            extra = ["--journal-peers", ",".join(pods(jn, "journalnode", "rpc"))]
        emit(f"{cmname}: {what}", write(cm, ["core-site.xml", "hdfs-site.xml"], cmname), {}, base + extra)
        continue

    # the namenode ConfigMap, as each namenode pod sees it
    main = next(c for c in containers(nn)[0] if c["name"] == "namenode")
    # ha.zookeeper.quorum is read by the failover controller: take the environment it runs in
    zkfc = next((c for c in containers(nn)[0] if c["name"] == "zkfc"), main)
    env = {e["name"]: e for e in zkfc.get("env") or []}
    conf_dir = (env.get("HADOOP_CONF_DIR") or {}).get("value")
    vols = {v["name"]: v for v in nn["spec"]["template"]["spec"].get("volumes") or []}
    mount = next((m for m in main.get("volumeMounts") or [] if m["mountPath"] == conf_dir), None)
    vol = vols.get(mount["name"]) if mount else None
    if not (vol and (vol.get("configMap") or {}).get("name") == cmname):
        problem(cmname, f"HADOOP_CONF_DIR={conf_dir} is not where ConfigMap {cmname} is mounted")
        continue
    paths = {it["key"]: os.path.join(conf_dir, it["path"]) for it in vol["configMap"].get("items") or []}
    d = write(cm, [k for k in ("core-site.xml", "hdfs-site.xml", "dfs.exclude") if k in data], cmname)
    jvm_env = {}
    missing = False
    for k, e in env.items():  # dependencies read at runtime: what the kubelet would put there
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            src = configmap(ns, ref["name"])
            if src is None or ref["key"] not in (src.get("data") or {}):
                problem(cmname, f"env {k} reads ConfigMap {ref['name']} key {ref['key']}, which is not among the rendered objects")
                missing = True
            else:
                jvm_env[k] = src["data"][ref["key"]]
    if missing:
        continue
    args = list(base)
    replicas = int(nn["spec"]["replicas"])
    if replicas > 1:
        jn = sts(ns, cl, "hdfs", "journalnode")
        args += ["--journalnodes", ",".join(pods(jn, "journalnode", "rpc")) if jn else "none"]
        dep = ((specs.get((ns, cl)) or {}).get("services", {}).get("hdfs") or {}).get("dependencies", {}).get("zookeeper") or {}
        if dep.get("configMap"):  # the ConfigMap is some Cluster's discovery ConfigMap: follow it
            src = configmap(ns, dep["configMap"]["name"])
            zk_cluster, zk_ns = labels(src).get("kubebdp.github.io/cluster"), ns
        else:
            zk_cluster, zk_ns = dep.get("cluster", cl), dep.get("namespace", ns)
        zk = sts(zk_ns, zk_cluster, "zookeeper", "server")
        if zk is None:
            problem(cmname, f"no ZooKeeper StatefulSet in Cluster {zk_ns}/{zk_cluster}, where the zookeeper dependency points")
            continue
        args += ["--zookeeper", ",".join(pods(zk, "zookeeper", "client"))]
    if "dfs.exclude" in paths:
        args += ["--exclude", os.path.join(d, "dfs.exclude"), "--exclude-at", paths["dfs.exclude"]]
    for i in range(replicas):
        pod = f"{md(nn)['name']}-{i}"
        emit(f"{cmname}: namenode configuration as pod {pod} sees it", d, {**jvm_env, "POD_NAME": pod}, args + ["--pod", pod])
