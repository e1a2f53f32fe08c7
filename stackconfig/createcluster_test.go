package stackconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// createConfig is a stack that asks for a cluster instead of naming one.
func createConfig(block string) map[string]string {
	cfg := baseConfig()
	delete(cfg, "eks-pod-identity:clusterName")
	cfg["eks-pod-identity:createCluster"] = block
	return cfg
}

func TestParseCreateClusterDefaults(t *testing.T) {
	s, err := Parse(createConfig(`{"name":"sandbox-eks"}`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &ClusterSpec{
		Name: "sandbox-eks", Version: DefaultClusterVersion, Nodes: NodesManaged,
		InstanceTypes: []string{"t3.medium"}, DesiredSize: 2, MinSize: 1, MaxSize: 3,
		PublicAccessCidrs: []string{"0.0.0.0/0"},
	}
	if !reflect.DeepEqual(s.Create, want) {
		t.Errorf("spec = %+v\nwant %+v", s.Create, want)
	}
	if s.ClusterName != "sandbox-eks" {
		t.Errorf("ClusterName = %q, want the created cluster's name", s.ClusterName)
	}
}

func TestParseCreateClusterEverything(t *testing.T) {
	s, err := Parse(createConfig(`{"name":"lab","version":"1.34","instanceTypes":["m7g.large","t4g.medium"],
		"desiredSize":3,"minSize":2,"maxSize":5,"vpcId":"vpc-0123456789abcdef0",
		"subnetIds":["subnet-0123456789abcdef0","subnet-89abcdef"],"publicAccessCidrs":["203.0.113.0/24"],"tags":{"team":"x"}}`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &ClusterSpec{
		Name: "lab", Version: "1.34", Nodes: NodesManaged,
		InstanceTypes: []string{"m7g.large", "t4g.medium"}, DesiredSize: 3, MinSize: 2, MaxSize: 5,
		VpcID: "vpc-0123456789abcdef0", SubnetIDs: []string{"subnet-0123456789abcdef0", "subnet-89abcdef"},
		PublicAccessCidrs: []string{"203.0.113.0/24"}, Tags: map[string]string{"team": "x"},
	}
	if !reflect.DeepEqual(s.Create, want) {
		t.Errorf("spec = %+v\nwant %+v", s.Create, want)
	}
}

func TestParseCreateClusterAutoMode(t *testing.T) {
	cfg := createConfig(`{"name":"auto","nodes":"auto"}`)
	cfg["eks-pod-identity:manageAgent"] = "false"
	s, err := Parse(cfg, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.Create.Nodes != NodesAuto || s.Create.InstanceTypes != nil || s.Create.DesiredSize != 0 {
		t.Errorf("auto mode spec %+v carries node group settings", s.Create)
	}
}

// An empty block, as Pulumi.yaml's default hands it over, creates nothing.
func TestParseEmptyCreateClusterIsTheLookupPath(t *testing.T) {
	for _, v := range []string{"{}", " {} ", "null", ""} {
		cfg := baseConfig()
		cfg["eks-pod-identity:createCluster"] = v
		s, err := Parse(cfg, noEnv)
		if err != nil || s.Create != nil {
			t.Errorf("createCluster %q: create = %+v, err = %v; want the existing-cluster path", v, s.Create, err)
		}
	}
}

// Every refusal names the key, the value and the rule, before anything is
// created.
func TestParseCreateClusterRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string
		extra map[string]string
		want  string
	}{
		{"both existing and create", `{"name":"new"}`, map[string]string{"eks-pod-identity:clusterName": "old"},
			`eks-pod-identity:clusterName: "old" names an existing cluster, and eks-pod-identity:createCluster asks for a new one: set one of them`},
		{"neither", "{}", map[string]string{"eks-pod-identity:clusterName": ""},
			"eks-pod-identity:clusterName: is required: the name of an existing EKS cluster, e.g. `pulumi config set clusterName my-eks-cluster`, or set createCluster to create one"},
		{"name missing", `{"version":"1.35"}`, nil,
			"eks-pod-identity:createCluster.name: is required: the name of the EKS cluster to create"},
		{"name invalid", `{"name":"my.cluster"}`, nil,
			`eks-pod-identity:createCluster.name: "my.cluster" is not a valid EKS cluster name`},
		{"not an object", `["x"]`, nil,
			"eks-pod-identity:createCluster: is not an object with name and optional settings"},
		{"unknown key", `{"name":"a","nodeCount":2}`, nil,
			`eks-pod-identity:createCluster: unknown key "nodeCount" (allowed: desiredSize, instanceTypes, maxSize, minSize, name, nodes, publicAccessCidrs, subnetIds, tags, version, vpcId)`},
		{"key in the wrong case", `{"name":"a","MinSize":2}`, nil,
			`eks-pod-identity:createCluster: unknown key "MinSize"`},
		{"wrong type", `{"name":"a","minSize":"2"}`, nil,
			"eks-pod-identity:createCluster.minSize: is a string, expected an integer"},
		{"version format", `{"name":"a","version":"v1.35"}`, nil,
			`eks-pod-identity:createCluster.version: "v1.35" is not a Kubernetes minor version: expected the form 1.35`},
		{"version patch level", `{"name":"a","version":"1.35.2"}`, nil,
			`"1.35.2" is not a Kubernetes minor version`},
		{"version without pod identity", `{"name":"a","version":"1.23"}`, nil,
			`eks-pod-identity:createCluster.version: "1.23" is too old: EKS Pod Identity needs Kubernetes 1.24 or later`},
		{"version no longer offered", `{"name":"a","version":"1.27"}`, nil,
			`eks-pod-identity:createCluster.version: "1.27" is no longer offered by EKS`},
		{"node mode", `{"name":"a","nodes":"fargate"}`, nil,
			`eks-pod-identity:createCluster.nodes: "fargate" is not a node mode: use "managed" (a managed node group) or "auto" (EKS Auto Mode)`},
		{"min below 1", `{"name":"a","minSize":0,"desiredSize":0}`, nil,
			"eks-pod-identity:createCluster.minSize: 0 is out of range: at least 1 node"},
		{"desired below min", `{"name":"a","minSize":2,"desiredSize":1}`, nil,
			"eks-pod-identity:createCluster.desiredSize: 1 is below minSize 2: the rule is 1 <= minSize <= desiredSize <= maxSize"},
		{"max below desired", `{"name":"a","desiredSize":4}`, nil,
			"eks-pod-identity:createCluster.maxSize: 3 is below desiredSize 4: the rule is 1 <= minSize <= desiredSize <= maxSize"},
		{"instance type format", `{"name":"a","instanceTypes":["t3-medium"]}`, nil,
			`eks-pod-identity:createCluster.instanceTypes[0]: "t3-medium" is not an EC2 instance type: expected <family>.<size>, e.g. t3.medium`},
		{"instance types empty", `{"name":"a","instanceTypes":[]}`, nil,
			"eks-pod-identity:createCluster.instanceTypes: is empty"},
		{"instance type twice", `{"name":"a","instanceTypes":["t3.large","t3.large"]}`, nil,
			`eks-pod-identity:createCluster.instanceTypes[1]: "t3.large" is listed twice (instanceTypes[0])`},
		{"mixed architectures", `{"name":"a","instanceTypes":["t3.large","t4g.large"]}`, nil,
			"eks-pod-identity:createCluster.instanceTypes: mixes Arm (t4g.large) and x86_64 (t3.large) instance types"},
		{"vpc id format", `{"name":"a","vpcId":"vpc-xyz","subnetIds":["subnet-01234567","subnet-89abcdef"]}`, nil,
			`eks-pod-identity:createCluster.vpcId: "vpc-xyz" is not a VPC ID: expected vpc- and 8 or 17 hexadecimal digits`},
		{"vpc without subnets", `{"name":"a","vpcId":"vpc-01234567"}`, nil,
			`eks-pod-identity:createCluster.vpcId: "vpc-01234567" is set without subnetIds`},
		{"subnet id format", `{"name":"a","subnetIds":["subnet-01234567","sn-1"]}`, nil,
			`eks-pod-identity:createCluster.subnetIds[1]: "sn-1" is not a subnet ID: expected subnet- and 8 or 17 hexadecimal digits`},
		{"one subnet", `{"name":"a","subnetIds":["subnet-01234567"]}`, nil,
			"eks-pod-identity:createCluster.subnetIds: lists 1 subnet(s): EKS needs subnets in at least two Availability Zones"},
		{"subnet twice", `{"name":"a","subnetIds":["subnet-01234567","subnet-01234567"]}`, nil,
			`eks-pod-identity:createCluster.subnetIds[1]: "subnet-01234567" is listed twice (subnetIds[0])`},
		{"cidr format", `{"name":"a","publicAccessCidrs":["203.0.113.0"]}`, nil,
			`eks-pod-identity:createCluster.publicAccessCidrs[0]: "203.0.113.0" is not an IPv4 CIDR block: expected the form 203.0.113.0/24`},
		{"cidr host bits", `{"name":"a","publicAccessCidrs":["203.0.113.7/24"]}`, nil,
			`eks-pod-identity:createCluster.publicAccessCidrs[0]: "203.0.113.7/24" has bits set past its /24 prefix: did you mean 203.0.113.0/24?`},
		{"cidr ipv6", `{"name":"a","publicAccessCidrs":["2001:db8::/32"]}`, nil,
			`"2001:db8::/32" is not an IPv4 CIDR block`},
		{"cidrs empty", `{"name":"a","publicAccessCidrs":[]}`, nil,
			"eks-pod-identity:createCluster.publicAccessCidrs: is empty"},
		{"tag reserved", `{"name":"a","tags":{"aws:x":"y"}}`, nil,
			`eks-pod-identity:createCluster.tags: key "aws:x" uses the reserved prefix "aws:"`},
		{"auto mode with the agent", `{"name":"a","nodes":"auto"}`, nil,
			`eks-pod-identity:manageAgent: is true, but eks-pod-identity:createCluster.nodes is "auto": EKS Auto Mode has the Pod Identity Agent built in and the eks-pod-identity-agent add-on would conflict: set manageAgent to false`},
		{"auto mode with a size", `{"name":"a","nodes":"auto","minSize":2}`, map[string]string{"eks-pod-identity:manageAgent": "false"},
			`eks-pod-identity:createCluster.minSize: is set, but nodes is "auto": EKS Auto Mode sizes the cluster itself`},
		{"auto mode with instance types", `{"name":"a","nodes":"auto","instanceTypes":["t3.large"]}`, map[string]string{"eks-pod-identity:manageAgent": "false"},
			`eks-pod-identity:createCluster.instanceTypes: is set, but nodes is "auto": EKS Auto Mode picks instance types itself`},
		{"own kubeconfig", `{"name":"a"}`, map[string]string{"eks-pod-identity:kubeconfig": "apiVersion: v1\nkind: Config\n"},
			"eks-pod-identity:kubeconfig: is set (value not shown), but eks-pod-identity:createCluster makes a new cluster, whose kubeconfig the program generates from it: unset kubeconfig"},
		{"adopt", `{"name":"a"}`, map[string]string{"eks-pod-identity:adopt": "true"},
			"eks-pod-identity:adopt: is true, but eks-pod-identity:createCluster makes a new cluster, which holds nothing to take over: unset adopt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createConfig(tc.block)
			for k, v := range tc.extra {
				cfg[k] = v
			}
			_, err := Parse(cfg, noEnv)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Parse accepted it or failed otherwise: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not say\n  %s\ngot:\n%v", tc.want, err)
			}
		})
	}
}

func day(s string) time.Time { return mustDate(s) }

// EKS offers a version until its extended support ends; older ones, and
// those older than the calendar, are refused, newer ones are taken.
func TestVersionProblem(t *testing.T) {
	for _, tc := range []struct {
		version, today string
		want           string // substring; "" = accepted
	}{
		{"1.35", "2026-11-29", ""},
		{"1.32", "2026-11-29", ""},
		{"1.31", "2026-11-25", ""},
		{"1.31", "2026-11-26", "is no longer offered by EKS: its extended support ended on 2026-11-26: use 1.32 or later"},
		{"1.28", "2026-11-29", "is no longer offered by EKS (its extended support ended before 1.29's): use 1.32 or later"},
		{"1.24", "2026-11-29", "is no longer offered by EKS"},
		{"1.23", "2026-11-29", "is too old: EKS Pod Identity needs Kubernetes 1.24 or later"},
		{"1.36", "2026-11-29", ""},
		{"1.100", "2026-11-29", ""},
		{"2.0", "2026-11-29", "is not a Kubernetes minor version"},
		{"1.035", "2026-11-29", "is not a Kubernetes minor version"},
		{"1.35", "2028-03-27", "is no longer offered by EKS: its extended support ended on 2028-03-27"},
	} {
		got := versionProblem(tc.version, day(tc.today))
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("versionProblem(%s, %s) = %q, want %q", tc.version, tc.today, got, tc.want)
		}
	}
}

