// Command pulumi-resource-eks-pod-identity is the executable component
// provider of eks-pod-identity:index:PodIdentity, for Pulumi programs in
// any language (YAML, TypeScript, Python, C#). Build and install it:
//
//	go build -o bin/pulumi-resource-eks-pod-identity ./cmd/pulumi-resource-eks-pod-identity
//	pulumi plugin install resource eks-pod-identity $(cat componentprovider/VERSION) --file bin/pulumi-resource-eks-pod-identity
//
// See docs/component.md.
package main

import (
	"fmt"
	"os"

	"github.com/platform-eng/eks-pod-identity/componentprovider"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

func main() {
	schema, err := componentprovider.Schema()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := provider.ComponentMain(componentprovider.Name, componentprovider.Version(), schema, componentprovider.Construct); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
