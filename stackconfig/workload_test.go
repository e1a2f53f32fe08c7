package stackconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/presets"
)

func TestPolicyDocumentAcceptsStringOrObject(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"{\"Version\":\"2012-10-17\"}"`, `{"Version":"2012-10-17"}`},
		{`{ "Version": "2012-10-17", "Statement": [] }`, `{"Version":"2012-10-17","Statement":[]}`},
	} {
		var d policyDocument
		if err := json.Unmarshal([]byte(tc.in), &d); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if string(d) != tc.want {
			t.Errorf("%s decoded to %s, want %s", tc.in, d, tc.want)
		}
	}
}

func TestWorkloadConfigMapsEveryField(t *testing.T) {
	cfg := workloadConfig{
		Preset: "external-dns", HostedZoneArns: []string{"zone"}, BucketArns: []string{"bucket"},
		Name: "n", Namespace: "ns", ServiceAccount: "sa", CreateNamespace: true, ExternalServiceAccount: true,
		RoleName: "r", RolePath: "/p/", RoleDescription: "d", PermissionsBoundary: "b", MaxSessionDuration: 7200,
		Trust: "open", PolicyArns: []string{"arn"}, InlinePolicies: map[string]policyDocument{"i": "{}"},
		Tags: map[string]string{"k": "v"}, TestPod: true, TestPodName: "p", Verify: true, AccessCheck: "s3 ls", VerifyDeadlineSeconds: 90,
		TargetRoleArn: "t", DisableSessionTags: true, SessionPolicy: "{}",
		TargetRole: &targetRoleConfig{Account: "data", RoleName: "Reader", PolicyArns: []string{"p"}},
		From:       "irsa", Phase: "dual", TrustPolicyQuota: 4096,
	}
	got := cfg.toComponent()
	want := podidentity.Workload{
		Preset: "external-dns", PresetInputs: presets.Inputs{HostedZoneArns: []string{"zone"}, BucketArns: []string{"bucket"}},
		Name: "n", Namespace: "ns", ServiceAccount: "sa", CreateNamespace: true, ExternalServiceAccount: true,
		RoleName: "r", RolePath: "/p/", RoleDescription: "d", PermissionsBoundary: "b", MaxSessionDuration: 7200,
		Trust: podidentity.TrustOpen, PolicyArns: []string{"arn"}, InlinePolicies: map[string]string{"i": "{}"},
		Tags: map[string]string{"k": "v"}, TestPod: true, TestPodName: "p", Verify: true, AccessCheck: "s3 ls", VerifyDeadlineSeconds: 90,
		TargetRoleArn: "t", DisableSessionTags: true, SessionPolicy: "{}",
		// The account stays the name here; Parse puts in its ID.
		TargetRole: &podidentity.TargetRole{RoleName: "Reader", PolicyArns: []string{"p"}},
		Irsa:       &podidentity.IrsaMigration{From: "irsa", Phase: "dual", TrustQuota: 4096},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("toComponent:\n got %+v\nwant %+v", got, want)
	}
	// Every component field is set above, so a new one must be added here.
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("podidentity.Workload.%s is not covered by this test", v.Type().Field(i).Name)
		}
	}
	// The preset's inputs are two keys in the stack file, one field here;
	// from, phase and trustPolicyQuota are three, one field (Irsa).
	if c, w := reflect.TypeFor[workloadConfig]().NumField(), v.NumField()+1+2; c != w {
		t.Errorf("workloadConfig has %d fields, podidentity.Workload %d: map the new one", c, w)
	}
}

func TestSessionPolicyFromDocumentOrFile(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	dir := t.TempDir()
	file := filepath.Join(dir, "session.json")
	if err := os.WriteFile(file, []byte("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{"an inline document", doc, doc, ""},
		{"a path, read and compacted", file, doc, ""},
		{"a missing file", filepath.Join(dir, "missing.json"), "", "is neither a JSON policy document (it does not start with \"{\") nor a readable file: no such file or directory"},
		{"unset", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := workloadConfig{SessionPolicy: policyDocument(tc.in)}
			err := w.readSessionPolicy(os.ReadFile)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr == "" && string(w.SessionPolicy) != tc.want:
				t.Errorf("sessionPolicy = %s, want %s", w.SessionPolicy, tc.want)
			}
		})
	}
}
