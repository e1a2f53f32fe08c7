package stackcheck

import (
	"fmt"
	"regexp"

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
	return fmt.Sprintf("https://0123456789ABCDEF0123456789ABCDEF.gr7.%s.eks.%s", c.Region, dnsSuffix(c.Partition))
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
	})
}

// partitions are the AWS partitions and their region patterns, in the
// order and form of the AWS SDK's endpoint rules (aws-sdk-go-v2
// internal/endpoints/awsrulesfn/partitions.json).
var partitions = []struct {
	id, dnsSuffix string
	regions       *regexp.Regexp
}{
	{"aws", "amazonaws.com", regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`)},
	{"aws-cn", "amazonaws.com.cn", regexp.MustCompile(`^cn-\w+-\d+$`)},
	{"aws-eusc", "amazonaws.eu", regexp.MustCompile(`^eusc-(de)-\w+-\d+$`)},
	{"aws-iso", "c2s.ic.gov", regexp.MustCompile(`^us-iso-\w+-\d+$`)},
	{"aws-iso-b", "sc2s.sgov.gov", regexp.MustCompile(`^us-isob-\w+-\d+$`)},
	{"aws-iso-e", "cloud.adc-e.uk", regexp.MustCompile(`^eu-isoe-\w+-\d+$`)},
	{"aws-iso-f", "csp.hci.ic.gov", regexp.MustCompile(`^us-isof-\w+-\d+$`)},
	{"aws-us-gov", "amazonaws.com", regexp.MustCompile(`^us-gov-\w+-\d+$`)},
}

// PartitionOf returns the partition a region name belongs to, or "" when
// the name fits no partition's pattern. Fitting one does not make a region
// exist (eu-centrl-1 fits); fitting none (eu-central) is surely a mistake.
func PartitionOf(region string) string {
	for _, p := range partitions {
		if p.regions.MatchString(region) {
			return p.id
		}
	}
	return ""
}

func dnsSuffix(partition string) string {
	for _, p := range partitions {
		if p.id == partition {
			return p.dnsSuffix
		}
	}
	return "amazonaws.com"
}
