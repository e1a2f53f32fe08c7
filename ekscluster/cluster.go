// Package ekscluster finds the stack's EKS cluster or creates it: the
// lookup and the checks that refuse a cluster Pod Identity cannot serve,
// the kubeconfig `aws eks update-kubeconfig` would write for it, and the
// createCluster path's pulumi-eks cluster and managed node group.
package ekscluster

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Find looks up the stack's existing cluster (on the stack's default AWS
// provider) and refuses one Pod Identity cannot serve.
func Find(ctx *pulumi.Context, s stackconfig.Settings) (*eks.LookupClusterResult, error) {
	c, err := eks.LookupCluster(ctx, &eks.LookupClusterArgs{Name: s.ClusterName})
	if err != nil {
		return nil, fmt.Errorf("look up EKS cluster %q in %s: %w", s.ClusterName, s.Region, err)
	}
	if err := Check(c, !s.Component.Agent.Skip); err != nil {
		return nil, err
	}
	return c, nil
}

// Check refuses clusters Pod Identity cannot serve, and settings that
// would conflict with what the cluster already has, before anything is
// created.
func Check(c *eks.LookupClusterResult, manageAgent bool) error {
	if !stackconfig.VersionAtLeast(c.Version, stackconfig.MinKubernetesVersion) {
		return fmt.Errorf("cluster %q runs Kubernetes %q; EKS Pod Identity needs %s or later: upgrade the cluster first",
			c.Name, c.Version, stackconfig.MinKubernetesVersion)
	}
	if manageAgent && autoMode(c) {
		return fmt.Errorf("cluster %q runs EKS Auto Mode, which has the Pod Identity Agent built in and conflicts with the %s add-on: set %s:%s to false",
			c.Name, "eks-pod-identity-agent", stackconfig.Project, stackconfig.KeyManageAgent)
	}
	if partition := Partition(c.Arn); partition == "" {
		return fmt.Errorf("cluster %q has no usable ARN (%q)", c.Name, c.Arn)
	}
	if len(c.CertificateAuthorities) == 0 || c.Endpoint == "" {
		return fmt.Errorf("cluster %q reports no API endpoint or certificate authority; is it still being created?", c.Name)
	}
	return nil
}

func autoMode(c *eks.LookupClusterResult) bool {
	for _, cc := range c.ComputeConfigs {
		if cc.Enabled {
			return true
		}
	}
	return false
}

// Partition returns an ARN's partition, or "" if s is not an ARN.
func Partition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return ""
	}
	return parts[1]
}

// Account is the account field of an ARN, such as the cluster's; "" when
// it has none.
func Account(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// UpdateKubeconfigCommand is the command a user runs next to reach the new
// cluster with kubectl, as the same identity the stack deployed with.
func UpdateKubeconfigCommand(region, cluster string, id stackconfig.TokenIdentity) string {
	cmd := fmt.Sprintf("aws eks update-kubeconfig --region %s --name %s", region, cluster)
	if id.RoleArn != "" {
		cmd += " --role-arn " + id.RoleArn
	}
	if id.Profile != "" {
		cmd += " --profile " + id.Profile
	}
	return cmd
}

// Kubeconfig is the kubeconfig `aws eks update-kubeconfig` would
// write: the cluster's endpoint and CA, authenticated by an exec of
// `aws eks get-token`, the same credentials the walkthrough's kubectl uses.
// It holds no secret; the token is fetched at each use.
func Kubeconfig(c *eks.LookupClusterResult, s stackconfig.Settings) (string, error) {
	args := []string{"--region", s.Region, "eks", "get-token", "--cluster-name", c.Name, "--output", "json"}
	id := s.Token
	if id.RoleArn != "" {
		// The token must come from the identity the AWS provider uses.
		args = append(args, "--role-arn", id.RoleArn)
	}
	exec := map[string]any{
		"apiVersion": "client.authentication.k8s.io/v1beta1",
		"command":    "aws",
		"args":       args,
	}
	var env []map[string]string
	for _, e := range [][2]string{{"AWS_PROFILE", id.Profile}, {"AWS_CONFIG_FILE", id.ConfigFile}, {"AWS_SHARED_CREDENTIALS_FILE", id.CredentialsFile}} {
		if e[1] != "" {
			env = append(env, map[string]string{"name": e[0], "value": e[1]})
		}
	}
	if env != nil {
		exec["env"] = env
	}
	var ca string
	if len(c.CertificateAuthorities) > 0 {
		ca = c.CertificateAuthorities[0].Data
	}
	kc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": c.Arn,
		"clusters": []any{map[string]any{"name": c.Arn, "cluster": map[string]any{
			"server":                     c.Endpoint,
			"certificate-authority-data": ca,
		}}},
		"contexts": []any{map[string]any{"name": c.Arn, "context": map[string]any{
			"cluster": c.Arn,
			"user":    c.Arn,
		}}},
		"users": []any{map[string]any{"name": c.Arn, "user": map[string]any{"exec": exec}}},
	}
	b, err := json.Marshal(kc)
	if err != nil {
		return "", fmt.Errorf("encode kubeconfig: %w", err)
	}
	return string(b), nil
}
