package tests

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/stackcheck"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// runDevRecorded runs the dev stack over a world, the stack having
// recorded (its output stackId) the given ID, "" for none.
func runDevRecorded(t *testing.T, e discover.Existing, recorded string, extra map[string]string) (*recorder, map[string]any, error) {
	t.Helper()
	cfg := stackConfig(t, "dev")
	for k, v := range extra {
		cfg[k] = v
	}
	clearRegionEnv(t)
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	rec.recordedStackID = recorded
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

// A new stack makes its ID and marks everything with it: each AWS
// resource's tag and each Kubernetes object's annotation. It records the ID
// as its output stackId, and a run that reads it back marks alike, so the
// second `up` changes nothing. Another new stack of the same name (another
// state) makes another ID.
func TestANewStackMakesItsIDAndRecordsIt(t *testing.T) {
	rec, exports, err := runDevRecorded(t, discover.Existing{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := exports[stackconfig.StackIDOutput].(string)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("output stackId = %q, want 16 hex digits", id)
	}
	want := "organization/eks-pod-identity/dev@" + id
	got := markers(rec)
	if len(got) < 6 {
		t.Fatalf("marked %d resources, want the add-on, role, association, ServiceAccount, Pod and Job: %v", len(got), got)
	}
	for what, m := range got {
		if m != want {
			t.Errorf("%s is marked %q, want %q", what, m, want)
		}
	}

	again, exports2, err := runDevRecorded(t, discover.Existing{}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if exports2[stackconfig.StackIDOutput] != id {
		t.Errorf("with %s on record, output stackId = %v", id, exports2[stackconfig.StackIDOutput])
	}
	for what, m := range markers(again) {
		if m != want {
			t.Errorf("second run: %s is marked %q, want %q", what, m, want)
		}
	}

	_, other, err := runDevRecorded(t, discover.Existing{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if other[stackconfig.StackIDOutput] == id {
		t.Errorf("two new stacks named dev both got ID %s", id)
	}
}

// stackId set in the stack file wins over the record: the way a stack
// claims objects an `up` made before it could record its ID.
func TestStackIDConfigIsTheStacksID(t *testing.T) {
	rec, exports, err := runDevRecorded(t, discover.Existing{}, testStackID, map[string]string{"eks-pod-identity:stackId": "feedfacecafebeef"})
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

// A stack from before stack IDs records none: its first run since takes
// the objects marked with its name alone as its own, without adopt, and
// re-marks them with its new ID. Once the stack has an ID on record, such
// objects are another state's.
func TestAStackFromBeforeStackIDsKeepsItsObjects(t *testing.T) {
	rec, exports, err := runDevRecorded(t, legacyWorld(), "", nil)
	if err != nil {
		t.Fatalf("the first run since stack IDs refused its own objects: %v", err)
	}
	id, _ := exports[stackconfig.StackIDOutput].(string)
	for what, m := range markers(rec) {
		if m != "organization/eks-pod-identity/dev@"+id {
			t.Errorf("%s is marked %q, want the new ID %s", what, m, id)
		}
	}

	_, _, err = runDevRecorded(t, legacyWorld(), testStackID, nil)
	var ae *adoption.Error
	if !errors.As(err, &ae) || len(ae.Refusals) != 5 {
		t.Fatalf("with an ID on record, want the add-on, role, association, ServiceAccount and Pod refused; got %v", err)
	}
	if !strings.Contains(err.Error(), "with no stack ID") || !strings.Contains(err.Error(), "no eks-pod-identity/stack annotation") {
		t.Errorf("the refusal does not say the objects carry no stack ID:\n%v", err)
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
		rec, _, err := runDevRecorded(t, e, "", map[string]string{"eks-pod-identity:adopt": adopt})
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
