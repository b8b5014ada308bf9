#!/usr/bin/env bash
# prom_check.sh RULES [TEST_FILE...] -- rendered alert rules load in Prometheus' own promtool, lint
# clean, and pass their unit tests.
# Proves: `promtool check rules --lint=all --lint-fatal` accepts the rules (PromQL parses, no
# duplicate rules -- those only fail with --lint-fatal), and `promtool test rules` passes each test
# file (its rule_files are pointed at the rules checked here). RULES is a plain rule file or a
# PrometheusRule manifest (its .spec is unwrapped: promtool cannot read the CRD). PASS/FAIL, 0/1.
# Needs: tests/e2e/install.sh --only prom (Debian prometheus; only promtool is used, no server).
set -u
. "$(dirname "$0")/env.sh"
RULES=${1:?usage: prom_check.sh RULES [TEST_FILE...]}; shift
command -v promtool >/dev/null || { echo "FAIL: promtool not installed (tests/e2e/install.sh --only prom)"; exit 1; }
W=$(mktemp -d /tmp/bdp-e2e-prom.XXXXXX); trap 'rm -rf "$W"' EXIT
"$E2E_PY" - "$RULES" "$W/rules.yaml" <<'PY' || { echo "FAIL: no rule groups in $RULES"; exit 1; }
import sys, yaml
groups = []
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not isinstance(d, dict): continue
    if d.get("kind") == "PrometheusRule": groups += (d.get("spec") or {}).get("groups") or []
    elif "groups" in d: groups += d["groups"] or []
if not groups: sys.exit(1)
yaml.safe_dump({"groups": groups}, open(sys.argv[2], "w"), sort_keys=False)
PY
promtool check rules --lint=all --lint-fatal "$W/rules.yaml" || { echo "FAIL: promtool check rules"; exit 1; }
for t in "$@"; do
  "$E2E_PY" - "$t" "$W/rules.yaml" "$W/test-$(basename "$t")" <<'PY' || { echo "FAIL: cannot read test file $t"; exit 1; }
import sys, yaml
t = yaml.safe_load(open(sys.argv[1])); t["rule_files"] = [sys.argv[2]]
yaml.safe_dump(t, open(sys.argv[3], "w"), sort_keys=False)
PY
  promtool test rules "$W/test-$(basename "$t")" || { echo "FAIL: promtool test rules $t"; exit 1; }
done
echo PASS
