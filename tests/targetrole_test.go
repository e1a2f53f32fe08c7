package tests

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

const dataAccounts = `{"data":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/PulumiDeployer","externalId":"deploy-7"}}`

func runTargetRole(t *testing.T, workloads string) (*recorder, map[string]any, error) {
	t.Helper()
	cfg := stackConfig(t, "dev")
	cfg["eks-pod-identity:targetAccounts"] = dataAccounts
	cfg["eks-pod-identity:workloads"] = workloads
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	exports, err := run(t, cfg, rec)
	return rec, exports, err
}

// objectInput reads a provider input that is an object; the engine hands
// provider configuration over as JSON strings.
func objectInput(t *testing.T, reg *registration, key string) map[string]any {
	t.Helper()
	switch v := reg.Inputs.Mappable()[key].(type) {
	case map[string]any:
		return v
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			t.Fatalf("%s %s: input %s is not an object: %v", reg.Type, reg.Name, key, err)
		}
		return m
	default:
		t.Fatalf("%s %s: input %s = %#v", reg.Type, reg.Name, key, v)
	}
	return nil
}

// A workload's targetRole: the stack makes the role in the target account,
// through that account's provider, with the trust the User Guide gives for
// this first role, cluster, namespace and service account; its policies
// there; the association (Cloud Control, naming the target) and the
// verification wait for both. The first role gets only the chaining policy.
func TestStackCreatesTheTargetRoleThroughItsAccountsProvider(t *testing.T) {
	rec, exports, err := runTargetRole(t, `[{"serviceAccount":"pod-id-sa","verify":true,"targetRole":{"account":"data","roleName":"DataReader","policyArns":["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]}}]`)
	if err != nil {
		t.Fatal(err)
	}
	provider := rec.get(t, "pulumi:providers:aws", "target-data")
	assume := objectInput(t, provider, "assumeRole")
	for k, want := range map[string]string{"roleArn": "arn:aws:iam::222233334444:role/PulumiDeployer", "externalId": "deploy-7", "sessionName": "eks-pod-identity-dev"} {
		if assume[k] != want {
			t.Errorf("target provider assumeRole.%s = %v, want %s", k, assume[k], want)
		}
	}
	allowed := provider.Inputs.Mappable()["allowedAccountIds"]
	if b, _ := json.Marshal(allowed); string(b) != `["222233334444"]` && string(b) != `"[\"222233334444\"]"` {
		t.Errorf("target provider allowedAccountIds = %s, want only 222233334444", b)
	}
	ref := provider.URN + "::" + provider.Name + "-id"

	role := rec.get(t, tRole, "pod-identity-pod-id-sa-target-role")
	if role.Provider != ref {
		t.Errorf("target role provider = %q, want %q", role.Provider, ref)
	}
	trust := exports["workloads"].(map[string]any)["pod-id-sa"].(map[string]any)["targetTrustPolicy"].(string)
	assertInputs(t, role, map[string]any{"name": "DataReader", "assumeRolePolicy": trust})
	if !strings.Contains(trust, `"aws:PrincipalARN":"arn:aws:iam::111122223333:role/`) || !strings.Contains(trust, `"aws:RequestTag/kubernetes-service-account":"pod-id-sa"`) {
		t.Errorf("target trust does not pin the first role and the service account: %s", trust)
	}
	if tags := role.Inputs["tags"].ObjectValue(); tags[stackconfig.StackTagKey].StringValue() != marker("dev") {
		t.Errorf("target role tags %v lack the stack marker", tags)
	}
	attach := rec.get(t, tAttachment, "pod-identity-pod-id-sa-target-AmazonS3ReadOnlyAccess")
	if attach.Provider != ref {
		t.Errorf("target attachment provider = %q, want %q", attach.Provider, ref)
	}
	assertInputs(t, attach, map[string]any{"role": "DataReader", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"})

	cc := rec.get(t, tCloudControl, "pod-identity-pod-id-sa-association")
	if !strings.Contains(cc.Inputs["desiredState"].StringValue(), `"TargetRoleArn":"arn:aws:iam::222233334444:role/DataReader"`) {
		t.Errorf("association desired state does not name the created target: %s", cc.Inputs["desiredState"].StringValue())
	}
	job := rec.get(t, tJob, "pod-identity-pod-id-sa-verify")
	for _, waiter := range []*registration{cc, job} {
		for _, r := range []*registration{role, attach} {
			if !rec.dependsOn(waiter, r) {
				t.Errorf("%s %s does not wait for %s %s", waiter.Type, waiter.Name, r.Type, r.Name)
			}
		}
	}
	first := rec.get(t, tRole, "pod-identity-pod-id-sa-role")
	if first.Provider == ref {
		t.Error("the first role was made in the target account")
	}
	for _, r := range rec.regs {
		if r.Type == tAttachment && strings.HasPrefix(r.Name, "pod-identity-pod-id-sa-Amazon") {
			t.Errorf("the first role got managed policy %s; its permissions are the target's", r.Name)
		}
	}
	rec.get(t, tRolePolicy, "pod-identity-pod-id-sa-inline-eks-pod-identity-target-role")
}

// The target role's policies are checked against the cluster's partition
// once the lookup knows it, under their config keys.
func TestTargetRolePolicyInAnotherPartitionIsRefused(t *testing.T) {
	rec, _, err := runTargetRole(t, `[{"serviceAccount":"pod-id-sa","targetRole":{"account":"data","roleName":"DataReader","policyArns":["arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"]}}]`)
	var ce *stackconfig.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `eks-pod-identity:workloads[0].targetRole.policyArns[0]: "arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess" is in partition "aws-cn" but the cluster is in "aws"`) {
		t.Fatalf("want the partition refusal, got %v", err)
	}
	for _, r := range rec.regs {
		if !createsNothing(r) {
			t.Errorf("registered %s %s before refusing", r.Type, r.Name)
		}
	}
}
