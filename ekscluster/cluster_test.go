package ekscluster

import (
	"testing"

	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

func TestUpdateKubeconfigCommand(t *testing.T) {
	for _, tc := range []struct {
		id   stackconfig.TokenIdentity
		want string
	}{
		{stackconfig.TokenIdentity{}, "aws eks update-kubeconfig --region us-east-1 --name sandbox-eks"},
		{stackconfig.TokenIdentity{Profile: "platform"}, "aws eks update-kubeconfig --region us-east-1 --name sandbox-eks --profile platform"},
		{stackconfig.TokenIdentity{RoleArn: "arn:aws:iam::111122223333:role/deploy", Profile: "p"},
			"aws eks update-kubeconfig --region us-east-1 --name sandbox-eks --role-arn arn:aws:iam::111122223333:role/deploy --profile p"},
	} {
		if got := UpdateKubeconfigCommand("us-east-1", "sandbox-eks", tc.id); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestNodeRoleTrustPolicy(t *testing.T) {
	got := NodeRoleTrustPolicy("amazonaws.com.cn")
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com.cn"},"Action":"sts:AssumeRole"}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPartitionAndAccount(t *testing.T) {
	for _, tc := range []struct{ arn, partition, account string }{
		{"arn:aws:eks:us-east-1:111122223333:cluster/my-eks-cluster", "aws", "111122223333"},
		{"arn:aws-cn:eks:cn-north-1:444455556666:cluster/c", "aws-cn", "444455556666"},
		{"my-eks-cluster", "", ""},
		{"arn:aws", "", ""},
	} {
		if p, a := Partition(tc.arn), Account(tc.arn); p != tc.partition || a != tc.account {
			t.Errorf("%q: partition %q, account %q; want %q, %q", tc.arn, p, a, tc.partition, tc.account)
		}
	}
}
