//go:build engine

package scenarios

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// The walkthrough's own files, byte for byte.
const (
	walkTrustPolicy = `{
"Version": "2012-10-17",
"Statement": [
{
"Effect": "Allow",
"Principal": {
"Service": "pods.eks.amazonaws.com"
},
"Action": [
"sts:AssumeRole",
"sts:TagSession"
]
}
]
}
`
	walkManifest = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: pod-id-sa
  namespace: default
---
apiVersion: v1
kind: Pod
metadata:
  name: aws-cli-pod-identity
  namespace: default
spec:
  serviceAccountName: pod-id-sa
  containers:
  - name: aws-cli
    image: amazon/aws-cli:latest
    command: ["sleep", "3600"]
  restartPolicy: Never
`
	walkCluster    = "my-eks-cluster"
	walkRegion     = "us-east-1"
	walkRole       = "EKSPodIdentityS3Role"
	walkS3ReadOnly = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
)

// walkthrough runs the manual walkthrough's steps 1-4 by hand against the
// stand-ins: its aws CLI commands against moto (step 1's `eksctl create
// addon` is the same EKS CreateAddon call, made here with `aws eks
// create-addon`, since eksctl is not available) and its YAML through
// `kubectl apply`. It returns the role ARN and the association ID.
func (e *env) walkthrough(t *testing.T) (roleArn, associationID string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trust-policy.json"), []byte(walkTrustPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test-pod-identity.yaml"), []byte(walkManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	awsCLI := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", e.moto}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CLUSTER_NAME="+walkCluster, "AWS_REGION="+walkRegion)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// Step 1: the agent add-on.
	awsCLI("eks", "create-addon", "--cluster-name", walkCluster, "--addon-name", "eks-pod-identity-agent", "--region", walkRegion)
	// Step 2: the role with the open trust policy, and the S3 policy.
	roleArn = awsCLI("iam", "create-role", "--role-name", walkRole, "--assume-role-policy-document", "file://trust-policy.json",
		"--query", "Role.Arn", "--output", "text")
	awsCLI("iam", "attach-role-policy", "--role-name", walkRole, "--policy-arn", walkS3ReadOnly)
	// Step 3: the association.
	awsCLI("eks", "create-pod-identity-association", "--cluster-name", walkCluster, "--role-arn", roleArn,
		"--namespace", "default", "--service-account", "pod-id-sa")
	associationID = awsCLI("eks", "list-pod-identity-associations", "--cluster-name", walkCluster, "--namespace", "default",
		"--service-account", "pod-id-sa", "--query", "associations[0].associationId", "--output", "text")
	// Step 4: the ServiceAccount and the pod, then wait for it to run.
	if out, err := e.kubectl("apply", "-f", filepath.Join(dir, "test-pod-identity.yaml")); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	if out, err := e.kubectl("wait", "--for=condition=Ready", "pod/aws-cli-pod-identity", "-n", "default", "--timeout=120s"); err != nil {
		t.Fatalf("the walkthrough's pod does not run: %v\n%s", err, out)
	}
	return roleArn, associationID
}

// teardownWalkthrough is the walkthrough's step 6, ignoring what is gone,
// so a failed scenario leaves the next one a clean cluster and moto.
func (e *env) teardownWalkthrough() {
	_, _ = e.kubectl("delete", "pod", "aws-cli-pod-identity", "-n", "default", "--ignore-not-found", "--wait=false")
	_, _ = e.kubectl("delete", "serviceaccount", "pod-id-sa", "-n", "default", "--ignore-not-found")
	for _, a := range e.associations(walkRegion, walkCluster) {
		_, _ = e.eksIn(walkRegion).DeletePodIdentityAssociation(e.ctx, &eks.DeletePodIdentityAssociationInput{
			ClusterName: aws.String(walkCluster), AssociationId: a.AssociationId})
	}
	if e.role(walkRole) != nil {
		for _, p := range e.attachedPolicies(walkRole) {
			_, _ = e.iamClient().DetachRolePolicy(e.ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(walkRole), PolicyArn: aws.String(p)})
		}
		_, _ = e.iamClient().DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String(walkRole)})
	}
	_, _ = e.eksIn(walkRegion).DeleteAddon(e.ctx, &eks.DeleteAddonInput{ClusterName: aws.String(walkCluster), AddonName: aws.String("eks-pod-identity-agent")})
}

