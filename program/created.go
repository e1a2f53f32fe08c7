package program

// The createCluster path's wiring: the cluster and its nodes (ekscluster),
// then the same PodIdentity component on it, waiting for its nodes.

import (
	"fmt"
	"time"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/ekscluster"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deployCreated is Deploy for a stack with createCluster. Like the lookup
// path, it registers nothing until the configuration is known to be good:
// the one call before (the partition, for policy ARNs) creates nothing.
func deployCreated(ctx *pulumi.Context, settings stackconfig.Settings) (*Deployment, error) {
	spec := *settings.Create
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("look up the AWS partition of %s: %w", settings.Region, err)
	}
	args := settings.Component
	args.Partition = part.Partition
	if problems := stackconfig.ComponentProblems(args); len(problems) > 0 {
		return nil, &stackconfig.ConfigError{Problems: problems}
	}
	if note := stackconfig.ExtendedSupportNote(spec.Version, time.Now()); note != "" {
		if err := ctx.Log.Warn(note, nil); err != nil {
			return nil, err
		}
	}

	created, err := ekscluster.Create(ctx, spec, args.Tags, part)
	if err != nil {
		return nil, err
	}
	// As on the lookup path, the stack's marker tag on what the component
	// creates. What that path checks against an existing cluster has
	// nothing to find on a new one: no add-on associating a preset's
	// service account, no object to take over (adopt is refused with
	// createCluster), and the cluster is IPv4.
	stack, stackID, err := identify(ctx, settings)
	if err != nil {
		return nil, err
	}
	args = marked(args, stack.Marker)
	cluster := created.Cluster.EksCluster

	// The same kubeconfig as for an existing cluster (endpoint, CA, `aws eks
	// get-token` as the stack's identity), built from the new cluster's
	// outputs. The endpoint is pulumi-eks's, which answers once the API
	// server's /healthz does.
	kubeconfig := pulumi.All(cluster.Name(), cluster.Arn(), created.Cluster.Core.Endpoint(), cluster.CertificateAuthority().Data()).
		ApplyT(func(v []any) (string, error) {
			ca, _ := v[3].(*string)
			c := &awseks.LookupClusterResult{Name: v[0].(string), Arn: v[1].(string), Endpoint: v[2].(string)}
			if ca != nil {
				c.CertificateAuthorities = []awseks.GetClusterCertificateAuthority{{Data: *ca}}
			}
			return ekscluster.Kubeconfig(c, settings)
		}).(pulumi.StringOutput)
	kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	// Without UpsertExistingObjects (the lookup path turns it on to take
	// objects over after its preflight): on a new cluster an object that
	// already exists is a conflict to report, not something to take over.
	k8sProvider, err := newKubernetesProvider(ctx, "kubernetes", &kubernetes.ProviderArgs{Kubeconfig: kubeconfig})
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes provider: %w", err)
	}

	// Outputs of the new cluster: every child using them waits for it, and
	// the trust policies pin its ARN.
	args.ClusterName = cluster.Name()
	args.ClusterArn = cluster.Arn()
	// The agent DaemonSet, the test pod and the Job need nodes: the add-on,
	// the associations and the Kubernetes resources wait for the node group
	// (a remote component's registration returns once its children exist,
	// and the engine deletes the waiting resources first on destroy).
	args.DependsOn = []pulumi.Resource{created.Cluster}
	if created.NodeGroup != nil {
		args.DependsOn = append(args.DependsOn, created.NodeGroup)
	}
	if args, err = withTargetProviders(ctx, settings, args); err != nil {
		return nil, err
	}
	pi, err := podidentity.NewPodIdentity(ctx, stackconfig.ComponentName, args, pulumi.Providers(k8sProvider))
	if err != nil {
		return nil, err
	}

	exports := Exports(pi)
	exports["clusterName"] = cluster.Name()
	exports["clusterArn"] = cluster.Arn()
	exports["clusterVersion"] = cluster.Version()
	exports["clusterEndpoint"] = cluster.Endpoint()
	exports["kubeconfig"] = kubeconfig
	exports[stackconfig.StackIDOutput] = pulumi.String(stackID)
	exports["updateKubeconfigCommand"] = cluster.Name().ApplyT(func(name string) string {
		return ekscluster.UpdateKubeconfigCommand(settings.Region, name, settings.Token)
	}).(pulumi.StringOutput)
	if created.NodeGroup != nil {
		exports["nodeGroupName"] = created.NodeGroup.NodeGroup.NodeGroupName()
	}
	return &Deployment{Component: pi, Exports: exports}, nil
}
