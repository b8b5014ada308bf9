#!/usr/bin/env python3
"""extract.py STREAM OUT_DIR -- pull out of a rendered `bdp render` stream what the Kerberos e2e
test runs for real, and write it under OUT_DIR as plain files plus plan.json:

  kdc/          the KDC role's ConfigMap files (kdc.conf, kadm5.acl, krb5.conf), if a KDC is rendered
  kdc.json      its bootstrap init container (script, literal env, Secret refs) and the argv and
                env of its long-running containers
  krb5.conf     the client krb5.conf the kerberos service publishes (discovery ConfigMap)
  pods/<sts>/   for every StatefulSet with an init container named `keytab`: the files of the
                ConfigMaps its pods mount (e.g. core-site.xml, hdfs-site.xml)
  plan.json     {discovery, kdc: bool, kdc_statefulsets: [...], keytab: [{sts, role, service,
                replicas, pod_domain, image, script, env, secrets, mounts, files}]}

Nothing is adapted here: the files are written exactly as rendered. Exit 1 if the stream has no
kerberos discovery ConfigMap (nothing to test).
"""
import json, os, sys
import yaml

stream, out = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(stream)) if isinstance(d, dict)]
cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
stss = [d for d in docs if d.get("kind") == "StatefulSet"]


def labels(o):
    return o["metadata"].get("labels") or {}


def container_env(c):
    """literal env, Secret refs and field refs of a container"""
    lit, sec, field = {}, {}, {}
    for e in c.get("env") or []:
        vf = e.get("valueFrom")
        if vf is None:
            lit[e["name"]] = e.get("value", "")
        elif "secretKeyRef" in vf:
            sec[e["name"]] = [vf["secretKeyRef"]["name"], vf["secretKeyRef"]["key"]]
        elif "fieldRef" in vf:
            field[e["name"]] = vf["fieldRef"]["fieldPath"]
        else:
            sys.exit(f"extract.py: {c['name']}: env {e['name']} comes from {list(vf)}, which this test cannot supply")
    return lit, sec, field


def secret_mounts(pod, c):
    """Secret volumes mounted in container c: [{secret, mountPath, items}]"""
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    out = []
    for m in c.get("volumeMounts") or []:
        v = vols.get(m["name"], {})
        if "secret" in v:
            items = v["secret"].get("items")
            out.append({"secret": v["secret"]["secretName"], "mountPath": m["mountPath"],
                        "items": [it["key"] for it in items] if items else None})
    return out


def shell_script(c):
    cmd = (c.get("command") or []) + (c.get("args") or [])
    if len(cmd) != 3 or cmd[0] not in ("sh", "bash", "/bin/sh", "/bin/bash") or cmd[1] not in ("-c", "-ec"):
        sys.exit(f"extract.py: container {c['name']}: expected [sh, -c, SCRIPT], got {cmd[:2]}")
    return cmd[0], cmd[1], cmd[2]


def mounted_files(pod, dest):
    """files of the ConfigMaps mounted by the pod: {mountPath/file: content}, written under dest"""
    files, vols = {}, {v["name"]: v for v in pod.get("volumes") or []}
    mounts = {}
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        for m in c.get("volumeMounts") or []:
            mounts[m["name"]] = m["mountPath"]
    for name, v in vols.items():
        if "configMap" not in v or name not in mounts:
            continue
        cm = cms.get(v["configMap"]["name"])
        if cm is None:
            continue
        for it in v["configMap"].get("items") or [{"key": k, "path": k} for k in cm.get("data", {})]:
            text = cm["data"][it["key"]]
            files[os.path.join(mounts[name], it["path"])] = text
            os.makedirs(dest, exist_ok=True)
            with open(os.path.join(dest, it["path"]), "w") as f:
                f.write(text)
    return files


disc = [d for d in cms.values() if labels(d).get("kubebdp.github.io/service") == "kerberos" and d["metadata"]["name"].endswith("-discovery")]
if not disc:
    sys.exit("extract.py: no kerberos discovery ConfigMap in the stream")
os.makedirs(out, exist_ok=True)
discovery = disc[0]["data"]
with open(os.path.join(out, "krb5.conf"), "w") as f:
    f.write(discovery["krb5.conf"])

plan = {"discovery": {k: v for k, v in discovery.items() if k != "krb5.conf"}, "kdc": False, "kdc_statefulsets": [], "keytab": []}
for s in stss:
    lab = labels(s)
    pod = s["spec"]["template"]["spec"]
    if lab.get("kubebdp.github.io/service") == "kerberos":
        plan["kdc_statefulsets"].append(s["metadata"]["name"])
        plan["kdc"] = True
        mounted_files(pod, os.path.join(out, "kdc"))
        boot = [c for c in pod.get("initContainers") or [] if c["name"] == "bootstrap"]
        if len(boot) != 1:
            sys.exit("extract.py: the KDC StatefulSet has no init container `bootstrap`")
        shell, flag, script = shell_script(boot[0])
        lit, sec, field = container_env(boot[0])
        daemons = []
        for c in pod["containers"]:
            dl, ds, df = container_env(c)
            if ds or secret_mounts(pod, c):
                sys.exit(f"extract.py: KDC container {c['name']} reads a Secret; only the bootstrap init container may")
            daemons.append({"name": c["name"], "argv": (c.get("command") or []) + (c.get("args") or []), "env": dl,
                            "ports": [[p["containerPort"], p.get("protocol", "TCP")] for p in c.get("ports") or []]})
        with open(os.path.join(out, "kdc.json"), "w") as f:
            json.dump({"sts": s["metadata"]["name"], "bootstrap": {"shell": shell, "flag": flag, "script": script, "env": lit, "secrets": sec, "fields": field,
                                                                  "mounts": secret_mounts(pod, boot[0])},
                       "daemons": daemons, "sysctls": (pod.get("securityContext") or {}).get("sysctls") or []}, f, indent=1)
        continue
    kt = [c for c in pod.get("initContainers") or [] if c["name"] == "keytab"]
    if not kt:
        continue
    shell, flag, script = shell_script(kt[0])
    lit, sec, field = container_env(kt[0])
    name = s["metadata"]["name"]
    files = mounted_files(pod, os.path.join(out, "pods", name))
    later = [c["name"] for c in pod.get("initContainers") or []]
    plan["keytab"].append({
        "sts": name, "role": lab.get("kubebdp.github.io/role"), "service": lab.get("kubebdp.github.io/service"),
        "replicas": s["spec"].get("replicas", 1), "namespace": s["metadata"]["namespace"],
        "pod_domain": f'{s["spec"]["serviceName"]}.{s["metadata"]["namespace"]}.svc',
        "image": kt[0].get("image"), "shell": shell, "flag": flag, "script": script, "env": lit, "secrets": sec, "fields": field,
        "mounts": secret_mounts(pod, kt[0]),
        "daemon_secret_mounts": [m for c in pod["containers"] for m in secret_mounts(pod, c)],
        "init_order": later, "files": sorted(files),
        "containers": [c["name"] for c in pod["containers"]],
    })
with open(os.path.join(out, "plan.json"), "w") as f:
    json.dump(plan, f, indent=1)
print(json.dumps({"kdc": plan["kdc"], "keytab": [k["sts"] for k in plan["keytab"]]}))
