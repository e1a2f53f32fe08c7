package agent

import (
	"net/url"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

const cluster = "arn:aws:eks:us-east-1:123456789012:cluster/my-eks-cluster"

func podTags(namespace, sa string) map[string]string {
	return SessionTags(cluster, "my-eks-cluster", namespace, sa, "verify-x", "uid-1")
}

func assume(tags map[string]string) Request {
	return Request{Service: Audience, Actions: []string{"sts:AssumeRole", "sts:TagSession"}, Tags: tags}
}

func mustTrust(t *testing.T, mode podidentity.TrustMode, ns, sa string) string {
	t.Helper()
	doc, err := podidentity.TrustPolicy(mode, cluster, ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestEvaluateTrust(t *testing.T) {
	scoped := mustTrust(t, podidentity.TrustScoped, "default", "pod-id-sa")
	open := mustTrust(t, podidentity.TrustOpen, "", "")
	cases := []struct {
		name    string
		doc     string
		req     Request
		allowed bool
		reason  []string // substrings of the reason
		err     string
	}{
		{name: "the component's scoped policy, its own pod", doc: scoped, req: assume(podTags("default", "pod-id-sa")), allowed: true},
		{name: "URL-encoded, as GetRole returns it", doc: url.QueryEscape(scoped), req: assume(podTags("default", "pod-id-sa")), allowed: true},
		{name: "scoped policy, another service account", doc: scoped, req: assume(podTags("default", "other-sa")), allowed: false,
			reason: []string{"aws:RequestTag/kubernetes-service-account", `"other-sa"`, `["pod-id-sa"]`}},
		{name: "scoped policy, another namespace", doc: scoped, req: assume(podTags("apps", "pod-id-sa")), allowed: false,
			reason: []string{"aws:RequestTag/kubernetes-namespace", `"apps"`}},
		{name: "scoped policy, another cluster", doc: scoped,
			req:     assume(SessionTags("arn:aws:eks:us-east-1:123456789012:cluster/other", "other", "default", "pod-id-sa", "p", "u")),
			allowed: false, reason: []string{"aws:RequestTag/eks-cluster-arn"}},
		{name: "scoped policy, session tags disabled: no tags to match", doc: scoped,
			req:     Request{Service: Audience, Actions: []string{"sts:AssumeRole"}},
			allowed: false, reason: []string{"the key is not in the request"}},
		{name: "open policy (the walkthrough's)", doc: open, req: assume(podTags("any", "sa")), allowed: true},
		{name: "open policy, another service", doc: open,
			req: Request{Service: "ec2.amazonaws.com", Actions: []string{"sts:AssumeRole"}}, allowed: false,
			reason: []string{"principal"}},
		{name: "AssumeRole only: TagSession refused", allowed: false,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			req: assume(podTags("default", "pod-id-sa")), reason: []string{"no statement allows pods.eks.amazonaws.com to sts:TagSession"}},
		{name: "wildcard action and principal *", allowed: true,
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:*"}}`,
			req: assume(podTags("default", "pod-id-sa"))},
		{name: "explicit deny wins", allowed: false,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["pods.eks.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]},
				{"Sid":"NoApps","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"apps"}}}]}`,
			req: assume(podTags("apps", "pod-id-sa")), reason: []string{"NoApps denies sts:AssumeRole"}},
		{name: "deny that does not match", allowed: true,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["pods.eks.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]},
				{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"apps"}}}]}`,
			req: assume(podTags("default", "pod-id-sa"))},
		{name: "StringLike", allowed: true,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
				"Condition":{"StringLike":{"aws:RequestTag/kubernetes-service-account":"pod-*"}}}]}`,
			req: assume(podTags("default", "pod-id-sa"))},
		{name: "StringNotEquals", allowed: false,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
				"Condition":{"StringNotEquals":{"aws:RequestTag/kubernetes-namespace":["default","kube-system"]}}}]}`,
			req: assume(podTags("default", "pod-id-sa")), reason: []string{"StringNotEquals"}},
		{name: "ForAllValues on aws:TagKeys", allowed: true,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
				"Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["eks-*","kubernetes-*"]}}}]}`,
			req: assume(podTags("default", "pod-id-sa"))},
		{name: "ForAnyValue on aws:TagKeys, no match", allowed: false,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
				"Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}}]}`,
			req: assume(podTags("default", "pod-id-sa")), reason: []string{"aws:TagKeys"}},
		{name: "IfExists on a missing key", allowed: true,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole"],
				"Condition":{"StringEqualsIfExists":{"aws:RequestTag/team":"payments"}}}]}`,
			req: Request{Service: Audience, Actions: []string{"sts:AssumeRole"}}},
		{name: "unsupported operator is an error, not a guess",
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole"],
				"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}]}`,
			req: Request{Service: Audience, Actions: []string{"sts:AssumeRole"}}, err: `operator "NumericLessThan" is not supported`},
		// Role chaining: the target role's trust as docs/cross-account.md
		// gives it, asked by the first role's session.
		{name: "target trust, tags on: the first role with the tags", allowed: true,
			doc: targetTrustTags, req: chain(first, "", sharedTags("reports-reader"), "sts:AssumeRole", "sts:TagSession")},
		{name: "target trust, tags on: another role of the account", allowed: false,
			doc: targetTrustTags, req: chain("arn:aws:iam::111122223333:role/other", "", sharedTags("reports-reader"), "sts:AssumeRole", "sts:TagSession"),
			reason: []string{"aws:PrincipalARN"}},
		{name: "target trust, tags on: the first role's name in another account", allowed: false,
			doc: targetTrustTags, req: chain("arn:aws:iam::444455556666:role/shared-eks-reports-reader", "", sharedTags("reports-reader"), "sts:AssumeRole", "sts:TagSession"),
			reason: []string{"principal"}},
		{name: "target trust, tags on: another service account's tags", allowed: false,
			doc: targetTrustTags, req: chain(first, "", sharedTags("other"), "sts:AssumeRole", "sts:TagSession"),
			reason: []string{"kubernetes-service-account"}},
		{name: "target trust, tags off: the right external ID", allowed: true,
			doc: targetTrustExternal, req: chain(archive, "eu-west-1/111122223333/shared-eks/analytics/archive-reader", nil, "sts:AssumeRole")},
		{name: "target trust, tags off: a wrong external ID", allowed: false,
			doc: targetTrustExternal, req: chain(archive, "eu-west-1/111122223333/shared-eks/analytics/other", nil, "sts:AssumeRole"),
			reason: []string{"sts:ExternalId"}},
		{name: "target trust, tags off: no external ID", allowed: false,
			doc: targetTrustExternal, req: chain(archive, "", nil, "sts:AssumeRole"), reason: []string{"sts:ExternalId"}},
		{name: "NotPrincipal is an error",
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"Service":"x"},"Action":["sts:AssumeRole"]}]}`,
			req: Request{Service: Audience, Actions: []string{"sts:AssumeRole"}}, err: "NotPrincipal"},
		{name: "not JSON", doc: `{`, req: assume(nil), err: "not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := EvaluateTrust(tc.doc, tc.req)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v (reason: %s)", d.Allowed, tc.allowed, d.Reason)
			}
			for _, want := range tc.reason {
				if !strings.Contains(d.Reason, want) {
					t.Errorf("reason %q does not contain %q", d.Reason, want)
				}
			}
		})
	}
}

func TestSessionName(t *testing.T) {
	const id = "b307fd36-d25c-49f1-b9ce-bf4629564f3c"
	cases := []struct{ cluster, pod, want string }{
		// The published examples the rule is inferred from.
		{"demo", "aws-cli", "eks-demo-aws-cli-" + id},
		{"k8s-wl-dev", "engine-booking-api-7c9f", "eks-k8s-wl-dev-engine-boo-" + id},
		{"my-eks-cluster", "verify-pod-id-sa-1a2b3c4d-x7k2p", "eks-my-eks-clu-verify-pod-" + id},
	}
	for _, tc := range cases {
		got := SessionName(tc.cluster, tc.pod, id)
		if got != tc.want {
			t.Errorf("SessionName(%q, %q) = %q, want %q", tc.cluster, tc.pod, got, tc.want)
		}
		if len(got) > 64 {
			t.Errorf("%q is longer than STS's 64 characters", got)
		}
	}
}

const (
	first   = "arn:aws:iam::111122223333:role/shared-eks-reports-reader"
	archive = "arn:aws:iam::111122223333:role/shared-eks-archive-reader"
	// The documents docs/cross-account.md shows for Pulumi.crossaccount.yaml.
	targetTrustTags = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"AWS":"arn:aws:iam::111122223333:root"},
  "Action":["sts:AssumeRole","sts:TagSession"],
  "Condition":{"StringEquals":{
    "aws:RequestTag/eks-cluster-arn":"arn:aws:eks:eu-west-1:111122223333:cluster/shared-eks",
    "aws:RequestTag/kubernetes-namespace":"analytics",
    "aws:RequestTag/kubernetes-service-account":"reports-reader"},
   "ArnEquals":{"aws:PrincipalARN":"arn:aws:iam::111122223333:role/shared-eks-reports-reader"}}}]}`
	targetTrustExternal = `{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
   "Action":"sts:AssumeRole",
   "Condition":{"StringEquals":{"sts:ExternalId":"eu-west-1/111122223333/shared-eks/analytics/archive-reader"},
                "ArnEquals":{"aws:PrincipalARN":"arn:aws:iam::111122223333:role/shared-eks-archive-reader"}}},
  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:TagSession"}]}`
)

// chain is the request EKS makes of the target role with the first role's
// session.
func chain(principal, externalID string, tags map[string]string, actions ...string) Request {
	return Request{PrincipalArn: principal, ExternalID: externalID, Tags: tags, Actions: actions}
}

// sharedTags are the session tags of a pod in shared-eks's analytics
// namespace.
func sharedTags(sa string) map[string]string {
	return SessionTags("arn:aws:eks:eu-west-1:111122223333:cluster/shared-eks", "shared-eks", "analytics", sa, "verify-x", "uid-1")
}
