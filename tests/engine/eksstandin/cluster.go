package main

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cluster is eks:index:Cluster's state, as far as this stand-in reports it
// (the output names are the Go SDK's).
type Cluster struct {
	pulumi.ResourceState

	EksCluster           awseks.ClusterOutput `pulumi:"eksCluster"`
	Core                 pulumi.MapOutput     `pulumi:"core"`
	Kubeconfig           pulumi.AnyOutput     `pulumi:"kubeconfig"`
	KubeconfigJson       pulumi.StringOutput  `pulumi:"kubeconfigJson"`
	AutoModeNodeRoleName pulumi.StringOutput  `pulumi:"autoModeNodeRoleName"`
}

// ServiceRole is pulumi-eks's eks:index:ServiceRole, a local component of
// the cluster's construct.
type ServiceRole struct {
	pulumi.ResourceState
}

// clusterInputs are the eks:index:Cluster inputs this stand-in implements;
// any other input is refused rather than silently ignored.
var clusterInputs = []string{"name", "version", "authenticationMode", "skipDefaultNodeGroup", "skipDefaultSecurityGroups",
	"endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs", "vpcId", "subnetIds", "tags", "corednsAddonOptions"}

func newCluster(ctx *pulumi.Context, name string, in pulumi.Map, options pulumi.ResourceOption) (*Cluster, error) {
	if err := onlyInputs(in, clusterInputs); err != nil {
		return nil, err
	}
	// pulumi-eks's default node group and default security groups are
	// EC2 Auto Scaling groups, launch templates and security groups, which
	// the pulumi-aws stand-in does not serve.
	for _, k := range []string{"skipDefaultNodeGroup", "skipDefaultSecurityGroups"} {
		if b, ok := plainBool(in[k]); !ok || !b {
			return nil, fmt.Errorf("pulumi-eks stand-in: %s must be true (test equipment builds no default node group or security groups)", k)
		}
	}

	if err := assertCompatibleAWSCLI(); err != nil {
		return nil, err
	}

	c := &Cluster{}
	if err := ctx.RegisterComponentResource(clusterToken, name, c, options); err != nil {
		return nil, err
	}
	part, err := aws.GetPartition(ctx, nil, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	tags := stringMap(in["tags"])

	role, attachments, err := newServiceRole(ctx, name+"-eksRole", c, "eks."+part.DnsSuffix, part.Partition,
		"Allows EKS to manage clusters on your behalf.", []string{"AmazonEKSClusterPolicy"}, tags)
	if err != nil {
		return nil, err
	}

	vpcConfig := &awseks.ClusterVpcConfigArgs{
		SubnetIds:             stringArray(in["subnetIds"]),
		EndpointPublicAccess:  boolPtr(in["endpointPublicAccess"]),
		EndpointPrivateAccess: boolPtr(in["endpointPrivateAccess"]),
		PublicAccessCidrs:     stringArray(in["publicAccessCidrs"]),
	}
	if vpcConfig.SubnetIds == nil {
		// pulumi-eks looks the default VPC's subnets up (aws:ec2/getVpc,
		// getSubnets); moto's CreateCluster does not check subnets, and the
		// pulumi-aws stand-in serves no EC2, so none are looked up here.
		vpcConfig.SubnetIds = pulumi.StringArray{}
	}
	args := &awseks.ClusterArgs{
		Name:      stringPtr(in["name"]),
		RoleArn:   role.Arn,
		Version:   stringPtr(in["version"]),
		VpcConfig: vpcConfig,
		Tags: pulumi.All(tags, pulumi.String(name+"-eksCluster")).ApplyT(func(v []any) map[string]string {
			out := map[string]string{"Name": v[1].(string)}
			for k, val := range v[0].(map[string]string) {
				out[k] = val
			}
			return out
		}).(pulumi.StringMapOutput),
	}
	if mode, ok := plainString(in["authenticationMode"]); ok && mode != "" {
		args.AccessConfig = &awseks.ClusterAccessConfigArgs{
			AuthenticationMode: pulumi.String(mode),
			// As pulumi-eks: the identity creating the cluster is its admin.
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		}
	}
	cluster, err := awseks.NewCluster(ctx, name+"-eksCluster", args, pulumi.Parent(c), pulumi.DependsOn(attachments),
		pulumi.IgnoreChanges([]string{"accessConfig.bootstrapClusterCreatorAdminPermissions", "bootstrapSelfManagedAddons"}))
	if err != nil {
		return nil, err
	}

	// pulumi-eks hands out the endpoint once /healthz answers, when the
	// public endpoint is explicitly on and this is not a preview.
	publicAccess, _ := plainBool(in["endpointPublicAccess"])
	endpoint := cluster.Endpoint.ApplyT(func(ep string) (string, error) {
		if ctx.DryRun() || !publicAccess {
			return ep, nil
		}
		return ep, waitForHealthz(ep)
	}).(pulumi.StringOutput)
	kubeconfig := pulumi.All(cluster.Name, endpoint, cluster.CertificateAuthority.Data(), cluster.Arn).ApplyT(func(v []any) (map[string]any, error) {
		ca, _ := v[2].(*string)
		data := ""
		if ca != nil {
			data = *ca
		}
		return generateKubeconfig(v[0].(string), v[1].(string), regionOf(v[3].(string)), data), nil
	}).(pulumi.MapOutput)

	c.EksCluster = cluster.ToClusterOutput()
	c.Kubeconfig = kubeconfig.ToMapOutput().ApplyT(func(m map[string]any) any { return m }).(pulumi.AnyOutput)
	c.KubeconfigJson = kubeconfig.ApplyT(func(m map[string]any) (string, error) {
		b, err := json.Marshal(m)
		return string(b), err
	}).(pulumi.StringOutput)
	c.AutoModeNodeRoleName = pulumi.String("").ToStringOutput()
	c.Core = pulumi.Map{
		"cluster":        cluster.ToClusterOutput(),
		"endpoint":       endpoint,
		"subnetIds":      cluster.VpcConfig.SubnetIds(),
		"vpcId":          cluster.VpcConfig.VpcId(),
		"tags":           tags,
		"clusterIamRole": role.ToRoleOutput(),
		"kubeconfig":     kubeconfig,
	}.ToMapOutput()
	// The engine keeps these as the component's outputs, which is what a
	// ManagedNodeGroup reads when it rehydrates the cluster by URN.
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"eksCluster":           c.EksCluster,
		"core":                 c.Core,
		"kubeconfig":           c.Kubeconfig,
		"kubeconfigJson":       c.KubeconfigJson,
		"autoModeNodeRoleName": c.AutoModeNodeRoleName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// newServiceRole is pulumi-eks's ServiceRole: a role for service, and one
// attachment per managed policy, named <name>-<first 8 hex of sha1(id)>.
func newServiceRole(ctx *pulumi.Context, name string, parent pulumi.Resource, service, partition, description string,
	policies []string, tags pulumi.StringMapInput,
) (*iam.Role, []pulumi.Resource, error) {
	sr := &ServiceRole{}
	if err := ctx.RegisterComponentResource("eks:index:ServiceRole", name, sr, pulumi.Parent(parent)); err != nil {
		return nil, nil, err
	}
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Action":    []string{"sts:AssumeRole", "sts:TagSession"},
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": []string{service}},
		}},
	})
	if err != nil {
		return nil, nil, err
	}
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Description:      pulumi.String(description),
		AssumeRolePolicy: pulumi.String(string(trust)),
		Tags:             tags,
	}, pulumi.Parent(sr))
	if err != nil {
		return nil, nil, err
	}
	var attachments []pulumi.Resource
	for _, p := range policies {
		id := "arn:aws:iam::aws:policy/" + p
		sum := sha1.Sum([]byte(id))
		a, err := iam.NewRolePolicyAttachment(ctx, name+"-"+hex.EncodeToString(sum[:])[:8], &iam.RolePolicyAttachmentArgs{
			PolicyArn: pulumi.String(fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, p)),
			Role:      role.Name,
		}, pulumi.Parent(sr))
		if err != nil {
			return nil, nil, err
		}
		attachments = append(attachments, a)
	}
	if err := ctx.RegisterResourceOutputs(sr, pulumi.Map{"directRole": role.ToRoleOutput()}); err != nil {
		return nil, nil, err
	}
	return role, attachments, nil
}

