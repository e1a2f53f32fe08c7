#!/usr/bin/env bash
# Builds the real-engine test tier's tools from the Go module proxy at pinned
# versions, each into a cache dir outside the work tree keyed by version:
#
#   $ENGINE_CACHE/bin/pulumi-v3.274.1/pulumi
#   $ENGINE_CACHE/bin/pulumi-gensdk-v3.274.1/pulumi-gensdk  (SDK code generators)
#   $ENGINE_CACHE/bin/pulumi-language-yaml-v1.25.0/pulumi-language-yaml
#                     (these two only with ENGINE_WITH_LANGUAGES=1: run.sh sets it;
#                      `go run ./cmd/local` needs neither)
#   $ENGINE_CACHE/bin/kubernetes-provider-4.32.0/pulumi-resource-kubernetes
#   $ENGINE_CACHE/bin/k8s-v1.33.13/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   $ENGINE_CACHE/bin/kwok-v0.8.0/kwok  (+ stages/ : kwok Stage YAMLs,
#                                        crds/ : kwok's Exec and Logs CRDs)
#   etcd, etcdctl, openssl, time         (Debian packages, installed if missing)
#
# ENGINE_CACHE defaults to $HOME/.cache/eks-pod-identity-engine. A tool whose
# dir holds a stamp matching its wrapper module (tests/engine/tools/<name>/)
# and build flags is skipped, so a second run takes seconds.
#
# Output: progress and timings on stderr; on stdout the lines of
# $ENGINE_CACHE/env.sh (also written), e.g.
#   eval "$(tests/engine/tools/build.sh)"     or
#   tests/engine/tools/build.sh >/dev/null && . "$ENGINE_CACHE/env.sh"
# which sets PATH plus ENGINE_TOOLS_* variables (see the end of this file).
#
# Knobs: ENGINE_BUILD_JOBS (tools built at once, default 2: on 2 cores two
# Go builds keep both cores busy through each other's single-threaded link
# steps; measured peaks 4.3 GB (provider) + 2.0 GB (k8s) side by side),
# ENGINE_GO_FLAGS (extra `go build` flags).
# Wrapper sources are copied to $ENGINE_CACHE/src/ and built there, so the
# work tree is never written to. Versions: ../versions.env.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENGINE_CACHE="${ENGINE_CACHE:-$HOME/.cache/eks-pod-identity-engine}"
JOBS="${ENGINE_BUILD_JOBS:-2}"

# shellcheck source=../versions.env
. "$HERE/../versions.env"

export GOFLAGS="${GOFLAGS:-} -mod=mod"
# Keep DWARF/symbol tables out: the binaries are only run, and linking
# without them is markedly faster and lighter on these 100-400 MB binaries.
LDSTRIP="-s -w"

mkdir -p "$ENGINE_CACHE/bin" "$ENGINE_CACHE/src" "$ENGINE_CACHE/logs"
LOGDIR="$ENGINE_CACHE/logs"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# reports TEXT CMD...: CMD's output contains TEXT. The output is captured
# first: `CMD | grep -q` under pipefail fails when grep quits early and CMD
# dies of SIGPIPE writing its next line (kubectl's Kustomize line did).
reports() {
  local want=$1 out; shift
  out=$("$@" 2>&1) || return 1
  [[ $out == *"$want"* ]]
}

# requires <wrapper> <module> <version>: the wrapper module pins the version
# versions.env names, so the two cannot drift apart.
requires() {
  local gomod="$HERE/$1/go.mod"
  grep -Eq "^[[:space:]]*(require[[:space:]]+)?$2 $3([[:space:]]|$)" "$gomod" \
    || { log "$gomod does not require $2 $3 (versions.env); update one of them"; exit 1; }
}
requires pulumi github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
requires pulumi-gensdk github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
requires pulumi-language-yaml github.com/pulumi/pulumi-yaml "$PULUMI_YAML_VERSION"
requires kubernetes-provider "$K8S_PROVIDER_MODULE" "$K8S_PROVIDER_MODULE_VERSION"
requires k8s k8s.io/kubernetes "$K8S_VERSION"
requires kwok sigs.k8s.io/kwok "$KWOK_VERSION"