// walkState is what the scenario compares before and after a refused `up`:
// everything the walkthrough made, as moto and the apiserver hold it.
type walkState struct {
	Roles, Attached, Addons []string
	Trust                   any
	Associations            []string // id namespace/sa roleArn
	ServiceAccount, Pod     []string // uid resourceVersion labels
}

func (e *env) walkState(t *testing.T) walkState {
	t.Helper()
	w := walkState{Roles: e.roleNames(), Addons: e.addons(walkRegion, walkCluster)}
	if r := e.role(walkRole); r != nil {
		w.Trust = decodePolicy(t, aws.ToString(r.AssumeRolePolicyDocument))
		w.Attached = e.attachedPolicies(walkRole)
	}
	for _, a := range e.associations(walkRegion, walkCluster) {
		d, err := e.eksIn(walkRegion).DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String(walkCluster), AssociationId: a.AssociationId})
		if err != nil {
			t.Fatal(err)
		}
		w.Associations = append(w.Associations, fmt.Sprintf("%s %s/%s %s", aws.ToString(a.AssociationId),
			aws.ToString(a.Namespace), aws.ToString(a.ServiceAccount), aws.ToString(d.Association.RoleArn)))
	}
	for _, o := range []struct {
		kind, name string
		into       *[]string
	}{{"serviceaccount", "pod-id-sa", &w.ServiceAccount}, {"pod", "aws-cli-pod-identity", &w.Pod}} {
		if obj := e.kubeObject(o.kind, "default", o.name); obj != nil {
			*o.into = []string{fmt.Sprint(field(obj, "metadata", "uid")), fmt.Sprint(field(obj, "metadata", "resourceVersion")),
				fmt.Sprint(field(obj, "metadata", "labels"))}
		}
	}
	return w
}

// stepRecorder collects the engine's step operations per resource name.
type stepRecorder struct {
	mu  sync.Mutex
	ops map[string][]apitype.OpType
}

func (r *stepRecorder) stream(t *testing.T) chan<- events.EngineEvent {
	ch := make(chan events.EngineEvent)
	r.ops = map[string][]apitype.OpType{}
	go func() {
		for ev := range ch {
			if ev.ResourcePreEvent == nil {
				continue
			}
			m := ev.ResourcePreEvent.Metadata
			name := m.URN[strings.LastIndex(m.URN, "::")+2:]
			r.mu.Lock()
			r.ops[name] = append(r.ops[name], m.Op)
			r.mu.Unlock()
		}
	}()
	return ch
}

func (r *stepRecorder) get(name string) []apitype.OpType {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops[name])
}

