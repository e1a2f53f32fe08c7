package tests

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/platform-eng/eks-pod-identity/irsa"
)

// The offline IAM proof of the move from IRSA: in each phase, the role's
// trust policy the stack registers for Pulumi.irsa.yaml is judged by the
// evaluator of the presets (iamproof_test.go): Pod Identity may assume it
// for this service account only, in every phase, beside the OIDC
// statements. The web-identity side cannot be judged here: iam-simulate
// 0.1.173 ignores the OIDC provider's condition keys (<issuer>:sub and
// :aud; it reports them as ignored context keys) and never allows
// sts:AssumeRoleWithWebIdentity, so this service account's and the other
// one's `sub` in each phase are asserted on the document itself
// (TestIrsaPhases, irsa's TestTrust).
func irsaTrustCases(t *testing.T) []simCase {
	var cases []simCase
	roleArn := "arn:aws:iam::" + testAccount + ":role/" + irsaRole
	clusterArn := "arn:aws:eks:us-east-1:" + testAccount + ":cluster/my-eks-cluster"
	for _, phase := range irsa.Phases {
		world := irsaWorld(t)
		if phase == irsa.Cleanup {
			world.ServiceAccountPods["default/pod-id-sa"] = nil // restarted
		}
		rec, _, err := runIrsa(t, world, phase, nil)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		trust := rec.get(t, irsaRoleT, "pod-identity-pod-id-sa-role").Inputs["assumeRolePolicy"].StringValue()
		// The role still trusts IRSA's provider beside Pod Identity.
		if !strings.Contains(trust, irsaProvider) {
			t.Fatalf("%s: the trust no longer names %s:\n%s", phase, irsaProvider, trust)
		}
		c := func(desc, principal, action string, ctx map[string]any, want string) simCase {
			return simCase{Name: desc, Principal: principal, Action: action, Resource: roleArn, Account: testAccount,
				Context: ctx, ResourcePolicy: trust, want: want, preset: string(phase), kind: "irsa trust"}
		}
		const pods = "pods.eks.amazonaws.com"
		cases = append(cases,
			c("pod identity: sts:AssumeRole for this service account", pods, "sts:AssumeRole", sessionTags(clusterArn, "default", "pod-id-sa"), allowed),
			c("pod identity: sts:TagSession for this service account", pods, "sts:TagSession", sessionTags(clusterArn, "default", "pod-id-sa"), allowed),
			c("pod identity: sts:AssumeRole for the other service account", pods, "sts:AssumeRole", sessionTags(clusterArn, "default", "reports"), denied),
		)
	}
	return cases
}

func TestIAMProofOfTheIrsaPhases(t *testing.T) {
	dir := iamSimulator(t)
	cases := irsaTrustCases(t)
	res := simulate(t, dir, cases)
	var table bytes.Buffer
	w := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "phase\trequest\tresult\t")
	for i, c := range cases {
		r := res.Results[i]
		mark := ""
		if r.Result != c.want {
			mark = "  <-- want " + c.want
			t.Errorf("%s: %s = %s, want %s %s", c.preset, c.Name, r.Result, c.want, r.Errors)
		}
		if len(r.IgnoredContextKeys) > 0 {
			t.Errorf("%s: %s: the evaluator ignored context keys %v: the case proves less than it says", c.preset, c.Name, r.IgnoredContextKeys)
		}
		fmt.Fprintf(w, "%s\t%s\t%s%s\t\n", c.preset, c.Name, r.Result, mark)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("evaluator: %v\n%s", res.Tools, table.String())
}
