#!/usr/bin/env bash
# Entry point of the real-engine test tier:
#
#   bash tests/engine/run.sh [go test args...]     (default: -run . )
#
#  1. builds the tools (tests/engine/tools/build.sh; cached by version in
#     $ENGINE_CACHE, default ~/.cache/eks-pod-identity-engine) and puts them
#     on PATH;
#  2. sets an offline Pulumi environment (PULUMI_HOME and a file:// backend in
#     this run's work dir) and installs the kubernetes plugin as v4.32.0;
#  3. starts a loopback Kubernetes cluster (tests/engine/cluster/up.sh) and
#     checks it (smoke.sh);
#  4. HOOK: starts moto, the AWS stand-in (tests/engine/moto/start.sh);
#  5. starts the node stand-in (tests/engine/podrunner/cmd/engine-node): the
#     Pod Identity admission webhook, the agent on a loopback port and the
#     pod runner that runs the verification Jobs' commands with this
#     machine's AWS CLI;
#  6. HOOK: builds the stand-in pulumi-resource-aws from the tests/engine
#     module and installs it as the pulumi-aws version in versions.env;
#  7. runs `go test -tags engine -v -count=1 ./...` in tests/engine.
# Everything started is stopped by PID on exit, failure included.
# Tool and plugin versions: tests/engine/versions.env.
#
# Knobs: ENGINE_WORK (this run's dir; default a fresh mktemp dir, removed on
# success unless ENGINE_KEEP_WORK=1), ENGINE_CACHE, ENGINE_SKIP_SMOKE=1,
# ENGINE_GO_TEST_TIMEOUT (default 30m).
set -euo pipefail

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$ENGINE_DIR/../.." && pwd)"
export ENGINE_CACHE="${ENGINE_CACHE:-$HOME/.cache/eks-pod-identity-engine}"

# shellcheck source=versions.env
. "$ENGINE_DIR/versions.env"
K8S_PLUGIN_VERSION=$K8S_PROVIDER_VERSION

if [[ -n "${ENGINE_WORK:-}" ]]; then
  mkdir -p "$ENGINE_WORK"
else
  ENGINE_WORK="$(mktemp -d "${TMPDIR:-/tmp}/eks-pod-identity-engine.XXXXXX")"
fi
ENGINE_WORK="$(cd "$ENGINE_WORK" && pwd)"
export ENGINE_WORK
export ENGINE_STATE="$ENGINE_WORK/cluster"
MOTO_STATE="$ENGINE_WORK/moto"
NODE_STATE="$ENGINE_WORK/node"

log() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- phase timings -----------------------------------------------------------
PHASES=()
PHASE_NAME="" PHASE_T0=0 RUN_T0=$(date +%s)
phase() {   # phase <name>: ends the current phase, starts the next
  local now; now=$(date +%s)
  [[ -n "$PHASE_NAME" ]] && PHASES+=("$(printf '%-28s %5ss' "$PHASE_NAME" $((now - PHASE_T0)))")
  PHASE_NAME=$1 PHASE_T0=$now
  [[ -n "$1" ]] && log "== $1"
  return 0
}
report() {
  phase ""
  log "phase timings:"
  local p; for p in "${PHASES[@]}"; do printf '    %s\n' "$p" >&2; done
  printf '    %-28s %5ss\n' total $(( $(date +%s) - RUN_T0 )) >&2
}

# ---- teardown ----------------------------------------------------------------
MOTO_STARTED=0 CLUSTER_STARTED=0 NODE_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  phase teardown
  # The node first: it unregisters its webhook from the apiserver and stops
  # any command still running.
  if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  # HOOK (moto): stop the AWS stand-in by the PID its start.sh recorded.
  if [[ $MOTO_STARTED == 1 ]]; then
    bash "$ENGINE_DIR/moto/stop.sh" "$MOTO_STATE" || log "moto stop failed"
  fi
  if [[ $CLUSTER_STARTED == 1 ]]; then
    ENGINE_KEEP_STATE=$([[ $rc -ne 0 ]] && echo 1 || echo 0) \
      bash "$ENGINE_DIR/cluster/down.sh" "$ENGINE_STATE" || log "cluster stop failed"
  fi
  report
  if [[ $rc -eq 0 && "${ENGINE_KEEP_WORK:-0}" != 1 ]]; then
    rm -rf "$ENGINE_WORK"
  else
    log "work dir kept: $ENGINE_WORK (logs: cluster/logs, moto/moto.log, node/node.log, node/pods/*/*.log)"
  fi
  log "exit $rc"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "work dir $ENGINE_WORK"

# ---- 1. tools ----------------------------------------------------------------
phase "build tools"
# The SDKs the program is built with name the plugin versions to install.
for pin in "github.com/pulumi/pulumi-kubernetes/sdk/v4 v$K8S_PROVIDER_VERSION" \
           "github.com/pulumi/pulumi-aws/sdk/v6 v$AWS_PLUGIN_VERSION"; do
  grep -q "^[[:space:]]*$pin\([[:space:]]\|\$\)" "$REPO_ROOT/go.mod" \
    || { log "go.mod does not require $pin (tests/engine/versions.env); update one of them"; exit 1; }
