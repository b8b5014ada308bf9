#!/usr/bin/env python3
"""check_k8s_schema.py -- every object is valid for a given Kubernetes version, strictly.

Proves: each document of the given files (or of every *.yaml/*.yml under a directory, or stdin
`-`) validates against the official OpenAPI schema of that Kubernetes version, as shipped offline
by kubernetes-validate, with unknown fields rejected. Unlike the kubernetes-validate CLI, which
only warns (exit 0) on an apiVersion/kind it has no schema for, an unknown kind FAILS here unless
it is allowed explicitly with --allow-kind apiVersion/Kind (for CRD instances). YAML parse errors
and documents without apiVersion/kind fail too. A kustomization.yaml is not a Kubernetes object
and is skipped when a directory is given. Duplicate keys are NOT caught here (PyYAML keeps the
last one): yamllint does that.
Usage: check_k8s_schema.py -k 1.30 [--allow-kind API/Kind]... FILE|DIR|-...
Prints one line per object, then PASS/FAIL with counts; exit 0/1.
"""
import argparse, glob, os, sys
import yaml
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, VersionNotSupportedError

ap = argparse.ArgumentParser(description="strict offline Kubernetes schema check")
ap.add_argument("-k", "--k8s-version", required=True, help="e.g. 1.30 or 1.30.0")
ap.add_argument("--allow-kind", action="append", default=[], metavar="API/KIND",
                help="apiVersion/Kind without a shipped schema to accept (CRDs), e.g. monitoring.coreos.com/v1/PrometheusRule")
ap.add_argument("-q", "--quiet", action="store_true", help="print only failures and the summary")
ap.add_argument("paths", nargs="+")
a = ap.parse_args()

minor = ".".join(a.k8s_version.split(".")[:2])
shipped = sorted(set(kubernetes_validate.utils.all_versions()), key=lambda v: [int(x) for x in v.split(".")])
full = [v for v in shipped if v.startswith(minor + ".")]
if not full:
    print(f"FAIL: Kubernetes {a.k8s_version} is not shipped by kubernetes-validate (have {shipped[0]}..{shipped[-1]})")
    sys.exit(1)
version = a.k8s_version if a.k8s_version in full else full[-1]

files = []
for p in a.paths:
    if os.path.isdir(p):
        found = sorted(glob.glob(os.path.join(p, "**", "*.y*ml"), recursive=True))
        files += [f for f in found if os.path.basename(f) not in ("kustomization.yaml", "kustomization.yml")]
    else:
        files.append(p)
if not files:
    print("FAIL: no YAML files given"); sys.exit(1)

ok = bad = 0
def fail(msg):
    global bad
    bad += 1; print(f"FAIL {msg}")

for f in files:
    try:
        with (sys.stdin if f == "-" else open(f)) as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        fail(f"{f}: cannot read YAML: {e}"); continue
    while docs:
        d = docs.pop(0)
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind"):
            fail(f"{f}: a document without apiVersion/kind: {str(d)[:80]}"); continue
        if d["kind"] == "List" and d["apiVersion"] == "v1":
            docs = list(d.get("items") or []) + docs; continue
        name = f"{d['kind']}/{(d.get('metadata') or {}).get('name', '?')}"
        try:
            kubernetes_validate.validate(d, version, strict=True)
            ok += 1
            if not a.quiet:
                print(f"ok   {f}: {name}")
        except kubernetes_validate.ValidationError as e:
            fail(f"{f}: {name}: {'.'.join(str(x) for x in e.path) or '(root)'}: {e.message}")
        except SchemaNotFoundError:
            if f"{d['apiVersion']}/{d['kind']}" in a.allow_kind:
                ok += 1; print(f"skip {f}: {name}: {d['apiVersion']} {d['kind']} allowed without a schema")
            else:
                fail(f"{f}: {name}: Kubernetes {version} has no {d['apiVersion']} {d['kind']} (a typo, a removed API, or a CRD to --allow-kind)")
        except VersionNotSupportedError:
            fail(f"{f}: {name}: Kubernetes {version} not supported by kubernetes-validate")
total = ok + bad
if total == 0:
    print("FAIL: no objects found"); sys.exit(1)
print(f"{'PASS' if not bad else 'FAIL'}: {ok} of {total} objects valid for Kubernetes {version} (strict)")
sys.exit(1 if bad else 0)
