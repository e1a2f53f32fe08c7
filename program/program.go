// Package program is the Pulumi program main.go runs, as thin wiring that
// reads like the walkthrough: parse the stack configuration (stackconfig),
// find or create the cluster (ekscluster), find what exists and decide what
// to take over (discover, adoption), build the Kubernetes provider, create
// the PodIdentity component and export what a user needs. It lives outside
// package main so the mock tests, the offline check and the Automation API
// engine tests run the very same function.
package program

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/ekscluster"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Run is the Pulumi program: Deploy, then export what it returns.
func Run(ctx *pulumi.Context) error {
	d, err := Deploy(ctx)
	if err != nil {
		return err
	}
	for name, value := range d.Exports {
		ctx.Export(name, value)
	}
	return nil
}

// Deployment is what Deploy made: the component and the stack outputs.
type Deployment struct {
	Component *podidentity.PodIdentity
	Exports   pulumi.Map
}

// Deploy reads the configuration and creates everything; Run exports the
// result. Tests call Deploy to see the outputs, which mocks cannot capture.
//
// AWS resources and the cluster lookup use the stack's default AWS provider,
// which honours every aws: key. The Kubernetes provider is explicit, built
// for the looked-up cluster, and handed to the component as an option: the
// default one would follow whatever context ~/.kube/config has.
func Deploy(ctx *pulumi.Context) (*Deployment, error) {
	return DeployWith(ctx, nil)
}

// DeployWith is Deploy with the lookups that find what already exists
// (preflight.go); nil uses the real AWS and Kubernetes APIs.
func DeployWith(ctx *pulumi.Context, lookups *discover.Lookups) (*Deployment, error) {
	raw := rawConfig(ctx)
	settings, err := stackconfig.Parse(raw, os.Getenv)
	if err != nil {
		return nil, err
	}
	if settings.Create != nil {
		return deployCreated(ctx, settings) // created.go
	}

	cluster, err := ekscluster.Find(ctx, settings)
	if err != nil {
		return nil, err
	}
	args := settings.Component
	args.Partition = ekscluster.Partition(cluster.Arn)
	// Now that the partition is known, policy ARNs from another partition
	// are refused too, still under their config keys.
	if problems := stackconfig.ComponentProblems(args); len(problems) > 0 {
		return nil, &stackconfig.ConfigError{Problems: problems}
	}
	if err := checkPresets(ctx, cluster, args); err != nil {
		return nil, err
	}

	kubeconfig := settings.Kubeconfig
	if kubeconfig == "" {
		if kubeconfig, err = ekscluster.Kubeconfig(cluster, settings); err != nil {
			return nil, err
		}
	}
	// The marker that tells this stack's objects from others' (stackid.go);
	// its read of the stack's own output is the first registration.
	stack, stackID, err := identify(ctx, settings)
	if err != nil {
		return nil, err
	}
	// Before anything is created: find what exists, refuse conflicts,
	// plan what to take over (preflight.go).
	plan, found, err := preflight(ctx, raw, settings, stack, args, cluster.Name, kubeconfig, lookups)
	if err != nil {
		return nil, err
	}
	// Workloads moving from IRSA start from what was found (irsa.go).
	var warnings []string
	if args, warnings, err = migrations(args, found, cluster, stack); err != nil {
		return nil, err
	}
	for _, w := range warnings {
		_ = ctx.Log.Warn(w, nil)
	}
	args.Adopt = plan.Adopt
	var kept bool
	args, kept = adoption.KeepAgent(args, plan.AgentAdopted)
	if kept {
		_ = ctx.Log.Info("the eks-pod-identity-agent add-on was made outside this stack (tag "+stackconfig.AdoptedTagKey+"): `pulumi destroy` deletes the add-on but leaves the agent running for the cluster's other pods, as "+
			stackconfig.Key(stackconfig.KeyPreserveAgent)+" true would (docs/migrating.md says how to remove it too)", nil)
	}
	args = marked(args, stack.Marker)

	k8sProvider, err := newKubernetesProvider(ctx, "kubernetes", &kubernetes.ProviderArgs{
		Kubeconfig: pulumi.ToSecret(pulumi.String(kubeconfig)).(pulumi.StringOutput),
		Context:    optional(settings.KubeContext),
		// pulumi-kubernetes 4.29+ refuses to create an object that exists.
		// The test pod can only be taken over this way (its spec is
		// immutable, so an import would plan a replacement); preflight has
		// already refused every existing object this stack does not manage
		// or may not take over, so nothing is taken over silently. Always
		// on, so that turning adopt off later changes nothing.
		UpsertExistingObjects: pulumi.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes provider: %w", err)
	}

	args.ClusterName = pulumi.String(cluster.Name)
	args.ClusterArn = pulumi.String(cluster.Arn)
	if args, err = withTargetProviders(ctx, settings, args); err != nil {
		return nil, err
	}
	pi, err := podidentity.NewPodIdentity(ctx, stackconfig.ComponentName, args, pulumi.Providers(k8sProvider))
	if err != nil {
		return nil, err
	}

	exports := Exports(pi)
	exports["clusterName"] = pulumi.String(cluster.Name)
	exports["clusterArn"] = pulumi.String(cluster.Arn)
	// Recorded so the next run marks with the same ID (identify).
	exports[stackconfig.StackIDOutput] = pulumi.String(stackID)
	return &Deployment{Component: pi, Exports: exports}, nil
}

// rawConfig collects the keys Parse reads, as Pulumi hands them over, and
// every other key of the project's namespace, so a typo is named. Pulumi's
// Go language host passes the whole stack configuration in PULUMI_CONFIG;
// an Automation API inline program has no such variable, and there only the
// known keys are read (the offline check reads stack files directly).
func rawConfig(ctx *pulumi.Context) map[string]string {
	full := append([]string{}, stackconfig.AWSKeys...)
	for _, k := range stackconfig.Keys {
		full = append(full, stackconfig.Key(k))
	}
	var all map[string]string
	if env := os.Getenv("PULUMI_CONFIG"); env != "" && json.Unmarshal([]byte(env), &all) == nil {
		for k := range all {
			if strings.HasPrefix(k, stackconfig.Project+":") {
				full = append(full, k)
			}
		}
	}
	raw := map[string]string{}
	for _, k := range full {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
		}
	}
	return raw
}

func optional(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}
