package main

// EKS clusters and managed node groups, for the children the pulumi-eks
// stand-in (../eksstandin) registers on the createCluster path. Property
// names follow pulumi-aws v6.83.4 (aws:eks/cluster:Cluster,
// aws:eks/nodeGroup:NodeGroup); IDs as terraform-provider-aws: the cluster's
// name, and "cluster:nodegroup" for a node group; nodeGroupName is
// auto-named like pulumi-aws does (AutoName("nodeGroupName", 255, "-")).
// Nested inputs (vpcConfig, accessConfig, scalingConfig) come back as given,
// so a second preview compares like with like; the computed parts of them
// (vpcConfig.vpcId, clusterSecurityGroupId) are not reported.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	clusterToken   = "aws:eks/cluster:Cluster"
	nodeGroupToken = "aws:eks/nodeGroup:NodeGroup"
)

func init() {
	register(&resourceKind{
		token: clusterToken,
		inputs: []string{"name", "roleArn", "version", "vpcConfig", "accessConfig", "tags", "computeConfig",
			"storageConfig", "kubernetesNetworkConfig", "bootstrapSelfManagedAddons", "enabledClusterLogTypes"},
		// ForceNew in terraform-provider-aws's aws_eks_cluster.
		replaces:         set("name", "roleArn", "kubernetesNetworkConfig", "bootstrapSelfManagedAddons"),
		optionalComputed: set("version", "bootstrapSelfManagedAddons"),
		computedOnCreate: []string{"arn", "endpoint", "certificateAuthority", "clusterId", "createdAt", "identities",
			"platformVersion", "status", "tagsAll", "version"},
		check: func(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
			news := c.news
			var failures []*pulumirpc.CheckFailure
			if !present(news, "name") {
				name, f := autoname(c, 100)
				if f != nil {
					failures = append(failures, f)
				}
				news["name"] = strProp(name)
			}
			failures = append(failures, requireKeys(news, "roleArn", "vpcConfig")...)
			return news, failures
		},
		create: createCluster,
		read:   readCluster,
		update: updateCluster,
		delete: deleteCluster,
	})
	register(&resourceKind{
		token: nodeGroupToken,
		inputs: []string{"clusterName", "nodeGroupName", "nodeRoleArn", "subnetIds", "scalingConfig", "amiType",
			"instanceTypes", "capacityType", "diskSize", "labels", "version", "releaseVersion", "tags"},
		// ForceNew in terraform-provider-aws's aws_eks_node_group.
		replaces:         set("clusterName", "nodeGroupName", "nodeRoleArn", "subnetIds", "amiType", "instanceTypes", "capacityType", "diskSize"),
		optionalComputed: set("amiType", "instanceTypes", "capacityType", "diskSize", "version", "releaseVersion"),
		computedOnCreate: []string{"arn", "status", "resources", "tagsAll", "amiType", "capacityType", "diskSize",
			"instanceTypes", "releaseVersion", "version"},
		check: func(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
			news := c.news
			var failures []*pulumirpc.CheckFailure
			if !present(news, "nodeGroupName") {
				name, f := autonameKey(c, "nodeGroupName", 255)
				if f != nil {
					failures = append(failures, f)
				}
				news["nodeGroupName"] = strProp(name)
			}
			failures = append(failures, requireKeys(news, "clusterName", "nodeRoleArn", "subnetIds", "scalingConfig")...)
			return news, failures
		},
		create: createNodeGroup,
		read:   readNodeGroup,
		update: updateNodeGroup,
		delete: deleteNodeGroup,
	})
}

// autonameKey is autoname for a property other than "name".
func autonameKey(c *checkInput, key string, maxlen int) (string, *pulumirpc.CheckFailure) {
	if old := str(c.olds, key); old != "" {
		return old, nil
	}
	if opts := c.autonaming; opts != nil && opts.GetMode() != pulumirpc.CheckRequest_AutonamingOptions_DISABLE {
		return opts.GetProposedName(), nil
	}
	name, err := resource.NewUniqueName(c.seed, c.name+"-", 7, maxlen, nil)
	if err != nil {
		return "", failure(key, "could not make instance of '%v': %v", c.urn.Type(), err)
	}
	return name, nil
}

func object(m resource.PropertyMap, key string) resource.PropertyMap {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return resource.PropertyMap{}
	}
	v = plain(v)
	if !v.IsObject() {
		return resource.PropertyMap{}
	}
	return v.ObjectValue()
}

