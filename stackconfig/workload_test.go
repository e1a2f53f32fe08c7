package stackconfig

import (
	"encoding/json"
	"reflect"
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
	}
	got := cfg.toComponent()
	want := podidentity.Workload{
		Preset: "external-dns", PresetInputs: presets.Inputs{HostedZoneArns: []string{"zone"}, BucketArns: []string{"bucket"}},
		Name: "n", Namespace: "ns", ServiceAccount: "sa", CreateNamespace: true, ExternalServiceAccount: true,
		RoleName: "r", RolePath: "/p/", RoleDescription: "d", PermissionsBoundary: "b", MaxSessionDuration: 7200,
		Trust: podidentity.TrustOpen, PolicyArns: []string{"arn"}, InlinePolicies: map[string]string{"i": "{}"},
		Tags: map[string]string{"k": "v"}, TestPod: true, TestPodName: "p", Verify: true, AccessCheck: "s3 ls", VerifyDeadlineSeconds: 90,
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
	// The preset's inputs are two keys in the stack file, one field here.
	if c, w := reflect.TypeFor[workloadConfig]().NumField(), v.NumField()+1; c != w {
		t.Errorf("workloadConfig has %d fields, podidentity.Workload %d: map the new one", c, w)
	}
}
