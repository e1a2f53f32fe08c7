package podidentity

import "testing"

// Attachment names are keyed by policy, so reordering policyArns or adding
// one never renames (and so never replaces) an existing attachment.
func TestAttachmentResourceName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess":                "pi-api-AmazonS3ReadOnlyAccess",
		"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy": "pi-api-service-role/AmazonEBSCSIDriverPolicy",
		"arn:aws:iam::111122223333:policy/team/Orders":                  "pi-api-111122223333/team/Orders",
		"arn:aws-cn:iam::111122223333:policy/Orders":                    "pi-api-111122223333/Orders",
	} {
		if got := attachmentResourceName("pi", "api", arn); got != want {
			t.Errorf("%s: got %q, want %q", arn, got, want)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	w := Workload{ServiceAccount: "api", TestPod: true}.withDefaults("aws-cn")
	want := Workload{
		Name: "api", Namespace: "default", ServiceAccount: "api", Trust: TrustScoped,
		PolicyArns: []string{"arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"},
		TestPod:    true, TestPodName: "aws-cli-api", AccessCheck: "s3 ls",
	}
	if w.Name != want.Name || w.Namespace != want.Namespace || w.Trust != want.Trust || w.TestPodName != want.TestPodName ||
		w.AccessCheck != want.AccessCheck || len(w.PolicyArns) != 1 || w.PolicyArns[0] != want.PolicyArns[0] {
		t.Errorf("got %+v\nwant %+v", w, want)
	}
	if none := (Workload{ServiceAccount: "api", PolicyArns: []string{}}).withDefaults("aws"); len(none.PolicyArns) != 0 {
		t.Errorf("policyArns: [] must attach nothing, got %v", none.PolicyArns)
	}
}
