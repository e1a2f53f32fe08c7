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
#  5. HOOK: builds the stand-in pulumi-resource-aws from the tests/engine
#     module and installs it as v6.83.4, and the stand-in pulumi-resource-eks
#     (tests/engine/eksstandin) as v3.9.1;
#  6. runs `go test -tags engine -v -count=1 ./...` in tests/engine.
# Everything started is stopped by PID on exit, failure included.
#
# Knobs: ENGINE_WORK (this run's dir; default a fresh mktemp dir, removed on
# success unless ENGINE_KEEP_WORK=1), ENGINE_CACHE, ENGINE_SKIP_SMOKE=1,
# ENGINE_GO_TEST_TIMEOUT (default 30m), ENGINE_AWS_PLUGIN_PKG (package of
# the stand-in provider, relative to tests/engine).
set -euo pipefail

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$ENGINE_DIR/../.." && pwd)"
export ENGINE_CACHE="${ENGINE_CACHE:-$HOME/.cache/eks-pod-identity-engine}"

# shellcheck disable=SC1091
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
MOTO_STARTED=0 CLUSTER_STARTED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  phase teardown
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
    log "work dir kept: $ENGINE_WORK (logs: cluster/logs, moto/moto.log)"
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
bash "$ENGINE_DIR/tools/build.sh" >/dev/null
# shellcheck disable=SC1091
. "$ENGINE_CACHE/env.sh"

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

# ---- 5. HOOK: stand-in pulumi-resource-aws ----------------------------------------
phase "aws+eks plugins build+install"
AWS_PKG="${ENGINE_AWS_PLUGIN_PKG:-./awsstandin}"
(cd "$ENGINE_DIR" && go build -ldflags "-X main.providerVersion=$AWS_PLUGIN_VERSION" \
  -o "$ENGINE_WORK/bin/pulumi-resource-aws" "$AWS_PKG")
pulumi plugin install resource aws "v$AWS_PLUGIN_VERSION" \
  --file "$ENGINE_WORK/bin/pulumi-resource-aws" >&2
export ENGINE_AWS_PLUGIN_VERSION="$AWS_PLUGIN_VERSION"
# The pulumi-eks stand-in (its plugin is a Node.js binary not to be had here).
(cd "$ENGINE_DIR" && go build -ldflags "-X main.providerVersion=$EKS_PLUGIN_VERSION" \
  -o "$ENGINE_WORK/bin/pulumi-resource-eks" ./eksstandin)
pulumi plugin install resource eks "v$EKS_PLUGIN_VERSION" \
  --file "$ENGINE_WORK/bin/pulumi-resource-eks" >&2
export ENGINE_K8S_PLUGIN_VERSION="$K8S_PLUGIN_VERSION"
pulumi plugin ls >&2

# ---- 6. driver tests -----------------------------------------------------------------
phase "go test (engine)"
export ENGINE_REPO_ROOT="$REPO_ROOT"
log "env for the driver: ENGINE_KUBECONFIG=$ENGINE_KUBECONFIG ENGINE_K8S_ENDPOINT=$ENGINE_K8S_ENDPOINT ENGINE_MOTO_ENDPOINT=$ENGINE_MOTO_ENDPOINT PULUMI_HOME=$PULUMI_HOME"
TEST_ARGS=("$@")
(cd "$ENGINE_DIR" && go test -tags engine -v -count=1 \
  -timeout "${ENGINE_GO_TEST_TIMEOUT:-30m}" "${TEST_ARGS[@]}" ./...)
