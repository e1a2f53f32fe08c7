#!/usr/bin/env bash
# Checks that a cluster from up.sh behaves as the engine tests need:
#   a long-running Pod (amazon/aws-cli, sleep 3600) becomes Running/Ready,
#   `kubectl exec` and `kubectl logs` reach it through kwok's kubelet server,
#   a Job completes while a Job labelled for the engine's pod runner is left
#   Running (kwok must not complete the pods the runner owns), and a deleted
#   namespace goes away.
#
#   tests/engine/cluster/smoke.sh [STATE_DIR]   (default: $ENGINE_STATE)
set -euo pipefail

STATE="${1:-${ENGINE_STATE:-}}"
[[ -n "$STATE" ]] || { echo "usage: $0 STATE_DIR (or set ENGINE_STATE)" >&2; exit 2; }
KC="$STATE/kubeconfig"
kc() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }
log() { printf '[smoke %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ms() { date +%s%3N; }

NS="smoke-$$"
kc create namespace "$NS" >/dev/null
cleanup() { kc delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
# Pods need the namespace's default ServiceAccount (token volume admission).
for _ in $(seq 1 100); do kc -n "$NS" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.1; done

t=$(ms)
kc -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  containers:
  - name: aws
    image: amazon/aws-cli:latest
    command: ["sleep", "3600"]
EOF
kc -n "$NS" wait --for=condition=Ready pod/sleeper --timeout=60s >/dev/null
phase=$(kc -n "$NS" get pod sleeper -o jsonpath='{.status.phase} {.spec.nodeName} {.status.podIP}')
log "pod Running/Ready in $(( $(ms) - t )) ms ($phase)"

# kubectl exec and logs: apiserver -> kwok's kubelet server, which runs the
# command on this machine with the pod's Exec environment and serves the
# pod's Logs file (CRI format).
t=$(ms)
printf '%s stdout F smoke log line\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >"$STATE/smoke-$$.log"
kc -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Exec
metadata:
  name: sleeper
spec:
  execs:
  - local:
      envs:
      - name: SMOKE
        value: exec-env-ok
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: sleeper
spec:
  logs:
  - containers: [aws]
    logsFile: $STATE/smoke-$$.log
EOF
out=""
for _ in $(seq 1 50); do
  out=$(kc -n "$NS" exec sleeper -- sh -c 'echo "$SMOKE"' 2>&1) && [[ "$out" == exec-env-ok ]] && break
  sleep 0.2
done
[[ "$out" == exec-env-ok ]] || { log "FAIL: kubectl exec through kwok: $out"; exit 1; }
logs=$(kc -n "$NS" logs sleeper 2>&1) || true
[[ "$logs" == "smoke log line" ]] || { log "FAIL: kubectl logs through kwok: $logs"; exit 1; }
rm -f "$STATE/smoke-$$.log"
log "kubectl exec and logs through kwok in $(( $(ms) - t )) ms"

t=$(ms)
kc -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: aws
        image: amazon/aws-cli:latest
        command: ["aws", "sts", "get-caller-identity"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: runner-owned
spec:
  backoffLimit: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/part-of: eks-pod-identity
    spec:
      restartPolicy: Never
      containers:
      - name: aws
        image: amazon/aws-cli:latest
        command: ["aws", "sts", "get-caller-identity"]
EOF
kc -n "$NS" wait --for=condition=Complete job/once --timeout=60s >/dev/null
log "job Complete in $(( $(ms) - t )) ms"
# Both pods went through kwok's stages together; the labelled one must be
# Running (kwok's pod-ready) and not completed (pod-complete excludes it).
kc -n "$NS" wait --for=condition=Ready pod -l job-name=runner-owned --timeout=30s >/dev/null
sleep 1
owned=$(kc -n "$NS" get pods -l job-name=runner-owned -o jsonpath='{.items[*].status.phase}')
[[ "$owned" == Running ]] || { log "FAIL: kwok moved a runner-owned Job pod to '$owned'"; exit 1; }

# The long-running pod must still be Running (not completed by any stage).
[[ "$(kc -n "$NS" get pod sleeper -o jsonpath='{.status.phase}')" == Running ]] \
  || { log "FAIL: sleeper pod left Running"; exit 1; }

t=$(ms)
trap - EXIT
kc delete namespace "$NS" --wait=false >/dev/null
for _ in $(seq 1 600); do
  kc get namespace "$NS" >/dev/null 2>&1 || break
  sleep 0.1
done
kc get namespace "$NS" >/dev/null 2>&1 && { log "FAIL: namespace $NS still there after 60s"; exit 1; }
log "namespace deleted in $(( $(ms) - t )) ms"
log "ok"
