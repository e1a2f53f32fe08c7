package podidentity

import "testing"

// The verification Job's CLI gets the cluster's region from its ARN.
func TestArnRegion(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:eks:eu-central-1:111122223333:cluster/staging-eks": "eu-central-1",
		"arn:aws-cn:eks:cn-north-1:111122223333:cluster/c":          "cn-north-1",
		"arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/c":   "us-gov-west-1",
		"arn:aws:iam::111122223333:role/global-resources-have-none": "",
		"not-an-arn:aws:eks:eu-central-1:111122223333:cluster/c":    "",
		"arn:aws:eks:eu-central-1":                                  "",
	} {
		if got := arnRegion(arn); got != want {
			t.Errorf("arnRegion(%q) = %q, want %q", arn, got, want)
		}
	}
}
