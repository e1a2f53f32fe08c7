package stackcheck

import (
	"fmt"

	"github.com/platform-eng/eks-pod-identity/stackconfig"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// PlaceholderAccount is the account ID the mocked AWS answers with when the
// stack does not pin one (aws:allowedAccountIds): AWS's documentation
// example account, never a real one.
const PlaceholderAccount = "111122223333"

// MockKubernetesVersion is the version the mocked cluster reports. The real
// lookup refuses clusters older than 1.24; any supported version behaves
// the same in the program.
const MockKubernetesVersion = "1.33"

// Cluster is the EKS cluster the mocks stand in for, named and placed as
// the stack says.
type Cluster struct {
	Name      string
	Region    string
	Partition string
	Account   string
	// AutoMode makes the lookup report EKS Auto Mode.
	AutoMode bool
	// Created says the stack creates the cluster (createCluster) at
	// Version, instead of looking it up.
	Created bool
	Version string
}

// endpoint is the cluster's API server URL, as EKS forms it.
func (c Cluster) endpoint() string {
	return fmt.Sprintf("https://0123456789ABCDEF0123456789ABCDEF.gr7.%s.eks.%s", c.Region, stackconfig.DNSSuffix(c.Partition))
}

// Arn is the cluster's ARN, as aws eks describe-cluster reports it.
func (c Cluster) Arn() string {
	return fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", c.Partition, c.Region, c.Account, c.Name)
}

// LookupResult is what aws:eks/getCluster answers for a healthy, ACTIVE
// cluster on EC2 nodes (or Auto Mode, when AutoMode).
func (c Cluster) LookupResult() resource.PropertyMap {
	return resource.NewPropertyMapFromMap(map[string]any{
		"name":                   c.Name,
		"id":                     c.Name,
		"arn":                    c.Arn(),
		"endpoint":               c.endpoint(),
		"version":                MockKubernetesVersion,
		"status":                 "ACTIVE",
		"certificateAuthorities": []any{map[string]any{"data": mockCA}},
		"computeConfigs":         []any{map[string]any{"enabled": c.AutoMode, "nodePools": []any{}, "nodeRoleArn": ""}},
		"roleArn":                fmt.Sprintf("arn:%s:iam::%s:role/eks-cluster-role", c.Partition, c.Account),
		"identities":             []any{map[string]any{"oidcs": []any{map[string]any{"issuer": c.Issuer()}}}},
	})
}

// Issuer is the cluster's OIDC issuer URL, as EKS forms it.
func (c Cluster) Issuer() string {
	return fmt.Sprintf("https://oidc.eks.%s.%s/id/0123456789ABCDEF0123456789ABCDEF", c.Region, stackconfig.DNSSuffix(c.Partition))
}
