package tests

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/discover/discovertest"
	"github.com/platform-eng/eks-pod-identity/irsa"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// How discovery results become resource options, through the whole
// program under mocks: a world of existing objects (what the walkthrough
// leaves, or what an adopting `up` leaves) is handed to the program in
// place of the AWS and Kubernetes APIs, and the registrations show which
// resources carry an import ID, which one, and which are created.

var devMarker = marker("dev")

// world answers discovery from a discover.Existing.
type world struct{ discover.Existing }

func (w world) Role(_ context.Context, name string) (*discover.FoundRole, error) {
	return w.Roles[name], nil
}
func (w world) Addon(context.Context, string, string) (*discover.FoundAddon, error) {
	return w.Agent, nil
}
func (w world) Association(_ context.Context, _, ns, sa string) (*discover.FoundAssociation, error) {
	return w.Associations[ns+"/"+sa], nil
}
func (w world) ClusterAssociations(context.Context, string) ([]*discover.FoundAssociation, error) {
	return w.AllAssociations, nil
}
func (w world) Namespace(_ context.Context, name string) (*discover.FoundObject, error) {
	return w.Namespaces[name], nil
}
func (w world) ServiceAccount(_ context.Context, ns, name string) (*discover.FoundObject, error) {
	return w.ServiceAccounts[ns+"/"+name], nil
}
func (w world) Pod(_ context.Context, ns, name string) (*discover.FoundObject, error) {
	return w.Pods[ns+"/"+name], nil
}
func (w world) PodsOf(_ context.Context, ns, sa string) ([]irsa.Pod, error) {
	return w.ServiceAccountPods[ns+"/"+sa], nil
}

// walkthroughWorld is what the manual walkthrough leaves: nothing tagged
// or labelled, the aws-cli pod with the walkthrough's spec (:latest, no
// securityContext: not the stack's test pod, which is hardened).
func walkthroughWorld() discover.Existing {
	return discover.Existing{
		Agent: &discover.FoundAddon{},
		Roles: map[string]*discover.FoundRole{"EKSPodIdentityS3Role": {Name: "EKSPodIdentityS3Role", Path: "/",
			Arn: "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role"}},
		Associations: map[string]*discover.FoundAssociation{"default/pod-id-sa": {ID: "a-walkthrough00000",
			RoleArn: "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role"}},
		ServiceAccounts: map[string]*discover.FoundObject{"default/pod-id-sa": {}},
		Pods: map[string]*discover.FoundObject{"default/aws-cli-pod-identity": {Pod: &discover.PodSpec{
			ServiceAccountName: "pod-id-sa", RestartPolicy: "Never",
			Containers: []discover.Container{{Name: "aws-cli", Image: "amazon/aws-cli:latest", Command: []string{"sleep", "3600"}}},
		}}},
	}
}

// podDeletedWorld is the walkthrough after `kubectl delete pod`, which
// the refusal of its pod asks for.
func podDeletedWorld() discover.Existing {
	e := walkthroughWorld()
	delete(e.Pods, "default/aws-cli-pod-identity")
	return e
}

// adoptedWorld is the walkthrough after the adopting `up`: what the stack
// manages carries its tag and labels, and the test pod is the stack's.
func adoptedWorld() discover.Existing {
	e := walkthroughWorld()
	e.Pods["default/aws-cli-pod-identity"].Pod = discovertest.StackPod("pod-id-sa", podidentity.DefaultImage)
	tags := map[string]string{stackconfig.StackTagKey: devMarker}
	e.Agent.Tags, e.Roles["EKSPodIdentityS3Role"].Tags, e.Associations["default/pod-id-sa"].Tags = tags, tags, tags
	labels := map[string]string{"app.kubernetes.io/part-of": "eks-pod-identity", "app.kubernetes.io/instance": "pod-identity", "eks-pod-identity/workload": "pod-id-sa"}
	e.ServiceAccounts["default/pod-id-sa"].Labels, e.Pods["default/aws-cli-pod-identity"].Labels = labels, labels
	annotations := map[string]string{adoption.StackAnnotationKey: devMarker}
	e.ServiceAccounts["default/pod-id-sa"].Annotations, e.Pods["default/aws-cli-pod-identity"].Annotations = annotations, annotations
	return e
}

