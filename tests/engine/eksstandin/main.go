// Command pulumi-resource-eks is TEST EQUIPMENT for the engine test tier.
//
// It is NOT used by the program and is never shipped. It stands in for the
// pulumi-eks resource provider plugin v3.9.1, a self-contained Node.js
// binary that cannot be had here, and implements Construct for the two
// remote components the program's createCluster path registers, with the
// real type tokens and the input and output names of the Go SDK
// (github.com/pulumi/pulumi-eks/sdk/v3 v3.9.1):
//
//   - eks:index:Cluster: an eks:index:ServiceRole component (IAM role
//     trusting eks.amazonaws.com, AmazonEKSClusterPolicy; with Auto Mode
//     also the Compute/BlockStorage/LoadBalancing/Networking policies and a
//     node role) and the aws:eks/cluster:Cluster, named as pulumi-eks names
//     them (<name>-eksRole, <name>-eksRole-role, <name>-eksCluster), with
//     access entries (bootstrapClusterCreatorAdminPermissions) when an
//     authentication mode is given; outputs eksCluster, core (cluster,
//     endpoint after /healthz answers, subnetIds, vpcId, tags), kubeconfig,
//     kubeconfigJson, autoModeNodeRoleName;
//   - eks:index:ManagedNodeGroup: the aws:eks/nodeGroup:NodeGroup of the
//     cluster it is given (rehydrated by URN, as the real one does),
//     version defaulting to the cluster's; output nodeGroup.
//
// Children are custom resources of the aws package, served by the
// pulumi-aws stand-in against moto. What pulumi-eks does and this does not
// (its default node group, security groups, kube-proxy / vpc-cni / CoreDNS
// add-ons, the internal Kubernetes provider, the default-VPC subnet lookup,
// OIDC provider) is refused when asked for, or listed in docs/engine.md.
//
// Build (in tests/engine): go build -ldflags "-X main.providerVersion=3.9.1" -o <dir>/pulumi-resource-eks ./eksstandin.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

const (
	providerName = "eks"

	clusterToken   = "eks:index:Cluster"
	nodeGroupToken = "eks:index:ManagedNodeGroup"
)

// providerVersion is the pulumi-eks version the stand-in reports, set at
// build time from tests/engine/versions.env (go build -ldflags "-X
// main.providerVersion=..."); main refuses to serve without it.
var providerVersion string

func main() {
	if providerVersion == "" {
		fmt.Fprintln(os.Stderr, "pulumi-resource-eks stand-in: built without -ldflags -X main.providerVersion=<version> (see tests/engine/versions.env)")
		os.Exit(1)
	}
	if err := provider.ComponentMain(providerName, providerVersion, nil, construct); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func construct(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs, options pulumi.ResourceOption) (*provider.ConstructResult, error) {
	in, err := inputs.Map()
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading inputs: %w", typ, name, err)
	}
	switch typ {
	case clusterToken:
		c, err := newCluster(ctx, name, in, options)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", typ, name, err)
		}
		return provider.NewConstructResult(c)
	case nodeGroupToken:
		ng, err := newManagedNodeGroup(ctx, name, in, options)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", typ, name, err)
		}
		return provider.NewConstructResult(ng)
	}
	return nil, fmt.Errorf("pulumi-eks stand-in: %s is not implemented (test equipment constructs only %s and %s)", typ, clusterToken, nodeGroupToken)
}