// generateKubeconfig is pulumi-eks's kubeconfig for a cluster (without a
// profile): the endpoint and CA, and `aws eks get-token`.
func generateKubeconfig(cluster, endpoint, region, caData string) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"clusters": []any{map[string]any{
			"cluster": map[string]any{"server": endpoint, "certificate-authority-data": caData},
			"name":    "kubernetes",
		}},
		"contexts":        []any{map[string]any{"context": map[string]any{"cluster": "kubernetes", "user": "aws"}, "name": "aws"}},
		"current-context": "aws",
		"kind":            "Config",
		"users": []any{map[string]any{"name": "aws", "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1",
			"command":    "aws",
			"args":       []string{"--region", region, "eks", "get-token", "--cluster-name", cluster, "--output", "json"},
			"env":        []any{map[string]any{"name": "KUBERNETES_EXEC_INFO", "value": `{"apiVersion": "client.authentication.k8s.io/v1beta1"}`}},
		}}}},
	}
}

func regionOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 3 {
		return parts[3]
	}
	return ""
}

// waitForHealthz polls <endpoint>/healthz as pulumi-eks does: up to 60
// tries, 5 s apart, certificate not verified.
func waitForHealthz(endpoint string) error {
	client := &http.Client{
		Timeout: time.Second,
		// As pulumi-eks: the check is reachability, not trust.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	for range 60 {
		resp, err := client.Get(endpoint + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(5 * time.Second)
	}
	return fmt.Errorf("cluster API server %s did not answer /healthz within 300 s", endpoint)
}

// assertCompatibleAWSCLI is pulumi-eks's check that the AWS CLI its
// kubeconfigs exec is on PATH, v1.24.0+ or v2.7.0+.
func assertCompatibleAWSCLI() error {
	if _, err := exec.LookPath("aws"); err != nil {
		return errors.New("could not find aws CLI for EKS (pulumi-eks needs it for its kubeconfig): see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html")
	}
	out, err := exec.Command("aws", "--version").Output()
	if err != nil {
		return fmt.Errorf("aws --version: %w", err)
	}
	v := strings.TrimPrefix(strings.Fields(string(out) + " ")[0], "aws-cli/")
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return fmt.Errorf("aws --version: cannot read %q: %w", out, err)
	}
	if (major == 1 && minor < 24) || (major == 2 && minor < 7) || major < 1 {
		return fmt.Errorf("at least v1.24.0 (v1) or v2.7.0 (v2) of aws-cli is required; current version is %s", v)
	}
	return nil
}

// onlyInputs refuses inputs this stand-in does not implement.
func onlyInputs(in pulumi.Map, allowed []string) error {
	var extra []string
	for k, v := range in {
		if v != nil && !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return fmt.Errorf("pulumi-eks stand-in: inputs %v are not implemented (test equipment implements %v)", extra, allowed)
	}
	return nil
}
