package podidentity_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

// A refused access check's suggested fix is itself accepted.
func TestAccessCheckSuggestionIsAccepted(t *testing.T) {
	suggested := regexp.MustCompile(`e\.g\. "([^"]*)"`)
	for _, check := range []string{
		"aws s3 ls",
		"aws s3 ls s3://orders-data | head",
		"aws sts get-caller-identity > /dev/null",
		"aws s3 ls s3://orders-data; echo done",
	} {
		w := podidentity.Workload{ServiceAccount: "api", Namespace: "apps", Verify: true, AccessCheck: check}
		msg := settingsProblem(t, w, "accessCheck")
		m := suggested.FindStringSubmatch(msg)
		if m == nil {
			t.Errorf("%q: no suggestion in %q", check, msg)
			continue
		}
		w.AccessCheck = m[1]
		if again := settingsProblem(t, w, "accessCheck"); again != "" {
			t.Errorf("%q: the suggested %q is refused too: %s", check, m[1], again)
		}
		if strings.Contains(m[1], "aws ") {
			t.Errorf("%q: the suggestion %q still starts with aws", check, m[1])
		}
	}
}
