#!/usr/bin/env python3
"""check_checkov.py -- no failed checkov security check, no silent pass, no skip without a reason.

Proves, for a directory of rendered manifests: checkov's kubernetes framework (run fully offline:
--skip-download, BC_SKIP_MAPPING) reports 0 failed checks, AND it really looked at the objects:
  * checkov exits 0 with 0 resources on YAML it cannot parse, so: resource_count > 0,
    parsing_errors == 0, and every object of a kind checkov has checks for (its own registry,
    e.g. StatefulSet, Service, ConfigMap) appears in its results;
  * every skip carries a reason: each `checkov.io/skipN` annotation (object or pod template) reads
    `CKV_..=<non-empty reason>`, and every skipped check in the report has a suppress comment.
With --each, every immediate subdirectory is one unit (one checkov run for all of them, which is
much faster than one run per unit) and gets its own line `ok   NAME` / `FAIL NAME: reason`.
Run with the checkov venv's python. Usage: check_checkov.py [--each] DIR [-- extra checkov args]
Exit 0 (PASS) or 1 (FAIL).
"""
import argparse, glob, json, os, re, subprocess, sys
import yaml

ap = argparse.ArgumentParser(description="checkov, offline, with guards against silent passes")
ap.add_argument("--each", action="store_true", help="report each immediate subdirectory separately")
ap.add_argument("dir")
ap.add_argument("extra", nargs="*", help="extra checkov arguments (after --)")
a = ap.parse_args()
root = os.path.abspath(a.dir)
CHECKOV_BIN = os.path.join(os.path.dirname(sys.executable), "checkov")

from checkov.kubernetes.checks.resource.registry import registry  # noqa: E402  (the kinds checkov checks)
import checkov.kubernetes.checks.resource  # noqa: E402,F401  registers them
CHECKED_KINDS = set(registry.checks) | set(getattr(registry, "wildcard_checks", {}) or {})

units = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))) if a.each else ["."]
if not units:
    print(f"FAIL: no subdirectories in {root}"); sys.exit(1)
problems = {u: [] for u in units}
def unit_of(path):  # an absolute path, or checkov's file_path ("/sub/file.yaml", relative to -d)
    if not path.startswith(root + os.sep):
        path = os.path.join(root, path.lstrip("/"))
    return os.path.relpath(path, root).split(os.sep)[0] if a.each else "."

# what is there: objects (by checkov's resource id Kind.namespace.name) and skip annotations
SKIP_KEY = re.compile(r"^checkov\.io/skip\d+$")
SKIP_VAL = re.compile(r"^\s*(CKV2?_[A-Z0-9]+_\d+)\s*=\s*(\S.*)$")
expected = {u: set() for u in units}
for f in sorted(glob.glob(os.path.join(root, "**", "*.y*ml"), recursive=True)):
    u = unit_of(f)
    if u not in problems:
        continue
    try:
        docs = [d for d in yaml.safe_load_all(open(f)) if isinstance(d, dict)]
    except yaml.YAMLError as e:
        problems[u].append(f"{os.path.relpath(f, root)}: YAML parse error: {str(e).splitlines()[0]}"); continue
    for d in docs:
        kind, md = d.get("kind"), d.get("metadata") or {}
        if str(d.get("apiVersion", "")).startswith("kustomize.config.k8s.io"):
            continue
        if kind in CHECKED_KINDS:
            expected[u].add(f"{kind}.{md.get('namespace') or 'default'}.{md.get('name')}")
        tmpl = ((d.get("spec") or {}).get("template") or {}).get("metadata") or {}
        for where, m in (("", md), (" pod template", tmpl)):
            for k, v in (m.get("annotations") or {}).items():
                if SKIP_KEY.match(k) and not SKIP_VAL.match(str(v)):
                    problems[u].append(f"{kind}/{md.get('name')}{where}: annotation {k}: {v!r} has no reason after '='")

env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false", LOG_LEVEL="WARNING")
r = subprocess.run([CHECKOV_BIN, "-d", root, "--framework", "kubernetes", "--skip-download", "-o", "json", *a.extra],
                   capture_output=True, text=True, env=env, timeout=600)
try:
    rep = json.loads(r.stdout) if r.stdout.strip() else {}
except json.JSONDecodeError:
    print(f"FAIL: checkov printed no JSON (rc {r.returncode}): {r.stderr.strip()[-400:]}"); sys.exit(1)
if isinstance(rep, list):  # several frameworks -> a list of reports
    rep = next((x for x in rep if x.get("check_type") == "kubernetes"), {})
summary = rep.get("summary") or rep  # an empty scan prints a bare summary
results = rep.get("results") or {}
seen = {u: set() for u in units}
for kind in ("passed_checks", "failed_checks", "skipped_checks"):
    for c in results.get(kind) or []:
        u = unit_of(c.get("file_abs_path") or c.get("file_path", ""))
        if u not in problems:
            continue
        seen[u].add(c.get("resource"))
        if kind == "failed_checks":
            problems[u].append(f"failed {c['check_id']} ({c.get('check_name')}) on {c.get('resource')} in {c.get('file_path')}")
        if kind == "skipped_checks" and not str((c.get("check_result") or {}).get("suppress_comment") or "").strip():
            problems[u].append(f"skipped {c['check_id']} on {c.get('resource')} without a reason")
for e in results.get("parsing_errors") or []:
    problems.setdefault(unit_of(e), problems[units[0]]).append(f"checkov could not parse {e}")
for u in units:
    if not expected[u] and not a.each:
        problems[u].append("no object of a kind checkov checks")
    for res in sorted(expected[u] - seen[u]):
        problems[u].append(f"checkov did not check {res} (unparsed or ignored?)")
if not summary.get("resource_count"):
    problems[units[0]].append(f"checkov saw 0 resources (rc {r.returncode}): {r.stderr.strip()[-300:]}")
if summary.get("parsing_errors"):
    problems[units[0]].append(f"checkov reports {summary['parsing_errors']} parsing error(s)")

print(f"checkov {summary.get('checkov_version', '?')}: resources={summary.get('resource_count', 0)} passed={summary.get('passed', 0)} "
      f"failed={summary.get('failed', 0)} skipped={summary.get('skipped', 0)} parsing_errors={summary.get('parsing_errors', 0)}")
for u in units:
    for p in problems[u]:
        print(f"  {u if a.each else ''}{': ' if a.each else ''}{p}")
    if a.each:
        print(f"{'ok  ' if not problems[u] else 'FAIL'} {u}" + (f": {problems[u][0]}" if problems[u] else ""))
bad = any(problems.values())
print("FAIL" if bad else "PASS")
sys.exit(1 if bad else 0)
