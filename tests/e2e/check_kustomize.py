#!/usr/bin/env python3
"""check_kustomize.py -- a rendered output directory builds with kustomize, into valid objects,
and into the same objects as the rendered stream.

Proves: `kubectl kustomize DIR` (kustomize embedded in kubectl, offline) builds the directory
(every resource listed exists, every generator input is there); the built stream passes the strict
schema check (check_k8s_schema.py) for each -k version; and, with --stream FILE, the build holds
exactly the objects of FILE -- the same set of kind/namespace/name, and each with the same content
-- so `bdp render X` and `bdp render X -o DIR` cannot drift apart.
Usage: check_kustomize.py [-k 1.30]... [--stream FILE] [--kubectl PATH] DIR
Prints PASS/FAIL; exit 0/1.
"""
import argparse, os, shutil, subprocess, sys, tempfile
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser(description="kustomize build + strict schema + same objects as the stream")
ap.add_argument("-k", "--k8s-version", action="append", default=[])
ap.add_argument("--stream", help="the `bdp render` stream the directory must equal")
ap.add_argument("--kubectl", default=os.environ.get("KUBECTL") or shutil.which("kubectl") or "kubectl")
ap.add_argument("dir")
a = ap.parse_args()

r = subprocess.run([a.kubectl, "kustomize", a.dir], capture_output=True, text=True, timeout=120)
if r.returncode != 0:
    print(f"FAIL: kubectl kustomize {a.dir}: {r.stderr.strip()[-600:]}"); sys.exit(1)
built = [d for d in yaml.safe_load_all(r.stdout) if isinstance(d, dict)]
if not built:
    print(f"FAIL: kubectl kustomize {a.dir} built no objects"); sys.exit(1)
print(f"kustomize built {len(built)} objects")
ok = True

with tempfile.NamedTemporaryFile("w", suffix=".yaml") as tf:
    tf.write(r.stdout); tf.flush()
    for v in a.k8s_version:
        s = subprocess.run([sys.executable, os.path.join(HERE, "check_k8s_schema.py"), "-q", "-k", v, tf.name],
                           capture_output=True, text=True)
        print("  " + "\n  ".join(s.stdout.strip().splitlines()[-6:]))
        ok &= s.returncode == 0


def ident(o):
    md = o.get("metadata") or {}
    return (o.get("kind"), md.get("namespace") or "", md.get("name"))


def first_diff(x, y, path=""):
    if type(x) is not type(y):
        return f"{path or '/'}: {x!r:.60} vs {y!r:.60}"
    if isinstance(x, dict):
        for k in sorted(set(x) | set(y), key=str):
            if k not in x or k not in y:
                return f"{path}/{k}: only in the {'stream' if k in y else 'kustomize build'}"
            d = first_diff(x[k], y[k], f"{path}/{k}")
            if d: return d
        return None
    if isinstance(x, list):
        if len(x) != len(y):
            return f"{path}: {len(x)} vs {len(y)} items"
        for i, (p, q) in enumerate(zip(x, y)):
            d = first_diff(p, q, f"{path}/{i}")
            if d: return d
        return None
    return None if x == y else f"{path}: {x!r:.60} (built) vs {y!r:.60} (stream)"


if a.stream:
    with open(a.stream) as fh:
        stream = [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]
    b = {ident(o): o for o in built}
    s = {ident(o): o for o in stream}
    if len(b) != len(built) or len(s) != len(stream):
        print(f"FAIL: duplicate kind/namespace/name: {len(built) - len(b)} in the build, {len(stream) - len(s)} in the stream"); ok = False
    for k in sorted(set(s) - set(b), key=str):
        print(f"  FAIL in the stream, not built from the directory: {'/'.join(x or '-' for x in k)}"); ok = False
    for k in sorted(set(b) - set(s), key=str):
        print(f"  FAIL built from the directory, not in the stream: {'/'.join(x or '-' for x in k)}"); ok = False
    for k in sorted(set(b) & set(s), key=str):
        d = first_diff(b[k], s[k])
        if d:
            print(f"  FAIL {'/'.join(x or '-' for x in k)} differs: {d}"); ok = False
    if ok:
        print(f"  same {len(s)} objects (kind/namespace/name and content) as {a.stream}")
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