// createsNothing says a registration is the stack itself or its marker
// provider (whose ID is the stack's): neither creates anything in AWS or
// Kubernetes.
func createsNothing(r *registration) bool {
	return r.Type == "pulumi:pulumi:Stack" || (r.Type == tK8sProvider && r.Name == "stack-marker")
}

// importRecorder adds the import ID of every registration to a recorder.
type importRecorder struct {
	*recorder
	mu      sync.Mutex
	imports map[string]string // resource name -> import ID
}

func (r *importRecorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if rpc := args.RegisterRPC; rpc != nil && rpc.GetImportId() != "" {
		r.mu.Lock()
		r.imports[args.Name] = rpc.GetImportId()
		r.mu.Unlock()
	}
	return r.recorder.NewResource(args)
}

// runDevIn runs the dev stack, with adopt set as given, in a world.
func runDevIn(t *testing.T, e discover.Existing, adopt bool) (*importRecorder, error) {
	t.Helper()
	if adopt {
		return runDevWith(t, e, map[string]string{"eks-pod-identity:adopt": "true"})
	}
	return runDevWith(t, e, nil)
}

// runDevWith runs the dev stack with extra keys in a world.
func runDevWith(t *testing.T, e discover.Existing, extra map[string]string) (*importRecorder, error) {
	t.Helper()
	cfg := stackConfig(t, "dev")
	for k, v := range extra {
		cfg[k] = v
	}
	setConfigEnv(t, cfg)
	rec := &importRecorder{recorder: newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false)), imports: map[string]string{}}
	lookups := &discover.Lookups{AWS: world{e}, Kube: world{e}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := program.DeployWith(ctx, lookups)
		return err
	}, pulumi.WithMocks(stackconfig.Project, "dev", rec))
	return rec, err
}

