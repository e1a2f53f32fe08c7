#!/usr/bin/env bash
# Starts a throwaway Kubernetes cluster on loopback for the engine test tier:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# (one fake node, so Pods reach Running/Ready and Job pods Succeeded; the
# pods of this project's stacks excepted, see stages/pod-complete.yaml).
# kwok also serves the node's kubelet API on loopback (`kubectl exec` and
# `kubectl logs`, for pods with kwok Exec and Logs objects; the engine's pod
# runner creates them), with a clean environment whose PATH is
# $ENGINE_POD_PATH (default: this PATH).
#
#   tests/engine/cluster/up.sh [STATE_DIR]     (default: $ENGINE_STATE)
#   tests/engine/cluster/down.sh [STATE_DIR]   stops it, by recorded PID
#
# Needs on PATH: etcd, etcdctl, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, openssl (tests/engine/tools/build.sh builds
# them; its env.sh is sourced here if the binaries are not on PATH), and
# kwok Stage YAMLs in $ENGINE_TOOLS_KWOK_STAGES and kwok's Exec and Logs CRDs
# in $ENGINE_TOOLS_KWOK_CRDS.
#
# Writes into STATE_DIR:
#   kubeconfig      admin kubeconfig (CA embedded, bearer token, system:masters)
#   endpoint        https://127.0.0.1:<port>      (one line, no newline)
#   ca.crt          cluster CA, PEM
#   ca.b64          base64 of ca.crt on one line (EKS certificateAuthority.data)
#   admin-token     the admin bearer token
#   cluster.env     `export` lines: ENGINE_KUBECONFIG, ENGINE_K8S_ENDPOINT,
#                   ENGINE_K8S_CA_FILE, ENGINE_K8S_CA_B64, ENGINE_K8S_NODE,
#                   ENGINE_KWOK_SERVER, ...
#   pids/<name>.pid, logs/<name>.log, pki/, etcd/ (data), stages/, node.yaml
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../versions.env
. "$HERE/../versions.env"
STATE="${1:-${ENGINE_STATE:-}}"
[[ -n "$STATE" ]] || { echo "usage: $0 STATE_DIR (or set ENGINE_STATE)" >&2; exit 2; }
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

NODE_NAME="${ENGINE_K8S_NODE:-kwok-node-0}"
SERVICE_CIDR="${ENGINE_K8S_SERVICE_CIDR:-10.96.0.0/16}"   # virtual: nothing routes to it
POD_CIDR="${ENGINE_K8S_POD_CIDR:-10.0.0.0/16}"            # fake pod IPs kwok hands out
TIMEOUT="${ENGINE_CLUSTER_TIMEOUT:-120}"                   # seconds, per wait

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if ! command -v kube-apiserver >/dev/null 2>&1 || [[ -z "${ENGINE_TOOLS_KWOK_STAGES:-}" ]]; then
  env_file="${ENGINE_CACHE:-$HOME/.cache/eks-pod-identity-engine}/env.sh"
  # shellcheck disable=SC1090
  [[ -f "$env_file" ]] && . "$env_file"
fi
for b in etcd etcdctl kube-apiserver kube-controller-manager kube-scheduler kubectl kwok openssl; do
  command -v "$b" >/dev/null 2>&1 || die "$b not on PATH (run tests/engine/tools/build.sh and source its env.sh)"
done
STAGES_SRC="${ENGINE_TOOLS_KWOK_STAGES:-}"
[[ -d "$STAGES_SRC" ]] || die "ENGINE_TOOLS_KWOK_STAGES ($STAGES_SRC) is not a directory of kwok stages"
CRDS_SRC="${ENGINE_TOOLS_KWOK_CRDS:-}"
[[ -f "$CRDS_SRC/kwok.x-k8s.io_execs.yaml" && -f "$CRDS_SRC/kwok.x-k8s.io_logs.yaml" ]] \
  || die "ENGINE_TOOLS_KWOK_CRDS ($CRDS_SRC) lacks kwok's Exec and Logs CRDs (run tests/engine/tools/build.sh)"
[[ "$(kwok --version 2>&1)" == *"${KWOK_VERSION#v}"* ]] || die "kwok on PATH is not $KWOK_VERSION: $(kwok --version 2>&1)"

