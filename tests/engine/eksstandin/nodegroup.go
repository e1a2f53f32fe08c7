package main

import (
	"context"
	"fmt"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// ManagedNodeGroup is eks:index:ManagedNodeGroup's state.
type ManagedNodeGroup struct {
	pulumi.ResourceState

	NodeGroup          awseks.NodeGroupOutput `pulumi:"nodeGroup"`
	PlacementGroupName pulumi.StringOutput    `pulumi:"placementGroupName"`
}

// clusterState is an eks:index:Cluster read back by URN, as pulumi-eks's
// ManagedNodeGroup reads the cluster it is given.
type clusterState struct {
	pulumi.ResourceState

	EksCluster awseks.ClusterOutput `pulumi:"eksCluster"`
}

var nodeGroupInputs = []string{"cluster", "clusterName", "nodeRoleArn", "amiType", "instanceTypes", "scalingConfig",
	"subnetIds", "tags", "labels", "version", "nodeGroupName", "capacityType", "diskSize"}

func newManagedNodeGroup(ctx *pulumi.Context, name string, in pulumi.Map, options pulumi.ResourceOption) (*ManagedNodeGroup, error) {
	if err := onlyInputs(in, nodeGroupInputs); err != nil {
		return nil, err
	}
	if in["nodeRoleArn"] == nil {
		// pulumi-eks also takes nodeRole (a Role); the program passes the ARN.
		return nil, fmt.Errorf("pulumi-eks stand-in: nodeRoleArn is required (test equipment takes no nodeRole)")
	}
	cluster, err := rehydrateCluster(ctx, in["cluster"])
	if err != nil {
		return nil, err
	}

	ng := &ManagedNodeGroup{}
	if err := ctx.RegisterComponentResource(nodeGroupToken, name, ng, options); err != nil {
		return nil, err
	}
	clusterName := stringPtr(in["clusterName"])
	if clusterName == nil {
		clusterName = cluster.EksCluster.Name()
	}
	version := stringPtr(in["version"])
	if version == nil {
		// As pulumi-eks: the node group runs the cluster's version.
		version = cluster.EksCluster.Version()
	}
	subnets := stringArray(in["subnetIds"])
	if subnets == nil {
		subnets = cluster.EksCluster.VpcConfig().SubnetIds()
	}
	var scalingIn pulumi.Input = pulumi.Map{}
	if in["scalingConfig"] != nil {
		scalingIn = in["scalingConfig"]
	}
	scaling := pulumi.ToOutput(scalingIn).ApplyT(func(v any) awseks.NodeGroupScalingConfig {
		m, _ := v.(map[string]any)
		// pulumi-eks's defaults: 2 desired, 1 to 2.
		return awseks.NodeGroupScalingConfig{DesiredSize: intOr(m["desiredSize"], 2), MinSize: intOr(m["minSize"], 1), MaxSize: intOr(m["maxSize"], 2)}
	}).(awseks.NodeGroupScalingConfigOutput)
	group, err := awseks.NewNodeGroup(ctx, name, &awseks.NodeGroupArgs{
		ClusterName:   clusterName.ToStringPtrOutput().Elem(),
		NodeGroupName: stringPtr(in["nodeGroupName"]),
		NodeRoleArn:   stringPtr(in["nodeRoleArn"]).ToStringPtrOutput().Elem(),
		AmiType:       stringPtr(in["amiType"]),
		InstanceTypes: stringArray(in["instanceTypes"]),
		CapacityType:  stringPtr(in["capacityType"]),
		Labels:        optStringMap(in["labels"]),
		ScalingConfig: scaling,
		SubnetIds:     subnets,
		Version:       version,
		Tags:          optStringMap(in["tags"]),
	}, pulumi.Parent(ng))
	if err != nil {
		return nil, err
	}
	ng.NodeGroup = group.ToNodeGroupOutput()
	ng.PlacementGroupName = pulumi.String("").ToStringOutput()
	if err := ctx.RegisterResourceOutputs(ng, pulumi.Map{"nodeGroup": ng.NodeGroup, "placementGroupName": ng.PlacementGroupName}); err != nil {
		return nil, err
	}
	return ng, nil
}

// rehydrateCluster reads the eks:index:Cluster a reference names back from
// the engine (pulumi:pulumi:getResource), outputs and all.
func rehydrateCluster(ctx *pulumi.Context, ref pulumi.Input) (*clusterState, error) {
	v, ok := plain(ref)
	if !ok {
		return nil, fmt.Errorf("pulumi-eks stand-in: cluster is absent or unknown")
	}
	r, ok := v.(pulumi.Resource)
	if !ok {
		return nil, fmt.Errorf("pulumi-eks stand-in: cluster must be a reference to an eks:index:Cluster, got %T", v)
	}
	urnRes, err := internals.UnsafeAwaitOutput(context.Background(), r.URN())
	if err != nil {
		return nil, err
	}
	urn := string(urnRes.Value.(pulumi.URN))
	var c clusterState
	if err := ctx.RegisterComponentResource(clusterToken, urnName(urn), &c, pulumi.URN_(urn)); err != nil {
		return nil, fmt.Errorf("read cluster %s: %w", urn, err)
	}
	return &c, nil
}

func urnName(urn string) string {
	for i := len(urn) - 1; i > 0; i-- {
		if urn[i] == ':' && urn[i-1] == ':' {
			return urn[i+1:]
		}
	}
	return urn
}