func optBool(m resource.PropertyMap, key string) *bool {
	if !present(m, key) {
		return nil
	}
	return aws.Bool(boolean(m, key))
}

// ---------------------------------------------------------------------------
// Cluster; ID = name

func createCluster(ctx context.Context, a *clients, news resource.PropertyMap, timeout time.Duration) (string, resource.PropertyMap, error) {
	name := str(news, "name")
	vpc := object(news, "vpcConfig")
	in := &eks.CreateClusterInput{
		Name:    aws.String(name),
		RoleArn: aws.String(str(news, "roleArn")),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{
			SubnetIds:             orEmpty(strList(vpc, "subnetIds")),
			SecurityGroupIds:      strList(vpc, "securityGroupIds"),
			EndpointPublicAccess:  optBool(vpc, "endpointPublicAccess"),
			EndpointPrivateAccess: optBool(vpc, "endpointPrivateAccess"),
			PublicAccessCidrs:     strList(vpc, "publicAccessCidrs"),
		},
		Tags:               strMap(news, "tags"),
		ClientRequestToken: aws.String(prefixedUniqueID("terraform-")),
	}
	if v := str(news, "version"); v != "" {
		in.Version = aws.String(v)
	}
	if ac := object(news, "accessConfig"); len(ac) > 0 {
		in.AccessConfig = &ekstypes.CreateAccessConfigRequest{
			AuthenticationMode:                      ekstypes.AuthenticationMode(str(ac, "authenticationMode")),
			BootstrapClusterCreatorAdminPermissions: optBool(ac, "bootstrapClusterCreatorAdminPermissions"),
		}
	}
	if cc := object(news, "computeConfig"); len(cc) > 0 {
		in.ComputeConfig = &ekstypes.ComputeConfigRequest{
			Enabled:     optBool(cc, "enabled"),
			NodePools:   strList(cc, "nodePools"),
			NodeRoleArn: aws.String(str(cc, "nodeRoleArn")),
		}
	}
	if present(news, "bootstrapSelfManagedAddons") {
		in.BootstrapSelfManagedAddons = aws.Bool(boolean(news, "bootstrapSelfManagedAddons"))
	}
	if _, err := a.eks.CreateCluster(ctx, in); err != nil {
		return "", nil, fmt.Errorf("creating EKS Cluster (%s): %w", name, err)
	}
	var last *ekstypes.Cluster
	err := poll(ctx, timeout, fmt.Sprintf("EKS Cluster (%s) create", name), func() (bool, error) {
		out, err := a.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		if err != nil {
			return false, fmt.Errorf("waiting for EKS Cluster (%s) create: %w", name, err)
		}
		last = out.Cluster
		switch last.Status {
		case ekstypes.ClusterStatusActive:
			return true, nil
		case ekstypes.ClusterStatusCreating:
			return false, nil
		}
		return false, fmt.Errorf("waiting for EKS Cluster (%s) create: unexpected state '%s'", name, last.Status)
	})
	if last == nil {
		return "", nil, err
	}
	return name, clusterOutputs(last, news), err
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clusterOutputs is the cluster's state: what EKS reports, with the nested
// settings carried over from the inputs.
func clusterOutputs(c *ekstypes.Cluster, prior resource.PropertyMap) resource.PropertyMap {
	outs := resource.PropertyMap{
		"name":            optStrProp(c.Name),
		"arn":             optStrProp(c.Arn),
		"roleArn":         optStrProp(c.RoleArn),
		"version":         optStrProp(c.Version),
		"endpoint":        optStrProp(c.Endpoint),
		"platformVersion": optStrProp(c.PlatformVersion),
		"status":          strProp(string(c.Status)),
		"clusterId":       strProp(aws.ToString(c.Id)),
		"createdAt":       rfc3339(c.CreatedAt),
		"tagsAll":         mapProp(c.Tags),
		"identities":      objList(),
	}
	if c.CertificateAuthority != nil {
		outs["certificateAuthority"] = resource.NewObjectProperty(resource.PropertyMap{"data": optStrProp(c.CertificateAuthority.Data)})
	}
	if c.Identity != nil && c.Identity.Oidc != nil {
		outs["identities"] = objList(resource.PropertyMap{"oidcs": objList(resource.PropertyMap{"issuer": optStrProp(c.Identity.Oidc.Issuer)})})
	}
	if len(c.Tags) > 0 || present(prior, "tags") {
		outs["tags"] = mapProp(c.Tags)
	}
	for _, k := range []string{"vpcConfig", "accessConfig", "computeConfig", "storageConfig", "kubernetesNetworkConfig",
		"bootstrapSelfManagedAddons", "enabledClusterLogTypes"} {
		if v, ok := prior[resource.PropertyKey(k)]; ok {
			outs[resource.PropertyKey(k)] = v
		}
	}
	return outs
}

func readCluster(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	out, err := a.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(id)})
	if isNotFound(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading EKS Cluster (%s): %w", id, err)
	}
	return id, clusterOutputs(out.Cluster, state), nil
}