// The default version must be in standard support when it is chosen, so a
// stack left to the default does not pay the extended-support rate.
func TestDefaultVersionIsInStandardSupport(t *testing.T) {
	s, ok := eksSupport[DefaultClusterVersion]
	if !ok {
		t.Fatalf("DefaultClusterVersion %s is not in the EKS calendar table", DefaultClusterVersion)
	}
	if got := ExtendedSupportNote(DefaultClusterVersion, day("2026-11-29")); got != "" {
		t.Errorf("the default is in extended support: %s", got)
	}
	if s.standardEnds != "2027-03-27" {
		t.Errorf("the calendar's end of standard support for %s is %s; the constant's comment says 2027-03-27", DefaultClusterVersion, s.standardEnds)
	}
}

func TestExtendedSupportNote(t *testing.T) {
	if got := ExtendedSupportNote("1.33", day("2026-11-29")); !strings.Contains(got, "left EKS standard support on 2026-07-29") || !strings.Contains(got, "$0.60 an hour") {
		t.Errorf("1.33 in November 2026: %q", got)
	}
	if got := ExtendedSupportNote("1.34", day("2026-12-01")); got != "" {
		t.Errorf("1.34 before 2026-12-02 is in standard support, got %q", got)
	}
	if got := ExtendedSupportNote("1.36", day("2026-12-01")); got != "" {
		t.Errorf("a version newer than the table has no note, got %q", got)
	}
}

