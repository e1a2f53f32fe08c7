package tests

import (
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/irsa"
)

// The offline IAM proof of the move from IRSA: in each phase, the role's
// trust policy the stack registers for Pulumi.irsa.yaml is judged by the
// evaluator of the presets (iamproof_test.go). It allows exactly this
// service account's web identity (this sub, this aud) while IRSA stays,
// the other service account's in every phase, and Pod Identity for this
// service account only; nothing else.
//
// iam-simulate knows the condition keys of the OIDC providers in AWS's
// service reference, not an EKS cluster's issuer (it reports
// "<issuer>:sub" as an ignored context key). So the issuer's key namespace
// is renamed, in the document and in the requests alike, to one it knows,
// cognito-identity.amazonaws.com: the statements, principals, operators and
// values it judges are the stack's, only the keys' prefix differs.
const knownIssuer = "cognito-identity.amazonaws.com"

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
		trust = strings.ReplaceAll(trust, irsaIssuer+":", knownIssuer+":")
		// The role still trusts IRSA's provider beside Pod Identity.
		if !strings.Contains(trust, irsaProvider) {
			t.Fatalf("%s: the trust no longer names %s:\n%s", phase, irsaProvider, trust)
		}
		c := func(desc, principal, action string, ctx map[string]any, want string) simCase {
			return simCase{Name: desc, Principal: principal, Action: action, Resource: roleArn, Account: testAccount,
				Context: ctx, ResourcePolicy: trust, want: want, preset: string(phase), kind: "irsa trust"}
		}
		web := func(issuer, sub, aud string) map[string]any {
			return map[string]any{issuer + ":sub": sub, issuer + ":aud": aud}
		}
		keeps := denied
		if phase.KeepsIRSA() {
			keeps = allowed
		}
		const wi, pods = "sts:AssumeRoleWithWebIdentity", "pods.eks.amazonaws.com"
		otherProvider := strings.Replace(irsaProvider, "EXAMPLED539", "OTHERCLUST9", 1)
		cases = append(cases,
			c("web identity: this service account", irsaProvider, wi, web(knownIssuer, irsaSub, "sts.amazonaws.com"), keeps),
			c("web identity: the other service account, kept", irsaProvider, wi, web(knownIssuer, otherSub, "sts.amazonaws.com"), allowed),
			c("web identity: a service account the role never trusted", irsaProvider, wi, web(knownIssuer, "system:serviceaccount:default:intruder", "sts.amazonaws.com"), denied),
			c("web identity: this service account, another audience", irsaProvider, wi, web(knownIssuer, irsaSub, "example.com"), denied),
			c("web identity: this service account through another cluster's provider", otherProvider, wi, web("accounts.google.com", irsaSub, "sts.amazonaws.com"), denied),

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
	t.Logf("evaluator: %v\n%s", res.Tools, judge(t, res, cases, "phase"))
}
