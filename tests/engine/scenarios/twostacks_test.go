//go:build engine

package scenarios

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// TestTwoStacksOfOneNameInTwoBackends: two people each run a stack named
// `twin` from the same stack file, in their own DIY backends, against one
// account and cluster. Their stacks' names are the same
// (organization/eks-pod-identity/twin); their IDs are not. The second `up`
// is refused before it creates or changes anything, naming the first
// stack's marker and what to run if the objects were in fact its own; the
// first stack's objects keep its marks, and its next preview changes
// nothing.
func TestTwoStacksOfOneNameInTwoBackends(t *testing.T) {
	e := newEnv(t)
	const name = "twin"
	first := e.devStack(t, name)
	res, err := first.Up(e.ctx, upOpts(t)...)
	if err != nil {
		t.Fatalf("first stack's up: %v", err)
	}
	id, _ := res.Outputs[stackconfig.StackIDOutput].Value.(string)
	if id == "" {
		t.Fatalf("the first stack recorded no output %s: %v", stackconfig.StackIDOutput, res.Outputs)
	}
	marker := stackconfig.Marker("organization/"+stackconfig.Project+"/"+name, id)
	before := e.twinMarks(t)
	for what, m := range before.marks {
		if m != marker {
			t.Errorf("after the first up, %s is marked %q, want %q", what, m, marker)
		}
	}

	// The second person's backend: another directory, the same stack file.
	second := e.stackIn(t, name, "file://"+t.TempDir())
	_, err = second.Up(e.ctx, upOpts(t)...)
	if err == nil {
		t.Fatal("the second stack's up took the first stack's objects")
	}
	for _, want := range []string{
		"objects this stack would create already exist (nothing was created or changed)",
		"is managed by stack " + marker,
		"is annotated " + adoption.StackAnnotationKey + "=" + marker,
		"a stack of the same name in another state, such as another person's DIY backend",
		"`pulumi config set " + stackconfig.Key(stackconfig.KeyStackID) + " " + id + "`",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	for _, r := range exportState(t, second).Resources {
		// The stack and providers (its marker provider, the default AWS
		// one): none of them is an object in AWS or Kubernetes.
		if r.Type != "pulumi:pulumi:Stack" && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			t.Errorf("the refused stack holds %s %s", r.Type, r.URN)
		}
	}
	after := e.twinMarks(t)
	if after.associationID != before.associationID {
		t.Errorf("the association went from %s to %s", before.associationID, after.associationID)
	}
	for what, m := range after.marks {
		if m != marker {
			t.Errorf("after the refused up, %s is marked %q, want %q", what, m, marker)
		}
	}
	expectNoChanges(e.ctx, t, first)
}

// stackIn is e.stack in another backend, removed with its resources at the
// end of the test.
func (e *env) stackIn(t *testing.T, name, backend string) auto.Stack {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, filepath.Join(e.repo, "Pulumi.yaml"), filepath.Join(dir, "Pulumi.yaml"))
	copyFile(t, filepath.Join(e.repo, "Pulumi.dev.yaml"), filepath.Join(dir, "Pulumi."+name+".yaml"))
	s, err := auto.UpsertStackInlineSource(e.ctx, name, stackconfig.Project, program.Run,
		auto.WorkDir(dir), auto.SecretsProvider("passphrase"), auto.EnvVars(map[string]string{"PULUMI_BACKEND_URL": backend}))
	if err != nil {
		t.Fatalf("create stack %s in %s: %v", name, backend, err)
	}
	if err := s.SetConfig(e.ctx, stackconfig.Project+":"+stackconfig.KeyKubeconfig, auto.ConfigValue{Value: e.kubeconfig, Secret: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if resourceCount(t, s) > 0 {
			_, _ = s.Destroy(ctx)
		}
		_ = s.Workspace().RemoveStack(ctx, name)
	})
	return s
}

type twinMarks struct {
	associationID string
	marks         map[string]string
}

// twinMarks reads the dev stack's objects' marks: the AWS tag and the
// Kubernetes annotation.
func (e *env) twinMarks(t *testing.T) twinMarks {
	t.Helper()
	m := twinMarks{marks: map[string]string{}}
	if r := e.role(devRole); r != nil {
		for _, tag := range r.Tags {
			if aws.ToString(tag.Key) == stackconfig.StackTagKey {
				m.marks["role"] = aws.ToString(tag.Value)
			}
		}
	}
	for _, a := range e.associations(devRegion, devCluster) {
		m.associationID = aws.ToString(a.AssociationId)
		out, err := e.eksIn(devRegion).DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String(devCluster), AssociationId: a.AssociationId})
		if err != nil {
			t.Fatal(err)
		}
		m.marks["association"] = out.Association.Tags[stackconfig.StackTagKey]
	}
	addon, err := e.eksIn(devRegion).DescribeAddon(e.ctx, &eks.DescribeAddonInput{
		ClusterName: aws.String(devCluster), AddonName: aws.String("eks-pod-identity-agent")})
	if err != nil {
		t.Fatal(err)
	}
	m.marks["add-on"] = addon.Addon.Tags[stackconfig.StackTagKey]
	for _, kind := range []string{"serviceaccount", "pod"} {
		for _, n := range e.kubeNames(kind+"s", "default", "app.kubernetes.io/part-of=eks-pod-identity,!batch.kubernetes.io/job-name") {
			v, _ := field(e.kubeObject(kind, "default", n), "metadata", "annotations", adoption.StackAnnotationKey).(string)
			m.marks[kind+" "+n] = v
		}
	}
	if len(m.marks) != 5 {
		t.Errorf("found %d marked objects, want the role, association, add-on, ServiceAccount and test pod: %v", len(m.marks), m.marks)
	}
	return m
}