// updateCluster applies tag changes; the rest of an EKS cluster update
// (version, endpoint access, logging) is not implemented by this stand-in.
func updateCluster(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
	for _, k := range []string{"version", "vpcConfig", "accessConfig", "computeConfig", "storageConfig", "enabledClusterLogTypes"} {
		if changed(olds, news, k) {
			return nil, fmt.Errorf("updating EKS Cluster (%s): changing %s is not implemented by the pulumi-aws stand-in (test equipment)", id, k)
		}
	}
	if err := eksRetag(ctx, a, str(olds, "arn"), strMap(olds, "tags"), strMap(news, "tags")); err != nil {
		return nil, fmt.Errorf("updating EKS Cluster (%s) tags: %w", id, err)
	}
	_, outs, err := readCluster(ctx, a, id, news)
	return outs, err
}

func deleteCluster(ctx context.Context, a *clients, id string, _ resource.PropertyMap, timeout time.Duration) error {
	_, err := a.eks.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String(id)})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		// EKS refuses while node groups remain: the engine must delete them first.
		return fmt.Errorf("deleting EKS Cluster (%s): %w", id, err)
	}
	return poll(ctx, timeout, fmt.Sprintf("EKS Cluster (%s) delete", id), func() (bool, error) {
		_, err := a.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(id)})
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// ---------------------------------------------------------------------------
// NodeGroup; ID = "cluster:nodegroup"

func createNodeGroup(ctx context.Context, a *clients, news resource.PropertyMap, timeout time.Duration) (string, resource.PropertyMap, error) {
	cluster, name := str(news, "clusterName"), str(news, "nodeGroupName")
	id := cluster + ":" + name
	sc := object(news, "scalingConfig")
	scaling := &ekstypes.NodegroupScalingConfig{}
	if v, ok := integer(sc, "desiredSize"); ok {
		scaling.DesiredSize = aws.Int32(int32(v))
	}
	if v, ok := integer(sc, "minSize"); ok {
		scaling.MinSize = aws.Int32(int32(v))
	}
	if v, ok := integer(sc, "maxSize"); ok {
		scaling.MaxSize = aws.Int32(int32(v))
	}
	in := &eks.CreateNodegroupInput{
		ClusterName:        aws.String(cluster),
		NodegroupName:      aws.String(name),
		NodeRole:           aws.String(str(news, "nodeRoleArn")),
		Subnets:            orEmpty(strList(news, "subnetIds")),
		ScalingConfig:      scaling,
		InstanceTypes:      strList(news, "instanceTypes"),
		Labels:             strMap(news, "labels"),
		Tags:               strMap(news, "tags"),
		ClientRequestToken: aws.String(prefixedUniqueID("terraform-")),
	}
	if v := str(news, "amiType"); v != "" {
		in.AmiType = ekstypes.AMITypes(v)
	}
	if v := str(news, "capacityType"); v != "" {
		in.CapacityType = ekstypes.CapacityTypes(v)
	}
	if v := str(news, "version"); v != "" {
		in.Version = aws.String(v)
	}
	if v := str(news, "releaseVersion"); v != "" {
		in.ReleaseVersion = aws.String(v)
	}
	if v, ok := integer(news, "diskSize"); ok {
		in.DiskSize = aws.Int32(int32(v))
	}
	if _, err := a.eks.CreateNodegroup(ctx, in); err != nil {
		return "", nil, fmt.Errorf("creating EKS Node Group (%s): %w", id, err)
	}
	// terraform-provider-aws waits CREATING -> ACTIVE before it returns.
	var last *ekstypes.Nodegroup
	err := poll(ctx, timeout, fmt.Sprintf("EKS Node Group (%s) create", id), func() (bool, error) {
		ng, err := describeNodeGroup(ctx, a, cluster, name)
		if err != nil {
			return false, fmt.Errorf("waiting for EKS Node Group (%s) create: %w", id, err)
		}
		last = ng
		switch ng.Status {
		case ekstypes.NodegroupStatusActive:
			return true, nil
		case ekstypes.NodegroupStatusCreating:
			return false, nil
		}
		return false, fmt.Errorf("waiting for EKS Node Group (%s) create: unexpected state '%s'", id, ng.Status)
	})
	if last == nil {
		return "", nil, err
	}
	return id, nodeGroupOutputs(last, news), err
}

