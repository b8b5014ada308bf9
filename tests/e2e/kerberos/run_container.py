#!/usr/bin/env python3
"""run_container.py JSON PATH [--set NAME=VALUE]... [--secrets FILE] [--root DIR] [--bg LOGFILE]

Runs one rendered container's command on this host, the way the kubelet would start it, with the
container's rendered environment: literal values as rendered, values from Secrets (secretKeyRef)
looked up in --secrets (a JSON map "secret/key" -> value, i.e. the Secrets the user creates),
and Downward API fields (POD_NAME ...) and host adaptations (paths, loopback config) from --set.
Secret volumes mounted in the container are written as files under --root (each key a file, as
the kubelet does), and a rendered env value that points into such a mount is moved under --root.
Every --set that replaces a rendered value is printed, so the adaptation is visible. A Secret
reference missing from --secrets, or a fieldRef without a --set, is an error.

JSON PATH selects the container description written by extract.py: `kdc.json bootstrap`,
`kdc.json daemon:kdc`, `plan.json keytab:<statefulset>`.
The command is the rendered argv ([sh, -c, SCRIPT] for init containers). Without --bg it runs in
the foreground and exits with its exit code; with --bg it is started in the background, its
output going to LOGFILE, and its PID is printed on stdout.
"""
import argparse, json, os, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("json")
ap.add_argument("path")
ap.add_argument("--set", action="append", default=[])
ap.add_argument("--secrets")
ap.add_argument("--root")
ap.add_argument("--bg")
a = ap.parse_args()

doc = json.load(open(a.json))
kind, _, name = a.path.partition(":")
if kind == "bootstrap":
    c = doc["bootstrap"]
    argv = [c["shell"], c["flag"], c["script"]]
    lit, sec, fields = c["env"], c["secrets"], c["fields"]
elif kind == "daemon":
    c = next(d for d in doc["daemons"] if d["name"] == name)
    argv, lit, sec, fields = c["argv"], c["env"], {}, {}
elif kind == "keytab":
    c = next(k for k in doc["keytab"] if k["sts"] == name)
    argv = [c["shell"], c["flag"], c["script"]]
    lit, sec, fields = c["env"], c["secrets"], c["fields"]
else:
    sys.exit(f"run_container.py: unknown path {a.path}")

sets = dict(s.split("=", 1) for s in a.set)
secrets = json.load(open(a.secrets)) if a.secrets else {}
mounts = c.get("mounts") or []
if mounts and not a.root:
    sys.exit("run_container.py: the container mounts Secrets; give --root DIR")
for m in mounts:
    keys = m["items"] or sorted(k.split("/", 1)[1] for k in secrets if k.startswith(m["secret"] + "/"))
    d = a.root + m["mountPath"]
    os.makedirs(d, exist_ok=True)
    for key in keys:
        if f"{m['secret']}/{key}" not in secrets:
            sys.exit(f"run_container.py: Secret {m['secret']} key {key} (mounted at {m['mountPath']}) is not provided")
        with open(os.path.join(d, key), "w") as f:
            f.write(secrets[f"{m['secret']}/{key}"])
    for k, v in lit.items():
        if k not in sets and (v == m["mountPath"] or v.startswith(m["mountPath"] + "/")):
            sets[k] = a.root + v
env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin", "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp")}
for k, v in lit.items():
    if k in sets and sets[k] != v:
        print(f"  adapt env {k}: {v!r} -> {sets[k]!r}", file=sys.stderr)
    env[k] = sets.get(k, v)
for k, (sname, skey) in sec.items():
    ref = f"{sname}/{skey}"
    if ref not in secrets:
        sys.exit(f"run_container.py: {k} reads Secret {ref}, which the test does not provide")
    env[k] = secrets[ref]
for k, path in fields.items():
    if k not in sets:
        sys.exit(f"run_container.py: {k} comes from {path}; give it with --set {k}=...")
    env[k] = sets[k]
for k, v in sets.items():
    if k not in env:
        env[k] = v
if a.bg:
    log = open(a.bg, "w")
    p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    print(p.pid)
    sys.exit(0)
sys.exit(subprocess.run(argv, env=env).returncode)
