#!/usr/bin/env bash
# controller.sh -- bdp-controller against a real API server (issue 14): etcd + kube-apiserver on
# loopback (tests/e2e/kube.sh, as apiserver.sh), a Cluster of tests/e2e/controller/stacks/hooks.yaml
# (hooks of every trigger) rendered by bdp and created for real. The server runs no kubelet and no
# controller-manager: the test makes the StatefulSets' pods itself and marks them Ready through the
# status subresource, and ends the hooks' Jobs by writing their status (Complete or Failed).
# Checks, counting the Jobs the controller creates:
#   rolesReady       nothing while one pod is not ready; then exactly one Job
#   retry            that Job Failed: a second attempt after the back-off, a Warning Event
#                    HookFailed and the failed attempt in <cluster>-bdp-hooks-status; then Complete:
#                    HookSucceeded, and no third Job
#   fileChanged      the first fingerprint is only recorded; a re-render with another setting
#                    (another app.env) gives exactly one Job
#   podRecreated     a pod deleted and made again (new UID) gives exactly one Job once Ready
#   replicasChanged  2 -> 3 replicas gives exactly one Job once the third pod is Ready, and no
#                    podRecreated Job (a scale-up re-creates nothing)
#   restart          SIGTERM: exit 0 within 10 s, Lease released; a new process re-runs nothing
#   two replicas     two processes: one holds the Lease; a file change gives exactly one Job; the
#                    leader killed (SIGKILL), the other takes over after the Lease expires and runs
#                    the next change's hook exactly once
#   memory           the controller's RSS at rest, printed
# Prints `ok NAME` / `NOT OK NAME` per check and `N passed, M failed` last; exits 1 on a failure.
# Every process it starts is stopped by PID on exit. Needs: tests/e2e/install.sh --only apiserver
# (etcd, kube-apiserver, kubectl). BDP=/path/to/bdp and CONTROLLER=/path/to/bdp-controller skip the
# (debug) cargo build.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
cd "$ROOT"
. "$E2E/env.sh"
PY=$(e2e_any_python)
W=$(mktemp -d /tmp/bdp-e2e-controller.XXXXXX)
. "$E2E/kube.sh"
CTRL_PIDS=()
cleanup() {
  local p
  for p in "${CTRL_PIDS[@]}"; do kube_stop_pid "$p"; done
  kube_stop
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
notok() { fail=$((fail+1)); echo "NOT OK $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2" | head -${TAIL:-15}; }
check() { if eval "$2"; then ok "$1"; else notok "$1" "${3:-}"; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if [ -z "${BDP:-}" ] || [ -z "${CONTROLLER:-}" ]; then
  cargo build --quiet -p bdp -p bdp-controller 2>"$W/build.err" || { notok build "$(cat "$W/build.err")"; finish; }
  BDP=${BDP:-$ROOT/target/debug/bdp}; CONTROLLER=${CONTROLLER:-$ROOT/target/debug/bdp-controller}
fi
KUBECTL=$(e2e_kubectl) || { notok "kubectl installed" "tests/e2e/install.sh --only kubectl"; finish; }
command -v etcd >/dev/null || { notok "etcd installed" "tests/e2e/install.sh --only apiserver"; finish; }
[ -x "$KUBE_APISERVER" ] || { notok "kube-apiserver built ($KUBE_APISERVER)" "tests/e2e/install.sh --only apiserver"; finish; }
k() { "$KUBECTL" --request-timeout 60s "$@"; }

if kube_start "$W"; then ok "etcd + kube-apiserver ready on 127.0.0.1:$AP in ${KUBE_SECS}s (/readyz)"
else notok "kube-apiserver ready within ${KUBE_SECS}s" "$(tail -5 "$W/etcd.log"; tail -15 "$W/apiserver.log")"; finish; fi

NS=hooks; CL=hk
STACKS=$E2E/controller/stacks
cluster() { # cluster LEVEL REPLICAS_A: the test Cluster
  cat <<Y
apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata: {name: $CL, namespace: $NS}
spec:
  stack: hooks-e2e
  controller: {enabled: true, image: bdp-controller:test}
  services:
    svc:
      level: $1
      roles: {a: {replicas: $2}}
Y
}
# apply LEVEL REPLICAS_A: render the Cluster (spec.controller enabled: no post-sync Job) and
# create/update its objects; the rendered Deployment is left out (this test runs the controller
# as a process: the API server here runs no pods)
apply() {
  cluster "$1" "$2" >"$W/cluster.yaml"
  "$BDP" render --stacks "$STACKS" "$W/cluster.yaml" >"$W/objects.yaml" 2>"$W/render.err" || { cat "$W/render.err"; return 1; }
  "$PY" - "$W/objects.yaml" <<'PY' || return 1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict) and d.get("kind") not in ("Job", "Deployment")]
yaml.safe_dump_all(docs, open(sys.argv[1], "w"), sort_keys=False)
PY
  k apply --server-side --field-manager bdp -f "$W/objects.yaml" >/dev/null
}
k create namespace "$NS" >/dev/null
k create serviceaccount -n "$NS" default >/dev/null # (no controller-manager makes it here)
if r=$(apply info 2 2>&1); then ok "the Cluster's $(grep -c '^kind:' "$W/objects.yaml") objects created (hooks ConfigMap $CL-bdp-hooks: $(k get cm -n $NS $CL-bdp-hooks -o jsonpath='{.data.hooks\.yaml}' | "$PY" -c 'import yaml,sys; print(", ".join(h["id"] + " (" + h["trigger"]["kind"] + ")" for h in yaml.safe_load(sys.stdin)["hooks"]))'))"
else notok "the Cluster's objects created" "$r"; finish; fi

