package program

import (
	"context"
	"fmt"
	"time"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// discoveryTimeout bounds discovery: a few reads per workload, but an
// unreachable API or a hanging `aws eks get-token` must not stall `up`.
const discoveryTimeout = 2 * time.Minute

// preflight looks up what the stack would create and decides what to take
// over, before any resource is registered: a conflict or refusal stops the
// program with nothing created. lookups nil means the real AWS and
// Kubernetes APIs; under mocks, which have no cloud, it means nothing
// exists.
func preflight(ctx *pulumi.Context, raw map[string]string, s stackconfig.Settings, st adoption.Stack, args podidentity.Args, cluster, kubeconfig string, lookups *discover.Lookups) (adoption.Plan, discover.Existing, error) {
	want := discover.WantFor(cluster, stackconfig.ComponentName, args)
	dctx, cancel := context.WithTimeout(ctx.Context(), discoveryTimeout)
	defer cancel()
	var l discover.Lookups
	switch {
	case lookups != nil:
		l = *lookups
	case ctx.RunningWithMocks():
		l = discover.Lookups{AWS: discover.Nothing{}, Kube: discover.Nothing{}}
	default:
		id, err := discover.ReadAWSIdentity(raw, s.Region)
		if err != nil {
			return adoption.Plan{}, discover.Existing{}, &stackconfig.ConfigError{Problems: []string{err.Error()}}
		}
		aws, err := discover.NewSDKLookup(dctx, id)
		if err != nil {
			return adoption.Plan{}, discover.Existing{}, fmt.Errorf("find what already exists: %w", err)
		}
		kube, err := discover.NewKubeAPILookup(kubeconfig, s.KubeContext)
		if err != nil {
			return adoption.Plan{}, discover.Existing{}, fmt.Errorf("find what already exists: %w", err)
		}
		l = discover.Lookups{AWS: aws, Kube: kube}
	}
	found, err := discover.Discover(dctx, l, want)
	if err != nil {
		return adoption.Plan{}, discover.Existing{}, err
	}
	plan, err := adoption.Decide(want, found, adoption.Switches{Adopt: s.Adopt, Repoint: s.Repoint}, st)
	if err != nil {
		return adoption.Plan{}, discover.Existing{}, err
	}
	for _, t := range plan.Taken {
		_ = ctx.Log.Info("taking over "+t, nil)
	}
	return plan, found, nil
}

// marked adds the stack's marker to what the component creates: the tag
// stackconfig.StackTagKey on the add-on, roles and associations, and the
// annotation adoption.StackAnnotationKey on its Kubernetes objects.
func marked(args podidentity.Args, marker string) podidentity.Args {
	args.Tags = withStackTag(args.Tags, marker)
	ann := make(map[string]string, len(args.Annotations)+1)
	for k, v := range args.Annotations {
		ann[k] = v
	}
	ann[adoption.StackAnnotationKey] = marker
	args.Annotations = ann
	return args
}

func withStackTag(tags map[string]string, marker string) map[string]string {
	out := make(map[string]string, len(tags)+1)
	for k, v := range tags {
		out[k] = v
	}
	out[stackconfig.StackTagKey] = marker
	return out
}
