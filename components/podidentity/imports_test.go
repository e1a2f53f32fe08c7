package podidentity_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Each adopted child carries pulumi.Import with the ID it was given; the
// others carry none and are created.
func TestAdoptionImportsTheNamedChildren(t *testing.T) {
	args := baseArgs()
	args.Adopt = &podidentity.Adoption{
		Agent:      "c:eks-pod-identity-agent",
		Namespaces: map[string]string{"apps": "apps"},
		Workloads: map[string]podidentity.WorkloadAdoption{"api": {
			Role: "api-role", Association: "c,a-0123456789abcdef0", ServiceAccount: "apps/api",
		}},
	}
	mocks := run(t, func(ctx *pulumi.Context) error {
		_, err := podidentity.NewPodIdentity(ctx, "pi", args)
		return err
	})
	want := map[string]string{
		"pi-agent":                      "c:eks-pod-identity-agent",
		"pi-ns-apps":                    "apps",
		"pi-api-role":                   "api-role",
		"pi-api-association":            "c,a-0123456789abcdef0",
		"pi-api-sa":                     "apps/api",
		"pi-api-test-pod":               "",
		"pi-api-verify":                 "",
		"pi-api-AmazonS3ReadOnlyAccess": "",
	}
	for name, id := range want {
		r, ok := mocks.find(name)
		if !ok {
			t.Errorf("%s not registered", name)
			continue
		}
		if r.importID != id {
			t.Errorf("%s: import ID %q, want %q", name, r.importID, id)
		}
	}
}

func TestAdoptionIsValidated(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*podidentity.Args)
		wants []string
	}{
		{"agent import ID shape", func(a *podidentity.Args) { a.Adopt.Agent = "c/eks-pod-identity-agent" },
			[]string{`adopt.agent: "c/eks-pod-identity-agent" is not an add-on import ID: expected "<cluster>:eks-pod-identity-agent"`}},
		{"agent the component does not manage", func(a *podidentity.Args) { a.Agent.Skip = true; a.Adopt.Agent = "c:eks-pod-identity-agent" },
			[]string{`adopt.agent: "c:eks-pod-identity-agent" is set, but this component does not manage the agent add-on`}},
		{"agent tags for an add-on the component does not manage", func(a *podidentity.Args) {
			a.Agent.Skip = true
			a.Adopt.AgentTags = map[string]string{"k": "v"}
		}, []string{`adopt.agentTags: is set, but this component does not manage the agent add-on (agent.skip)`}},
		{"namespace not created", func(a *podidentity.Args) { a.Adopt.Namespaces = map[string]string{"other": "other"} },
			[]string{`adopt.namespaces[other]: namespace "other" is not created by any workload`}},
		{"unknown workload", func(a *podidentity.Args) {
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"nope": {Role: "x"}}
		},
			[]string{`adopt.workloads[nope]: there is no workload named "nope" (workloads: api)`}},
		{"role other than the workload's", func(a *podidentity.Args) {
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"api": {Role: "other-role"}}
		}, []string{`adopt.workloads[api].role: "other-role" is not the workload's role: its import ID is its name, "api-role"`}},
		{"auto-named role", func(a *podidentity.Args) {
			a.Workloads[0].RoleName = ""
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"api": {Role: "legacy"}}
		}, []string{`adopt.workloads[api].role: "legacy" cannot be adopted: the workload's role is auto-named; set roleName to "legacy"`}},
		{"association import ID shape", func(a *podidentity.Args) {
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"api": {Association: "a-0123456789abcdef0"}}
		}, []string{`adopt.workloads[api].association: "a-0123456789abcdef0" is not an association import ID: expected "<cluster>,<association ID>"`}},
		{"association of a Cloud Control workload", func(a *podidentity.Args) {
			a.Workloads[0].TargetRoleArn = "arn:aws:iam::444455556666:role/r"
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"api": {Association: "c,a-0123456789abcdef0"}}
		}, []string{`adopt.workloads[api].association: "c,a-0123456789abcdef0" cannot be adopted: the workload sets targetRoleArn, disableSessionTags or sessionPolicy, so its association is a Cloud Control resource, which pulumi-aws v6 cannot import`}},
		{"service account of another workload", func(a *podidentity.Args) {
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"api": {ServiceAccount: "default/api"}}
		}, []string{`adopt.workloads[api].serviceAccount: "default/api" is not the workload's service account: its import ID is "apps/api"`}},
		{"external service account", func(a *podidentity.Args) {
			a.Workloads[0].ExternalServiceAccount = true
			a.Adopt.Workloads = map[string]podidentity.WorkloadAdoption{"api": {ServiceAccount: "apps/api"}}
		}, []string{`adopt.workloads[api].serviceAccount: "apps/api" is set, but the workload's service account is external`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := baseArgs()
			args.Adopt = &podidentity.Adoption{}
			tt.edit(&args)
			err := args.Validate("pi")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nlacks %q", err, want)
				}
			}
		})
	}
	ok := baseArgs()
	ok.Adopt = &podidentity.Adoption{Agent: "c:eks-pod-identity-agent", Namespaces: map[string]string{"apps": "apps"},
		Workloads: map[string]podidentity.WorkloadAdoption{"api": {Role: "api-role", Association: "c,a-1", ServiceAccount: "apps/api"}}}
	if err := ok.Validate("pi"); err != nil {
		t.Errorf("valid adoption refused: %v", err)
	}
}

// A test pod that already runs is taken over before the verification Job,
// which waits for it; a new one waits for the Job's proof.
func TestRunningTestPodIsTakenOverBeforeTheJob(t *testing.T) {
	dependsOn := func(r reg, name string) bool {
		return slices.ContainsFunc(r.deps, func(d string) bool { return strings.HasSuffix(d, "::"+name) })
	}
	for _, running := range []bool{false, true} {
		args := baseArgs()
		args.Adopt = &podidentity.Adoption{Workloads: map[string]podidentity.WorkloadAdoption{"api": {TestPodRunning: running}}}
		mocks := run(t, func(ctx *pulumi.Context) error {
			_, err := podidentity.NewPodIdentity(ctx, "pi", args)
			return err
		})
		pod, ok1 := mocks.find("pi-api-test-pod")
		job, ok2 := mocks.find("pi-api-verify")
		if !ok1 || !ok2 {
			t.Fatalf("running=%v: test pod or Job not registered", running)
		}
		if got := dependsOn(pod, "pi-api-verify"); got == running {
			t.Errorf("running=%v: test pod waits for the Job: %v", running, got)
		}
		if got := dependsOn(job, "pi-api-test-pod"); got != running {
			t.Errorf("running=%v: Job waits for the test pod: %v", running, got)
		}
		if !dependsOn(pod, "pi-api-association") || !dependsOn(job, "pi-api-association") {
			t.Errorf("running=%v: test pod or Job does not wait for the association", running)
		}
	}
}
