#!/usr/bin/env bash
# Checks that a cluster from up.sh behaves as the engine tests need:
#   a long-running Pod (amazon/aws-cli, sleep 3600) becomes Running/Ready,
#   a Job completes, and a deleted namespace goes away.
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
EOF
kc -n "$NS" wait --for=condition=Complete job/once --timeout=60s >/dev/null
log "job Complete in $(( $(ms) - t )) ms"

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
