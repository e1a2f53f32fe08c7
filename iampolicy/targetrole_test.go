package iampolicy

import (
	"strings"
	"testing"
)

// The user guide's two documents (pod-id-assign-target-role), compacted,
// with its placeholders replaced by this test's values.
const (
	guideTagsOn  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster/example-cluster","aws:RequestTag/kubernetes-namespace":"ExampleNameSpace","aws:RequestTag/kubernetes-service-account":"ExampleServiceAccountName"},"ArnEquals":{"aws:PrincipalARN":"arn:aws:iam::111122223333:role/eks-pod-identity-primary-role"}}}]}`
	guideTagsOff = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"us-east-1/111122223333/example-cluster/ExampleNameSpace/ExampleServiceAccountName"},"ArnEquals":{"aws:PrincipalARN":"arn:aws:iam::111122223333:role/eks-pod-identity-primary-role"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:TagSession"}]}`
)

func guideTrust(tags bool) TargetTrust {
	return TargetTrust{
		Partition: "aws", ClusterAccount: "111122223333",
		FirstRoleArn: "arn:aws:iam::111122223333:role/eks-pod-identity-primary-role",
		ClusterArn:   "arn:aws:eks:us-east-1:111122223333:cluster/example-cluster",
		Namespace:    "ExampleNameSpace", ServiceAccount: "ExampleServiceAccountName",
		SessionTags: tags,
		ExternalID:  "us-east-1/111122223333/example-cluster/ExampleNameSpace/ExampleServiceAccountName",
	}
}

func TestTargetTrustPolicyIsTheUserGuidesDocument(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   TargetTrust
		want string
	}{
		{"session tags on", guideTrust(true), guideTagsOn},
		{"session tags off", guideTrust(false), guideTagsOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TargetTrustPolicy(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestTargetTrustPolicyRefusesMissingParts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*TargetTrust)
		want   string
	}{
		{"no first role", func(t *TargetTrust) { t.FirstRoleArn = "" }, "first role ARN is empty"},
		{"no account", func(t *TargetTrust) { t.ClusterAccount = "" }, "cluster account is empty"},
		{"tags on without namespace", func(t *TargetTrust) { t.Namespace = "" }, "needs the cluster ARN, namespace and service account"},
		{"tags off without external ID", func(t *TargetTrust) { t.SessionTags, t.ExternalID = false, "" }, "needs the external ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := guideTrust(true)
			tc.mutate(&in)
			_, err := TargetTrustPolicy(in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestAssumeTargetRole(t *testing.T) {
	const target = "arn:aws:iam::444455556666:role/data-reader"
	doc, err := Parse(AssumeTargetRole(target))
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession"} {
		if !doc.Allows(action, target) {
			t.Errorf("does not allow %s on the target role", action)
		}
		if doc.Allows(action, "arn:aws:iam::444455556666:role/other") {
			t.Errorf("allows %s on another role", action)
		}
	}
	if want := `{"Statement":[{"Action":["sts:AssumeRole","sts:TagSession"],"Effect":"Allow","Resource":"arn:aws:iam::444455556666:role/data-reader"}],"Version":"2012-10-17"}`; AssumeTargetRole(target) != want {
		t.Errorf("got %s\nwant %s", AssumeTargetRole(target), want)
	}
}
