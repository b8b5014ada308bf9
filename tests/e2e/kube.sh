# kube.sh -- start a real etcd + kube-apiserver on loopback; sourced by apiserver.sh and controller.sh.
# kube_start DIR: etcd and kube-apiserver on random free 127.0.0.1 ports, data, certificates
# (self-signed, --cert-dir), service-account keys (openssl) and a static admin token (system:masters)
# in DIR; RBAC and the default admission plugins. Sets ETCD_PID, APISERVER_PID, AP (the port),
# TOKEN, KUBECONFIG (exported, DIR/kubeconfig) and KUBE_SECS (seconds until /readyz answered ok);
# returns 1 when the server is not ready within 300 s (its logs are DIR/etcd.log, DIR/apiserver.log).
# kube_stop: stops both by PID (TERM, then KILL after 10 s). Needs $KUBECTL and $PY set by the caller.
ETCD_PID=; APISERVER_PID=
kube_stop_pid() { # kube_stop_pid PID: TERM, then KILL after 10 s
  local p=$1 i
  kill "$p" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
kube_stop() {
  [ -n "$APISERVER_PID" ] && kube_stop_pid "$APISERVER_PID"
  [ -n "$ETCD_PID" ] && kube_stop_pid "$ETCD_PID"
  APISERVER_PID=; ETCD_PID=
}
kube_start() {
  local W=$1 EC EP t0 _
  read -r EC EP AP < <("$PY" -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
  t0=$(date +%s.%N)
  etcd --name bdp-e2e --data-dir "$W/etcd" \
    --listen-client-urls "http://127.0.0.1:$EC" --advertise-client-urls "http://127.0.0.1:$EC" \
    --listen-peer-urls "http://127.0.0.1:$EP" --initial-advertise-peer-urls "http://127.0.0.1:$EP" \
    --initial-cluster "bdp-e2e=http://127.0.0.1:$EP" --logger zap --log-level warn >"$W/etcd.log" 2>&1 &
  ETCD_PID=$!
  openssl genrsa -out "$W/sa.key" 2048 2>/dev/null && openssl rsa -in "$W/sa.key" -pubout -out "$W/sa.pub" 2>/dev/null || return 1
  TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  echo "$TOKEN,bdp-e2e-admin,bdp-e2e-admin,system:masters" >"$W/tokens.csv"
  "$KUBE_APISERVER" --etcd-servers "http://127.0.0.1:$EC" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$AP" --cert-dir "$W/certs" \
    --endpoint-reconciler-type none \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$W/sa.pub" --service-account-signing-key-file "$W/sa.key" \
    --token-auth-file "$W/tokens.csv" --authorization-mode RBAC \
    --service-cluster-ip-range 10.96.0.0/16 >"$W/apiserver.log" 2>&1 &
  APISERVER_PID=$!
  cat >"$W/kubeconfig" <<K
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "https://127.0.0.1:$AP", certificate-authority: "$W/certs/apiserver.crt"}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]
current-context: e2e
K
  export KUBECONFIG=$W/kubeconfig
  local ready=false
  for _ in $(seq 600); do
    kill -0 "$APISERVER_PID" 2>/dev/null && kill -0 "$ETCD_PID" 2>/dev/null || break
    if [ -s "$W/certs/apiserver.crt" ] && [ "$("$KUBECTL" --request-timeout 60s get --raw /readyz 2>/dev/null)" = ok ]; then ready=true; break; fi
    sleep 0.5
  done
  KUBE_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  $ready
}
