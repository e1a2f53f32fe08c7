//go:build engine

package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/platform-eng/eks-pod-identity/tests/engine/agent"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
)

const (
	targetAccount = "222233334444"
	targetRole    = "DataReader"
	targetArn     = "arn:aws:iam::" + targetAccount + ":role/" + targetRole
)

// TestTargetRoleInASecondAccount: the dev workload with a target role in a
// second moto account, the way the docs tell the two admins to set it up.
// The target account's admin has made the role, trusting nobody yet. The
// first `up` (verification off) creates the first role, with only its
// chaining policy, and the association through Cloud Control, with the
// target ARN; it outputs the trust policy the target role must carry. The
// admin puts it on the role. The second `up` verifies: the agent stand-in
// assumes the first role, then the target role with the first role's
// session and the session tags, checking the target's trust as STS would,
// and the Job's log shows the target role's identity. Then nothing changes.
func TestTargetRoleInASecondAccount(t *testing.T) {
	e := newEnv(t)
	target := iam.NewFromConfig(agent.InAccount(e.awsConfig("us-east-1"), targetAccount))
	nobody := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + targetAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := target.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String(targetRole), AssumeRolePolicyDocument: aws.String(nobody)}); err != nil {
		t.Fatalf("create the target role in account %s: %v", targetAccount, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = target.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(targetRole), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")})
		_, _ = target.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(targetRole)})
	})
	if _, err := target.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(targetRole), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}

	s := e.devStack(t, "xacct")
	dir := s.Workspace().WorkDir()
	setWorkload := func(verify bool) {
		e.editStack(dir, "xacct", func(cfg config.Map) {
			workloads(t, cfg, func(ws []map[string]any) {
				ws[0]["targetRoleArn"] = targetArn
				ws[0]["verify"] = verify
			})
		})
	}
	setWorkload(false)
	res, err := s.Up(e.ctx, upOpts(t)...)
	if err != nil {
		t.Fatalf("first up: %v", err)
	}
	w, _ := res.Outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
	trust, _ := w["targetTrustPolicy"].(string)
	if !strings.Contains(trust, devRole) {
		t.Fatalf("output targetTrustPolicy %q does not name the first role", trust)
	}

	// The first role may only chain into the target.
	if got := e.attachedPolicies(devRole); len(got) != 0 {
		t.Errorf("the first role has managed policies %v; its permissions are the target's", got)
	}
	inline, err := e.iamClient().GetRolePolicy(e.ctx, &iam.GetRolePolicyInput{RoleName: aws.String(devRole), PolicyName: aws.String("eks-pod-identity-target-role")})
	if err != nil {
		t.Fatalf("the first role's chaining policy: %v", err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(inline.PolicyDocument))
	if !strings.Contains(doc, targetArn) || !strings.Contains(doc, "sts:TagSession") {
		t.Errorf("the chaining policy does not allow sts:AssumeRole and sts:TagSession on %s: %s", targetArn, doc)
	}
	as := e.associations(devRegion, devCluster)
	if len(as) != 1 {
		t.Fatalf("associations: %+v", as)
	}
	desc, err := e.eksIn(devRegion).DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(devCluster), AssociationId: as[0].AssociationId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(desc.Association.TargetRoleArn); got != targetArn {
		t.Errorf("the association's target role is %q, want %s", got, targetArn)
	}

	// The target account's admin puts the stack's document on the role.
	if _, err := target.UpdateAssumeRolePolicy(e.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(targetRole), PolicyDocument: aws.String(trust)}); err != nil {
		t.Fatalf("put the target trust policy: %v", err)
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(trust), &parsed); err != nil {
		t.Fatalf("targetTrustPolicy is not JSON: %v", err)
	}

	setWorkload(true)
	res, err = s.Up(e.ctx, upOpts(t)...)
	if err != nil {
		t.Fatalf("second up, verifying: %v", err)
	}
	w, _ = res.Outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
	job, _ := w["verifyJob"].(string)
	logs, err := e.kubectl("logs", "job/"+job, "-n", "default")
	if err != nil {
		t.Fatalf("logs of %s: %v", job, err)
	}
	t.Logf("verification Job's log:\n%s", logs)
	if !strings.Contains(logs, "assumed-role/"+targetRole+"/eks-") || !strings.Contains(logs, "arn:aws:sts::"+targetAccount+":") {
		t.Errorf("the Job's log does not show the target role's identity in account %s", targetAccount)
	}
	expectNoChanges(e.ctx, t, s)
}

