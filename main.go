// Command eks-pod-identity is the Pulumi program: see package program.
package main

import (
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(program.Run)
}
