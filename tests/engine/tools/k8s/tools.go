//go:build tools

// Package tools pins the Kubernetes control plane (and kubectl) that the
// engine test tier runs on loopback; tests/engine/tools/build.sh builds them
// all in one `go build` so shared packages compile once.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