// TestSessionPolicyDenyingTheAccessCheckFailsUp: session tags off (so
// trust open) and a session policy that denies S3. The role itself may
// read S3 (AmazonS3ReadOnlyAccess); the pod's session may not, as IAM
// intersects the role's policies with the session policy (the moto
// stand-in does, moto_engine.py). The identity is right, the access check
// is refused, and `up` fails with the Job's log saying so.
func TestSessionPolicyDenyingTheAccessCheckFailsUp(t *testing.T) {
	e := newEnv(t)
	e.registerCluster(devCluster, devRegion)
	const name = "verify-session"
	v := e.verifyStack(t, name, func(w map[string]any) {
		w["verifyDeadlineSeconds"] = 120
		w["disableSessionTags"] = true
		w["trust"] = "open"
		w["sessionPolicy"] = map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"},
			map[string]any{"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
		}}
	})
	err := v.up()
	if err == nil {
		t.Fatal("up succeeded: the session policy's Deny did not reach the access check")
	}
	_, logs := e.failedVerification(t, name, "pod-id-sa")
	for _, want := range []string{"PASS identity: arn:aws:sts::", "assumed-role/Verify-" + name + "/eks-", "FAIL access: expected aws s3 ls to exit 0", "AccessDenied"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the Job's log does not say %q", want)
		}
	}
	desc, derr := e.eksIn(devRegion).DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(devCluster), AssociationId: v.association().AssociationId})
	if derr != nil {
		t.Fatal(derr)
	}
	if !aws.ToBool(desc.Association.DisableSessionTags) || !strings.Contains(aws.ToString(desc.Association.Policy), `"Deny"`) {
		t.Errorf("the association has disableSessionTags %v and policy %q", aws.ToBool(desc.Association.DisableSessionTags), aws.ToString(desc.Association.Policy))
	}
	t.Logf("pulumi up failed as it should: %v", err)
}

// TestMoveBetweenNativeAndCloudControlAssociation: the dev workload turns
// session tags off (which only the Cloud Control association can express)
// and back. Each move replaces the association under the same name, delete
// first, because each type aliases the other: no "already exists" from EKS
// (one association per service account), one association after, and a
// preview with no changes. Without the aliases the move fails: the new
// resource is created beside the old one.
func TestMoveBetweenNativeAndCloudControlAssociation(t *testing.T) {
	e := newEnv(t)
	s := e.devStack(t, "move")
	dir := s.Workspace().WorkDir()
	state := func() (typ string, disabled bool) {
		t.Helper()
		var types []string
		for _, r := range exportState(t, s).Resources {
			if strings.HasSuffix(r.URN, "::pod-identity-pod-id-sa-association") {
				types = append(types, r.Type)
			}
		}
		if len(types) != 1 {
			t.Fatalf("the state holds association resources of types %v, want one", types)
		}
		as := e.associations(devRegion, devCluster)
		if len(as) != 1 {
			t.Fatalf("associations in EKS: %+v", as)
		}
		d, err := e.eksIn(devRegion).DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(devCluster), AssociationId: as[0].AssociationId})
		if err != nil {
			t.Fatal(err)
		}
		return types[0], aws.ToBool(d.Association.DisableSessionTags)
	}
	move := func(tagsOff bool, wantType string) {
		t.Helper()
		e.editStack(dir, "move", func(cfg config.Map) {
			workloads(t, cfg, func(ws []map[string]any) {
				if tagsOff {
					ws[0]["disableSessionTags"], ws[0]["trust"] = true, "open"
				} else {
					delete(ws[0], "disableSessionTags")
					delete(ws[0], "trust")
				}
			})
		})
		res, err := s.Up(e.ctx, upOpts(t)...)
		if err != nil {
			t.Fatalf("up with session tags off=%v: %v", tagsOff, err)
		}
		// The association, and the verification Job, which runs again
		// whenever the identity it proves changes.
		if n := (*res.Summary.ResourceChanges)["replace"]; n != 2 || (*res.Summary.ResourceChanges)["create"] != 0 {
			t.Errorf("the move: %v, want the association and the Job replaced, nothing created", *res.Summary.ResourceChanges)
		}
		typ, disabled := state()
		if typ != wantType || disabled != tagsOff {
			t.Errorf("after the move: association of type %s, disableSessionTags %v; want %s, %v", typ, disabled, wantType, tagsOff)
		}
		expectNoChanges(e.ctx, t, s)
	}
	if _, err := s.Up(e.ctx, upOpts(t)...); err != nil {
		t.Fatalf("first up: %v", err)
	}
	if typ, _ := state(); typ != "aws:eks/podIdentityAssociation:PodIdentityAssociation" {
		t.Fatalf("first up made a %s", typ)
	}
	move(true, "aws:cloudcontrol/resource:Resource")
	move(false, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
}

