#!/usr/bin/env bash
# Stops the cluster that up.sh started from STATE_DIR, by the PIDs it recorded
# (never by name): kwok, scheduler, controller-manager, apiserver, then etcd.
# SIGTERM, then SIGKILL after ENGINE_STOP_GRACE seconds (default 10).
#
#   tests/engine/cluster/down.sh [STATE_DIR]   (default: $ENGINE_STATE)
#
# ENGINE_KEEP_STATE=1 keeps the state dir (logs, kubeconfig) for inspection;
# otherwise the etcd data and PKI are removed, logs are kept.
set -uo pipefail

STATE="${1:-${ENGINE_STATE:-}}"
[[ -n "$STATE" ]] || { echo "usage: $0 STATE_DIR (or set ENGINE_STATE)" >&2; exit 2; }
[[ -d "$STATE/pids" ]] || exit 0
GRACE="${ENGINE_STOP_GRACE:-10}"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# comm of a pid must match what we started, so a reused PID is never killed.
stop() {
  local name=$1 exe=$2 f="$STATE/pids/$1.pid" pid i
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
     && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "${exe:0:15}" ]]; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < GRACE * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored SIGTERM; SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    log "$name stopped (pid $pid)"
  fi
  rm -f "$f"
}

stop kwok kwok
stop kube-scheduler kube-scheduler
stop kube-controller-manager kube-controller-manager
stop kube-apiserver kube-apiserver
stop etcd etcd

if [[ "${ENGINE_KEEP_STATE:-0}" != 1 ]]; then
  rm -rf "$STATE/etcd" "$STATE/pki"
fi
exit 0
