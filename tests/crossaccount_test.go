package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Cross-account roles and session controls (docs/cross-account.md): what
// the program registers for targetRoleArn, disableSessionTags and
// sessionPolicy, what it outputs for the target account, and what it
// refuses before anything exists.

const (
	tCloudControl = "aws:cloudcontrol/resource:Resource"
	targetRole    = "arn:aws:iam::444455556666:role/reports-reader"
	denyS3        = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	stackTags     = `"Tags":[{"Key":"eks-pod-identity:stack","Value":"organization/eks-pod-identity/dev@stack-marker-id"}]`
)

// runWorkloads runs the dev stack with its workloads replaced.
func runWorkloads(t *testing.T, workloads string) (*recorder, map[string]any, error) {
	t.Helper()
	cfg := stackConfig(t, "dev")
	cfg["eks-pod-identity:workloads"] = workloads
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	exports, err := run(t, cfg, rec)
	return rec, exports, err
}

// Each combination of keys reaches Cloud Control's DesiredState in the
// type's CloudFormation property names, and only such workloads leave the
// native association.
func TestCloudControlDesiredStateForEachCombination(t *testing.T) {
	const first = "arn:aws:iam::111122223333:role/app-role"
	for _, tc := range []struct {
		name     string
		workload string
		want     string
	}{
		{"target role", `{"serviceAccount":"app","roleName":"app-role","targetRoleArn":"` + targetRole + `"}`,
			`{"ClusterName":"my-eks-cluster","Namespace":"default","ServiceAccount":"app","RoleArn":"` + first + `","TargetRoleArn":"` + targetRole + `","DisableSessionTags":false,` + stackTags + `}`},
		{"target role, tags off", `{"serviceAccount":"app","roleName":"app-role","trust":"open","targetRoleArn":"` + targetRole + `","disableSessionTags":true}`,
			`{"ClusterName":"my-eks-cluster","Namespace":"default","ServiceAccount":"app","RoleArn":"` + first + `","TargetRoleArn":"` + targetRole + `","DisableSessionTags":true,` + stackTags + `}`},
		{"target role, tags off, session policy", `{"serviceAccount":"app","roleName":"app-role","trust":"open","targetRoleArn":"` + targetRole + `","disableSessionTags":true,"sessionPolicy":` + denyS3 + `}`,
			`{"ClusterName":"my-eks-cluster","Namespace":"default","ServiceAccount":"app","RoleArn":"` + first + `","TargetRoleArn":"` + targetRole + `","DisableSessionTags":true,"Policy":` + jsonString(denyS3) + `,` + stackTags + `}`},
		{"tags off only", `{"serviceAccount":"app","roleName":"app-role","trust":"open","disableSessionTags":true}`,
			`{"ClusterName":"my-eks-cluster","Namespace":"default","ServiceAccount":"app","RoleArn":"` + first + `","DisableSessionTags":true,` + stackTags + `}`},
		{"tags off, session policy (as a JSON string), workload tags", `{"serviceAccount":"app","roleName":"app-role","trust":"open","disableSessionTags":true,"sessionPolicy":` + jsonString(denyS3) + `,"tags":{"team":"data"}}`,
			`{"ClusterName":"my-eks-cluster","Namespace":"default","ServiceAccount":"app","RoleArn":"` + first + `","DisableSessionTags":true,"Policy":` + jsonString(denyS3) + `,"Tags":[{"Key":"eks-pod-identity:stack","Value":"organization/eks-pod-identity/dev@stack-marker-id"},{"Key":"team","Value":"data"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := runWorkloads(t, `[`+tc.workload+`,{"serviceAccount":"plain"}]`)
			if err != nil {
				t.Fatal(err)
			}
			cc := rec.get(t, tCloudControl, "pod-identity-app-association")
			if got := cc.Inputs["typeName"].StringValue(); got != "AWS::EKS::PodIdentityAssociation" {
				t.Errorf("typeName = %q", got)
			}
			if got := cc.Inputs["desiredState"].StringValue(); got != tc.want {
				t.Errorf("desiredState\n got: %s\nwant: %s", got, tc.want)
			}
			if !cc.DeleteBeforeReplace {
				t.Error("the Cloud Control association must be replaced delete-first: one association per service account")
			}
			// A workload moving from the native association replaces that
			// one (delete first) instead of creating beside it.
			if !slices.Equal(cc.AliasTypes, []string{tAssociation}) {
				t.Errorf("Cloud Control association aliases types %v, want [%s]", cc.AliasTypes, tAssociation)
			}
			if !rec.dependsOn(cc, rec.get(t, tRole, "pod-identity-app-role")) {
				t.Error("the association must wait for the role")
			}
			for _, reg := range rec.regs {
				if reg.Type == tAssociation && reg.Name == "pod-identity-app-association" {
					t.Error("the workload also got a native association")
				}
			}
			rec.get(t, tAssociation, "pod-identity-plain-association") // the other workload stays native
			if n := countType(rec, tCloudControl); n != 1 {
				t.Errorf("%d Cloud Control resources, want 1: only the workload with the new keys", n)
			}
		})
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

func countType(rec *recorder, typ string) int {
	n := 0
	for _, reg := range rec.regs {
		if reg.Type == typ {
			n++
		}
	}
	return n
}

// The first role may chain into the target role, as the user guide says,
// and gets no default S3 policy: the pod's permissions are the target's.
func TestFirstRoleMayAssumeAndTagTheTargetRole(t *testing.T) {
	rec, _, err := runWorkloads(t, `[{"serviceAccount":"app","roleName":"app-role","targetRoleArn":"`+targetRole+`"}]`)
	if err != nil {
		t.Fatal(err)
	}
	p := rec.get(t, tRolePolicy, "pod-identity-app-inline-eks-pod-identity-target-role")
	assertInputs(t, p, map[string]any{"role": "app-role", "name": "eks-pod-identity-target-role"})
	assertJSONEqual(t, "the first role's chaining policy", p.Inputs["policy"].StringValue(),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"`+targetRole+`"}]}`)
	if n := countType(rec, tAttachment); n != 0 {
		t.Errorf("%d managed policies attached, want none: the default AmazonS3ReadOnlyAccess is for roles the pod ends up with", n)
	}
	// Without a target role, no such policy.
	rec, _, err = runWorkloads(t, `[{"serviceAccount":"app","trust":"open","disableSessionTags":true}]`)
	if err != nil {
		t.Fatal(err)
	}
	if n := countType(rec, tRolePolicy); n != 0 {
		t.Errorf("%d inline policies without a target role, want none", n)
	}
}

// The outputs give the target account's admin the trust policy, exactly the
// user guide's document filled in, and the association's externalId.
func TestTargetTrustPolicyAndExternalIdOutputs(t *testing.T) {
	const (
		first    = "arn:aws:iam::111122223333:role/app-role"
		external = "us-east-1/111122223333/my-eks-cluster/team/app"
	)
	for _, tc := range []struct {
		name, workload, trust string
	}{
		{"session tags on", `{"serviceAccount":"app","namespace":"team","roleName":"app-role","targetRoleArn":"` + targetRole + `"}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/my-eks-cluster","aws:RequestTag/kubernetes-namespace":"team","aws:RequestTag/kubernetes-service-account":"app"},"ArnEquals":{"aws:PrincipalARN":"` + first + `"}}}]}`},
		{"session tags off", `{"serviceAccount":"app","namespace":"team","roleName":"app-role","trust":"open","disableSessionTags":true,"targetRoleArn":"` + targetRole + `"}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"` + external + `"},"ArnEquals":{"aws:PrincipalARN":"` + first + `"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:TagSession"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, exports, err := runWorkloads(t, `[`+tc.workload+`]`)
			if err != nil {
				t.Fatal(err)
			}
			w := exports["workloads"].(map[string]any)["app"].(map[string]any)
			if got := w["targetTrustPolicy"]; got != tc.trust {
				t.Errorf("targetTrustPolicy\n got: %v\nwant: %s", got, tc.trust)
			}
			if got := w["externalId"]; got != external {
				t.Errorf("externalId = %v, want %s (what Cloud Control reports)", got, external)
			}
			if got := w["targetRoleArn"]; got != targetRole {
				t.Errorf("targetRoleArn = %v", got)
			}
			if arn, _ := w["associationArn"].(string); !strings.HasPrefix(arn, "arn:aws:eks:us-east-1:111122223333:podidentityassociation/my-eks-cluster/a-") {
				t.Errorf("associationArn = %v, want Cloud Control's AssociationArn", w["associationArn"])
			}
			if id, _ := w["associationId"].(string); !strings.HasPrefix(id, "a-") {
				t.Errorf("associationId = %v, want Cloud Control's AssociationId", w["associationId"])
			}
		})
	}
	// A workload without a target role has none of these outputs.
	_, exports, err := runWorkloads(t, `[{"serviceAccount":"app"}]`)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"targetTrustPolicy", "externalId", "targetRoleArn"} {
		if v, ok := exports["workloads"].(map[string]any)["app"].(map[string]any)[k]; ok {
			t.Errorf("%s = %v on a workload without a target role", k, v)
		}
	}
}

// A target-role workload's default access check is not refused for the
// first role's missing S3 permission: the check runs as the target role.
func TestTargetRoleWorkloadKeepsTheDefaultAccessCheck(t *testing.T) {
	if _, _, err := runWorkloads(t, `[{"serviceAccount":"app","targetRoleArn":"`+targetRole+`","verify":true}]`); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

// Verification expects the identity the pod really ends up with: the
// target role's.
func TestVerificationExpectsTheTargetRole(t *testing.T) {
	rec, _, err := runWorkloads(t, `[{"serviceAccount":"app","roleName":"app-role","targetRoleArn":"`+targetRole+`","verify":true,"accessCheck":"sts get-caller-identity"}]`)
	if err != nil {
		t.Fatal(err)
	}
	spec := rec.get(t, tJob, "pod-identity-app-verify").Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()
	if got := jobEnv(spec)["EXPECTED_ROLE_ARN"]; got != targetRole {
		t.Errorf("EXPECTED_ROLE_ARN = %q, want the target role %s", got, targetRole)
	}
}

// Every refusal names the key, the value and the rule, and nothing is
// registered.
func TestCrossAccountRefusals(t *testing.T) {
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2000) + `/*"}]}`
	for _, tc := range []struct {
		name, workload, want string
	}{
		{"session policy with tags on", `{"serviceAccount":"app","sessionPolicy":` + denyS3 + `}`,
			`eks-pod-identity:workloads[0].sessionPolicy: is set but disableSessionTags is not true: EKS accepts a session policy only with session tags disabled`},
		{"session policy that is no policy", `{"serviceAccount":"app","trust":"open","disableSessionTags":true,"sessionPolicy":{"Statement":[]}}`,
			`eks-pod-identity:workloads[0].sessionPolicy: policy document needs "Version": "2012-10-17"`},
		{"session policy over the limit", `{"serviceAccount":"app","trust":"open","disableSessionTags":true,"sessionPolicy":` + long + `}`,
			`eks-pod-identity:workloads[0].sessionPolicy: is 2110 characters as compact JSON; a session policy may have at most 2048 (STS API reference, AssumeRole, Policy; EKS's own reference states no limit)`},
		{"session policy path that is not there", `{"serviceAccount":"app","trust":"open","disableSessionTags":true,"sessionPolicy":"policies/missing.json"}`,
			`eks-pod-identity:workloads[0].sessionPolicy: "policies/missing.json" is neither a JSON policy document (it does not start with "{") nor a readable file: no such file or directory`},
		{"default scoped trust with tags off", `{"serviceAccount":"app","disableSessionTags":true}`,
			`eks-pod-identity:workloads[0].disableSessionTags: is true and trust is "scoped" (the default): scoped trust matches the session tags EKS would stop sending, so EKS could not assume the role. Set trust: open`},
		{"explicit scoped trust with tags off", `{"serviceAccount":"app","trust":"scoped","disableSessionTags":true}`,
			`eks-pod-identity:workloads[0].disableSessionTags: is true and trust is "scoped": scoped trust matches`},
		{"malformed target role ARN", `{"serviceAccount":"app","targetRoleArn":"arn:aws:iam::4444:role/x"}`,
			`eks-pod-identity:workloads[0].targetRoleArn: "arn:aws:iam::4444:role/x" is not an IAM role ARN: expected arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>`},
		{"a user, not a role", `{"serviceAccount":"app","targetRoleArn":"arn:aws:iam::444455556666:user/x"}`,
			`eks-pod-identity:workloads[0].targetRoleArn: "arn:aws:iam::444455556666:user/x" is not an IAM role ARN`},
		{"target role in another partition", `{"serviceAccount":"app","targetRoleArn":"arn:aws-cn:iam::444455556666:role/x"}`,
			`eks-pod-identity:workloads[0].targetRoleArn: "arn:aws-cn:iam::444455556666:role/x" is in partition "aws-cn" but the cluster is in "aws": a role can only be assumed within its partition`},
		{"keys on an add-on preset", `{"preset":"ebs-csi","targetRoleArn":"` + targetRole + `"}`,
			`eks-pod-identity:workloads[0].targetRoleArn: is set on preset "ebs-csi", whose EKS add-on aws-ebs-csi-driver can own the service account's association: an add-on's associations carry only a role ARN and a service account`},
		{"the component's policy name taken", `{"serviceAccount":"app","targetRoleArn":"` + targetRole + `","inlinePolicies":{"eks-pod-identity-target-role":` + denyS3 + `}}`,
			`eks-pod-identity:workloads[0].inlinePolicies.eks-pod-identity-target-role: uses the name of the policy the component writes for targetRoleArn`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := runWorkloads(t, `[`+tc.workload+`]`)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to say %q", err, tc.want)
			}
			if n := strings.Count(err.Error(), "\n  - "); n != 1 {
				t.Errorf("%d problems reported, want this one:\n%v", n, err)
			}
			for _, reg := range rec.regs {
				if reg.Custom && !strings.HasPrefix(reg.Type, "pulumi:providers:") {
					t.Errorf("refused, yet registered %s %s", reg.Type, reg.Name)
				}
			}
		})
	}
}

// Session controls without a target role keep the plain verification
// expectation, and a plain workload's Job keeps its name: only workloads
// that use the new keys hash them.
func TestSessionControlsReRunOnlyTheirVerification(t *testing.T) {
	jobName := func(workloads string) string {
		rec, _, err := runWorkloads(t, workloads)
		if err != nil {
			t.Fatal(err)
		}
		return rec.get(t, tJob, "pod-identity-app-verify").Inputs["metadata"].ObjectValue()["name"].StringValue()
	}
	// The dev stack's Job as main named it before these keys existed:
	// upgrading must not re-run every verification.
	rec, _ := runDev(t)
	if got := rec.get(t, tJob, "pod-identity-pod-id-sa-verify").Inputs["metadata"].ObjectValue()["name"].StringValue(); got != "verify-pod-id-sa-530a9579" {
		t.Errorf("the dev stack's verification Job is %s, want verify-pod-id-sa-530a9579 (its name before cross-account support; update this when the Job is meant to change)", got)
	}
	base := jobName(`[{"serviceAccount":"app","trust":"open","disableSessionTags":true,"verify":true}]`)
	if withPolicy := jobName(`[{"serviceAccount":"app","trust":"open","disableSessionTags":true,"sessionPolicy":` + denyS3 + `,"verify":true}]`); withPolicy == base {
		t.Error("adding a session policy kept the verification Job's name: it would not run again")
	}
}

// docs/cross-account.md shows the example stack's two target trust
// policies; they must be what the stack outputs.
func TestCrossAccountDocShowsTheExampleStacksTrustPolicies(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "cross-account.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for rest := string(doc); ; {
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```json\n"); !ok {
			break
		}
		var block string
		block, rest, _ = strings.Cut(rest, "```")
		blocks = append(blocks, block)
	}
	if len(blocks) != 2 {
		t.Fatalf("docs/cross-account.md has %d json blocks, want the two trust policies", len(blocks))
	}
	_, exports := runCrossAccount(t)
	workloads := exports["workloads"].(map[string]any)
	for i, name := range []string{"reports-reader", "archive-reader"} {
		assertJSONEqual(t, "docs/cross-account.md's trust policy for "+name, blocks[i], workloads[name].(map[string]any)["targetTrustPolicy"].(string))
	}
}

// The chaining policy counts against IAM's inline quota with the
// workload's own inline policies.
func TestChainingPolicyCountsAgainstTheInlineQuota(t *testing.T) {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`
	tail := `/*"}]}`
	// 100 characters under IAM's 10,240: fits alone, not with the chaining policy.
	doc := head + strings.Repeat("b", 10240-100-len(head)-len(tail)) + tail
	workload := func(target string) string {
		return `[{"serviceAccount":"app","inlinePolicies":{"big":` + doc + `}` + target + `}]`
	}
	if _, _, err := runWorkloads(t, workload("")); err != nil {
		t.Fatalf("refused without a target role: %v", err)
	}
	_, _, err := runWorkloads(t, workload(`,"targetRoleArn":"`+targetRole+`"`))
	if want := "eks-pod-identity:workloads[0].inlinePolicies: add up to 10301 characters without whitespace (with the eks-pod-identity-target-role policy targetRoleArn adds: 161); IAM allows 10240"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to say %q", err, want)
	}
}

// The way back: the native association aliases the Cloud Control type, so
// a workload that drops its session controls replaces its Cloud Control
// association, delete first, under the same name.
func TestNativeAssociationAliasesTheCloudControlOne(t *testing.T) {
	rec, _ := runDev(t)
	a := rec.get(t, tAssociation, "pod-identity-pod-id-sa-association")
	if !slices.Equal(a.AliasTypes, []string{tCloudControl}) || !a.DeleteBeforeReplace {
		t.Errorf("native association: aliases types %v, delete-first %v; want [%s], true", a.AliasTypes, a.DeleteBeforeReplace, tCloudControl)
	}
}
