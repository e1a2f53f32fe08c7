package program

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
)

// MinKubernetesVersion is the oldest EKS version with Pod Identity.
const MinKubernetesVersion = "1.24"

// CheckCluster refuses clusters Pod Identity cannot serve, and settings that
// would conflict with what the cluster already has, before anything is
// created.
func CheckCluster(c *eks.LookupClusterResult, manageAgent bool) error {
	if !versionAtLeast(c.Version, MinKubernetesVersion) {
		return fmt.Errorf("cluster %q runs Kubernetes %q; EKS Pod Identity needs %s or later: upgrade the cluster first",
			c.Name, c.Version, MinKubernetesVersion)
	}
	if manageAgent && autoMode(c) {
		return fmt.Errorf("cluster %q runs EKS Auto Mode, which has the Pod Identity Agent built in and conflicts with the %s add-on: set %s:%s to false",
			c.Name, "eks-pod-identity-agent", Project, KeyManageAgent)
	}
	if partition := arnPartition(c.Arn); partition == "" {
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

// versionAtLeast compares "major.minor" versions as EKS reports them.
func versionAtLeast(version, min string) bool {
	vMaj, vMin, ok1 := majorMinor(version)
	mMaj, mMin, ok2 := majorMinor(min)
	if !ok1 || !ok2 {
		return false
	}
	return vMaj > mMaj || (vMaj == mMaj && vMin >= mMin)
}

func majorMinor(v string) (int, int, bool) {
	maj, rest, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if !ok {
		return 0, 0, false
	}
	min, _, _ := strings.Cut(rest, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	return a, b, err1 == nil && err2 == nil
}

// arnPartition returns an ARN's partition, or "" if s is not an ARN.
func arnPartition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return ""
	}
	return parts[1]
}

// ClusterKubeconfig is the kubeconfig `aws eks update-kubeconfig` would
// write: the cluster's endpoint and CA, authenticated by an exec of
// `aws eks get-token`, the same credentials the walkthrough's kubectl uses.
// It holds no secret; the token is fetched at each use.
func ClusterKubeconfig(c *eks.LookupClusterResult, s Settings) (string, error) {
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
