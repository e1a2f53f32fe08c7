package ekscluster

// The createCluster path: a new EKS cluster (pulumi-eks) and, unless it runs
// EKS Auto Mode, a managed node group with its own node role. The program
// puts the same PodIdentity component on it, waiting for its nodes.

import (
	"fmt"

	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
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

// Created is what Create registered.
type Created struct {
	Cluster *eks.Cluster
	// NodeGroup and NodeRole are nil on EKS Auto Mode.
	NodeGroup *eks.ManagedNodeGroup
	NodeRole  *iam.Role
}

// Create registers the cluster and, for managed nodes, the node role
// and node group, on the stack's default AWS provider.
func Create(ctx *pulumi.Context, spec stackconfig.ClusterSpec, stackTags map[string]string, part *aws.GetPartitionResult) (*Created, error) {
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
	if spec.Nodes == stackconfig.NodesAuto {
		clusterArgs.AutoMode = &eks.AutoModeOptionsArgs{Enabled: true}
		// pulumi-eks still creates the CoreDNS add-on under Auto Mode, where
		// it fails: CoreDNS is built in (pulumi-eks#1726).
		clusterArgs.CorednsAddonOptions = &eks.CoreDnsAddonOptionsArgs{Enabled: pulumi.BoolRef(false)}
	}
	cluster, err := eks.NewCluster(ctx, ClusterResourceName, clusterArgs)
	if err != nil {
		return nil, fmt.Errorf("create EKS cluster %s: %w", spec.Name, err)
	}
	created := &Created{Cluster: cluster}
	if spec.Nodes == stackconfig.NodesAuto {
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
	amiType, err := stackconfig.AmiType(spec.InstanceTypes)
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
