package podidentity_test

import (
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestExternalIDIsRegionAccountClusterNamespaceServiceAccount(t *testing.T) {
	got, err := podidentity.ExternalID("arn:aws:eks:eu-west-1:111122223333:cluster/shared-eks", "analytics", "archive-reader")
	if err != nil {
		t.Fatal(err)
	}
	if want := "eu-west-1/111122223333/shared-eks/analytics/archive-reader"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := podidentity.ExternalID("arn:aws:iam::111122223333:role/x", "a", "b"); err == nil || !strings.Contains(err.Error(), "is not arn:<partition>:eks:<region>:<account>:cluster/<name>") {
		t.Errorf("a role ARN as cluster ARN: err = %v", err)
	}
}

func TestOpenTrustWarning(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    podidentity.Workload
		want string
	}{
		{"tags on", podidentity.Workload{Name: "app", Trust: podidentity.TrustOpen}, ""},
		{"tags off, scoped (refused elsewhere)", podidentity.Workload{Name: "app", Trust: podidentity.TrustScoped, DisableSessionTags: true}, ""},
		{"tags off, open", podidentity.Workload{Name: "app", Trust: podidentity.TrustOpen, DisableSessionTags: true}, "workload app: disableSessionTags is true, so its role trusts pods.eks.amazonaws.com without conditions (trust: open): nothing in its trust policy pins it"},
		{"tags off, open, target role", podidentity.Workload{Name: "app", Trust: podidentity.TrustOpen, DisableSessionTags: true, TargetRoleArn: "arn:aws:iam::444455556666:role/r"}, "the target role's trust still pins this cluster, namespace and service account through sts:ExternalId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.w.OpenTrustWarning()
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDesiredStateLeavesOutWhatIsUnset(t *testing.T) {
	w := podidentity.Workload{Namespace: "ns", ServiceAccount: "sa", DisableSessionTags: false}
	got, err := podidentity.DesiredState(w, "c", "arn:aws:iam::111122223333:role/r", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"ClusterName":"c","Namespace":"ns","ServiceAccount":"sa","RoleArn":"arn:aws:iam::111122223333:role/r","DisableSessionTags":false}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The component's own rules for a target role it creates, as a consumer
// of the Go API meets them (the stack file's targetAccounts resolve the
// account before these run).
func TestTargetRoleRefusals(t *testing.T) {
	args := podidentity.Args{Partition: "aws", Workloads: []podidentity.Workload{{ServiceAccount: "sa",
		TargetRole: &podidentity.TargetRole{Account: "2222", RoleName: "bad/name", PolicyArns: []string{"arn:aws-cn:iam::aws:policy/P"}}}}}
	err := args.ValidateSettings("pi")
	for _, want := range []string{
		`workloads[0].targetRole.account: "2222" is not an AWS account ID: 12 digits`,
		`workloads[0].targetRole.roleName: "bad/name" is not an IAM role name`,
		`workloads[0].targetRole.policyArns[0]: "arn:aws-cn:iam::aws:policy/P" is in partition "aws-cn" but the cluster is in "aws"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateSettings does not say %q: %v", want, err)
		}
	}
	args.Workloads[0].TargetRole = &podidentity.TargetRole{Account: "222233334444", RoleName: "Reader"}
	if err := args.ValidateSettings("pi"); err != nil {
		t.Errorf("a well-formed target role without its provider passes the settings check: %v", err)
	}
	args.ClusterName, args.ClusterArn = pulumi.String("c"), pulumi.String("arn:aws:eks:us-east-1:111122223333:cluster/c")
	if err := args.Validate("pi"); err == nil || !strings.Contains(err.Error(), "workloads[0].targetRole: has no provider: the role is made in account 222233334444") {
		t.Errorf("Validate without the target account's provider: %v", err)
	}
}
