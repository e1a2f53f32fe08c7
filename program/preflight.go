package program

import (
	"context"
	"fmt"
	"time"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// discoveryTimeout bounds discovery: a few reads per workload, but an
// unreachable API or a hanging `aws eks get-token` must not stall `up`.
const discoveryTimeout = 2 * time.Minute

// StackMarker is the value of StackTagKey for the running stack: its fully
// qualified name, organization/project/stack.
func StackMarker(ctx *pulumi.Context) string {
	return ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
}

// preflight looks up what the stack would create and decides what to take
// over, before any resource is registered: a conflict or refusal stops the
// program with nothing created. lookups nil means the real AWS and
// Kubernetes APIs; under mocks, which have no cloud, it means nothing
// exists.
func preflight(ctx *pulumi.Context, raw map[string]string, s Settings, args podidentity.Args, cluster, kubeconfig string, lookups *Lookups) (Plan, error) {
	want := WantFor(cluster, ComponentName, args)
	dctx, cancel := context.WithTimeout(ctx.Context(), discoveryTimeout)
	defer cancel()
	var l Lookups
	switch {
	case lookups != nil:
		l = *lookups
	case ctx.RunningWithMocks():
		l = Lookups{AWS: nothingExists{}, Kube: nothingExists{}}
	default:
		id, err := ReadAWSIdentity(raw, s.Region)
		if err != nil {
			return Plan{}, &ConfigError{Problems: []string{err.Error()}}
		}
		aws, err := NewSDKLookup(dctx, id)
		if err != nil {
			return Plan{}, fmt.Errorf("find what already exists: %w", err)
		}
		kube, err := NewKubeAPILookup(kubeconfig, s.KubeContext)
		if err != nil {
			return Plan{}, fmt.Errorf("find what already exists: %w", err)
		}
		l = Lookups{AWS: aws, Kube: kube}
	}
	found, err := Discover(dctx, l, want)
	if err != nil {
		return Plan{}, err
	}
	plan, err := PlanAdoption(want, found, s.Adopt, StackMarker(ctx))
	if err != nil {
		return Plan{}, err
	}
	for _, t := range plan.Taken {
		_ = ctx.Log.Info("taking over "+t, nil)
	}
	return plan, nil
}

// nothingExists is the world under mocks: every lookup finds nothing.
type nothingExists struct{}

func (nothingExists) Role(context.Context, string) (*FoundRole, error)           { return nil, nil }
func (nothingExists) Addon(context.Context, string, string) (*FoundAddon, error) { return nil, nil }
func (nothingExists) Association(context.Context, string, string, string) (*FoundAssociation, error) {
	return nil, nil
}
func (nothingExists) Namespace(context.Context, string) (*FoundObject, error) { return nil, nil }
func (nothingExists) ServiceAccount(context.Context, string, string) (*FoundObject, error) {
	return nil, nil
}
func (nothingExists) Pod(context.Context, string, string) (*FoundObject, error) { return nil, nil }