# pod STS ORDINAL: a pod of the StatefulSet as its controller would make it (its template's labels)
pod() {
  local sts=$1 i=$2
  k get sts -n $NS "$sts" -o json | "$PY" -c '
import json, sys
s = json.load(sys.stdin); name = sys.argv[1]
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": s["metadata"]["namespace"], "labels": s["spec"]["template"]["metadata"]["labels"]},
  "spec": {"automountServiceAccountToken": False, "containers": [{"name": "main", "image": "busybox:1.36"}]}}))' "$sts-$i" | k create -f - >/dev/null
}
ready() { # ready POD true|false: the Ready condition, as a kubelet would report it
  k patch pod -n $NS "$1" --subresource=status --type=merge \
    -p "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"$( [ "$2" = true ] && echo True || echo False)\"}]}}" >/dev/null
}
jobs_of() { k get jobs -n $NS -l "kubebdp.github.io/hook=$1,app.kubernetes.io/managed-by=bdp-controller" -o name | wc -l; }
job_names() { k get jobs -n $NS -l "kubebdp.github.io/hook=$1,app.kubernetes.io/managed-by=bdp-controller" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
now_rfc() { date -u +%Y-%m-%dT%H:%M:%SZ; }
end_job() { # end_job NAME Complete|Failed: the Job's status as the Job controller would write it
  local t; t=$(now_rfc)
  if [ "$2" = Complete ]; then
    k patch job -n $NS "$1" --subresource=status --type=merge -p "{\"status\":{\"startTime\":\"$t\",\"completionTime\":\"$t\",\"succeeded\":1,\"conditions\":[{\"type\":\"SuccessCriteriaMet\",\"status\":\"True\",\"lastTransitionTime\":\"$t\"},{\"type\":\"Complete\",\"status\":\"True\",\"lastTransitionTime\":\"$t\"}]}}" >/dev/null
  else
    k patch job -n $NS "$1" --subresource=status --type=merge -p "{\"status\":{\"startTime\":\"$t\",\"failed\":1,\"conditions\":[{\"type\":\"FailureTarget\",\"status\":\"True\",\"reason\":\"BackoffLimitExceeded\",\"lastTransitionTime\":\"$t\"},{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"BackoffLimitExceeded\",\"lastTransitionTime\":\"$t\"}]}}" >/dev/null
  fi
}
wait_jobs() { # wait_jobs HOOK N SECONDS: until N Jobs of HOOK exist (true) or the time is up
  local i
  for i in $(seq $(( $3 * 2 ))); do [ "$(jobs_of "$1")" -ge "$2" ] && return 0; sleep 0.5; done
  return 1
}
record() { k get cm -n $NS $CL-bdp-hooks-status -o jsonpath="{.data.svc\\.$1}"; }
holder() { k get lease -n $NS $CL-bdp-controller -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
start_ctrl() { # start_ctrl ID: one controller process (its PID in CPID), as the rendered ServiceAccount
  KUBECONFIG=$W/ctrl.kubeconfig "$CONTROLLER" --namespace $NS --identity "$1" --interval 2 --lease-seconds 6 >>"$W/ctrl-$1.log" 2>&1 &
  CPID=$!; CTRL_PIDS+=("$CPID")
}
stop_ctrl() { # stop_ctrl PID: SIGTERM; true when it exits 0 within 10 s
  local i rc
  kill -TERM "$1" 2>/dev/null || return 1
  for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$1" 2>/dev/null && return 1
  wait "$1"; rc=$?
  [ "$rc" -eq 0 ]
}

# the controller authenticates as its rendered ServiceAccount: the rendered Role must suffice
if tok=$(k create token -n $NS $CL-bdp-controller 2>&1); then
  sed "s/token: \"$TOKEN\"/token: \"$tok\"/" "$KUBECONFIG" >"$W/ctrl.kubeconfig"
  ok "the controller runs as ServiceAccount $CL-bdp-controller with the rendered Role ($(k get role -n $NS $CL-bdp-controller -o json | "$PY" -c 'import json,sys; print(sum(len(r["verbs"]) * len(r["resources"]) for r in json.load(sys.stdin)["rules"]))') resource verbs)"
else notok "a token of ServiceAccount $CL-bdp-controller" "$tok"; finish; fi

# ---------------------------------------------------------------- rolesReady
start_ctrl one; C1=$CPID
for i in 0 1; do pod $CL-svc-a $i; ready $CL-svc-a-$i true; done
pod $CL-svc-b 0; ready $CL-svc-b-0 false
sleep 5
check "rolesReady: no Job while pod $CL-svc-b-0 is not ready (after 5 s)" '[ "$(jobs_of ready)" -eq 0 ]' "$(cat "$W/ctrl-one.log")"
check "fileChanged: first fingerprint recorded, not run" '[ "$(jobs_of on-file)" -eq 0 ] && record on-file | grep -q "\"handled\":\"[0-9a-f]\{64\}\""' "$(record on-file; tail -5 "$W/ctrl-one.log")"
ready $CL-svc-b-0 true
t0=$(date +%s.%N)
if wait_jobs ready 1 30; then
  ok "rolesReady: exactly one Job $(job_names ready) $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the last pod became ready"
else notok "rolesReady: a Job within 30 s" "$(tail -20 "$W/ctrl-one.log")"; fi
sleep 4
check "rolesReady: still one Job 4 s later (a running hook is not started twice)" '[ "$(jobs_of ready)" -eq 1 ]'

# ---------------------------------------------------------------- a failing hook is retried and reported
J1=$(job_names ready | head -1)
end_job "$J1" Failed
if wait_jobs ready 2 40; then
  ok "retry: Job $J1 Failed -> a second attempt $(job_names ready | grep -v "$J1") after the back-off (10 s)"
else notok "retry: a second attempt within 40 s" "$(record ready; tail -20 "$W/ctrl-one.log")"; fi
check "retry: Warning Event HookFailed on $CL-bdp-hooks" 'k get events -n $NS --field-selector reason=HookFailed,type=Warning -o jsonpath="{.items[*].message}" | grep -q "hook svc.ready attempt 1 failed"' "$(k get events -n $NS)"
check "retry: the status ConfigMap records the failed attempt" 'record ready | "$PY" -c "import json,sys; r=json.load(sys.stdin); h=r[\"history\"]; sys.exit(0 if h[0][\"state\"]==\"failed\" and h[0][\"attempt\"]==1 and r[\"run\"][\"attempt\"]==2 else 1)"' "$(record ready)"
J2=$(job_names ready | grep -v "$J1")
end_job "$J2" Complete
for _ in $(seq 20); do record ready | grep -q '"handled":"ready"' && break; sleep 0.5; done
check "retry: attempt 2 Complete -> recorded succeeded, Event HookSucceeded" 'record ready | grep -q "\"handled\":\"ready\"" && k get events -n $NS --field-selector reason=HookSucceeded -o jsonpath="{.items[*].message}" | grep -q "hook svc.ready (rolesReady) succeeded on attempt 2"' "$(record ready)"
sleep 4
check "retry: no third Job" '[ "$(jobs_of ready)" -eq 2 ]'

# ---------------------------------------------------------------- fileChanged
apply debug 2 || notok "re-render with level=debug"
if wait_jobs on-file 1 30; then ok "fileChanged: app.env changed (level info -> debug): one Job"; else notok "fileChanged: a Job within 30 s" "$(record on-file; tail -10 "$W/ctrl-one.log")"; fi
end_job "$(job_names on-file | head -1)" Complete
sleep 4
check "fileChanged: still one Job (the same fingerprint does not fire again)" '[ "$(jobs_of on-file)" -eq 1 ]'

# ---------------------------------------------------------------- podRecreated
check "podRecreated: nothing before a re-creation" '[ "$(jobs_of recreated)" -eq 0 ]'
k delete pod -n $NS $CL-svc-a-1 --wait=false >/dev/null
pod $CL-svc-a 1; ready $CL-svc-a-1 false
sleep 3
check "podRecreated: no Job while the new pod is not ready" '[ "$(jobs_of recreated)" -eq 0 ]'
ready $CL-svc-a-1 true
if wait_jobs recreated 1 30; then ok "podRecreated: $CL-svc-a-1 re-created (new UID) and ready: one Job"; else notok "podRecreated: a Job within 30 s" "$(record recreated; tail -10 "$W/ctrl-one.log")"; fi
end_job "$(job_names recreated | head -1)" Complete

# ---------------------------------------------------------------- replicasChanged
apply debug 3 || notok "re-render with 3 replicas of a"
pod $CL-svc-a 2; ready $CL-svc-a-2 false
sleep 3
check "replicasChanged: no Job until the third replica is ready" '[ "$(jobs_of scaled)" -eq 0 ]'
ready $CL-svc-a-2 true
if wait_jobs scaled 1 30; then ok "replicasChanged: a 2 -> 3 replicas, all ready: one Job"; else notok "replicasChanged: a Job within 30 s" "$(record scaled; tail -10 "$W/ctrl-one.log")"; fi
end_job "$(job_names scaled | head -1)" Complete
sleep 4
check "replicasChanged: still one Job, and the scale-up fired no podRecreated" '[ "$(jobs_of scaled)" -eq 1 ] && [ "$(jobs_of recreated)" -eq 1 ]'

# ---------------------------------------------------------------- memory at rest, SIGTERM, restart
sleep 3
RSS=$(ps -o rss= -p "$C1" | tr -d ' ')
ok "memory: bdp-controller at rest: RSS ${RSS} KiB ($(awk -v r="$RSS" 'BEGIN { printf "%.1f", r / 1024 }') MiB; $CONTROLLER)"
before="$(for h in ready on-file recreated scaled; do jobs_of $h; done | tr '\n' ' ')"
if stop_ctrl "$C1"; then ok "SIGTERM: exit 0 ($(tail -1 "$W/ctrl-one.log" | cut -d' ' -f2-))"; else notok "SIGTERM: exit 0 within 10 s" "$(tail -5 "$W/ctrl-one.log")"; fi
check "SIGTERM: the Lease is released (no holder)" '[ -z "$(holder)" ]' "holder: $(holder)"
start_ctrl one; C1=$CPID
sleep 8
after="$(for h in ready on-file recreated scaled; do jobs_of $h; done | tr '\n' ' ')"
check "restart: a new process re-runs no completed hook (Jobs per hook before: $before, after 8 s: $after)" '[ "$before" = "$after" ] && grep -q "leading $NS/$CL" "$W/ctrl-one.log"' "$(tail -5 "$W/ctrl-one.log")"

# ---------------------------------------------------------------- two replicas
start_ctrl two; C2=$CPID
sleep 4
h=$(holder)
check "two replicas: one holds the Lease ($h)" '[ "$h" = one ] && ! grep -q "leading" "$W/ctrl-two.log"' "$(cat "$W/ctrl-two.log")"
apply warn 3 || notok "re-render with level=warn"
if wait_jobs on-file 2 30; then sleep 5; check "two replicas: app.env changed: exactly one new Job ($(jobs_of on-file) in all)" '[ "$(jobs_of on-file)" -eq 2 ]'
else notok "two replicas: a Job within 30 s" "$(tail -5 "$W/ctrl-one.log")"; fi
for j in $(job_names on-file); do end_job "$j" Complete 2>/dev/null; done
sleep 3
kill -KILL "$C1"; wait "$C1" 2>/dev/null
apply error 3 || notok "re-render with level=error"
t0=$(date +%s.%N)
if wait_jobs on-file 3 40; then
  took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sleep 5
  check "two replicas: leader killed (SIGKILL); 'two' took the Lease and ran the next change's hook once, ${took} s later" '[ "$(jobs_of on-file)" -eq 3 ] && [ "$(holder)" = two ]' "$(tail -5 "$W/ctrl-two.log")"
else notok "two replicas: 'two' takes over within 40 s" "holder $(holder); $(tail -10 "$W/ctrl-two.log")"; fi
if stop_ctrl "$C2"; then ok "SIGTERM (second replica): exit 0"; else notok "SIGTERM (second replica): exit 0 within 10 s" "$(tail -5 "$W/ctrl-two.log")"; fi

echo "# kube-apiserver ready in ${KUBE_SECS}s; bdp-controller RSS at rest ${RSS:-?} KiB"
finish