TIMEV=()
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
  TIMEV=(/usr/bin/time -v)
fi

# hash_inputs <wrapper dir> <extra...>: identifies a build's inputs.
hash_inputs() {
  local dir=$1; shift
  {
    (cd "$dir" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 \
      | sort -z | xargs -0 sha256sum)
    printf '%s\n' "$@" "$(go env GOVERSION)"
  } | sha256sum | cut -d' ' -f1
}

# cached <outdir> <hash>: true if outdir holds a finished build of hash.
cached() { [[ -f "$1/.stamp" && "$(cat "$1/.stamp")" == "$2" ]]; }

# prepare_src <wrapper name> <key>: fresh copy of the wrapper module; echoes its path.
prepare_src() {
  local src="$ENGINE_CACHE/src/$2"
  rm -rf "$src"
  mkdir -p "$src"
  cp -R "$HERE/$1/." "$src/"
  echo "$src"
}

# gobuild <log name> <args...>: go build under /usr/bin/time -v, output to log.
gobuild() {
  local name=$1; shift
  "${TIMEV[@]}" go build ${ENGINE_GO_FLAGS:-} "$@" >>"$LOGDIR/$name.log" 2>&1
}

# finish <tmpdir> <outdir> <hash>: atomically publish a build.
finish() {
  echo "$3" >"$1/.stamp"
  rm -rf "$2"
  mv "$1" "$2"
}

cpu_time() { # user+sys seconds from the /usr/bin/time -v report in a log
  awk -F': ' '/User time|System time/ {t+=$2} END {if (t) printf "%.0fs", t; else print "n/a"}' "$1"
}

peak_rss() { # from the /usr/bin/time -v report in a log
  awk -F': ' '/Maximum resident set size/ {kb=$2} END {if (kb) printf "%.2f GB", kb/1048576; else print "n/a"}' "$1"
}

# The CLI, then (engine tier only) pulumi-gensdk from the same pkg/v3 in the
# same lane, so the second build finds the first's packages in Go's cache.
build_pulumi() {
  build_pulumi_cli
  [[ "${ENGINE_WITH_LANGUAGES:-}" != 1 ]] || build_gensdk
}

build_gensdk() {
  local key="pulumi-gensdk-$PULUMI_VERSION" out h src tmp
  out="$ENGINE_CACHE/bin/$key"
  h=$(hash_inputs "$HERE/pulumi-gensdk" "$LDSTRIP")
  cached "$out" "$h" && { log "pulumi-gensdk $PULUMI_VERSION: cached"; return 0; }
  src=$(prepare_src pulumi-gensdk "$key"); tmp="$out.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$src" && gobuild pulumi -ldflags "$LDSTRIP" -o "$tmp/pulumi-gensdk" .)
  # It runs: without arguments it names the ones it needs.
  [[ $("$tmp/pulumi-gensdk" 2>&1 || true) == *"-schema and -out are required"* ]] || { log "pulumi-gensdk: does not run"; return 1; }
  finish "$tmp" "$out" "$h"
}