func describeNodeGroup(ctx context.Context, a *clients, cluster, name string) (*ekstypes.Nodegroup, error) {
	out, err := a.eks.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return out.Nodegroup, nil
}

func nodeGroupOutputs(ng *ekstypes.Nodegroup, prior resource.PropertyMap) resource.PropertyMap {
	outs := resource.PropertyMap{
		"clusterName":    optStrProp(ng.ClusterName),
		"nodeGroupName":  optStrProp(ng.NodegroupName),
		"arn":            optStrProp(ng.NodegroupArn),
		"nodeRoleArn":    optStrProp(ng.NodeRole),
		"subnetIds":      listProp(ng.Subnets),
		"amiType":        strProp(string(ng.AmiType)),
		"capacityType":   strProp(string(ng.CapacityType)),
		"instanceTypes":  listProp(ng.InstanceTypes),
		"version":        optStrProp(ng.Version),
		"releaseVersion": optStrProp(ng.ReleaseVersion),
		"status":         strProp(string(ng.Status)),
		"tagsAll":        mapProp(ng.Tags),
	}
	if ng.DiskSize != nil {
		outs["diskSize"] = resource.NewNumberProperty(float64(*ng.DiskSize))
	}
	if len(ng.Tags) > 0 || present(prior, "tags") {
		outs["tags"] = mapProp(ng.Tags)
	}
	if ng.Resources != nil {
		var groups []resource.PropertyMap
		for _, g := range ng.Resources.AutoScalingGroups {
			groups = append(groups, resource.PropertyMap{"name": optStrProp(g.Name)})
		}
		outs["resources"] = objList(resource.PropertyMap{"autoscalingGroups": objList(groups...)})
	}
	for _, k := range []string{"scalingConfig", "labels"} {
		if v, ok := prior[resource.PropertyKey(k)]; ok {
			outs[resource.PropertyKey(k)] = v
		}
	}
	return outs
}

func splitNodeGroupID(id string) (string, string, error) {
	if c, n, ok := strings.Cut(id, ":"); ok && c != "" && n != "" {
		return c, n, nil
	}
	return "", "", fmt.Errorf("unexpected format for EKS Node Group ID (%s), expected cluster-name:node-group-name", id)
}

func readNodeGroup(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	cluster, name, err := splitNodeGroupID(id)
	if err != nil {
		return "", nil, err
	}
	ng, err := describeNodeGroup(ctx, a, cluster, name)
	if isNotFound(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading EKS Node Group (%s): %w", id, err)
	}
	return id, nodeGroupOutputs(ng, state), nil
}

// updateNodeGroup applies tag changes; scaling, labels and version updates
// are not implemented by this stand-in.
func updateNodeGroup(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
	for _, k := range []string{"scalingConfig", "labels", "version", "releaseVersion"} {
		if changed(olds, news, k) {
			return nil, fmt.Errorf("updating EKS Node Group (%s): changing %s is not implemented by the pulumi-aws stand-in (test equipment)", id, k)
		}
	}
	if err := eksRetag(ctx, a, str(olds, "arn"), strMap(olds, "tags"), strMap(news, "tags")); err != nil {
		return nil, fmt.Errorf("updating EKS Node Group (%s) tags: %w", id, err)
	}
	_, outs, err := readNodeGroup(ctx, a, id, news)
	return outs, err
}

func deleteNodeGroup(ctx context.Context, a *clients, id string, _ resource.PropertyMap, timeout time.Duration) error {
	cluster, name, err := splitNodeGroupID(id)
	if err != nil {
		return err
	}
	_, err = a.eks.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting EKS Node Group (%s): %w", id, err)
	}
	return poll(ctx, timeout, fmt.Sprintf("EKS Node Group (%s) delete", id), func() (bool, error) {
		_, err := describeNodeGroup(ctx, a, cluster, name)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	})
}
