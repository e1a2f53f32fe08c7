package program

import (
	"os"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deleteUnreachableEnv is the switch a user sets for the one `pulumi
// destroy` of a stack whose cluster is already gone (README: Teardown).
const deleteUnreachableEnv = "PULUMI_K8S_DELETE_UNREACHABLE"

// newKubernetesProvider registers the stack's explicit Kubernetes provider
// without deleteUnreachable. The SDK's NewProvider copies
// PULUMI_K8S_DELETE_UNREACHABLE from the program's environment into the
// provider's inputs when the argument is unset, and inputs are kept in the
// stack's state: a variable exported during one `up` would then drop
// objects from the state at every later transient outage. Left out of the
// inputs, the provider reads the variable from its own environment at each
// run, so it applies to the run that sets it and to no other. Setting
// DeleteUnreachable to false instead would make the variable useless for
// the destroy that needs it, which does not run the program.
func newKubernetesProvider(ctx *pulumi.Context, name string, args *kubernetes.ProviderArgs) (*kubernetes.Provider, error) {
	if v, ok := os.LookupEnv(deleteUnreachableEnv); ok && args.DeleteUnreachable == nil {
		os.Unsetenv(deleteUnreachableEnv)
		defer os.Setenv(deleteUnreachableEnv, v)
	}
	return kubernetes.NewProvider(ctx, name, args)
}
