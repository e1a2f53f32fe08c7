// Command check-stack checks stack files offline: for each stack it runs the
// whole program under Pulumi's mocks, with the mocked EKS cluster named and
// placed as the stack says, and prints every refusal, or what `pulumi up`
// would create and in what order. No AWS, no Kubernetes, no Pulumi CLI.
//
//	go run ./cmd/check-stack dev            # Pulumi.dev.yaml
//	go run ./cmd/check-stack                # every Pulumi.*.yaml
//	go run ./cmd/check-stack -C ../infra -account 123456789012 staging
//	go run ./cmd/check-stack -strict -json    # in CI
//
// Exit status: 0 when every stack is accepted, 1 when one is refused, 2 on
// bad usage and, with -strict, when a stack has a warning and none is
// refused. -json prints one machine-readable document (its schema in
// `check-stack -h`). The logic is stackcheck.Main, which the tests run.
package main

import (
	"os"

	"github.com/platform-eng/eks-pod-identity/stackcheck"
)

func main() {
	os.Exit(stackcheck.Main(os.Args[1:], os.Stdout, os.Stderr))
}
