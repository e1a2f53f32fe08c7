#!/usr/bin/env bash
# Entry point of the real-engine test tier:
#
#   bash tests/engine/run.sh [go test args...]     (default: -run . )
#
#  1. starts the local EKS world in this run's work dir, with the very code
#     `go run ./cmd/local up` uses (package localworld, through
#     `cmd/local world start`): it builds the tools once (tools/build.sh,
#     cached by version in $ENGINE_CACHE, default ~/.cache/eks-pod-identity-engine),
#     sets an offline Pulumi (PULUMI_HOME and a file:// backend in the work
#     dir), starts the loopback cluster (cluster/up.sh), moto (moto/start.sh),
#     the node stand-in (podrunner/cmd/engine-node: webhook, agent, pod
#     runner) and installs the pulumi-aws, pulumi-eks and kubernetes plugins;
#     it checks the cluster (cluster/smoke.sh) before the node starts;
#  2. runs `go test -tags engine -v -count=1 ./...` in tests/engine with the
#     world's environment (world.env);
#  3. stops every process the world started, by PID, failure included.
# Tool and plugin versions: tests/engine/versions.env.
#
# Knobs: ENGINE_WORK (this run's dir; default a fresh mktemp dir, removed on
# success unless ENGINE_KEEP_WORK=1), ENGINE_CACHE, ENGINE_SKIP_SMOKE=1,
# ENGINE_GO_TEST_TIMEOUT (default 30m), ENGINE_AWS_PLUGIN_PKG.
set -euo pipefail

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$ENGINE_DIR/../.." && pwd)"
export ENGINE_CACHE="${ENGINE_CACHE:-$HOME/.cache/eks-pod-identity-engine}"

if [[ -n "${ENGINE_WORK:-}" ]]; then
  mkdir -p "$ENGINE_WORK"
else
  ENGINE_WORK="$(mktemp -d "${TMPDIR:-/tmp}/eks-pod-identity-engine.XXXXXX")"
fi
ENGINE_WORK="$(cd "$ENGINE_WORK" && pwd)"
WORLD="$ENGINE_WORK/world"
LOCAL="$ENGINE_WORK/local"

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
WORLD_STARTED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  phase teardown
  if [[ $WORLD_STARTED == 1 ]]; then
    if [[ $rc -eq 0 && "${ENGINE_KEEP_WORK:-0}" != 1 ]]; then
      (cd "$REPO_ROOT" && "$LOCAL" --dir "$WORLD" world stop) >&2 || log "world stop failed"
    else
      # Stop the processes, keep the logs and state for a look.
      (cd "$REPO_ROOT" && "$LOCAL" --dir "$WORLD" world stop --keep) >&2 || log "world stop failed"
    fi
  fi
  report
  if [[ $rc -eq 0 && "${ENGINE_KEEP_WORK:-0}" != 1 ]]; then
    rm -rf "$ENGINE_WORK"
  else
    log "work dir kept: $ENGINE_WORK (logs: world/cluster/logs, world/moto/moto.log, world/node/node.log, world/node/pods/*/*.log)"
  fi
  log "exit $rc"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "work dir $ENGINE_WORK"

# ---- 1. the local EKS world ------------------------------------------------------
phase "world up (tools, cluster, moto, node, plugins)"
(cd "$REPO_ROOT" && go build -o "$LOCAL" ./cmd/local)
WORLD_STARTED=1
# The tier also builds the YAML language host (scenarios/yaml_test.go).
(cd "$REPO_ROOT" && ENGINE_WITH_LANGUAGES=1 "$LOCAL" --dir "$WORLD" world start) >&2
# shellcheck disable=SC1091
. "$WORLD/world.env"
log "pods' AWS CLI: $("$ENGINE_AWS_CLI_DIR/aws" --version 2>&1)"
pulumi version >&2
pulumi plugin ls >&2

# ---- 2. driver tests -----------------------------------------------------------------
phase "go test (engine)"
log "env for the driver: ENGINE_KUBECONFIG=$ENGINE_KUBECONFIG ENGINE_K8S_ENDPOINT=$ENGINE_K8S_ENDPOINT ENGINE_MOTO_ENDPOINT=$ENGINE_MOTO_ENDPOINT PULUMI_HOME=$PULUMI_HOME"
export ENGINE_LOCAL_BIN="$LOCAL"
TEST_ARGS=("$@")
(cd "$ENGINE_DIR" && go test -tags engine -v -count=1 \
  -timeout "${ENGINE_GO_TEST_TIMEOUT:-30m}" "${TEST_ARGS[@]}" ./...)