// TestStackCreatesTheTargetRole: the dev workload's target role made by the
// stack itself (targetAccounts, targetRole) in a third moto account,
// through a provider that assumes PulumiDeployer there and allows only that
// account. After `up` the role exists there, not in the cluster's account,
// with the output trust and its policy; the Job's log shows its identity;
// nothing changes on a second preview; `destroy` removes it from that
// account.
func TestStackCreatesTheTargetRole(t *testing.T) {
	const account, name = "333344445555", "LedgerReader"
	e := newEnv(t)
	ledger := iam.NewFromConfig(agent.InAccount(e.awsConfig("us-east-1"), account))
	deployerTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := ledger.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("PulumiDeployer"), AssumeRolePolicyDocument: aws.String(deployerTrust)}); err != nil {
		t.Fatal(err)
	}
	// Exactly what docs/cross-account.md says the deployer role needs
	// there: moto enforces it on the provider's session.
	deployerPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*","Action":["iam:CreateRole","iam:GetRole","iam:UpdateAssumeRolePolicy","iam:TagRole","iam:UntagRole","iam:DeleteRole","iam:AttachRolePolicy","iam:DetachRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListInstanceProfilesForRole"]}]}`
	if _, err := ledger.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("PulumiDeployer"), PolicyName: aws.String("deploy-target-roles"), PolicyDocument: aws.String(deployerPolicy)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = ledger.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("PulumiDeployer"), PolicyName: aws.String("deploy-target-roles")})
		_, _ = ledger.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("PulumiDeployer")})
	})
	s := e.devStack(t, "xtarget")
	e.editStack(s.Workspace().WorkDir(), "xtarget", func(cfg config.Map) {
		cfg[config.MustMakeKey("eks-pod-identity", "targetAccounts")] = config.NewObjectValue(`{"ledger":{"accountId":"` + account + `","roleArn":"arn:aws:iam::` + account + `:role/PulumiDeployer"}}`)
		workloads(t, cfg, func(ws []map[string]any) {
			ws[0]["targetRole"] = map[string]any{"account": "ledger", "roleName": name, "policyArns": []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}}
		})
	})
	res, err := s.Up(e.ctx, upOpts(t)...)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	w, _ := res.Outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
	got, err := ledger.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		t.Fatalf("the target role is not in account %s: %v", account, err)
	}
	trust, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	var a, b any
	_ = json.Unmarshal([]byte(trust), &a)
	_ = json.Unmarshal([]byte(w["targetTrustPolicy"].(string)), &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the target role's trust is not the output targetTrustPolicy:\n got %s\nwant %s", trust, w["targetTrustPolicy"])
	}
	if e.role(name) != nil {
		t.Errorf("role %s was made in the cluster's account too", name)
	}
	att, err := ledger.ListAttachedRolePolicies(e.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" {
		t.Errorf("target role policies: %+v, %v", att, err)
	}
	job, _ := w["verifyJob"].(string)
	logs, err := e.kubectl("logs", "job/"+job, "-n", "default")
	if err != nil {
		t.Fatalf("logs of %s: %v", job, err)
	}
	t.Logf("verification Job's log:\n%s", logs)
	if !strings.Contains(logs, "PASS identity: arn:aws:sts::"+account+":assumed-role/"+name+"/eks-") {
		t.Errorf("the Job's log does not show the created target role's identity")
	}
	expectNoChanges(e.ctx, t, s)
	if _, err := s.Destroy(e.ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := ledger.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String(name)}); err == nil {
		t.Errorf("destroy left role %s in account %s", name, account)
	}
}
