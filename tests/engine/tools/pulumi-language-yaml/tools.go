//go:build tools

// Package tools pins the YAML language host (pulumi-language-yaml) so
// tests/engine/tools/build.sh can build it from the Go module proxy. It is a
// module of its own: pulumi-yaml v1.25.0 is written against
// github.com/pulumi/pulumi/pkg/v3 v3.206.0 and does not compile against the
// v3.274.1 the CLI is built from (its codegen API moved), and a language host
// talks to the CLI over gRPC only, so the two need not share a version.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
