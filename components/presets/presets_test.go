package presets

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123Sub   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// Every entry is usable as it stands: a name that can name resources, a
// Kubernetes identity, at least one permission, a check, and a source for
// every permission.
func TestCatalogueEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		if seen[p.Name] {
			t.Errorf("preset %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if !dns1123Label.MatchString(p.Name) {
			t.Errorf("preset name %q must be a DNS-1123 label: it becomes the workload's name", p.Name)
		}
		if !dns1123Label.MatchString(p.Namespace) || !dns1123Sub.MatchString(p.ServiceAccount) {
			t.Errorf("%s: %q/%q is not a Kubernetes namespace/service account", p.Name, p.Namespace, p.ServiceAccount)
		}
		if len(p.ManagedPolicies)+len(p.Documents) == 0 {
			t.Errorf("%s grants nothing", p.Name)
		}
		for _, m := range p.ManagedPolicies {
			if m.Source == "" {
				t.Errorf("%s: managed policy %s has no source", p.Name, m.Name)
			}
		}
		for _, d := range p.Documents {
			if !regexp.MustCompile(`\(\d{4}-\d{2}-\d{2}\)`).MatchString(d.Source) {
				t.Errorf("%s: document %s source %q must say when the documentation was last changed", p.Name, d.Name, d.Source)
			}
		}
		if p.check == nil || p.checkText == "" || p.For == "" {
			t.Errorf("%s: access check, its README text and For are required", p.Name)
		}
	}
	if got, want := Names(), []string{"ebs-csi", "efs-csi", "vpc-cni", "cloudwatch-observability", "external-dns", "cert-manager", "mountpoint-s3", "cluster-autoscaler"}; !reflect.DeepEqual(got, want) {
		t.Errorf("catalogue = %v, want %v", got, want)
	}
}

