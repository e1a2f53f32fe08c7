//go:build tools

// Package tools pins kwok, which fakes the cluster's node and drives pods
// through their lifecycle (stages) for the engine test tier.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
