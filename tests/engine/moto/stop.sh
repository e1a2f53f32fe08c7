#!/usr/bin/env bash
# TEST EQUIPMENT: stops the moto server started by start.sh.
#   stop.sh [STATE_DIR]   (or MOTO_STATE_DIR=...; default /tmp/eks-pod-identity-moto)
set -euo pipefail
state="${1:-${MOTO_STATE_DIR:-/tmp/eks-pod-identity-moto}}"
[[ -f "$state/pid" ]] || { echo "no moto pid file in $state" >&2; exit 0; }
pid="$(cat "$state/pid")"
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
fi
rm -f "$state/pid" "$state/port" "$state/endpoint"
