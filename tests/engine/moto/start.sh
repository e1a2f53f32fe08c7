#!/usr/bin/env bash
# TEST EQUIPMENT for the engine test tier: starts moto (with the EKS add-on /
# pod identity extension in moto_eks_ext.py and IAM enforcement for pod
# credentials, moto_engine.py) in the background on 127.0.0.1.
#
#   start.sh [STATE_DIR]        (or MOTO_STATE_DIR=...; default /tmp/eks-pod-identity-moto)
#
# MOTO_PORT=<n> picks the port (default: a free one chosen by the server).
# MOTO_ENGINE_IAM_AUTH=0 turns IAM enforcement off; MOTO_ENGINE_EXEMPT_KEYS
# (default `testing`) are the access keys it never checks (moto_engine.py).
# Writes STATE_DIR/{pid,port,endpoint,moto.log} and waits until the server
# answers. Prints the endpoint URL (use it as AWS_ENDPOINT_URL).
# Stop it with stop.sh STATE_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../versions.env
. "$here/../versions.env"
state="${1:-${MOTO_STATE_DIR:-/tmp/eks-pod-identity-moto}}"
python="${MOTO_PYTHON:-python3}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"

if [[ -f "$state/pid" ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
  echo "moto already running (pid $(cat "$state/pid")) at $(cat "$state/endpoint")" >&2
  cat "$state/endpoint"
  exit 0
fi
rm -f "$state/pid" "$state/port" "$state/endpoint"

have=$("$python" -c 'import moto; print(moto.__version__)') || { echo "moto is not installed for $python" >&2; exit 1; }
[[ "${have%%.*}" == "${MOTO_VERSION%%.*}" ]] || { echo "moto ${MOTO_VERSION%%.*}.x is required ($python has $have)" >&2; exit 1; }
[[ "$have" == "$MOTO_VERSION" ]] || echo "warning: moto $have, the tier is written against $MOTO_VERSION (versions.env)" >&2

# AmazonS3ReadOnlyAccess and the other AWS managed policies exist only when
# moto loads them at start.
export MOTO_IAM_LOAD_MANAGED_POLICIES=true
nohup "$python" "$here/moto_engine.py" serve --host 127.0.0.1 \
  --port "${MOTO_PORT:-0}" --port-file "$state/port" >"$state/moto.log" 2>&1 &
echo $! >"$state/pid"

for _ in $(seq 1 300); do
  if [[ -s "$state/port" ]]; then
    url="http://127.0.0.1:$(cat "$state/port")"
    if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/moto-ext/health", timeout=2)' "$url" 2>/dev/null; then
      echo "$url" >"$state/endpoint"
      echo "$url"
      exit 0
    fi
  fi
  if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "moto exited during start; log follows" >&2
    cat "$state/moto.log" >&2
    rm -f "$state/pid"
    exit 1
  fi
  sleep 0.1
done
echo "moto did not answer within 30 s; log in $state/moto.log" >&2
exit 1