if compgen -G "$STATE/pids/*.pid" >/dev/null; then
  for f in "$STATE"/pids/*.pid; do
    if kill -0 "$(cat "$f")" 2>/dev/null; then
      die "a cluster is already running from $STATE ($(basename "$f" .pid) pid $(cat "$f")); run down.sh first"
    fi
  done
fi
rm -rf "$STATE/pids" "$STATE/logs" "$STATE/etcd" "$STATE/pki" "$STATE/stages"
mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/pki" "$STATE/stages"
T0=$(date +%s)

# If anything below fails, stop what was started so no process is left behind.
trap 'rc=$?; if [[ $rc -ne 0 ]]; then log "start failed; stopping what was started"; bash "$HERE/down.sh" "$STATE" || true; fi' EXIT

# ---- ports -----------------------------------------------------------------
declare -A TAKEN=()
# free_port VAR: sets VAR to a loopback port nothing listens on (not in a
# subshell, so TAKEN keeps the ports already handed out).
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    [[ -n "${TAKEN[$p]:-}" ]] && continue
    # Nothing answers on it (connect fails) => free enough for a test cluster.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      TAKEN[$p]=1; printf -v "$1" '%s' "$p"; return 0
    fi
  done
  die "no free port found"
}
free_port ETCD_PORT; free_port ETCD_PEER_PORT; free_port API_PORT; free_port SCHED_PORT; free_port KWOK_PORT
ENDPOINT="https://127.0.0.1:$API_PORT"

# ---- PKI ---------------------------------------------------------------------
PKI="$STATE/pki"
(
  cd "$PKI"
  exec 2>>"$STATE/logs/openssl.log"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=engine-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign"
  openssl req -newkey rsa:2048 -nodes -sha256 \
    -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
  cat >apiserver.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:${SERVICE_CIDR%.*/*}.1
