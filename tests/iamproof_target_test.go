package tests

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
)

// The offline IAM proof of role chaining: for each workload of
// Pulumi.crossaccount.yaml, the target role's trust policy the stack
// outputs, and the chaining policy it gives the first role, are judged by
// the same evaluator as the presets (iamproof_test.go). The first role may
// assume the target role with the session tags, or with the external ID
// when tags are off; another role, another account, the wrong external ID
// and missing tags are refused.

const (
	crossCluster    = "shared-eks"
	crossRegion     = "eu-west-1"
	crossClusterArn = "arn:aws:eks:eu-west-1:111122223333:cluster/shared-eks"
	dataAccount     = "444455556666"
	otherAccount    = "999988887777"
)

func runCrossAccount(t *testing.T) (*recorder, map[string]any) {
	t.Helper()
	rec := newRecorder("crossaccount", clusterIn(crossRegion, crossCluster, "1.32", false))
	exports, err := run(t, stackConfig(t, "crossaccount"), rec)
	if err != nil {
		t.Fatalf("program failed on Pulumi.crossaccount.yaml: %v", err)
	}
	return rec, exports
}

func targetTrustCases(t *testing.T) []simCase {
	rec, exports := runCrossAccount(t)
	workloads := exports["workloads"].(map[string]any)
	var cases []simCase
	for _, name := range []string{"reports-reader", "archive-reader"} {
		w := workloads[name].(map[string]any)
		target, trust := w["targetRoleArn"].(string), w["targetTrustPolicy"].(string)
		firstName := w["roleName"].(string)
		namespace, sa := w["namespace"].(string), w["serviceAccount"].(string)
		chaining := rec.get(t, tRolePolicy, "pod-identity-"+name+"-inline-eks-pod-identity-target-role").Inputs["policy"].StringValue()
		tagsOff := strings.Contains(trust, "sts:ExternalId")
		if tagsOff != (name == "archive-reader") {
			t.Fatalf("%s: the trust policy does not match the workload's session tags setting:\n%s", name, trust)
		}

		session := func(account, role string) string {
			return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/eks-%s-verify-0", account, role, crossCluster)
		}
		// EKS's request: the first role's session, allowed by its chaining
		// policy, with the tags or the external ID.
		// The request carries aws:PrincipalArn as IAM sets it for a role
		// session: the role's ARN, not the session's (IAM User Guide,
		// global condition keys, aws:PrincipalArn); the evaluator takes it
		// from the context.
		request := func(desc, principal, action string, ctx map[string]any, want string) simCase {
			withPrincipal := map[string]any{"aws:PrincipalArn": roleOfSession(principal)}
			for k, v := range ctx {
				withPrincipal[k] = v
			}
			return simCase{
				Name: desc, Principal: principal, Action: action, Resource: target, Account: dataAccount,
				Context: withPrincipal, ResourcePolicy: trust, want: want,
				IdentityPolicies: []simDoc{{Name: "eks-pod-identity-target-role", Document: chaining}},
				preset:           name, kind: "target trust",
			}
		}
		first := session(proofAccount, firstName)
		withExternal := func(id string) map[string]any { return map[string]any{"sts:ExternalId": id} }
		external := strings.Join([]string{crossRegion, proofAccount, crossCluster, namespace, sa}, "/")
		if got := w["externalId"]; got != external {
			t.Errorf("%s: externalId output %v, want %s", name, got, external)
		}
		if tagsOff {
			cases = append(cases,
				request("sts:AssumeRole by the first role with the external ID", first, "sts:AssumeRole", withExternal(external), allowed),
				request("sts:AssumeRole by the first role with another workload's external ID", first, "sts:AssumeRole", withExternal(strings.Replace(external, "/"+sa, "/other", 1)), denied),
				request("sts:AssumeRole by the first role without an external ID", first, "sts:AssumeRole", nil, denied),
				request("sts:AssumeRole by another role of the account, with the external ID", session(proofAccount, "other-role"), "sts:AssumeRole", withExternal(external), denied),
				request("sts:AssumeRole by a same-named role in another account, with the external ID", session(otherAccount, firstName), "sts:AssumeRole", withExternal(external), denied),
			)
			continue
		}
		tags := sessionTags(crossClusterArn, namespace, sa)
		// Across accounts the trust policy alone is not enough: without
		// the chaining policy the first role is refused.
		unpermitted := request("sts:AssumeRole by the first role with the tags but without its chaining policy", first, "sts:AssumeRole", tags, denied)
		unpermitted.IdentityPolicies = nil
		cases = append(cases, unpermitted,
			request("sts:AssumeRole by the first role with the session tags", first, "sts:AssumeRole", tags, allowed),
			request("sts:TagSession by the first role with the session tags", first, "sts:TagSession", tags, allowed),
			request("sts:AssumeRole by the first role without session tags", first, "sts:AssumeRole", nil, denied),
			request("sts:AssumeRole by the first role for another service account", first, "sts:AssumeRole", sessionTags(crossClusterArn, namespace, sa+"-other"), denied),
			request("sts:AssumeRole by the first role from another cluster", first, "sts:AssumeRole", sessionTags(strings.Replace(crossClusterArn, crossCluster, "other-eks", 1), namespace, sa), denied),
			request("sts:AssumeRole by another role of the account, with the tags", session(proofAccount, "other-role"), "sts:AssumeRole", tags, denied),
			request("sts:AssumeRole by a same-named role in another account, with the tags", session(otherAccount, firstName), "sts:AssumeRole", tags, denied),
		)
	}
	return cases
}

func TestIAMProofOfTheTargetTrustPolicy(t *testing.T) {
	dir := iamSimulator(t)
	cases := targetTrustCases(t)
	res := simulate(t, dir, cases)
	t.Logf("evaluator: %v\n%s", res.Tools, judge(t, res, cases, "workload"))
}

// judge fails the test on every case whose result is not the one wanted,
// or whose context keys the evaluator ignored, and returns the table of
// results by group (each case's preset field: a workload, a phase).
func judge(t *testing.T, res simOutput, cases []simCase, group string) string {
	t.Helper()
	var table bytes.Buffer
	w := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "%s\trequest\tresult\t\n", group)
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
	return table.String()
}

// roleOfSession is the role ARN of an assumed-role session ARN.
func roleOfSession(session string) string {
	account := strings.Split(session, ":")[4]
	role := strings.Split(strings.SplitN(session, ":assumed-role/", 2)[1], "/")[0]
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, role)
}