// The walkthrough's pod is not the stack's (another image, no hardening,
// and a pod's spec cannot change): adopting refuses it before anything is
// registered, with the command that deletes it.
func TestAdoptingTheWalkthroughRefusesItsPodWithTheCommandToDeleteIt(t *testing.T) {
	rec, err := runDevIn(t, walkthroughWorld(), true)
	var ae *adoption.Error
	if !errors.As(err, &ae) || len(ae.Refusals) != 1 || len(ae.Conflicts) != 0 {
		t.Fatalf("want one refusal, the pod's; got %v", err)
	}
	for _, want := range []string{
		"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) differs from the stack's test pod in spec.containers[0].image",
		"`kubectl delete pod aws-cli-pod-identity -n default`",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	for _, r := range rec.regs {
		if !createsNothing(r) {
			t.Errorf("registered %s %s before refusing", r.Type, r.Name)
		}
	}
}

func TestAdoptingTheWalkthroughImportsWhatExists(t *testing.T) {
	rec, err := runDevIn(t, podDeletedWorld(), true)
	if err != nil {
		t.Fatal(err)
	}
	// Each import ID in the form its provider reads: add-on "cluster:name",
	// role its name, association "cluster,id", Kubernetes "namespace/name".
	want := map[string]string{
		"pod-identity-agent":                 "my-eks-cluster:eks-pod-identity-agent",
		"pod-identity-pod-id-sa-role":        "EKSPodIdentityS3Role",
		"pod-identity-pod-id-sa-association": "my-eks-cluster,a-walkthrough00000",
		"pod-identity-pod-id-sa-sa":          "default/pod-id-sa",
	}
	if len(rec.imports) != len(want) {
		t.Errorf("imports = %v, want %v", rec.imports, want)
	}
	for name, id := range want {
		if got := rec.imports[name]; got != id {
			t.Errorf("%s: import ID %q, want %q", name, got, id)
		}
	}
	// Created, not imported: the attachment (attaching an attached policy
	// is a no-op in IAM; its import ID never matches the ID Pulumi keeps),
	// the Job (new), and the pod (deleted as the refusal asked, created
	// anew; a pod already the stack's is taken over by the provider's
	// upsert: importing it would plan a replacement of its immutable spec).
	for _, name := range []string{"pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess", "pod-identity-pod-id-sa-test-pod", "pod-identity-pod-id-sa-verify"} {
		rec.get(t, typeOfName(rec.recorder, name), name)
		if id, ok := rec.imports[name]; ok {
			t.Errorf("%s carries import ID %q", name, id)
		}
	}
	k8s := rec.get(t, tK8sProvider, "kubernetes")
	if v := k8s.Inputs["upsertExistingObjects"]; !v.IsBool() || !v.BoolValue() {
		t.Errorf("Kubernetes provider upsertExistingObjects = %v, want true", v)
	}
	// The stack's tag on everything that takes tags, so the next run knows
	// these are its own and imports nothing again.
	assertInputs(t, rec.get(t, tAddon, "pod-identity-agent"), map[string]any{"tags": map[string]any{stackconfig.StackTagKey: devMarker, stackconfig.AdoptedTagKey: "true"}})
	for _, r := range []*registration{
		rec.get(t, tRole, "pod-identity-pod-id-sa-role"),
		rec.get(t, tAssociation, "pod-identity-pod-id-sa-association"),
	} {
		assertInputs(t, r, map[string]any{"tags": map[string]any{stackconfig.StackTagKey: devMarker}})
	}
}

// After the adopting `up`, with the switch still on or turned off, nothing
// carries an import ID: an import ID left on an association already in
// the state would plan an import-replacement that deletes it.
func TestNothingIsImportedOnceTheStackManagesIt(t *testing.T) {
	for _, adopt := range []bool{true, false} {
		rec, err := runDevIn(t, adoptedWorld(), adopt)
		if err != nil {
			t.Fatalf("adopt=%v: %v", adopt, err)
		}
		if len(rec.imports) != 0 {
			t.Errorf("adopt=%v: imports = %v, want none", adopt, rec.imports)
		}
	}
}

// Without the switch, the walkthrough's objects stop the program before it
// registers anything, every one named, with the switch to use.
func TestWithoutTheSwitchTheWalkthroughIsRefusedBeforeAnythingIsRegistered(t *testing.T) {
	rec, err := runDevIn(t, walkthroughWorld(), false)
	var ae *adoption.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want an AdoptionError, got %v", err)
	}
	for _, want := range []string{
		"EKS add-on eks-pod-identity-agent", "IAM role EKSPodIdentityS3Role", "pod identity association a-walkthrough00000",
		"ServiceAccount default/pod-id-sa", "Pod default/aws-cli-pod-identity", "pulumi config set eks-pod-identity:adopt true",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	for _, r := range rec.regs {
		if !createsNothing(r) {
			t.Errorf("registered %s %s before refusing", r.Type, r.Name)
		}
	}
}

// A difference that would force a replacement is refused before anything
// is registered, naming the field, even with the switch on.
func TestAReplacementIsRefusedBeforeAnythingIsRegistered(t *testing.T) {
	e := walkthroughWorld()
	e.Roles["EKSPodIdentityS3Role"].Path = "/legacy/"
	rec, err := runDevIn(t, e, true)
	if err == nil || !strings.Contains(err.Error(), `eks-pod-identity:workloads[0].rolePath is "/"`) {
		t.Fatalf("error = %v, want the rolePath refusal", err)
	}
	for _, r := range rec.regs {
		if !createsNothing(r) {
			t.Errorf("registered %s %s before refusing", r.Type, r.Name)
		}
	}
}

func typeOfName(r *recorder, name string) string {
	for _, reg := range r.regs {
		if reg.Name == name {
			return reg.Type
		}
	}
	return ""
}

// The adopted add-on served every pod identity on the cluster before the
// stack came: destroy keeps the agent running (preserve), on the adopting
// run and on every later one, which knows it only from the add-on's
// adopted tag; preserveAgent false (Pulumi.yaml's default, which the CLI
// hands over as if set) does not override it.
func TestAnAdoptedAgentIsKeptOnDestroyRunAfterRun(t *testing.T) {
	adoptedTag := func() discover.Existing {
		e := adoptedWorld()
		e.Agent.Tags = map[string]string{stackconfig.StackTagKey: devMarker, stackconfig.AdoptedTagKey: "true"}
		return e
	}
	for _, tc := range []struct {
		name     string
		world    func() discover.Existing
		extra    map[string]string
		preserve bool
		adopted  bool // the add-on carries the adopted tag
	}{
		{"the adopting run", podDeletedWorld, map[string]string{"eks-pod-identity:adopt": "true"}, true, true},
		{"a later run, switch off", adoptedTag, nil, true, true},
		{"a later run, preserveAgent false as the CLI hands the default", adoptedTag, map[string]string{"eks-pod-identity:preserveAgent": "false"}, true, true},
		{"adopting with preserveAgent false", podDeletedWorld,
			map[string]string{"eks-pod-identity:adopt": "true", "eks-pod-identity:preserveAgent": "false"}, true, true},
		{"an add-on the stack created, preserveAgent true", adoptedWorld, map[string]string{"eks-pod-identity:preserveAgent": "true"}, true, false},
		{"an add-on the stack created", adoptedWorld, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := runDevWith(t, tc.world(), tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			addon := rec.get(t, tAddon, "pod-identity-agent")
			if v := addon.Inputs["preserve"]; !v.IsBool() || v.BoolValue() != tc.preserve {
				t.Errorf("add-on preserve = %v, want %v", v, tc.preserve)
			}
			tags := map[string]any{stackconfig.StackTagKey: devMarker}
			if tc.adopted {
				tags[stackconfig.AdoptedTagKey] = "true"
			}
			assertInputs(t, addon, map[string]any{"tags": tags})
			// Only the add-on: roles and associations are the stack's alone.
			assertInputs(t, rec.get(t, tRole, "pod-identity-pod-id-sa-role"), map[string]any{"tags": map[string]any{stackconfig.StackTagKey: devMarker}})
		})
	}
}

// A role another association uses, and a test pod that has ended, stop the
// program before it registers anything, each named.
func TestASharedRoleAndAnEndedPodAreRefusedBeforeAnythingIsRegistered(t *testing.T) {
	shared := podDeletedWorld()
	shared.AllAssociations = []*discover.FoundAssociation{
		{ID: "a-walkthrough00000", Namespace: "default", ServiceAccount: "pod-id-sa", RoleArn: "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role"},
		{ID: "a-reports00000000", Namespace: "reports", ServiceAccount: "reader", RoleArn: "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role"},
	}
	ended := adoptedWorld()
	ended.Pods["default/aws-cli-pod-identity"].Labels = nil
	ended.Pods["default/aws-cli-pod-identity"].Phase = "Succeeded"
	for _, tc := range []struct {
		name  string
		world discover.Existing
		want  string
	}{
		{"shared role", shared, "IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName) is also the role of pod identity association a-reports00000000 for reports/reader on cluster my-eks-cluster, which this stack does not declare"},
		{"ended pod", ended, "Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) has ended (phase Succeeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := runDevIn(t, tc.world, true)
			var ae *adoption.Error
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to say %q", err, tc.want)
			}
			for _, r := range rec.regs {
				if !createsNothing(r) {
					t.Errorf("registered %s %s before refusing", r.Type, r.Name)
				}
			}
		})
	}
}
