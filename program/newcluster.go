package program

// The createCluster path: a new EKS cluster (pulumi-eks) and, unless it runs
// EKS Auto Mode, a managed node group with its own node role; then the same
// PodIdentity component on that cluster, waiting for its nodes.

import (
	"fmt"
	"time"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Names in the stack's state of what the create path registers. pulumi-eks
// names its children after the component: cluster-eksCluster,
// cluster-eksRole, ...
const (
	ClusterResourceName   = "cluster"
	NodeRoleResourceName  = "cluster-node-role"
	NodeGroupResourceName = "cluster-nodes"
)

// NodeRolePolicies are the managed policies of the node group's role (EKS
// node IAM role): AmazonEKSWorkerNodePolicy carries
// eks-auth:AssumeRoleForPodIdentity, which the Pod Identity Agent uses.
var NodeRolePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"}

// CreatedCluster is what deployCreated made besides the component.
type CreatedCluster struct {
	Cluster *eks.Cluster
	// NodeGroup and NodeRole are nil on EKS Auto Mode.
	NodeGroup *eks.ManagedNodeGroup
	NodeRole  *iam.Role
}

// deployCreated is Deploy for a stack with createCluster. Like the lookup
// path, it registers nothing until the configuration is known to be good:
// the one call before (the partition, for policy ARNs) creates nothing.
func deployCreated(ctx *pulumi.Context, settings Settings) (*Deployment, error) {
	spec := *settings.Create
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("look up the AWS partition of %s: %w", settings.Region, err)
	}
	args := settings.Component
	args.Partition = part.Partition
	if problems := componentProblems(args); len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	if note := ExtendedSupportNote(spec.Version, time.Now()); note != "" {
		if err := ctx.Log.Warn(note, nil); err != nil {
			return nil, err
		}
	}

	created, err := createCluster(ctx, spec, args.Tags, part)
	if err != nil {
		return nil, err
	}
	// As on the lookup path, the stack's marker tag on what the component
	// creates. What that path checks against an existing cluster has
	// nothing to find on a new one: no add-on associating a preset's
	// service account, no object to take over (adopt is refused with
	// createCluster), and the cluster is IPv4.
	args.Tags = withStackTag(args.Tags, StackMarker(ctx))
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
			return ClusterKubeconfig(c, settings)
		}).(pulumi.StringOutput)
	kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	// Without UpsertExistingObjects (the lookup path turns it on to take
	// objects over after its preflight): on a new cluster an object that
	// already exists is a conflict to report, not something to take over.
	k8sProvider, err := kubernetes.NewProvider(ctx, "kubernetes", &kubernetes.ProviderArgs{Kubeconfig: kubeconfig})
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
	pi, err := podidentity.NewPodIdentity(ctx, ComponentName, args, pulumi.Providers(k8sProvider))
	if err != nil {
		return nil, err
	}

	exports := Exports(pi)
	exports["clusterName"] = cluster.Name()
	exports["clusterArn"] = cluster.Arn()
	exports["clusterVersion"] = cluster.Version()
	exports["clusterEndpoint"] = cluster.Endpoint()
	exports["kubeconfig"] = kubeconfig
	exports["updateKubeconfigCommand"] = cluster.Name().ApplyT(func(name string) string {
		return UpdateKubeconfigCommand(settings.Region, name, settings.Token)
	}).(pulumi.StringOutput)
	if created.NodeGroup != nil {
		exports["nodeGroupName"] = created.NodeGroup.NodeGroup.NodeGroupName()
	}
	return &Deployment{Component: pi, Exports: exports}, nil
}

