#!/usr/bin/env bash
# Stops the cluster that up.sh started from STATE_DIR, by the PIDs it recorded
# (never by name): SIGTERM to all, SIGKILL after ENGINE_STOP_GRACE seconds
# (default 10) to any still running.
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

# The comm of a recorded pid must match what up.sh started, so a reused PID
# is never signalled. All get SIGTERM at once (a throwaway cluster needs no
# ordered shutdown), then SIGKILL for any left after the grace period.
declare -A PIDS=()
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  f="$STATE/pids/$name.pid"
  [[ -f "$f" ]] || continue
  pid=$(cat "$f")
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
     && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "${name:0:15}" ]]; then
    kill -TERM "$pid" 2>/dev/null && PIDS[$name]=$pid
  fi
done
for ((i = 0; i < GRACE * 10; i++)); do
  left=0
  for name in "${!PIDS[@]}"; do kill -0 "${PIDS[$name]}" 2>/dev/null && left=1; done
  (( left )) || break
  sleep 0.1
done
for name in "${!PIDS[@]}"; do
  if kill -0 "${PIDS[$name]}" 2>/dev/null; then
    log "$name (pid ${PIDS[$name]}) ignored SIGTERM; SIGKILL"
    kill -KILL "${PIDS[$name]}" 2>/dev/null
  fi
  log "$name stopped (pid ${PIDS[$name]})"
done
rm -f "$STATE"/pids/*.pid

if [[ "${ENGINE_KEEP_STATE:-0}" != 1 ]]; then
  rm -rf "$STATE/etcd" "$STATE/pki"
fi
exit 0
