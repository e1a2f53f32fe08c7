package irsa

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const (
	iss      = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	otherIss = "oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER00000000000000000000"
	acct     = "111122223333"
)

var prov = Provider{Arn: "arn:aws:iam::" + acct + ":oidc-provider/" + iss, Issuer: iss}

// podTrust stands for the stack's Pod Identity trust (podidentity.TrustPolicy).
const podTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

// oidc is an IRSA statement of provider issuer for the given subs.
func oidc(issuer string, subs ...string) string {
	arn := "arn:aws:iam::" + acct + ":oidc-provider/" + issuer
	var sub any = subs
	if len(subs) == 1 {
		sub = subs[0]
	}
	b, _ := json.Marshal(map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity",
		"Condition": map[string]any{"StringEquals": map[string]any{issuer + ":sub": sub, issuer + ":aud": "sts.amazonaws.com"}},
	})
	return string(b)
}

func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

const (
	app   = "system:serviceaccount:default:pod-id-sa"
	other = "system:serviceaccount:default:reports"
	pi    = `{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}`
	// otherPI is Pod Identity scoped to another cluster's service account.
	otherPI = `{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":"arn:aws:eks:eu-west-1:111122223333:cluster/other"}}}`
)

func TestTrust(t *testing.T) {
	added, _ := json.Marshal(WebIdentityStatement(prov, "default", "pod-id-sa"))
	tests := []struct {
		name     string
		existing string
		phase    Phase
		want     string // "" when an error is wanted
		err      string
	}{
		{"dual adds Pod Identity beside the OIDC statement, which stays as it is",
			doc(oidc(iss, app)), Dual, doc(oidc(iss, app), pi), ""},
		{"podIdentity is dual's trust", doc(oidc(iss, app)), PodIdentity, doc(oidc(iss, app), pi), ""},
		{"a Pod Identity statement already there (eksctl's, or the last run's) is replaced, not doubled",
			doc(pi, oidc(iss, app)), Dual, doc(oidc(iss, app), pi), ""},
		{"one Statement object, not a list",
			`{"Version":"2012-10-17","Statement":` + oidc(iss, app) + `}`, Dual, doc(oidc(iss, app), pi), ""},
		{"dual after cleanup puts this service account's trust back",
			doc(oidc(iss, other)), Dual, doc(oidc(iss, other), string(added), pi), ""},
		{"cleanup drops a statement whose only sub was this service account",
			doc(oidc(iss, app), pi), Cleanup, doc(pi), ""},
		{"cleanup keeps the other service account of a shared statement",
			doc(oidc(iss, app, other)), Cleanup,
			doc(`{"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+iss+`:aud":"sts.amazonaws.com","`+iss+`:sub":"`+other+`"}},"Effect":"Allow","Principal":{"Federated":"`+prov.Arn+`"}}`, pi), ""},
		{"cleanup never touches another cluster's statement for the same service account",
			doc(oidc(otherIss, app), oidc(iss, app)), Cleanup, doc(oidc(otherIss, app), pi), ""},
		{"a wildcard sub cannot lose one service account",
			doc(strings.Replace(strings.Replace(oidc(iss, "system:serviceaccount:default:*"), "StringEquals", "StringLike", 1), `"Action"`, `"Action"`, 1)), Cleanup,
			"", "statement 0 trusts system:serviceaccount:default:pod-id-sa through " + prov.Arn + " by a wildcard"},
		{"a statement with no sub trusts every service account: refused",
			doc(`{"Effect":"Allow","Principal":{"Federated":"` + prov.Arn + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + iss + `:aud":"sts.amazonaws.com"}}}`), Cleanup,
			"", "statement 0 trusts every service account of " + prov.Arn + " (it has no " + iss + ":sub condition)"},
		{"not JSON", `{"Version":`, Dual, "", "the role's trust policy: is not a JSON policy document"},
		{"another cluster's scoped Pod Identity statement is kept",
			doc(otherPI, oidc(iss, app)), Dual, doc(otherPI, oidc(iss, app), pi), ""},
		{"a Deny naming the provider is never edited",
			doc(strings.Replace(oidc(iss, app), `"Allow"`, `"Deny"`, 1), oidc(iss, app, other)), Cleanup,
			doc(strings.Replace(oidc(iss, app), `"Allow"`, `"Deny"`, 1), `{"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+iss+`:aud":"sts.amazonaws.com","`+iss+`:sub":"`+other+`"}},"Effect":"Allow","Principal":{"Federated":"`+prov.Arn+`"}}`, pi), ""},
		{"condition keys compare without case",
			doc(strings.Replace(oidc(iss, app), iss+":sub", strings.ToUpper(iss)+":SUB", 1)), Cleanup, doc(pi), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Trust(tt.existing, tt.phase, podTrust, prov, "default", "pod-id-sa")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, tt.want) {
				t.Fatalf("trust\n got %s\nwant %s", got, tt.want)
			}
			// Each `up` reads what the last one wrote: it must not move.
			again, err := Trust(got, tt.phase, podTrust, prov, "default", "pod-id-sa")
			if err != nil || again != got {
				t.Fatalf("a second run changed the trust: %v\n%s\n%s", err, got, again)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

func TestCheckSize(t *testing.T) {
	if Size(`{ "a" : "b c" }`) != len(`{"a":"bc"}`) {
		t.Fatalf("Size counts white space: %d", Size(`{ "a" : "b c" }`))
	}
	big := doc(oidc(iss, app), oidc(otherIss, app), oidc(strings.Replace(otherIss, "eu-west-1", "eu-west-2", 1), app),
		oidc(strings.Replace(otherIss, "eu-west-1", "eu-west-3", 1), app), oidc(strings.Replace(otherIss, "eu-west-1", "eu-north-1", 1), app))
	got, err := Trust(big, Dual, podTrust, prov, "default", "pod-id-sa")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSize(got, DefaultTrustQuota); err == nil || !strings.Contains(err.Error(), "over the quota of 2048") {
		t.Fatalf("CheckSize(%d characters) = %v", Size(got), err)
	}
	if err := CheckSize(got, 4096); err != nil {
		t.Fatalf("under a raised quota: %v", err)
	}
}

func TestCheckAnnotation(t *testing.T) {
	tests := []struct{ value, err string }{
		{"arn:aws:iam::111122223333:role/EKSPodIdentityS3Role", ""},
		{"arn:aws:iam::111122223333:role/team/EKSPodIdentityS3Role", ""},
		{"", "has no eks.amazonaws.com/role-arn annotation: it is not on IRSA"},
		{"EKSPodIdentityS3Role", "is not an IAM role ARN"},
		{"arn:aws:iam::999988887777:role/EKSPodIdentityS3Role", "a role in account 999988887777, not the cluster's account 111122223333"},
		{"arn:aws:iam::111122223333:role/Other", "role Other, but roleName is \"EKSPodIdentityS3Role\""},
	}
	for _, tt := range tests {
		err := CheckAnnotation(tt.value, "EKSPodIdentityS3Role", acct)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("CheckAnnotation(%q) = %v, want %q", tt.value, err, tt.err)
		}
	}
}

func TestRestarts(t *testing.T) {
	pods := []Pod{
		{Name: "web-6d5455de-abcde", OwnerKind: "Deployment", OwnerName: "web"},
		{Name: "web-6d5455de-fghij", OwnerKind: "Deployment", OwnerName: "web"},
		{Name: "db-0", OwnerKind: "StatefulSet", OwnerName: "db"},
		{Name: "once-x", OwnerKind: "Job", OwnerName: "once"},
		{Name: "debug"},
		{Name: "aws-cli-pod"},
	}
	got := Restarts("apps", pods, func(n string) bool { return n == "aws-cli-pod" })
	want := []string{
		"# pod once-x of Job once: wait for it to finish, or kubectl delete job once -n apps",
		"kubectl delete pod debug -n apps  # a bare pod: create it again as it was made",
		"kubectl rollout restart deployment/web -n apps",
		"kubectl rollout restart statefulset/db -n apps",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Restarts:\n got %q\nwant %q", got, want)
	}
	if p := CheckPods([]Pod{{Name: "f", Fargate: true}, {Name: "w", Windows: true}, {Name: "ok"}}); len(p) != 2 ||
		!strings.Contains(p[0], "pod f runs on Fargate") || !strings.Contains(p[1], "pod w runs on a Windows node") {
		t.Fatalf("CheckPods: %q", p)
	}
}

func TestParsePhaseAndProvider(t *testing.T) {
	for _, p := range Phases {
		if got, err := ParsePhase(string(p)); err != nil || got != p {
			t.Errorf("ParsePhase(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := ParsePhase("podidentity"); err == nil || !strings.Contains(err.Error(), "allowed, in order: dual, podIdentity, cleanup") {
		t.Errorf("ParsePhase(podidentity) = %v", err)
	}
	got, err := ProviderFor("aws", acct, "https://"+iss)
	if err != nil || got != prov {
		t.Fatalf("ProviderFor = %+v, %v", got, err)
	}
	if _, err := ProviderFor("aws", acct, ""); err == nil {
		t.Fatal("ProviderFor accepted no issuer")
	}
	if err := CheckRegion("aws-cn"); err == nil || !strings.Contains(err.Error(), "China Regions") {
		t.Fatalf("CheckRegion(aws-cn) = %v", err)
	}
}