func TestManagedPolicyArnsUseThePartition(t *testing.T) {
	tests := []struct {
		preset, partition string
		want              []string
	}{
		{"ebs-csi", "aws", []string{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}},
		{"ebs-csi", "aws-cn", []string{"arn:aws-cn:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}},
		{"efs-csi", "aws-us-gov", []string{"arn:aws-us-gov:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"}},
		{"vpc-cni", "aws", []string{"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}},
		{"cloudwatch-observability", "aws", []string{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}},
		{"external-dns", "aws", []string{}},
	}
	for _, tt := range tests {
		p := mustLookup(t, tt.preset)
		if got := p.PolicyArns(tt.partition); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s in %s: policy ARNs = %v, want %v", tt.preset, tt.partition, got, tt.want)
		}
	}
	if got := (ManagedPolicy{Name: "service-role/AmazonEBSCSIDriverPolicy"}).BaseName(); got != "AmazonEBSCSIDriverPolicy" {
		t.Errorf("BaseName = %q", got)
	}
}

func TestDocumentsRender(t *testing.T) {
	zones := Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z111", "arn:aws:route53:::hostedzone/Z222"}}
	tests := []struct {
		preset string
		target Target
		want   string
	}{
		{"external-dns", Target{Partition: "aws", Inputs: zones}, `{"Version":"2012-10-17","Statement":[
			{"Sid":"ChangeRecordsInListedZones","Effect":"Allow",
			 "Action":["route53:ChangeResourceRecordSets","route53:ListResourceRecordSets","route53:ListTagsForResources"],
			 "Resource":["arn:aws:route53:::hostedzone/Z111","arn:aws:route53:::hostedzone/Z222"]},
			{"Sid":"ListZones","Effect":"Allow","Action":["route53:ListHostedZones"],"Resource":["*"]}]}`},
		{"cert-manager", Target{Partition: "aws-cn", Inputs: Inputs{HostedZoneArns: []string{"arn:aws-cn:route53:::hostedzone/Z333"}}}, `{"Version":"2012-10-17","Statement":[
			{"Sid":"GetChange","Effect":"Allow","Action":["route53:GetChange"],"Resource":["arn:aws-cn:route53:::change/*"]},
			{"Sid":"ChangeTXTRecordsInListedZones","Effect":"Allow",
			 "Action":["route53:ChangeResourceRecordSets","route53:ListResourceRecordSets"],
			 "Resource":["arn:aws-cn:route53:::hostedzone/Z333"],
			 "Condition":{"ForAllValues:StringEquals":{"route53:ChangeResourceRecordSetsRecordTypes":["TXT"]}}},
			{"Sid":"FindZones","Effect":"Allow","Action":["route53:ListHostedZonesByName"],"Resource":["*"]}]}`},
		{"mountpoint-s3", Target{Partition: "aws", Inputs: Inputs{BucketArns: []string{"arn:aws:s3:::data-a", "arn:aws:s3:::data-b"}}}, `{"Version":"2012-10-17","Statement":[
			{"Sid":"MountpointFullBucketAccess","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::data-a","arn:aws:s3:::data-b"]},
			{"Sid":"MountpointFullObjectAccess","Effect":"Allow",
			 "Action":["s3:GetObject","s3:PutObject","s3:AbortMultipartUpload","s3:DeleteObject"],
			 "Resource":["arn:aws:s3:::data-a/*","arn:aws:s3:::data-b/*"]}]}`},
		{"cluster-autoscaler", Target{Partition: "aws", ClusterName: "prod-eks"}, `{"Version":"2012-10-17","Statement":[
			{"Sid":"Describe","Effect":"Allow","Action":["autoscaling:DescribeAutoScalingGroups","autoscaling:DescribeAutoScalingInstances",
			 "autoscaling:DescribeLaunchConfigurations","autoscaling:DescribeScalingActivities","ec2:DescribeImages","ec2:DescribeInstanceTypes",
			 "ec2:DescribeLaunchTemplateVersions","ec2:GetInstanceTypesFromInstanceRequirements","eks:DescribeNodegroup"],"Resource":["*"]},
			{"Sid":"ScaleThisClustersGroups","Effect":"Allow",
			 "Action":["autoscaling:SetDesiredCapacity","autoscaling:TerminateInstanceInAutoScalingGroup"],"Resource":["*"],
			 "Condition":{"Null":{"autoscaling:ResourceTag/k8s.io/cluster-autoscaler/prod-eks":["false"]}}}]}`},
	}
	for _, tt := range tests {
		p := mustLookup(t, tt.preset)
		if len(p.Documents) != 1 {
			t.Fatalf("%s: %d documents, want 1", tt.preset, len(p.Documents))
		}
		got, err := p.Documents[0].Render(tt.target)
		if err != nil {
			t.Fatalf("%s: %v", tt.preset, err)
		}
		assertJSONEqual(t, tt.preset, got, tt.want)
	}
}

func TestDocumentNamingTheClusterNeedsItsName(t *testing.T) {
	p := mustLookup(t, "cluster-autoscaler")
	if _, err := p.Documents[0].Render(Target{Partition: "aws"}); err == nil || !strings.Contains(err.Error(), "names the cluster") {
		t.Errorf("render without a cluster name: err = %v, want a refusal", err)
	}
	for _, name := range []string{"external-dns", "cert-manager", "mountpoint-s3"} {
		for _, d := range mustLookup(t, name).Documents {
			if d.NeedsClusterName {
				t.Errorf("%s/%s says it needs the cluster name but does not use it", name, d.Name)
			}
		}
	}
}

func TestAccessChecks(t *testing.T) {
	tests := []struct {
		preset string
		in     Inputs
		want   string
	}{
		{"ebs-csi", Inputs{}, "ec2 describe-volumes --max-items 1"},
		{"efs-csi", Inputs{}, "efs describe-file-systems --max-items 1"},
		{"vpc-cni", Inputs{}, "ec2 describe-network-interfaces --max-items 1"},
		{"cloudwatch-observability", Inputs{}, "logs describe-log-groups --limit 1"},
		{"external-dns", Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z1"}}, "route53 list-hosted-zones --max-items 1"},
		{"cert-manager", Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z1"}}, "route53 list-hosted-zones-by-name --max-items 1"},
		{"mountpoint-s3", Inputs{BucketArns: []string{"arn:aws-cn:s3:::first.bucket", "arn:aws-cn:s3:::second"}}, "s3api list-objects-v2 --bucket first.bucket --max-items 1"},
		{"cluster-autoscaler", Inputs{}, "autoscaling describe-auto-scaling-groups --max-items 1"},
	}
	for _, tt := range tests {
		if got := mustLookup(t, tt.preset).AccessCheck(tt.in); got != tt.want {
			t.Errorf("%s: access check = %q, want %q", tt.preset, got, tt.want)
		}
	}
}

func TestCheckInputs(t *testing.T) {
	zone := "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
	tests := []struct {
		name      string
		preset    string
		partition string
		in        Inputs
		want      []string // "field: message fragment"
	}{
		{"no inputs needed", "ebs-csi", "aws", Inputs{}, nil},
		{"zones given", "external-dns", "aws", Inputs{HostedZoneArns: []string{zone, "arn:aws:route53:::hostedzone/Z2"}}, nil},
		{"every zone by name", "cert-manager", "aws", Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/*"}}, nil},
		{"zones missing", "external-dns", "aws", Inputs{}, []string{`hostedZoneArns: is required by preset "external-dns"`}},
		{"zones empty list", "cert-manager", "aws", Inputs{HostedZoneArns: []string{}}, []string{`hostedZoneArns: is required by preset "cert-manager"`}},
		{"input the preset does not take", "ebs-csi", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::b1b"}}, []string{`bucketArns: is set, but preset "ebs-csi" takes no bucketArns (it takes: no inputs)`}},
		{"other preset's input", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::b1b"}, HostedZoneArns: []string{zone}}, []string{`hostedZoneArns: is set, but preset "mountpoint-s3" takes no hostedZoneArns (it takes: bucketArns)`}},
		{"zone id, not ARN", "external-dns", "aws", Inputs{HostedZoneArns: []string{"Z0123"}}, []string{`hostedZoneArns[0]: "Z0123" is not a Route 53 hosted zone ARN`}},
		{"lower-case zone id", "external-dns", "aws", Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/z0123"}}, []string{`hostedZoneArns[0]: "arn:aws:route53:::hostedzone/z0123" is not a Route 53 hosted zone ARN`}},
		{"zone ARN with region", "external-dns", "aws", Inputs{HostedZoneArns: []string{"arn:aws:route53:us-east-1::hostedzone/Z1"}}, []string{`is not a Route 53 hosted zone ARN`}},
		{"partial wildcard", "external-dns", "aws", Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z01*"}}, []string{`hostedZoneArns[0]: "arn:aws:route53:::hostedzone/Z01*" is a partial wildcard`}},
		{"wildcard beside zones", "external-dns", "aws", Inputs{HostedZoneArns: []string{zone, "arn:aws:route53:::hostedzone/*"}}, []string{`hostedZoneArns[1]: "arn:aws:route53:::hostedzone/*" grants every hosted zone`}},
		{"zone from another partition", "external-dns", "aws-cn", Inputs{HostedZoneArns: []string{zone}}, []string{`hostedZoneArns[0]: "` + zone + `" is in partition "aws" but the cluster is in "aws-cn"`}},
		{"partition unknown yet", "external-dns", "", Inputs{HostedZoneArns: []string{"arn:aws-cn:route53:::hostedzone/Z1"}}, nil},
		{"duplicate zone", "cert-manager", "aws", Inputs{HostedZoneArns: []string{zone, zone}}, []string{`hostedZoneArns[1]: "` + zone + `" is already hostedZoneArns[0]`}},
		{"buckets missing", "mountpoint-s3", "aws", Inputs{}, []string{`bucketArns: is required by preset "mountpoint-s3"`}},
		{"bucket name, not ARN", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"my-bucket"}}, []string{`bucketArns[0]: "my-bucket" is not an S3 bucket ARN`}},
		{"object ARN", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::my-bucket/*"}}, []string{`bucketArns[0]: "arn:aws:s3:::my-bucket/*" is not a bucket ARN: give the bucket itself`}},
		{"wildcard bucket", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::data-*"}}, []string{`is not a bucket ARN: give the bucket itself`}},
		{"upper-case bucket", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::MyBucket"}}, []string{`is not an S3 bucket ARN`}},
		{"short bucket", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::ab"}}, []string{`is not an S3 bucket ARN`}},
		{"adjacent periods", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::my..bucket"}}, []string{`two adjacent periods`}},
		{"IP-formatted bucket", "mountpoint-s3", "aws", Inputs{BucketArns: []string{"arn:aws:s3:::192.168.5.4"}}, []string{`formatted as an IP address`}},
		{"bucket from another partition", "mountpoint-s3", "aws-us-gov", Inputs{BucketArns: []string{"arn:aws:s3:::my-bucket"}}, []string{`bucketArns[0]: "arn:aws:s3:::my-bucket" is in partition "aws" but the cluster is in "aws-us-gov"`}},
		{"bucket in its partition", "mountpoint-s3", "aws-us-gov", Inputs{BucketArns: []string{"arn:aws-us-gov:s3:::my-bucket"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLookup(t, tt.preset).CheckInputs(tt.partition, tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %v, want %d: %v", got, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				line := got[i].Field + ": " + got[i].Msg
				if !strings.Contains(line, want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, line, want)
				}
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	if _, ok := Lookup("ebs"); ok {
		t.Error(`Lookup("ebs") found a preset; names must match exactly`)
	}
}

// The presets table of docs/presets.md is this package's Table(), byte for byte.
// PRESETS_README_UPDATE=1 rewrites it.
func TestReadmeTableIsGeneratedFromTheCatalogue(t *testing.T) {
	const path = "../../docs/presets.md"
	const begin, end = "<!-- presets table: generated by components/presets.Table(); do not edit -->\n", "<!-- end of presets table -->\n"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("docs/presets.md has no presets table between %q and %q", strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	got, want := text[i+len(begin):j], "\n"+Table()+"\n"
	if got == want {
		return
	}
	if os.Getenv("PRESETS_README_UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(text[:i+len(begin)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("docs/presets.md presets table rewritten")
		return
	}
	t.Errorf("docs/presets.md's presets table differs from the catalogue; run PRESETS_README_UPDATE=1 go test ./components/presets/ to regenerate it. Want:\n%s", want)
}

func mustLookup(t *testing.T, name string) Preset {
	t.Helper()
	p, ok := Lookup(name)
	if !ok {
		t.Fatalf("no preset %q", name)
	}
	return p
}

func assertJSONEqual(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s =\n%s\nwant\n%s", what, got, want)
	}
}