// createCluster registers the cluster and, for managed nodes, the node role
// and node group, on the stack's default AWS provider.
func createCluster(ctx *pulumi.Context, spec ClusterSpec, stackTags map[string]string, part *aws.GetPartitionResult) (*CreatedCluster, error) {
	tags := pulumi.ToStringMap(spec.ClusterTags(stackTags))
	api := eks.AuthenticationModeApi
	clusterArgs := &eks.ClusterArgs{
		Name:    pulumi.String(spec.Name),
		Version: pulumi.String(spec.Version),
		// Access entries, not the aws-auth ConfigMap; EKS makes the identity
		// creating the cluster its admin (pulumi-eks sets
		// bootstrapClusterCreatorAdminPermissions), which is the identity the
		// generated kubeconfig's token is fetched as.
		AuthenticationMode: &api,
		// Our managed node group instead of pulumi-eks's self-managed one,
		// and no security groups of its own: the nodes use the cluster
		// security group EKS creates, which EKS also deletes.
		SkipDefaultNodeGroup:      pulumi.BoolRef(true),
		SkipDefaultSecurityGroups: pulumi.BoolRef(true),
		// Public endpoint for pulumi and kubectl (explicitly true, which also
		// makes pulumi-eks wait for /healthz), private for the nodes, so
		// restricting publicAccessCidrs does not cut them off.
		EndpointPublicAccess:  pulumi.Bool(true),
		EndpointPrivateAccess: pulumi.Bool(true),
		PublicAccessCidrs:     pulumi.ToStringArray(spec.PublicAccessCidrs),
		Tags:                  tags,
	}
	if spec.VpcID != "" {
		clusterArgs.VpcId = pulumi.String(spec.VpcID)
	}
	if len(spec.SubnetIDs) > 0 {
		clusterArgs.SubnetIds = pulumi.ToStringArray(spec.SubnetIDs)
	}
	if spec.Nodes == NodesAuto {
		clusterArgs.AutoMode = &eks.AutoModeOptionsArgs{Enabled: true}
		// pulumi-eks still creates the CoreDNS add-on under Auto Mode, where
		// it fails: CoreDNS is built in (pulumi-eks#1726).
		clusterArgs.CorednsAddonOptions = &eks.CoreDnsAddonOptionsArgs{Enabled: pulumi.BoolRef(false)}
	}
	cluster, err := eks.NewCluster(ctx, ClusterResourceName, clusterArgs)
	if err != nil {
		return nil, fmt.Errorf("create EKS cluster %s: %w", spec.Name, err)
	}
	created := &CreatedCluster{Cluster: cluster}
	if spec.Nodes == NodesAuto {
		return created, nil
	}

	role, err := iam.NewRole(ctx, NodeRoleResourceName, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(NodeRoleTrustPolicy(part.DnsSuffix)),
		Description:      pulumi.String("EKS nodes of cluster " + spec.Name),
		Tags:             tags,
	})
	if err != nil {
		return nil, fmt.Errorf("create node role: %w", err)
	}
	var attachments []pulumi.Resource
	for _, policy := range NodeRolePolicies {
		a, err := iam.NewRolePolicyAttachment(ctx, NodeRoleResourceName+"-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/%s", part.Partition, policy),
		})
		if err != nil {
			return nil, fmt.Errorf("attach %s to the node role: %w", policy, err)
		}
		attachments = append(attachments, a)
	}
	amiType, err := AmiType(spec.InstanceTypes)
	if err != nil {
		return nil, err // refused by Parse already
	}
	ng, err := eks.NewManagedNodeGroup(ctx, NodeGroupResourceName, &eks.ManagedNodeGroupArgs{
		Cluster:       cluster,
		NodeRoleArn:   role.Arn,
		AmiType:       pulumi.String(amiType),
		InstanceTypes: pulumi.ToStringArray(spec.InstanceTypes),
		ScalingConfig: &awseks.NodeGroupScalingConfigArgs{
			DesiredSize: pulumi.Int(spec.DesiredSize),
			MinSize:     pulumi.Int(spec.MinSize),
			MaxSize:     pulumi.Int(spec.MaxSize),
		},
		Tags: tags,
	}, pulumi.DependsOn(attachments)) // nodes join only with the role's policies in place
	if err != nil {
		return nil, fmt.Errorf("create managed node group: %w", err)
	}
	created.NodeGroup, created.NodeRole = ng, role
	return created, nil
}

// NodeRoleTrustPolicy lets EC2 instances assume the node role; dnsSuffix is
// the partition's (amazonaws.com, amazonaws.com.cn).
func NodeRoleTrustPolicy(dnsSuffix string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.%s"},"Action":"sts:AssumeRole"}]}`, dnsSuffix)
}
