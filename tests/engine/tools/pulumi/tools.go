//go:build tools

// Package tools pins the Pulumi CLI so tests/engine/tools/build.sh can build
// it reproducibly from the Go module proxy.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