func (r *stepRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for name, ops := range r.ops {
		lines = append(lines, fmt.Sprintf("%s: %v", name, ops))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestMigrateFromTheWalkthrough runs the manual walkthrough by hand, then
// takes it over with the dev stack: refused without eks-pod-identity:adopt
// (nothing changed), its test pod refused with it (not the stack's: another
// image, unhardened; deleted as the refusal says), the rest taken over with
// it (same association ID, trust policy rescoped in place, nothing else
// re-created), stable afterwards whether the
// switch stays on, is turned off, or on again, and destroyed completely.
func TestMigrateFromTheWalkthrough(t *testing.T) {
	e := newEnv(t)
	clusterArn := e.registerCluster(walkCluster, walkRegion)
	if e.role(walkRole) != nil || len(e.associations(walkRegion, walkCluster)) > 0 || len(e.addons(walkRegion, walkCluster)) > 0 ||
		e.kubeObject("serviceaccount", "default", "pod-id-sa") != nil || e.kubeObject("pod", "default", "aws-cli-pod-identity") != nil {
		t.Fatal("moto or the cluster holds what the walkthrough makes before it ran: an earlier scenario left it behind")
	}
	roleArn, associationID := e.walkthrough(t)
	before := e.walkState(t)
	if len(before.Associations) != 1 || before.Pod == nil || before.ServiceAccount == nil || !slices.Equal(before.Attached, []string{walkS3ReadOnly}) {
		t.Fatalf("the walkthrough did not leave what it makes: %+v", before)
	}
	s := e.stack("migrate", "dev", nil)
	t.Cleanup(func() {
		if resourceCount(t, s) > 1 {
			_, _ = s.Destroy(e.ctx)
		}
		e.teardownWalkthrough()
	})
	setAdopt := func(t *testing.T, on bool) {
		t.Helper()
		if err := s.SetConfig(e.ctx, stackconfig.Project+":"+stackconfig.KeyAdopt, auto.ConfigValue{Value: fmt.Sprint(on)}); err != nil {
			t.Fatal(err)
		}
	}
	name := "organization/" + stackconfig.Project + "/migrate"

	t.Run("up without the switch refuses before anything changes", func(t *testing.T) {
		_, err := s.Up(e.ctx, upOpts(t)...)
		if err == nil {
			t.Fatal("up succeeded over the walkthrough's objects")
		}
		for _, want := range []string{
			"objects this stack would create already exist (nothing was created or changed)",
			"EKS add-on eks-pod-identity-agent on cluster my-eks-cluster",
			"IAM role EKSPodIdentityS3Role",
			"pod identity association " + associationID + " for default/pod-id-sa",
			"ServiceAccount default/pod-id-sa",
			"Pod default/aws-cli-pod-identity",
			"`pulumi config set eks-pod-identity:adopt true`",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not say %q:\n%v", want, err)
			}
		}
		if after := e.walkState(t); !reflect.DeepEqual(after, before) {
			t.Errorf("the refused up changed moto or the cluster:\nbefore %+v\nafter  %+v", before, after)
		}
		// The cluster lookup, an invoke, registers the default AWS provider,
		// and the stack-marker provider holds the stack's ID: the state may
		// hold them and the stack, nothing else.
		for _, typ := range stateTypes(t, s) {
			if typ != "pulumi:pulumi:Stack" && typ != "pulumi:providers:aws" && typ != "pulumi:providers:kubernetes" {
				t.Errorf("the refused stack holds a %s", typ)
			}
		}
	})

	t.Run("with the switch the walkthrough's pod is refused: deleted as the refusal says", func(t *testing.T) {
		setAdopt(t, true)
		_, err := s.Preview(e.ctx, optpreview.ProgressStreams(testWriter{t}))
		for _, want := range []string{
			"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) differs from the stack's test pod in spec.containers[0].image",
			"`kubectl delete pod aws-cli-pod-identity -n default`",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not say %q:\n%v", want, err)
			}
		}
		if after := e.walkState(t); !reflect.DeepEqual(after, before) {
			t.Errorf("the refused preview changed moto or the cluster:\nbefore %+v\nafter  %+v", before, after)
		}
		if out, err := e.kubectl("delete", "pod", "aws-cli-pod-identity", "-n", "default", "--wait=true", "--timeout=60s"); err != nil {
			t.Fatalf("kubectl delete pod: %v\n%s", err, out)
		}
		before = e.walkState(t)
	})

	// A second association made by hand on the walkthrough's role, for a
	// service account the stack does not declare: adopting would narrow the
	// role's trust away from it, and destroy would delete its role.
	t.Run("a role another association uses is refused, naming it", func(t *testing.T) {
		setAdopt(t, true)
		other := e.handAssociation(t, roleArn)
		_, err := s.Preview(e.ctx, optpreview.ProgressStreams(testWriter{t}))
		want := "IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName) is also the role of pod identity association " + other +
			" for reports/reader on cluster my-eks-cluster, which this stack does not declare: taking it over would narrow its trust policy to default/pod-id-sa"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("preview = %v\nwant it to say %q", err, want)
		}
		e.deleteAssociation(t, other)
		if after := e.walkState(t); !reflect.DeepEqual(after, before) {
			t.Errorf("the refused preview changed moto or the cluster:\nbefore %+v\nafter  %+v", before, after)
		}
	})

	t.Run("preview with the switch: imports and in-place updates, no replacement", func(t *testing.T) {
		setAdopt(t, true)
		var rec stepRecorder
		if _, err := s.Preview(e.ctx, optpreview.EventStreams(rec.stream(t)), optpreview.ProgressStreams(testWriter{t})); err != nil {
			t.Fatalf("preview: %v", err)
		}
		t.Logf("preview steps:\n%s", rec.String())
		for name, ops := range rec.ops {
			for _, op := range ops {
				switch op {
				case apitype.OpReplace, apitype.OpCreateReplacement, apitype.OpDeleteReplaced, apitype.OpDelete, apitype.OpImportReplacement:
					t.Errorf("%s: preview plans %s", name, op)
				}
			}
		}
		for name, want := range map[string][]apitype.OpType{
			// The open trust policy becomes the scoped one: import, then update in place.
			"pod-identity-pod-id-sa-role":        {apitype.OpImport, apitype.OpUpdate},
			"pod-identity-agent":                 {apitype.OpImport, apitype.OpUpdate},
			"pod-identity-pod-id-sa-association": {apitype.OpImport, apitype.OpUpdate},
			"pod-identity-pod-id-sa-sa":          {apitype.OpImport, apitype.OpUpdate},
		} {
			if got := rec.get(name); !slices.Equal(got, want) {
				t.Errorf("%s: preview steps %v, want %v", name, got, want)
			}
		}
		if after := e.walkState(t); !reflect.DeepEqual(after, before) {
			t.Errorf("the preview changed moto or the cluster:\nbefore %+v\nafter  %+v", before, after)
		}
	})

	t.Run("up with the switch takes everything over", func(t *testing.T) {
		res, err := s.Up(e.ctx, upOpts(t)...)
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		after := e.walkState(t)
		if !slices.Equal(after.Roles, before.Roles) {
			t.Errorf("roles %v, want the walkthrough's %v only", after.Roles, before.Roles)
		}
		if n := strings.Count(strings.Join(after.Roles, " "), walkRole); n != 1 {
			t.Errorf("%d roles named %s", n, walkRole)
		}
		if !slices.Equal(after.Addons, []string{"eks-pod-identity-agent"}) {
			t.Errorf("add-ons = %v, want the one the walkthrough made", after.Addons)
		}
		if want := []string{associationID + " default/pod-id-sa " + roleArn}; !slices.Equal(after.Associations, want) {
			t.Errorf("associations = %v, want the walkthrough's, same ID: %v", after.Associations, want)
		}
		if !slices.Equal(after.Attached, []string{walkS3ReadOnly}) {
			t.Errorf("attached = %v", after.Attached)
		}
		wantTrust := decodePolicy(t, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
			"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":[%q],
			"aws:RequestTag/kubernetes-namespace":["default"],"aws:RequestTag/kubernetes-service-account":["pod-id-sa"]}}}]}`, clusterArn))
		if !reflect.DeepEqual(after.Trust, wantTrust) {
			t.Errorf("trust policy = %v\nwant the scoped one %v", after.Trust, wantTrust)
		}
		// Nothing re-created: the same ServiceAccount, now labelled; the
		// test pod (the walkthrough's was deleted) is the stack's own.
		if after.ServiceAccount == nil || after.ServiceAccount[0] != before.ServiceAccount[0] {
			t.Errorf("ServiceAccount %v, want the walkthrough's (uid %s)", after.ServiceAccount, before.ServiceAccount[0])
		}
		pod := e.kubeObject("pod", "default", "aws-cli-pod-identity")
		containers, _ := field(pod, "spec", "containers").([]any)
		if pod == nil || field(pod, "spec", "automountServiceAccountToken") != false || len(containers) != 1 ||
			containers[0].(map[string]any)["image"] != podidentity.DefaultImage {
			t.Errorf("test pod %v, want the stack's (no API token, image %s)", field(pod, "spec"), podidentity.DefaultImage)
		}
		for _, o := range []map[string]any{e.kubeObject("serviceaccount", "default", "pod-id-sa"), e.kubeObject("pod", "default", "aws-cli-pod-identity")} {
			if got := field(o, "metadata", "labels", "app.kubernetes.io/part-of"); got != "eks-pod-identity" {
				t.Errorf("%v/%v is not labelled by the stack: %v", field(o, "kind"), field(o, "metadata", "name"), field(o, "metadata", "labels"))
			}
		}
		// The stack's tag on what it now manages.
		roleTags, err := e.iamClient().ListRoleTags(e.ctx, &iam.ListRoleTagsInput{RoleName: aws.String(walkRole)})
		if err != nil {
			t.Fatal(err)
		}
		tagged := map[string]string{}
		for _, tg := range roleTags.Tags {
			tagged["role"] += aws.ToString(tg.Key) + "=" + aws.ToString(tg.Value)
		}
		assoc, err := e.eksIn(walkRegion).DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String(walkCluster), AssociationId: aws.String(associationID)})
		if err != nil {
			t.Fatal(err)
		}
		addon, err := e.eksIn(walkRegion).DescribeAddon(e.ctx, &eks.DescribeAddonInput{
			ClusterName: aws.String(walkCluster), AddonName: aws.String("eks-pod-identity-agent")})
		if err != nil {
			t.Fatal(err)
		}
		tagged["association"] = stackconfig.StackTagKey + "=" + assoc.Association.Tags[stackconfig.StackTagKey]
		tagged["add-on"] = stackconfig.StackTagKey + "=" + addon.Addon.Tags[stackconfig.StackTagKey]
		// The adopted add-on is kept on destroy: the tag says it was
		// adopted, for later runs, and the state carries preserve.
		if got := addon.Addon.Tags[stackconfig.AdoptedTagKey]; got != "true" {
			t.Errorf("add-on tag %s = %q, want true", stackconfig.AdoptedTagKey, got)
		}
		if in := stateInputs(t, s, "pod-identity-agent"); in["preserve"] != true {
			t.Errorf("add-on preserve in state = %v, want true", in["preserve"])
		}
		id, _ := res.Outputs[stackconfig.StackIDOutput].Value.(string)
		marker := stackconfig.Marker(name, id)
		for what, got := range tagged {
			if id == "" || got != stackconfig.StackTagKey+"="+marker {
				t.Errorf("%s tags %q, want %s=%s", what, got, stackconfig.StackTagKey, marker)
			}
		}
		w, _ := res.Outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
		if w["associationId"] != associationID || w["roleArn"] != roleArn {
			t.Errorf("outputs %v do not name the walkthrough's association %s and role %s", w, associationID, roleArn)
		}
		if job := e.kubeObject("job", "default", fmt.Sprint(w["verifyJob"])); job == nil || field(job, "status", "succeeded") != float64(1) {
			t.Errorf("verification job %v did not succeed", w["verifyJob"])
		}
		if ids := stateImportIDs(t, s); ids["pod-identity-pod-id-sa-association"] != walkCluster+","+associationID {
			t.Errorf("state import IDs = %v, want the association's", ids)
		}
	})

	noChanges := func(t *testing.T) {
		t.Helper()
		expectNoChanges(e.ctx, t, s)
	}
	t.Run("second preview with the switch on: no changes", noChanges)

	t.Run("switch off: no changes, nothing imported again", func(t *testing.T) {
		setAdopt(t, false)
		noChanges(t)
		if _, err := s.Up(e.ctx, optup.ExpectNoChanges(), optup.ProgressStreams(testWriter{t})); err != nil {
			t.Fatalf("up with the switch off: %v", err)
		}
		// The import IDs are gone from the state: an association's would
		// now differ from its recorded ID, the import-replacement hazard.
		if ids := stateImportIDs(t, s); len(ids) != 0 {
			t.Errorf("import IDs left in the state: %v", ids)
		}
	})

	t.Run("switch on again: still no changes, no import-replacement", func(t *testing.T) {
		setAdopt(t, true)
		noChanges(t)
		if got := e.associations(walkRegion, walkCluster); len(got) != 1 || aws.ToString(got[0].AssociationId) != associationID {
			t.Errorf("associations = %+v, want %s", got, associationID)
		}
	})

	t.Run("an association made since on the stack's role stops preview, naming it", func(t *testing.T) {
		other := e.handAssociation(t, roleArn)
		_, err := s.Preview(e.ctx, optpreview.ProgressStreams(testWriter{t}))
		want := "is also the role of pod identity association " + other + " for reports/reader on cluster my-eks-cluster, which this stack does not declare: " +
			"the stack manages the role, and its trust policy admits only default/pod-id-sa, so those pods get no credentials; and `pulumi destroy` would delete the role they name"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("preview = %v\nwant it to say %q", err, want)
		}
		e.deleteAssociation(t, other)
		noChanges(t)
		// The adopted add-on's preserve holds with the switch on or off.
		if in := stateInputs(t, s, "pod-identity-agent"); in["preserve"] != true {
			t.Errorf("add-on preserve in state = %v, want true", in["preserve"])
		}
	})

	t.Run("destroy leaves nothing", func(t *testing.T) {
		if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t})); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		if e.role(walkRole) != nil {
			t.Error("role still in moto")
		}
		if a := e.associations(walkRegion, walkCluster); len(a) != 0 {
			t.Errorf("associations left: %+v", a)
		}
		if a := e.addons(walkRegion, walkCluster); len(a) != 0 {
			t.Errorf("add-ons left: %v", a)
		}
		if e.kubeObject("serviceaccount", "default", "pod-id-sa") != nil {
			t.Error("ServiceAccount pod-id-sa left")
		}
		if p := e.kubeObject("pod", "default", "aws-cli-pod-identity"); p != nil && field(p, "metadata", "deletionTimestamp") == nil {
			t.Error("pod aws-cli-pod-identity left")
		}
		if names := e.kubeNames("jobs", "default", "app.kubernetes.io/part-of=eks-pod-identity"); len(names) != 0 {
			t.Errorf("jobs left: %v", names)
		}
		if n := resourceCount(t, s); n != 0 {
			t.Errorf("the stack still holds %d resources", n)
		}
	})
}

// stateImportIDs maps the name of each resource in the stack's state that
// carries an import ID to that ID.
func stateImportIDs(t *testing.T, s auto.Stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range exportState(t, s).Resources {
		if r.ImportID != "" {
			out[r.URN[strings.LastIndex(r.URN, "::")+2:]] = r.ImportID
		}
	}
	return out
}

// stateTypes lists the type of every resource in the stack's state.
func stateTypes(t *testing.T, s auto.Stack) []string {
	t.Helper()
	var out []string
	for _, r := range exportState(t, s).Resources {
		out = append(out, r.Type)
	}
	return out
}

// handAssociation makes, as a user would by hand, an association for
// reports/reader naming roleArn, and returns its ID.
func (e *env) handAssociation(t *testing.T, roleArn string) string {
	t.Helper()
	out, err := e.eksIn(walkRegion).CreatePodIdentityAssociation(e.ctx, &eks.CreatePodIdentityAssociationInput{
		ClusterName: aws.String(walkCluster), Namespace: aws.String("reports"), ServiceAccount: aws.String("reader"), RoleArn: aws.String(roleArn)})
	if err != nil {
		t.Fatalf("create the hand-made association: %v", err)
	}
	id := aws.ToString(out.Association.AssociationId)
	t.Cleanup(func() { e.deleteAssociation(t, id) })
	return id
}

// deleteAssociation deletes an association, ignoring one already gone.
func (e *env) deleteAssociation(t *testing.T, id string) {
	t.Helper()
	_, err := e.eksIn(walkRegion).DeletePodIdentityAssociation(e.ctx, &eks.DeletePodIdentityAssociationInput{
		ClusterName: aws.String(walkCluster), AssociationId: aws.String(id)})
	if err != nil && !isEKSNotFound(err) {
		t.Errorf("delete association %s: %v", id, err)
	}
}

// stateInputs are the inputs the stack's state records for the resource
// named name.
func stateInputs(t *testing.T, s auto.Stack, name string) map[string]any {
	t.Helper()
	for _, r := range exportState(t, s).Resources {
		if strings.HasSuffix(r.URN, "::"+name) {
			return r.Inputs
		}
	}
	t.Fatalf("no %s in the state", name)
	return nil
}