EOF
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -sha256 -days 3650 -extfile apiserver.ext -out apiserver.crt
  # Service-account token signing key pair.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
  openssl pkey -in sa.key -pubout -out sa.pub
  chmod 600 ./*.key
) || die "openssl failed (see $STATE/logs/openssl.log)"
cp "$PKI/ca.crt" "$STATE/ca.crt"
CA_B64=$(base64 -w0 <"$PKI/ca.crt")
printf '%s' "$CA_B64" >"$STATE/ca.b64"
printf '%s' "$ENDPOINT" >"$STATE/endpoint"

TOKEN=$(openssl rand -hex 32)
printf '%s' "$TOKEN" >"$STATE/admin-token"
# token,user,uid,"group1,group2"
printf '%s,engine-admin,engine-admin,"system:masters"\n' "$TOKEN" >"$STATE/tokens.csv"
chmod 600 "$STATE/admin-token" "$STATE/tokens.csv"

cat >"$STATE/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: engine
  cluster:
    server: $ENDPOINT
    certificate-authority-data: $CA_B64
users:
- name: engine-admin
  user:
    token: $TOKEN
contexts:
- name: engine
  context:
    cluster: engine
    user: engine-admin
    namespace: default
current-context: engine
EOF
chmod 600 "$STATE/kubeconfig"
KC="$STATE/kubeconfig"
kc() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

# ---- processes ---------------------------------------------------------------
# start <name> <cmd...>: background, output to logs/<name>.log, PID recorded.
start() {
  local name=$1; shift
  nohup "$@" </dev/null >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name.pid"
  log "$name started (pid $!)"
}
# alive <name>: the recorded process still runs.
alive() { kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }
# wait_for <what> <name> <cmd...>: retry cmd until it succeeds, while name lives.
wait_for() {
  local what=$1 name=$2; shift 2
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then
      tail -n 40 "$STATE/logs/$name.log" >&2 || true
      die "$name exited while waiting for $what"
    fi
    if (( $(date +%s) > deadline )); then
      tail -n 40 "$STATE/logs/$name.log" >&2 || true
      die "timed out after ${TIMEOUT}s waiting for $what"
    fi
    sleep 0.2
  done
  log "$what ($(( $(date +%s) - T0 ))s)"
}

# etcd: data in the state dir, client and peer on loopback only.
ETCD_EXTRA=()
if [[ $(etcd --help 2>&1) == *--unsafe-no-fsync* ]]; then
  ETCD_EXTRA+=(--unsafe-no-fsync)   # throwaway data: skip fsync for speed
fi
start etcd etcd \
  --name=engine \
  --data-dir="$STATE/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="engine=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --auto-compaction-retention=1 \
  --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) \
  "${ETCD_EXTRA[@]}"
wait_for "etcd healthy" etcd etcdctl --endpoints="http://127.0.0.1:$ETCD_PORT" --dial-timeout=2s endpoint health

start kube-apiserver kube-apiserver \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$API_PORT" \
  --cert-dir="$PKI/apiserver-certs" \
  --tls-cert-file="$PKI/apiserver.crt" \
  --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --token-auth-file="$STATE/tokens.csv" \
  --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --kubelet-preferred-address-types=InternalIP \
  --allow-privileged=true \
  --endpoint-reconciler-type=none \
  --profiling=false \
  --v=1
wait_for "kube-apiserver ready" kube-apiserver kc get --raw=/readyz

# Controllers and scheduler use the admin kubeconfig (system:masters). No
# delegated authn/authz for their own endpoints: the controller-manager does
# not serve, the scheduler serves only /healthz (always allowed) to us.
start kube-controller-manager kube-controller-manager \
  --kubeconfig="$KC" \
  --bind-address=127.0.0.1 \
  --secure-port=0 \
  --leader-elect=false \
  --root-ca-file="$PKI/ca.crt" \
  --service-account-private-key-file="$PKI/sa.key" \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --kube-api-qps=200 --kube-api-burst=400 \
  --profiling=false \
  --v=1

start kube-scheduler kube-scheduler \
  --kubeconfig="$KC" \
  --bind-address=127.0.0.1 \
  --secure-port="$SCHED_PORT" \
  --cert-dir="$PKI/scheduler-certs" \
  --leader-elect=false \
  --kube-api-qps=200 --kube-api-burst=400 \
  --profiling=false \
  --v=1

# kwok: node-initialize (+ lease heartbeat), pod-ready, pod-complete (pods
# owned by a Job -> Succeeded, except the pod runner's), pod-delete. Copied
# so the run is self-contained; ours override kwok's of the same name.
cp "$STAGES_SRC"/*.yaml "$STATE/stages/"
cp "$HERE"/stages/*.yaml "$STATE/stages/"
STAGE_ARGS=()
for f in "$STATE"/stages/*.yaml; do STAGE_ARGS+=(--config="$f"); done
# The Exec and Logs kinds kwok's kubelet server reads, as CRDs: the pod
# runner creates one of each per pod.
kc apply -f "$CRDS_SRC/kwok.x-k8s.io_execs.yaml" -f "$CRDS_SRC/kwok.x-k8s.io_logs.yaml" >/dev/null
wait_for "kwok Exec and Logs CRDs established" kube-apiserver \
  kc wait --for=condition=Established --timeout=10s crd/execs.kwok.x-k8s.io crd/logs.kwok.x-k8s.io
# `kubectl exec` runs commands as children of kwok with kwok's environment
# plus the pod's: kwok gets a clean one, so nothing of this shell (AWS keys
# above all) leaks into a pod's commands.
start kwok env -i PATH="${ENGINE_POD_PATH:-$PATH}" HOME="$STATE" "$(command -v kwok)" \
  --kubeconfig="$KC" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds=40 \
  --node-ip=127.0.0.1 \
  --node-port="$KWOK_PORT" \
  --server-address="127.0.0.1:$KWOK_PORT" \
  --enable-crds=Exec,Logs \
  --cidr="$POD_CIDR" \
  "${STAGE_ARGS[@]}"

# The fake node; kwok manages it by its annotation. No taints of our own: the
# node lifecycle controller lifts node.kubernetes.io/not-ready once Ready.
cat >"$STATE/node.yaml" <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $NODE_NAME
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    node-role.kubernetes.io/agent: ""
spec: {}
status:
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "110"
EOF
kc apply -f "$STATE/node.yaml" >/dev/null

node_ready_untainted() {
  local out
  out=$(kc get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.spec.taints}') || return 1
  [[ "$out" == "True|" ]]
}
wait_for "node $NODE_NAME Ready, untainted" kwok node_ready_untainted
wait_for "default ServiceAccount" kube-controller-manager kc -n default get serviceaccount default
wait_for "kube-root-ca.crt published" kube-controller-manager kc -n default get configmap kube-root-ca.crt
# The scheduler's /healthz is open to anonymous requests (always-allow path).
scheduler_healthy() { kubectl --kubeconfig=/dev/null --request-timeout=5s \
  --server="https://127.0.0.1:$SCHED_PORT" --insecure-skip-tls-verify=true --token=probe \
  get --raw=/healthz </dev/null; }
wait_for "kube-scheduler serving" kube-scheduler scheduler_healthy

cat >"$STATE/cluster.env" <<EOF
# Written by tests/engine/cluster/up.sh
export ENGINE_STATE="$STATE"
export ENGINE_KUBECONFIG="$KC"
export ENGINE_K8S_ENDPOINT="$ENDPOINT"
export ENGINE_K8S_CA_FILE="$STATE/ca.crt"
export ENGINE_K8S_CA_B64="$CA_B64"
export ENGINE_K8S_TOKEN_FILE="$STATE/admin-token"
export ENGINE_K8S_NODE="$NODE_NAME"
export ENGINE_ETCD_ENDPOINT="http://127.0.0.1:$ETCD_PORT"
export ENGINE_KWOK_SERVER="https://127.0.0.1:$KWOK_PORT"
EOF
trap - EXIT
log "cluster up in $(( $(date +%s) - T0 ))s: $ENDPOINT (kubeconfig $KC)"
