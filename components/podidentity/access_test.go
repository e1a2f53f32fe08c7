package podidentity

import "testing"

// The default access check (`aws s3 ls`, s3:ListAllMyBuckets) is refused
// only where no policy the program can read grants it.
func TestGrantsS3List(t *testing.T) {
	const (
		listAll    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
		listAllGov = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"arn:aws-us-gov:s3:::*"}]}`
		oneBucket  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`
		everything = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	)
	for _, tc := range []struct {
		name      string
		w         Workload
		partition string
		want      bool
	}{
		{"AmazonS3ReadOnlyAccess", Workload{PolicyArns: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}}, "aws", true},
		{"ReadOnlyAccess in GovCloud", Workload{PolicyArns: []string{"arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"}}, "aws-us-gov", true},
		{"AdministratorAccess", Workload{PolicyArns: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}, "aws", true},
		{"a customer policy with the same name is not read", Workload{PolicyArns: []string{"arn:aws:iam::111122223333:policy/AmazonS3ReadOnlyAccess"}}, "aws", false},
		{"another service's managed policy", Workload{PolicyArns: []string{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"}}, "aws", false},
		{"inline s3:ListAllMyBuckets", Workload{InlinePolicies: map[string]string{"list": listAll}}, "aws", true},
		{"inline *", Workload{InlinePolicies: map[string]string{"all": everything}}, "aws", true},
		{"inline on one bucket only", Workload{InlinePolicies: map[string]string{"bucket": oneBucket}}, "aws", false},
		{"one of two inline policies grants it", Workload{InlinePolicies: map[string]string{"bucket": oneBucket, "list": listAll}}, "aws", true},
		{"inline for GovCloud in GovCloud", Workload{InlinePolicies: map[string]string{"list": listAllGov}}, "aws-us-gov", true},
		{"inline for GovCloud on a commercial cluster", Workload{InlinePolicies: map[string]string{"list": listAllGov}}, "aws", false},
		{"inline for GovCloud before the partition is known", Workload{InlinePolicies: map[string]string{"list": listAllGov}}, "", true},
		{"an unparsable inline policy grants nothing", Workload{InlinePolicies: map[string]string{"bad": `{"Statement":`}}, "aws", false},
		{"no policy", Workload{PolicyArns: []string{}}, "aws", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := grantsS3List(tc.w, tc.partition); got != tc.want {
				t.Errorf("grantsS3List = %v, want %v", got, tc.want)
			}
		})
	}
}
