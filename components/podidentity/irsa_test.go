package podidentity_test

import (
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/irsa"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// A migration passes the settings check from the stack file alone, but the
// component refuses to build a trust on nothing: the program's discovery
// must have filled in the role's trust and the cluster's OIDC provider.
func TestIrsaNeedsWhatDiscoveryFinds(t *testing.T) {
	args := podidentity.Args{Partition: "aws", ClusterName: pulumi.String("c"),
		ClusterArn: pulumi.String("arn:aws:eks:us-east-1:111122223333:cluster/c"),
		Workloads: []podidentity.Workload{{ServiceAccount: "sa", RoleName: "R",
			Irsa: &podidentity.IrsaMigration{From: irsa.From, Phase: irsa.Dual}}}}
	if err := args.ValidateSettings("pi"); err != nil {
		t.Fatalf("settings: %v", err)
	}
	const want = "workloads[0].from: the role's trust policy and the cluster's OIDC provider were not found"
	if err := args.Validate("pi"); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Validate = %v, want %q", err, want)
	}
	args.Workloads[0].Irsa.Trust = `{"Version":"2012-10-17","Statement":[]}`
	args.Workloads[0].Irsa.Provider = irsa.Provider{Arn: "arn:aws:iam::111122223333:oidc-provider/o", Issuer: "o"}
	if err := args.Validate("pi"); err != nil {
		t.Fatalf("Validate with what discovery finds: %v", err)
	}
}
