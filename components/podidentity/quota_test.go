package podidentity_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/presets"
)

// settingsProblem runs the component's settings check on one workload and
// returns the problems naming field, joined.
func settingsProblem(t *testing.T, w podidentity.Workload, field string) string {
	t.Helper()
	err := podidentity.Args{Partition: "aws", Workloads: []podidentity.Workload{w}}.ValidateSettings("pi")
	if err == nil {
		return ""
	}
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.Contains(line, field) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// inlineDoc is a valid policy document of exactly size characters without
// whitespace, indented and with newlines (which IAM does not count).
func inlineDoc(t *testing.T, size int) string {
	t.Helper()
	const resourcePrefix = "arn:aws:s3:::bucket/"
	shell := func(pad int) string {
		b, err := json.MarshalIndent(map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "s3:GetObject", "Resource": resourcePrefix + strings.Repeat("k", pad),
			}},
		}, "", "    ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	pad := size - nonSpace(shell(0))
	if pad < 0 {
		t.Fatalf("size %d is below the document's shell", size)
	}
	doc := shell(pad)
	if nonSpace(doc) != size || !strings.ContainsAny(doc, " \n") {
		t.Fatalf("built a document of %d characters, want %d with whitespace", nonSpace(doc), size)
	}
	return doc
}

func nonSpace(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// IAM's quotas on a role, at exactly the limit and one over: 20 managed
// policies, 10,240 characters of inline policies without whitespace.
func TestIAMQuotaBoundaries(t *testing.T) {
	arns := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("arn:aws:iam::111122223333:policy/p%d", i)
		}
		return out
	}
	base := podidentity.Workload{ServiceAccount: "api", Namespace: "apps"}
	for _, tc := range []struct {
		name    string
		w       func(w podidentity.Workload) podidentity.Workload
		field   string
		refused string
	}{
		{"20 managed policies", func(w podidentity.Workload) podidentity.Workload { w.PolicyArns = arns(20); return w }, "policyArns", ""},
		{"21 managed policies", func(w podidentity.Workload) podidentity.Workload { w.PolicyArns = arns(21); return w }, "policyArns",
			"lists 21 policies; IAM attaches at most 20"},
		{"inline at 10,240", func(w podidentity.Workload) podidentity.Workload {
			w.InlinePolicies = map[string]string{"a": inlineDoc(t, 6000), "b": inlineDoc(t, 4240)}
			return w
		}, "inlinePolicies", ""},
		{"inline at 10,241", func(w podidentity.Workload) podidentity.Workload {
			w.InlinePolicies = map[string]string{"a": inlineDoc(t, 6000), "b": inlineDoc(t, 4241)}
			return w
		}, "inlinePolicies", "add up to 10241 characters without whitespace; IAM allows 10240"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := settingsProblem(t, tc.w(base), tc.field)
			switch {
			case tc.refused == "" && got != "":
				t.Errorf("refused at the limit: %s", got)
			case tc.refused != "" && !strings.Contains(got, tc.refused):
				t.Errorf("problems for %s = %q, want one containing %q", tc.field, got, tc.refused)
			}
		})
	}
}

// A preset's own inline documents count against the role's inline quota
// (with the longest cluster name, since the real one is not known yet):
// mountpoint-s3's grows with its buckets, and the first bucket count that
// passes the quota is refused under the workload's preset key.
func TestPresetDocumentsCountAgainstTheInlineQuota(t *testing.T) {
	buckets := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("arn:aws:s3:::%s-%03d", strings.Repeat("b", 55), i)
		}
		return out
	}
	w := func(n int) podidentity.Workload {
		return podidentity.Workload{Preset: "mountpoint-s3", PresetInputs: presets.Inputs{BucketArns: buckets(n)}}
	}
	last := 0
	for n := 1; n <= 200; n++ {
		if got := settingsProblem(t, w(n), "characters without whitespace"); got != "" {
			if !strings.Contains(got, "workloads[0].preset") || !strings.Contains(got, `preset "mountpoint-s3"'s own documents`) {
				t.Errorf("%d buckets refused as %q, want it under workloads[0].preset, naming the preset's documents", n, got)
			}
			last = n
			break
		}
	}
	if last == 0 {
		t.Fatal("200 buckets of 63 characters did not reach IAM's inline quota: the preset's documents are not counted")
	}
	if got := settingsProblem(t, w(last-1), "characters without whitespace"); got != "" {
		t.Errorf("%d buckets, one under the first refused count, refused too: %s", last-1, got)
	}
	t.Logf("mountpoint-s3 reaches the inline quota at %d buckets of 63 characters", last)
}
