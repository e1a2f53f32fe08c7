package program

import (
	"context"
	"fmt"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// StackName is the running stack's fully qualified name,
// organization/project/stack. Not unique on its own: a DIY backend's
// organization is always "organization".
func StackName(ctx *pulumi.Context) string {
	return ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
}

// markerProviderName names the provider whose ID is the stack's ID.
const markerProviderName = "stack-marker"

// newStackID is the ID a preview of a new stack shows: its marker provider
// gets its ID when `up` creates it.
const newStackID = "new"

// identify finds the stack's ID, and so its marker: stackId when the user
// set it; else the ID of a provider resource the stack owns for this alone.
// The engine gives a provider a random UUID when it creates it, keeps it in
// the stack's state from then on, and creates it first, before anything
// the program registers after it: a first `up` that fails, or is killed,
// later on keeps it, and the next run marks alike. Two stacks of one name
// in two backends get two. It is a Kubernetes provider with a kubeconfig
// that names no cluster: it is never used, never contacts anything, and
// its inputs never change, so it is never replaced.
func identify(ctx *pulumi.Context, s stackconfig.Settings) (adoption.Stack, string, error) {
	name := StackName(ctx)
	// Marks from before stack IDs (the name alone) are this stack's: the
	// way an existing stack moves over. Two stacks both on this version
	// are told apart by their IDs.
	if s.StackID != "" {
		return adoption.Stack{Marker: stackconfig.Marker(name, s.StackID), Legacy: true}, s.StackID, nil
	}
	p, err := newKubernetesProvider(ctx, markerProviderName, &kubernetes.ProviderArgs{
		Kubeconfig: pulumi.String("# no cluster: this provider's ID is the stack's ID (eks-pod-identity:stackId)"),
	})
	if err != nil {
		return adoption.Stack{}, "", fmt.Errorf("create the stack's marker provider: %w", err)
	}
	r, err := internals.UnsafeAwaitOutput(context.Background(), p.ID())
	if err != nil {
		return adoption.Stack{}, "", fmt.Errorf("read the stack's ID (the ID of provider %s): %w", markerProviderName, err)
	}
	id := ""
	if r.Known && r.Value != nil {
		id = fmt.Sprint(r.Value)
	}
	if id == "" {
		// A preview of a stack that has never run `up`: nothing can be
		// its own yet but marks from before stack IDs.
		return adoption.Stack{Marker: stackconfig.Marker(name, newStackID), Legacy: true}, newStackID, nil
	}
	return adoption.Stack{Marker: stackconfig.Marker(name, id), Legacy: true}, id, nil
}