func TestAmiType(t *testing.T) {
	for _, tc := range []struct {
		types []string
		want  string
	}{
		{[]string{"t3.medium"}, "AL2023_x86_64_STANDARD"},
		{[]string{"m7i-flex.large", "c5.xlarge"}, "AL2023_x86_64_STANDARD"},
		{[]string{"g4dn.xlarge"}, "AL2023_x86_64_STANDARD"},
		{[]string{"t4g.medium"}, "AL2023_ARM_64_STANDARD"},
		{[]string{"m7gd.large", "c6gn.xlarge", "im4gn.large", "g5g.xlarge", "a1.large"}, "AL2023_ARM_64_STANDARD"},
	} {
		got, err := AmiType(tc.types)
		if err != nil || got != tc.want {
			t.Errorf("AmiType(%v) = %q, %v; want %q", tc.types, got, err, tc.want)
		}
	}
	if _, err := AmiType([]string{"t3.medium", "t4g.medium"}); err == nil {
		t.Error("mixed architectures accepted")
	}
}

func TestClusterTagsMergeStackTags(t *testing.T) {
	s := ClusterSpec{Tags: map[string]string{"team": "lab", "purpose": "sandbox"}}
	got := s.ClusterTags(map[string]string{"team": "platform", "cost-center": "42"})
	want := map[string]string{"team": "lab", "purpose": "sandbox", "cost-center": "42"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
}
