package tests

import (
	"errors"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/stackcheck"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// runDevOver runs the dev stack over a world of existing objects.
func runDevOver(t *testing.T, e discover.Existing, extra map[string]string) (*recorder, map[string]any, error) {
	t.Helper()
	cfg := stackConfig(t, "dev")
	for k, v := range extra {
		cfg[k] = v
	}
	clearRegionEnv(t)
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	_, exports, err := stackcheck.RunIn("dev", stackcheck.Config{Values: cfg}, rec, &discover.Lookups{AWS: world{e}, Kube: world{e}})
	return rec, exports, err
}

// markers are the stack tag of every tagged AWS resource and the stack
// annotation of every Kubernetes object, by type and name.
func markers(rec *recorder) map[string]string {
	out := map[string]string{}
	for _, r := range rec.regs {
		if tags := r.Inputs["tags"]; tags.IsObject() {
			out[r.Type+" "+r.Name] = tags.ObjectValue()[stackconfig.StackTagKey].StringValue()
		}
		if md := r.Inputs["metadata"]; md.IsObject() && strings.HasPrefix(r.Type, "kubernetes:") {
			v := md.ObjectValue()["annotations"]
			if !v.IsObject() {
				out[r.Type+" "+r.Name] = "(no annotations)"
				continue
			}
			out[r.Type+" "+r.Name] = v.ObjectValue()[adoption.StackAnnotationKey].StringValue()
		}
	}
	return out
}

// The stack's ID is its marker provider's: a Kubernetes provider with no
// cluster, registered before anything else, so the engine creates it (and
// keeps its ID in the state) before any object. Every AWS resource's tag
// and every Kubernetes object's annotation carry it, and the output stackId
// shows it.
func TestTheStacksIDIsItsMarkerProvidersID(t *testing.T) {
	rec, exports, err := runDevOver(t, discover.Existing{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := rec.get(t, tK8sProvider, "stack-marker")
	if kc := p.Inputs["kubeconfig"]; !kc.IsString() || strings.Contains(kc.StringValue(), "server:") {
		t.Errorf("the marker provider's kubeconfig names a cluster: %v", kc)
	}
	if rec.regs[0] != p && !(rec.regs[0].Type == "pulumi:pulumi:Stack" && rec.regs[1] == p) {
		t.Errorf("the marker provider is not registered first: %s %s is", rec.regs[0].Type, rec.regs[0].Name)
	}
	if exports[stackconfig.StackIDOutput] != testStackID {
		t.Errorf("output stackId = %v, want the provider's ID %s", exports[stackconfig.StackIDOutput], testStackID)
	}
	want := "organization/eks-pod-identity/dev@" + testStackID
	got := markers(rec)
	if len(got) < 6 {
		t.Fatalf("marked %d resources, want the add-on, role, association, ServiceAccount, Pod and Job: %v", len(got), got)
	}
	for what, m := range got {
		if m != want {
			t.Errorf("%s is marked %q, want %q", what, m, want)
		}
	}
	for _, r := range rec.regs {
		if r.Type != tK8sProvider && strings.HasPrefix(r.Type, "kubernetes:") && r.Provider == p.URN+"::"+p.Name+"-id" {
			t.Errorf("%s %s uses the marker provider", r.Type, r.Name)
		}
	}
}

// stackId set in the stack file wins over the record: the way a stack
// claims objects an `up` made before it could record its ID.
func TestStackIDConfigIsTheStacksID(t *testing.T) {
	rec, exports, err := runDevOver(t, discover.Existing{}, map[string]string{"eks-pod-identity:stackId": "feedfacecafebeef"})
	if err != nil {
		t.Fatal(err)
	}
	if exports[stackconfig.StackIDOutput] != "feedfacecafebeef" {
		t.Errorf("output stackId = %v, want the configured one", exports[stackconfig.StackIDOutput])
	}
	for what, m := range markers(rec) {
		if m != "organization/eks-pod-identity/dev@feedfacecafebeef" {
			t.Errorf("%s is marked %q", what, m)
		}
	}
}

// legacyWorld is adoptedWorld as this program marked it before stack IDs:
// the stack's name alone in the tag, no annotation.
func legacyWorld() discover.Existing {
	e := adoptedWorld()
	name := "organization/eks-pod-identity/dev"
	e.Agent.Tags = map[string]string{stackconfig.StackTagKey: name}
	e.Roles["EKSPodIdentityS3Role"].Tags = map[string]string{stackconfig.StackTagKey: name}
	e.Associations["default/pod-id-sa"].Tags = map[string]string{stackconfig.StackTagKey: name}
	e.ServiceAccounts["default/pod-id-sa"].Annotations = nil
	e.Pods["default/aws-cli-pod-identity"].Annotations = nil
	return e
}

// A stack from before stack IDs marked its objects with its name alone:
// they are its own, without adopt, and are re-marked with its ID.
func TestAStackFromBeforeStackIDsKeepsItsObjects(t *testing.T) {
	rec, _, err := runDevOver(t, legacyWorld(), nil)
	if err != nil {
		t.Fatalf("the first run since stack IDs refused its own objects: %v", err)
	}
	for what, m := range markers(rec) {
		if m != marker("dev") {
			t.Errorf("%s is marked %q, want %q", what, m, marker("dev"))
		}
	}
}

// Two people's `dev` stacks in two DIY backends: the name is the same, the
// ID is not. The second is refused before it creates anything, every
// object named, with what to run if the objects are in fact its own.
func TestAnotherStatesStackOfTheSameNameIsRefused(t *testing.T) {
	alice := "organization/eks-pod-identity/dev@feedfacecafebeef"
	e := adoptedWorld()
	for _, tags := range []map[string]string{e.Agent.Tags, e.Roles["EKSPodIdentityS3Role"].Tags, e.Associations["default/pod-id-sa"].Tags} {
		tags[stackconfig.StackTagKey] = alice
	}
	e.ServiceAccounts["default/pod-id-sa"].Annotations = map[string]string{adoption.StackAnnotationKey: alice}
	e.Pods["default/aws-cli-pod-identity"].Annotations = map[string]string{adoption.StackAnnotationKey: alice}
	for _, adopt := range []string{"false", "true"} {
		rec, _, err := runDevOver(t, e, map[string]string{"eks-pod-identity:adopt": adopt})
		var ae *adoption.Error
		if !errors.As(err, &ae) || len(ae.Refusals) != 5 || len(ae.Conflicts) != 0 {
			t.Fatalf("adopt=%s: want 5 refusals, got %v", adopt, err)
		}
		for _, want := range []string{
			"is managed by stack " + alice,
			"is annotated eks-pod-identity/stack=" + alice,
			"a stack of the same name in another state, such as another person's DIY backend",
			"run `pulumi config set eks-pod-identity:stackId feedfacecafebeef`",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("adopt=%s: the refusal does not say %q:\n%v", adopt, want, err)
			}
		}
		for _, r := range rec.regs {
			if !createsNothing(r) {
				t.Errorf("registered %s %s before refusing", r.Type, r.Name)
			}
		}
	}
}