done
bash "$ENGINE_DIR/tools/build.sh" >/dev/null
# shellcheck disable=SC1091
. "$ENGINE_CACHE/env.sh"
# The AWS CLI that pods run: this machine's (v1, a Python package). Its
# scripts directory goes first on the PATH of pod processes and of kwok's
# `kubectl exec`, which both get a clean environment.
ENGINE_AWS_CLI_DIR=$(python3 - <<'PY'
import os, sysconfig
for scheme in (sysconfig.get_default_scheme(), f"{os.name}_user"):
    d = sysconfig.get_path("scripts", scheme)
    if os.access(os.path.join(d, "aws"), os.X_OK):
        print(d)
        break
PY
)
[[ -n "$ENGINE_AWS_CLI_DIR" ]] || { log "the AWS CLI (pip package awscli) is not installed for python3"; exit 1; }
export ENGINE_AWS_CLI_DIR
export ENGINE_POD_PATH="$ENGINE_AWS_CLI_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
log "pods' AWS CLI: $("$ENGINE_AWS_CLI_DIR/aws" --version 2>&1)"

# ---- 2. offline Pulumi ---------------------------------------------------------
phase "pulumi env + k8s plugin"
export PULUMI_HOME="$ENGINE_WORK/pulumi-home"
export PULUMI_BACKEND_URL="file://$ENGINE_WORK/pulumi-state"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-engine-test-passphrase}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
mkdir -p "$PULUMI_HOME" "$ENGINE_WORK/pulumi-state" "$ENGINE_WORK/bin"
pulumi version >&2
pulumi plugin install resource kubernetes "v$K8S_PLUGIN_VERSION" \
  --file "$ENGINE_TOOLS_K8S_PROVIDER_BIN" >&2

# ---- 3. cluster ----------------------------------------------------------------
phase "cluster up"
CLUSTER_STARTED=1
bash "$ENGINE_DIR/cluster/up.sh" "$ENGINE_STATE"
# shellcheck disable=SC1091
. "$ENGINE_STATE/cluster.env"
export KUBECONFIG="$ENGINE_KUBECONFIG"
if [[ "${ENGINE_SKIP_SMOKE:-0}" != 1 ]]; then
  phase "cluster smoke"
  bash "$ENGINE_DIR/cluster/smoke.sh" "$ENGINE_STATE"
fi

# ---- 4. HOOK: AWS stand-in (moto) ------------------------------------------------
# Contract: tests/engine/moto/start.sh STATE prints the endpoint URL and
# writes STATE/{pid,port,endpoint}; stop.sh STATE stops it (see cleanup).
phase "moto up"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE || true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
MOTO_STARTED=1
ENGINE_MOTO_ENDPOINT="$(bash "$ENGINE_DIR/moto/start.sh" "$MOTO_STATE")"
export ENGINE_MOTO_ENDPOINT
export AWS_ENDPOINT_URL="$ENGINE_MOTO_ENDPOINT"
log "moto at $ENGINE_MOTO_ENDPOINT"

# ---- 5. node stand-in: webhook, agent, pod runner ---------------------------------
phase "node up"
(cd "$ENGINE_DIR" && go build -o "$ENGINE_WORK/bin/engine-node" ./podrunner/cmd/engine-node)
mkdir -p "$NODE_STATE"
"$ENGINE_WORK/bin/engine-node" \
  --apiserver "$ENGINE_K8S_ENDPOINT" --ca-file "$ENGINE_K8S_CA_FILE" --token-file "$ENGINE_K8S_TOKEN_FILE" \
  --moto "$ENGINE_MOTO_ENDPOINT" --node "$ENGINE_K8S_NODE" --work-dir "$NODE_STATE" \
  --pod-path "$ENGINE_POD_PATH" --ready-file "$NODE_STATE/ready" \
  </dev/null >"$NODE_STATE/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 1 300); do
  [[ -s "$NODE_STATE/ready" ]] && break
  kill -0 "$NODE_PID" 2>/dev/null || { cat "$NODE_STATE/node.log" >&2; log "engine-node exited during start"; exit 1; }
  sleep 0.1
done
[[ -s "$NODE_STATE/ready" ]] || { cat "$NODE_STATE/node.log" >&2; log "engine-node not ready within 30 s"; exit 1; }
ENGINE_AGENT_URL=$(sed -n 's/^agent=//p' "$NODE_STATE/ready")
export ENGINE_AGENT_URL ENGINE_NODE_LOG="$NODE_STATE/node.log"
log "node stand-in: agent $ENGINE_AGENT_URL, log $ENGINE_NODE_LOG"

# ---- 6. HOOK: stand-in pulumi-resource-aws ----------------------------------------
phase "aws plugin build+install"
AWS_PKG="${ENGINE_AWS_PLUGIN_PKG:-./awsstandin}"
(cd "$ENGINE_DIR" && go build -ldflags "-X main.providerVersion=$AWS_PLUGIN_VERSION" \
  -o "$ENGINE_WORK/bin/pulumi-resource-aws" "$AWS_PKG")
pulumi plugin install resource aws "v$AWS_PLUGIN_VERSION" \
  --file "$ENGINE_WORK/bin/pulumi-resource-aws" >&2
export ENGINE_AWS_PLUGIN_VERSION="$AWS_PLUGIN_VERSION"
export ENGINE_K8S_PLUGIN_VERSION="$K8S_PLUGIN_VERSION"
pulumi plugin ls >&2

# ---- 7. driver tests -----------------------------------------------------------------
phase "go test (engine)"
export ENGINE_REPO_ROOT="$REPO_ROOT"
log "env for the driver: ENGINE_KUBECONFIG=$ENGINE_KUBECONFIG ENGINE_K8S_ENDPOINT=$ENGINE_K8S_ENDPOINT ENGINE_MOTO_ENDPOINT=$ENGINE_MOTO_ENDPOINT PULUMI_HOME=$PULUMI_HOME"
TEST_ARGS=("$@")
(cd "$ENGINE_DIR" && go test -tags engine -v -count=1 \
  -timeout "${ENGINE_GO_TEST_TIMEOUT:-30m}" "${TEST_ARGS[@]}" ./...)
