//go:build engine

package scenarios

import (
	"context"
	"encoding/json"
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