build_yaml() {
  local key="pulumi-language-yaml-$PULUMI_YAML_VERSION" out ld h src tmp
  out="$ENGINE_CACHE/bin/$key"
  ld="$LDSTRIP -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_YAML_VERSION"
  h=$(hash_inputs "$HERE/pulumi-language-yaml" "$ld")
  cached "$out" "$h" && { log "pulumi-language-yaml $PULUMI_YAML_VERSION: cached"; return 0; }
  src=$(prepare_src pulumi-language-yaml "$key"); tmp="$out.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  : >"$LOGDIR/pulumi-language-yaml.log"
  (cd "$src" && gobuild pulumi-language-yaml -ldflags "$ld" -o "$tmp/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
  finish "$tmp" "$out" "$h"
}

build_pulumi_cli() {
  local key="pulumi-$PULUMI_VERSION" out ld h src tmp
  out="$ENGINE_CACHE/bin/$key"
  ld="$LDSTRIP -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
  h=$(hash_inputs "$HERE/pulumi" "$ld")
  cached "$out" "$h" && { log "pulumi $PULUMI_VERSION: cached"; return 0; }
  src=$(prepare_src pulumi "$key"); tmp="$out.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  : >"$LOGDIR/pulumi.log"
  (cd "$src" && gobuild pulumi -ldflags "$ld" -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  [[ "$("$tmp/pulumi" version 2>&1)" == "$PULUMI_VERSION" ]] \
    || { log "pulumi: built binary reports $("$tmp/pulumi" version)"; return 1; }
  finish "$tmp" "$out" "$h"
}

build_k8s_provider() {
  local key="kubernetes-provider-$K8S_PROVIDER_VERSION" out ld h src tmp moddir port
  out="$ENGINE_CACHE/bin/$key"
  ld="$LDSTRIP -X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_PROVIDER_VERSION"
  h=$(hash_inputs "$HERE/kubernetes-provider" "$ld")
  cached "$out" "$h" && { log "kubernetes provider $K8S_PROVIDER_VERSION: cached"; return 0; }
  src=$(prepare_src kubernetes-provider "$key"); tmp="$out.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  : >"$LOGDIR/kubernetes-provider.log"
  (
    cd "$src"
    go mod download "$K8S_PROVIDER_MODULE"
    moddir=$(go list -m -f '{{.Dir}}' "$K8S_PROVIDER_MODULE")
    go run ./genembed "$K8S_PROVIDER_VERSION" \
      "$moddir/cmd/pulumi-resource-kubernetes/schema.json" \
      "$moddir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" .
    gobuild kubernetes-provider -ldflags "$ld" -o "$tmp/pulumi-resource-kubernetes" .
  )
  # A provider prints its gRPC port on stdout once it serves; check it starts.
  "$tmp/pulumi-resource-kubernetes" >"$tmp/.port" 2>>"$LOGDIR/kubernetes-provider.log" &
  local ppid=$! i
  for i in $(seq 1 300); do [[ -s "$tmp/.port" ]] && break; sleep 0.2; done
  kill "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true
  port=$(head -n1 "$tmp/.port"); rm -f "$tmp/.port"
  [[ "$port" =~ ^[0-9]+$ ]] || { log "kubernetes provider: did not print a port (got '$port')"; return 1; }
  log "kubernetes provider: starts and serves (port $port)"
  reports "version.Version=$K8S_PROVIDER_VERSION" go version -m "$tmp/pulumi-resource-kubernetes" \
    || { log "kubernetes provider: version label missing"; return 1; }
  finish "$tmp" "$out" "$h"
}

build_k8s() {
  local key="k8s-$K8S_VERSION" out ld h src tmp minor
  out="$ENGINE_CACHE/bin/$key"
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  ld="$LDSTRIP -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ld+=" -X k8s.io/component-base/version.gitTreeState=clean"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  ld+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  h=$(hash_inputs "$HERE/k8s" "$ld")
  cached "$out" "$h" && { log "kubernetes $K8S_VERSION: cached"; return 0; }
  src=$(prepare_src k8s "$key"); tmp="$out.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  : >"$LOGDIR/k8s.log"
  # One invocation: the four commands share most packages, compiled once.
  (cd "$src" && gobuild k8s -ldflags "$ld" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    reports "Kubernetes $K8S_VERSION" "$tmp/$b" --version \
      || { log "$b: reports $("$tmp/$b" --version)"; return 1; }
  done
  reports "Client Version: $K8S_VERSION" "$tmp/kubectl" version --client \
    || { log "kubectl: reports $("$tmp/kubectl" version --client 2>&1)"; return 1; }
  finish "$tmp" "$out" "$h"
}

build_kwok() {
  local key="kwok-$KWOK_VERSION" out ld h src tmp moddir
  out="$ENGINE_CACHE/bin/$key"
  ld="$LDSTRIP"   # kwok's consts.Version is already "0.8.0" in the source
  h=$(hash_inputs "$HERE/kwok" "$ld")
  cached "$out" "$h" && { log "kwok $KWOK_VERSION: cached"; return 0; }
  src=$(prepare_src kwok "$key"); tmp="$out.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  : >"$LOGDIR/kwok.log"
  (cd "$src" && gobuild kwok -ldflags "$ld" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)
  "$tmp/kwok" --version >/dev/null || { log "kwok: does not run"; return 1; }
  finish "$tmp" "$out" "$h"
}

# kwok Stages and CRDs, copied from the kwok module on every run (cheap), so
# the lists can change without rebuilding kwok. Stages:
#   node-initialize            new node -> Ready (conditions, addresses, capacity)
#   node-heartbeat-with-lease  refreshes node status; kwok renews the Lease
#   pod-ready                  Pending pod -> Running, Ready
#   pod-complete               Running pod owned by a Job -> Succeeded
#                              (cluster/stages/ overrides it: not for the
#                              pods the engine's pod runner owns)
#   pod-delete                 pod being deleted -> gone
# CRDs: Exec and Logs, which kwok's kubelet server reads to serve
# `kubectl exec` and `kubectl logs` for a pod.
install_kwok_stages() {
  local src="$ENGINE_CACHE/src/kwok-$KWOK_VERSION" dst="$ENGINE_CACHE/bin/kwok-$KWOK_VERSION/stages" moddir
  local crds="$ENGINE_CACHE/bin/kwok-$KWOK_VERSION/crds"
  [[ -f "$src/go.mod" ]] || src=$(prepare_src kwok "kwok-$KWOK_VERSION")
  moddir=$(cd "$src" && go mod download sigs.k8s.io/kwok && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  rm -rf "$dst.tmp"; mkdir -p "$dst.tmp"
  cp "$moddir"/kustomize/stage/node/fast/node-initialize.yaml \
     "$moddir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
     "$moddir"/kustomize/stage/pod/fast/pod-ready.yaml \
     "$moddir"/kustomize/stage/pod/fast/pod-complete.yaml \
     "$moddir"/kustomize/stage/pod/fast/pod-delete.yaml "$dst.tmp/"
  chmod 644 "$dst.tmp"/*.yaml
  rm -rf "$dst"; mv "$dst.tmp" "$dst"
  rm -rf "$crds.tmp"; mkdir -p "$crds.tmp"
  cp "$moddir"/kustomize/crd/bases/kwok.x-k8s.io_execs.yaml \
     "$moddir"/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml "$crds.tmp/"
  chmod 644 "$crds.tmp"/*.yaml
  rm -rf "$crds"; mv "$crds.tmp" "$crds"
}

# Debian packages: etcd (the tier runs its own), openssl (cluster PKI),
# time (/usr/bin/time -v for the build figures). Only missing ones are
# installed; apt-get update runs once, only then.
ensure_apt_tools() {
  local want=() sudo=()
  command -v etcd >/dev/null 2>&1 || want+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || want+=(etcd-client)
  command -v openssl >/dev/null 2>&1 || want+=(openssl)
  [[ -x /usr/bin/time ]] || want+=(time)
  if ((${#want[@]})); then
    [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >>"$LOGDIR/apt.log" 2>&1
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >>"$LOGDIR/apt.log" 2>&1
    log "apt: installed ${want[*]}"
  fi
  log "etcd: $(etcd --version 2>/dev/null | head -n1)"
}

# timed <name> <fn>: runs fn, logs its wall time and the go build's peak RSS.
timed() {
  local name=$1 fn=$2 t0 rc=0
  t0=$(date +%s)
  # A subshell with -e of its own: `fn || rc=$?` would disable -e inside fn.
  set +e; ( set -e; "$fn" ); rc=$?; set -e
  local dt=$(( $(date +%s) - t0 ))
  if [[ $rc -eq 0 ]]; then
    local rss=""
    # Only a tool built now has a fresh /usr/bin/time report in its log.
    if [[ -s $LOGDIR/$name.log && $(stat -c %Y "$LOGDIR/$name.log") -ge $t0 ]]; then
      rss=" (go build: $(peak_rss "$LOGDIR/$name.log") peak RSS, $(cpu_time "$LOGDIR/$name.log") CPU)"
    fi
    log "$name: done in ${dt}s$rss"
    echo "$name ${dt}" >>"$LOGDIR/times"
  else
    log "$name: FAILED after ${dt}s (rc=$rc); last lines of $LOGDIR/$name.log:"
    tail -n 30 "$LOGDIR/$name.log" >&2 || true
  fi
  return $rc
}

# One build at a time per cache (two runs at once wait here, then hit the cache).
exec 9>"$ENGINE_CACHE/.build.lock"
flock 9

T0=$(date +%s)
: >"$LOGDIR/times"

# Longest first into $JOBS slots (measured cold CPU: provider ~14.5 min,
# k8s ~10, pulumi ~7, kwok ~2.5): provider and k8s start together; pulumi
# and kwok take the slots they free, so both lanes end at about the same time.
timed apt ensure_apt_tools || { log "apt install failed (log $LOGDIR/apt.log)"; exit 1; }
[[ -n "${TIMEV[*]}" ]] || { /usr/bin/time -v true >/dev/null 2>&1 && TIMEV=(/usr/bin/time -v); }
QUEUE=("kubernetes-provider build_k8s_provider" "k8s build_k8s" "pulumi build_pulumi" "kwok build_kwok")
# The YAML language host only the engine tier's YAML scenario needs: last,
# in the lane kwok frees.
[[ "${ENGINE_WITH_LANGUAGES:-}" != 1 ]] || QUEUE+=("pulumi-language-yaml build_yaml")
declare -A PIDNAME=()
FAILED=0
running=0
for item in "${QUEUE[@]}"; do
  read -r name fn <<<"$item"
  if (( running >= JOBS )); then
    wait -n -p done_pid || FAILED=1
    unset "PIDNAME[$done_pid]"
    running=$((running - 1))
  fi
  log "$name: building"
  timed "$name" "$fn" &
  PIDNAME[$!]=$name
  running=$((running + 1))
done
for pid in "${!PIDNAME[@]}"; do
  wait "$pid" || FAILED=1
done
log "all tools: $([[ $FAILED -eq 0 ]] && echo ok || echo FAILED) in $(( $(date +%s) - T0 ))s"
[[ $FAILED -eq 0 ]] || { log "some builds failed (logs in $LOGDIR)"; exit 1; }
install_kwok_stages

B="$ENGINE_CACHE/bin"
# The YAML host joins PATH once built (the CLI finds language hosts there).
YAML_DIR=""
[[ ! -f "$B/pulumi-language-yaml-$PULUMI_YAML_VERSION/.stamp" ]] || YAML_DIR="$B/pulumi-language-yaml-$PULUMI_YAML_VERSION:"
cat >"$ENGINE_CACHE/env.sh" <<EOF
# Written by tests/engine/tools/build.sh; source it to use the engine tools.
export ENGINE_CACHE="$ENGINE_CACHE"
export ENGINE_TOOLS_PULUMI_BIN="$B/pulumi-$PULUMI_VERSION"
export ENGINE_TOOLS_K8S_PROVIDER_BIN="$B/kubernetes-provider-$K8S_PROVIDER_VERSION/pulumi-resource-kubernetes"
export ENGINE_TOOLS_K8S_PROVIDER_VERSION="$K8S_PROVIDER_VERSION"
export ENGINE_TOOLS_K8S_BIN="$B/k8s-$K8S_VERSION"
export ENGINE_TOOLS_KWOK_BIN="$B/kwok-$KWOK_VERSION"
export ENGINE_TOOLS_KWOK_STAGES="$B/kwok-$KWOK_VERSION/stages"
export ENGINE_TOOLS_KWOK_CRDS="$B/kwok-$KWOK_VERSION/crds"
export ENGINE_TOOLS_GENSDK="$B/pulumi-gensdk-$PULUMI_VERSION/pulumi-gensdk"
export PATH="$B/pulumi-$PULUMI_VERSION:$B/k8s-$K8S_VERSION:$B/kwok-$KWOK_VERSION:${YAML_DIR}\$PATH"
EOF
cat "$ENGINE_CACHE/env.sh"
