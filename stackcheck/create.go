package stackcheck

// The createCluster path under the offline check. pulumi-eks's Cluster and
// ManagedNodeGroup are remote components: their state holds references to
// their children (the aws:eks Cluster and NodeGroup), which the program
// reads (the cluster's name, ARN and CA, the node group's name). Under
// mocks a reference can only be read back when the mock monitor has
// registered that resource, so Run registers stand-ins for the two
// children first. The Recorder answers the components with references to
// them, keeps them out of the plan, and charges a wait on one of them to
// its component, whose registration returns once its children exist.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/ekscluster"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

const (
	eksClusterType   = "eks:index:Cluster"
	eksNodeGroupType = "eks:index:ManagedNodeGroup"
	awsClusterType   = "aws:eks/cluster:Cluster"
	awsNodeGroupType = "aws:eks/nodeGroup:NodeGroup"
	getPartitionTok  = "aws:index/getPartition:getPartition"
)

// standInFor maps the type of a stand-in child to its component's type.
var standInFor = map[string]string{awsClusterType: eksClusterType, awsNodeGroupType: eksNodeGroupType}

// CreatedCluster reads the createCluster block's name and version (the
// program has already accepted it); ok is false without one.
func CreatedCluster(cfg map[string]string) (name, version string, ok bool) {
	var b struct{ Name, Version string }
	if json.Unmarshal([]byte(cfg[stackconfig.Project+":"+stackconfig.KeyCreateCluster]), &b) != nil || b.Name == "" {
		return "", "", false
	}
	if b.Version == "" {
		b.Version = stackconfig.DefaultClusterVersion
	}
	return b.Name, b.Version, true
}

// registerStandIns registers the components' children and keeps
// references to them for the components' answers.
func (r *Recorder) registerStandIns(ctx *pulumi.Context) error {
	c := r.Cluster
	cluster, err := awseks.NewCluster(ctx, ekscluster.ClusterResourceName+"-eksCluster", &awseks.ClusterArgs{
		Name:      pulumi.String(c.Name),
		Version:   pulumi.String(c.Version),
		RoleArn:   pulumi.String(fmt.Sprintf("arn:%s:iam::%s:role/%s-eksRole-role", c.Partition, c.Account, ekscluster.ClusterResourceName)),
		VpcConfig: &awseks.ClusterVpcConfigArgs{},
	})
	if err != nil {
		return err
	}
	nodes, err := awseks.NewNodeGroup(ctx, ekscluster.NodeGroupResourceName, &awseks.NodeGroupArgs{
		ClusterName:   pulumi.String(c.Name),
		NodeRoleArn:   pulumi.String(fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition, c.Account, AutoName(ekscluster.NodeRoleResourceName))),
		SubnetIds:     pulumi.StringArray{},
		ScalingConfig: &awseks.NodeGroupScalingConfigArgs{DesiredSize: pulumi.Int(1), MinSize: pulumi.Int(1), MaxSize: pulumi.Int(1)},
	})
	if err != nil {
		return err
	}
	ref := func(res pulumi.CustomResource) (resource.PropertyValue, error) {
		urn, err := internals.UnsafeAwaitOutput(context.Background(), res.URN())
		if err != nil {
			return resource.PropertyValue{}, err
		}
		id, err := internals.UnsafeAwaitOutput(context.Background(), res.ID())
		if err != nil {
			return resource.PropertyValue{}, err
		}
		return resource.MakeCustomResourceReference(resource.URN(urn.Value.(pulumi.URN)), resource.ID(id.Value.(pulumi.ID)), ""), nil
	}
	clusterRef, err := ref(cluster)
	if err != nil {
		return err
	}
	nodesRef, err := ref(nodes)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clusterRef, r.nodeGroupRef = clusterRef, nodesRef
	return nil
}

// answerCreated answers what the createCluster path registers beyond the
// lookup path; handled is false for anything else.
func (r *Recorder) answerCreated(args pulumi.MockResourceArgs) (id string, outs resource.PropertyMap, handled bool) {
	c := r.Cluster
	switch args.TypeToken {
	case awsClusterType:
		outs = args.Inputs.Copy()
		outs["arn"] = resource.NewStringProperty(c.Arn())
		outs["endpoint"] = resource.NewStringProperty(c.endpoint())
		outs["certificateAuthority"] = resource.NewObjectProperty(resource.PropertyMap{"data": resource.NewStringProperty(mockCA)})
		return c.Name, outs, true
	case awsNodeGroupType:
		outs = args.Inputs.Copy()
		name := AutoName(ekscluster.NodeGroupResourceName)
		outs["nodeGroupName"] = resource.NewStringProperty(name)
		return c.Name + ":" + name, outs, true
	case eksClusterType:
		outs = args.Inputs.Copy()
		outs["eksCluster"] = r.clusterRef
		outs["core"] = resource.NewObjectProperty(resource.PropertyMap{
			"cluster":  r.clusterRef,
			"endpoint": resource.NewStringProperty(c.endpoint()),
		})
		return "", outs, true
	case eksNodeGroupType:
		outs = args.Inputs.Copy()
		outs["nodeGroup"] = r.nodeGroupRef
		return "", outs, true
	}
	return "", nil, false
}

// partitionResult is what aws:index/getPartition answers in c's region.
func (c Cluster) partitionResult() resource.PropertyMap {
	suffix := stackconfig.DNSSuffix(c.Partition)
	parts := strings.Split(suffix, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"id": c.Partition, "partition": c.Partition, "dnsSuffix": suffix, "reverseDnsPrefix": strings.Join(parts, "."),
	})
}

// describeCreated says what pulumi-eks's components will make.
func describeCreated(r *Registration) ([]string, bool) {
	in := r.Inputs
	switch r.Type {
	case eksClusterType:
		lines := []string{
			fmt.Sprintf("EKS cluster %s (pulumi-eks), Kubernetes %s, authentication mode %s, with its service role", str(in, "name"), str(in, "version"), str(in, "authenticationMode")),
			fmt.Sprintf("endpoint public (from %s) and private; subnets %s", strings.Join(strs(in, "publicAccessCidrs"), ", "), orDefaultVPC(strs(in, "subnetIds"))),
		}
		if auto := obj(in, "autoMode"); len(auto) > 0 {
			lines = append(lines, "EKS Auto Mode, CoreDNS add-on off")
		} else {
			lines = append(lines, "no default node group, no extra security groups")
		}
		if tags := obj(in, "tags"); len(tags) > 0 {
			lines = append(lines, "tags: "+keyValues(tags))
		}
		return lines, true
	case eksNodeGroupType:
		sc := obj(in, "scalingConfig")
		return []string{
			fmt.Sprintf("managed node group (pulumi-eks), %s, %s, %v desired (min %v, max %v)", str(in, "amiType"), strings.Join(strs(in, "instanceTypes"), ", "),
				sc["desiredSize"].V, sc["minSize"].V, sc["maxSize"].V),
			"node role " + str(in, "nodeRoleArn"),
		}, true
	}
	return nil, false
}

func orDefaultVPC(subnets []string) string {
	if len(subnets) == 0 {
		return "the default VPC's"
	}
	return strings.Join(subnets, ", ")
}

// mockCA is a placeholder certificate authority (base64 of a PEM header).
const mockCA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
