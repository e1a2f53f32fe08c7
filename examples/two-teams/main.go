// Command two-teams is a Pulumi program of another team's, using the
// PodIdentity component as a library: two instances on one cluster, with
// the providers this program chooses, passed as options.
//
// The payments instance owns the eks-pod-identity-agent add-on; the search
// instance leaves it alone (Agent.Skip) and waits only for the add-on, not
// for payments' whole identity. Each exports its own outputs.
//
//	pulumi config set clusterName apps-eks
//	pulumi config set --secret kubeconfig "$(cat ~/.kube/apps-eks.yaml)"
//	pulumi up
package main

import (
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() { pulumi.Run(run) }

func run(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	clusterName := cfg.Require("clusterName")

	// This team pins its AWS provider to the cluster's region and tags
	// everything it creates; the component's AWS children inherit it.
	awsProvider, err := aws.NewProvider(ctx, "apps-aws", &aws.ProviderArgs{
		Region:      pulumi.String(cfg.Get("region")),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{"owner": pulumi.String("apps-platform")}},
	})
	if err != nil {
		return fmt.Errorf("AWS provider: %w", err)
	}
	cluster, err := eks.LookupCluster(ctx, &eks.LookupClusterArgs{Name: clusterName}, pulumi.Provider(awsProvider))
	if err != nil {
		return fmt.Errorf("look up cluster %s: %w", clusterName, err)
	}
	k8sProvider, err := kubernetes.NewProvider(ctx, "apps-eks", &kubernetes.ProviderArgs{
		Kubeconfig: cfg.RequireSecret("kubeconfig"),
	})
	if err != nil {
		return fmt.Errorf("kubernetes provider: %w", err)
	}
	providers := pulumi.Providers(awsProvider, k8sProvider)
	partition := strings.Split(cluster.Arn, ":")[1]

	payments, err := podidentity.NewPodIdentity(ctx, "payments", podidentity.Args{
		ClusterName: pulumi.String(cluster.Name),
		ClusterArn:  pulumi.String(cluster.Arn),
		Partition:   partition,
		Tags:        map[string]string{"team": "payments"},
		Workloads: []podidentity.Workload{{
			Name:            "invoices",
			Namespace:       "payments",
			CreateNamespace: true,
			ServiceAccount:  "invoice-writer",
			PolicyArns:      []string{},
			InlinePolicies: map[string]string{"invoices-bucket": `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:` + partition + `:s3:::apps-invoices"},
				{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:` + partition + `:s3:::apps-invoices/*"}]}`},
			Verify:      true,
			AccessCheck: "s3 ls s3://apps-invoices",
		}},
	}, providers)
	if err != nil {
		return err
	}

	search, err := podidentity.NewPodIdentity(ctx, "search", podidentity.Args{
		ClusterName: pulumi.String(cluster.Name),
		ClusterArn:  pulumi.String(cluster.Arn),
		Partition:   partition,
		Agent:       podidentity.Agent{Skip: true},
		Tags:        map[string]string{"team": "search"},
		// What the search instance creates waits for payments' agent: its
		// association, ServiceAccount and Job (children do not inherit the
		// component's own DependsOn below, which orders the component).
		DependsOn: []pulumi.Resource{payments.Agent},
		Workloads: []podidentity.Workload{{
			Name:           "indexer",
			Namespace:      "search",
			ServiceAccount: "indexer",
			PolicyArns:     []string{"arn:" + partition + ":iam::aws:policy/AmazonOpenSearchServiceReadOnlyAccess"},
			Verify:         true,
			AccessCheck:    "opensearch list-domain-names",
		}},
	}, providers, pulumi.DependsOn([]pulumi.Resource{payments.Agent}))
	if err != nil {
		return err
	}

	ctx.Export("agentAddonVersion", payments.AgentAddonVersion)
	for team, pi := range map[string]*podidentity.PodIdentity{"payments": payments, "search": search} {
		for name, w := range pi.Workloads {
			ctx.Export(team+"."+name+".roleArn", w.RoleArn)
			ctx.Export(team+"."+name+".verifyLogs", pulumi.Sprintf("kubectl logs job/%s -n %s", w.VerifyJobName, w.NamespaceName))
		}
	}
	return nil
}
