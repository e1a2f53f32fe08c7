//go:build engine

// Package scenarios drives the real Pulumi CLI and engine over the program
// main.go runs (program.Run, as an Automation API inline program) against
// local stand-ins: a loopback Kubernetes cluster (kube-apiserver, scheduler,
// controller-manager, kwok node) and moto behind the pulumi-resource-aws
// stand-in. Start it with tests/engine/run.sh, which builds and starts all
// of that and exports the ENGINE_* variables read here.
//
// What this proves that mocks cannot: the real Pulumi.yaml and stack files
// pass the CLI's checks, the engine orders creates, replacements and deletes
// as the program asks, a second up changes nothing, and destroy leaves
// nothing behind; and, through the node stand-in run.sh starts, that the
// verification Job's script really runs with the real AWS CLI and passes or
// fails `up` (verify_test.go). What it does not: AWS's own behaviour (moto
// and the agent stand-in stand in) and real containers and images.
package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// mustEnv reads a variable run.sh exports.
func mustEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run this tier with tests/engine/run.sh", name)
	}
	return v
}

type env struct {
	t          *testing.T
	ctx        context.Context
	repo       string
	kubeconfig string
	moto       string
	iam        *iam.Client
	eks        map[string]*eks.Client
}

func newEnv(t *testing.T) *env {
	e := &env{
		t:          t,
		ctx:        context.Background(),
		repo:       mustEnv(t, "ENGINE_REPO_ROOT"),
		kubeconfig: mustEnv(t, "ENGINE_KUBECONFIG"),
		moto:       mustEnv(t, "ENGINE_MOTO_ENDPOINT"),
		eks:        map[string]*eks.Client{},
	}
	return e
}

func (e *env) awsConfig(region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", "testing"),
		BaseEndpoint: aws.String(e.moto),
	}
}

func (e *env) eksIn(region string) *eks.Client {
	if c, ok := e.eks[region]; ok {
		return c
	}
	c := eks.NewFromConfig(e.awsConfig(region))
	e.eks[region] = c
	return c
}

// iamClient talks to IAM, which is global: its region is only for signing.
func (e *env) iamClient() *iam.Client {
	if e.iam == nil {
		e.iam = iam.NewFromConfig(e.awsConfig("us-east-1"))
	}
	return e.iam
}

// registerCluster makes moto's EKS cluster record point at the local
// apiserver, so the program's cluster lookup runs unchanged.
func (e *env) registerCluster(name, region string) string {
	e.t.Helper()
	script := filepath.Join(e.repo, "tests", "engine", "moto", "moto_eks_ext.py")
	out, err := exec.Command("python3", script, "register-cluster",
		"--url", e.moto, "--name", name, "--region", region,
		"--endpoint", mustEnv(e.t, "ENGINE_K8S_ENDPOINT"),
		"--ca-data", mustEnv(e.t, "ENGINE_K8S_CA_B64"),
		"--version", "1.33").CombinedOutput()
	if err != nil {
		e.t.Fatalf("register cluster %s in moto: %v\n%s", name, err, out)
	}
	c, err := e.eksIn(region).DescribeCluster(e.ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		e.t.Fatalf("describe registered cluster: %v", err)
	}
	return aws.ToString(c.Cluster.Arn)
}

// stack creates a stack from a copy of the real Pulumi.yaml and stack file
// (edited by mutate), so the test's changes never touch the repository.
func (e *env) stack(name, from string, mutate func(cfg config.Map)) auto.Stack {
	e.t.Helper()
	dir := e.t.TempDir()
	copyFile(e.t, filepath.Join(e.repo, "Pulumi.yaml"), filepath.Join(dir, "Pulumi.yaml"))
	copyFile(e.t, filepath.Join(e.repo, "Pulumi."+from+".yaml"), filepath.Join(dir, "Pulumi."+name+".yaml"))
	if mutate != nil {
		e.editStack(dir, name, mutate)
	}
	s, err := auto.UpsertStackInlineSource(e.ctx, name, stackconfig.Project, program.Run,
		auto.WorkDir(dir), auto.SecretsProvider("passphrase"))
	if err != nil {
		e.t.Fatalf("create stack %s: %v", name, err)
	}
	// Set the way the README says, encrypted: it may carry a token.
	if err := s.SetConfig(e.ctx, stackconfig.Project+":"+stackconfig.KeyKubeconfig, auto.ConfigValue{Value: e.kubeconfig, Secret: true}); err != nil {
		e.t.Fatalf("set the kubeconfig of stack %s: %v", name, err)
	}
	return s
}

func (e *env) editStack(dir, name string, mutate func(cfg config.Map)) {
	e.t.Helper()
	proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(dir, "Pulumi."+name+".yaml")
	ps, err := workspace.LoadProjectStack(nil, proj, path)
	if err != nil {
		e.t.Fatal(err)
	}
	mutate(ps.Config)
	if err := ps.Save(path); err != nil {
		e.t.Fatal(err)
	}
}

// workloads reads and rewrites the structured workloads value.
func workloads(t *testing.T, cfg config.Map, edit func([]map[string]any)) {
	t.Helper()
	k := config.MustMakeKey(stackconfig.Project, stackconfig.KeyWorkloads)
	v, ok := cfg[k]
	if !ok {
		t.Fatal("no workloads in the stack file")
	}
	raw, err := v.Value(config.NopDecrypter)
	if err != nil {
		t.Fatal(err)
	}
	var ws []map[string]any
	if err := json.Unmarshal([]byte(raw), &ws); err != nil {
		t.Fatal(err)
	}
	edit(ws)
	b, err := json.Marshal(ws)
	if err != nil {
		t.Fatal(err)
	}
	cfg[k] = config.NewObjectValue(string(b))
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// restrictNamespace makes a namespace enforce Pod Security Admission's
// restricted profile until the test ends. The PodSecurity admission plugin
// is on by default (Kubernetes 1.25 and later; cluster/up.sh enables and
// disables no plugin), and a pod that breaks the profile is refused there
// (a server-side dry run: nothing is created), so the label is enforced.
func (e *env) restrictNamespace(t *testing.T, namespace string) {
	t.Helper()
	const label = "pod-security.kubernetes.io/enforce"
	if out, err := e.kubectl("label", "--overwrite", "namespace", namespace, label+"=restricted"); err != nil {
		t.Fatalf("kubectl label namespace %s: %v\n%s", namespace, err, out)
	}
	t.Cleanup(func() { _, _ = e.kubectl("label", "namespace", namespace, label+"-") })
	out, err := e.kubectl("run", "psa-probe", "-n", namespace, "--image=amazon/aws-cli:latest", "--restart=Never",
		"--dry-run=server", "--command", "--", "sleep", "1")
	if err == nil || !strings.Contains(out, `violates PodSecurity "restricted:`) {
		t.Fatalf("namespace %s does not enforce the restricted profile: an unhardened pod got %v\n%s", namespace, err, out)
	}
}

// kubectl runs kubectl against the local cluster.
func (e *env) kubectl(args ...string) (string, error) {
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", e.kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

// kubeObject returns an object as JSON, or nil when it does not exist.
func (e *env) kubeObject(kind, namespace, name string) map[string]any {
	e.t.Helper()
	out, err := e.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found")
	if err != nil {
		e.t.Fatalf("kubectl get %s %s/%s: %v\n%s", kind, namespace, name, err, out)
	}
	if strings.TrimSpace(out) == "" {
		return nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		e.t.Fatalf("kubectl output: %v\n%s", err, out)
	}
	return obj
}

func (e *env) kubeNames(kind, namespace, selector string) []string {
	e.t.Helper()
	out, err := e.kubectl("get", kind, "-n", namespace, "-l", selector, "-o", "jsonpath={.items[*].metadata.name}")
	if err != nil {
		e.t.Fatalf("kubectl get %s: %v\n%s", kind, err, out)
	}
	return strings.Fields(out)
}

func field(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (e *env) associations(region, cluster string) []ekstypes.PodIdentityAssociationSummary {
	e.t.Helper()
	out, err := e.eksIn(region).ListPodIdentityAssociations(e.ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cluster)})
	if err != nil {
		e.t.Fatalf("list associations: %v", err)
	}
	return out.Associations
}

func (e *env) role(name string) *iamtypes.Role {
	e.t.Helper()
	out, err := e.iamClient().GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("get role %s: %v", name, err)
	}
	return out.Role
}

func (e *env) roleNames() []string {
	e.t.Helper()
	out, err := e.iamClient().ListRoles(e.ctx, &iam.ListRolesInput{})
	if err != nil {
		e.t.Fatalf("list roles: %v", err)
	}
	var names []string
	for _, r := range out.Roles {
		names = append(names, aws.ToString(r.RoleName))
	}
	return names
}

func (e *env) attachedPolicies(role string) []string {
	e.t.Helper()
	out, err := e.iamClient().ListAttachedRolePolicies(e.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		e.t.Fatalf("list attached policies of %s: %v", role, err)
	}
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	return arns
}

func (e *env) addons(region, cluster string) []string {
	e.t.Helper()
	out, err := e.eksIn(region).ListAddons(e.ctx, &eks.ListAddonsInput{ClusterName: aws.String(cluster)})
	if err != nil {
		e.t.Fatalf("list add-ons: %v", err)
	}
	return out.Addons
}

func resourceCount(t *testing.T, s auto.Stack) int {
	t.Helper()
	return len(exportState(t, s).Resources)
}

// stateResource is one resource (or pending operation) of an exported stack.
type stateResource struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	ID   string `json:"id"`
	// ImportID is the ID a resource was imported with (adoption).
	ImportID string `json:"importID"`
	// Provider is the provider reference (URN::ID) the resource used.
	Provider string         `json:"provider"`
	Inputs   map[string]any `json:"inputs"`
	Outputs  map[string]any `json:"outputs"`
}

// pendingOp is an operation a killed run left unfinished, e.g. "creating".
type pendingOp struct {
	Resource stateResource `json:"resource"`
	Type     string        `json:"type"`
}

// deployment is an exported stack's state.
type deployment struct {
	Resources []stateResource `json:"resources"`
	Pending   []pendingOp     `json:"pending_operations"`
}

// exportState exports the stack's state (`pulumi stack export`).
func exportState(t *testing.T, s auto.Stack) deployment {
	t.Helper()
	dep, err := s.Export(context.Background())
	if err != nil {
		t.Fatalf("export stack: %v", err)
	}
	var d deployment
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		t.Fatalf("decode deployment: %v", err)
	}
	return d
}

func decodePolicy(t *testing.T, doc string) any {
	t.Helper()
	if strings.HasPrefix(doc, "%7B") {
		var err error
		if doc, err = url.QueryUnescape(doc); err != nil {
			t.Fatal(err)
		}
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	return v
}

func upOpts(t *testing.T) []optup.Option {
	return []optup.Option{optup.ProgressStreams(testWriter{t}), optup.ErrorProgressStreams(testWriter{t})}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestDevStackLifecycle walks the dev stack through the life a platform
// engineer gives it: refuse bad input, up, re-up, change, destroy.
func TestDevStackLifecycle(t *testing.T) {
	e := newEnv(t)
	clusterArn := e.registerCluster("my-eks-cluster", "us-east-1")
	const role = "EKSPodIdentityS3Role"

	t.Run("d invalid config creates nothing", func(t *testing.T) {
		rolesBefore := e.roleNames()
		s := e.stack("invalid", "dev", func(cfg config.Map) {
			workloads(t, cfg, func(ws []map[string]any) { ws[0]["serviceAccount"] = "Pod_SA" })
		})
		_, err := s.Up(e.ctx, upOpts(t)...)
		want := `eks-pod-identity:workloads[0].serviceAccount: "Pod_SA" must be a DNS-1123 subdomain`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("up error = %v, want it to say %q", err, want)
		}
		if got := e.roleNames(); !slices.Equal(got, rolesBefore) {
			t.Errorf("roles changed from %v to %v", rolesBefore, got)
		}
		if a := e.associations("us-east-1", "my-eks-cluster"); len(a) != 0 {
			t.Errorf("associations created: %v", a)
		}
		if a := e.addons("us-east-1", "my-eks-cluster"); len(a) != 0 {
			t.Errorf("add-ons created: %v", a)
		}
		if names := e.kubeNames("serviceaccounts", "default", "app.kubernetes.io/part-of=eks-pod-identity"); len(names) != 0 {
			t.Errorf("service accounts created: %v", names)
		}
		if n := resourceCount(t, s); n > 1 {
			t.Errorf("the refused stack holds %d resources, want none but the stack itself", n)
		}
		if err := s.Workspace().RemoveStack(e.ctx, "invalid"); err != nil {
			t.Errorf("remove stack: %v", err)
		}
	})

	s := e.stack("dev", "dev", nil)
	t.Cleanup(func() {
		// A failed scenario must not leave the next run a mess.
		if resourceCount(t, s) > 1 {
			_, _ = s.Destroy(e.ctx)
		}
	})

	t.Run("a up creates the walkthrough", func(t *testing.T) {
		// The test pod and the Job's pods are admitted into a namespace
		// enforcing the restricted Pod Security profile, so only if they
		// meet it; the Job's success below is the proof.
		e.restrictNamespace(t, "default")
		res, err := s.Up(e.ctx, upOpts(t)...)
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		r := e.role(role)
		if r == nil {
			t.Fatalf("role %s not in moto", role)
		}
		wantTrust := decodePolicy(t, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
			"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":[%q],
			"aws:RequestTag/kubernetes-namespace":["default"],"aws:RequestTag/kubernetes-service-account":["pod-id-sa"]}}}]}`, clusterArn))
		if got := decodePolicy(t, aws.ToString(r.AssumeRolePolicyDocument)); !reflect.DeepEqual(got, wantTrust) {
			t.Errorf("trust policy in moto = %v\nwant %v", got, wantTrust)
		}
		if got := e.attachedPolicies(role); !slices.Equal(got, []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}) {
			t.Errorf("attached policies = %v", got)
		}
		if got := e.addons("us-east-1", "my-eks-cluster"); !slices.Equal(got, []string{"eks-pod-identity-agent"}) {
			t.Errorf("add-ons = %v, want the agent", got)
		}
		assocs := e.associations("us-east-1", "my-eks-cluster")
		if len(assocs) != 1 || aws.ToString(assocs[0].Namespace) != "default" || aws.ToString(assocs[0].ServiceAccount) != "pod-id-sa" {
			t.Fatalf("associations = %+v, want one for default/pod-id-sa", assocs)
		}
		desc, err := e.eksIn("us-east-1").DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String("my-eks-cluster"), AssociationId: assocs[0].AssociationId})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(desc.Association.RoleArn); got != aws.ToString(r.Arn) {
			t.Errorf("association role = %s, want %s", got, aws.ToString(r.Arn))
		}

		sa := e.kubeObject("serviceaccount", "default", "pod-id-sa")
		if sa == nil {
			t.Fatal("service account pod-id-sa missing")
		}
		if ann, _ := field(sa, "metadata", "annotations").(map[string]any); ann != nil {
			if _, irsa := ann["eks.amazonaws.com/role-arn"]; irsa {
				t.Error("service account carries the IRSA annotation")
			}
		}
		pod := e.kubeObject("pod", "default", "aws-cli-pod-identity")
		if pod == nil {
			t.Fatal("test pod missing")
		}
		if got := field(pod, "status", "phase"); got != "Running" {
			t.Errorf("test pod phase = %v, want Running", got)
		}
		if got := field(pod, "spec", "serviceAccountName"); got != "pod-id-sa" {
			t.Errorf("test pod serviceAccountName = %v", got)
		}

		outs := res.Outputs
		w, _ := outs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
		if w["roleArn"] != aws.ToString(r.Arn) || w["associationId"] != aws.ToString(assocs[0].AssociationId) {
			t.Errorf("outputs %v do not match moto (role %s, association %s)", w, aws.ToString(r.Arn), aws.ToString(assocs[0].AssociationId))
		}
		jobName, _ := w["verifyJob"].(string)
		job := e.kubeObject("job", "default", jobName)
		if job == nil {
			t.Fatalf("verification job %q missing", jobName)
		}
		// The Job really ran (verify_test.go): scenario 1, its log and
		// identity; scenario 4, the walkthrough's step 5 in the test pod.
		e.verificationPassed(t, w, aws.ToString(r.Arn), clusterArn, "us-east-1")
		e.stepFive(t, w, aws.ToString(r.Arn))
		// The role ARN the script checks against is the one moto holds,
		// resolved from the role resource's output.
		containers, _ := field(job, "spec", "template", "spec", "containers").([]any)
		var expected any
		if len(containers) == 1 {
			for _, e := range containers[0].(map[string]any)["env"].([]any) {
				if e.(map[string]any)["name"] == "EXPECTED_ROLE_ARN" {
					expected = e.(map[string]any)["value"]
				}
			}
		}
		if expected != aws.ToString(r.Arn) {
			t.Errorf("job EXPECTED_ROLE_ARN = %v, want moto's %s", expected, aws.ToString(r.Arn))
		}
		if outs["agentAddonName"].Value != "eks-pod-identity-agent" {
			t.Errorf("agentAddonName = %v", outs["agentAddonName"].Value)
		}
	})

	t.Run("b second up changes nothing", func(t *testing.T) {
		expectNoChanges(e.ctx, t, s)
	})

	t.Run("c namespace change replaces the association without conflict", func(t *testing.T) {
		old := e.associations("us-east-1", "my-eks-cluster")
		e.editStack(s.Workspace().WorkDir(), "dev", func(cfg config.Map) {
			workloads(t, cfg, func(ws []map[string]any) {
				ws[0]["namespace"] = "apps"
				ws[0]["createNamespace"] = true
			})
		})
		if _, err := s.Up(e.ctx, upOpts(t)...); err != nil {
			t.Fatalf("up after the namespace change: %v", err)
		}
		assocs := e.associations("us-east-1", "my-eks-cluster")
		if len(assocs) != 1 || aws.ToString(assocs[0].Namespace) != "apps" || aws.ToString(assocs[0].ServiceAccount) != "pod-id-sa" {
			t.Fatalf("associations = %+v, want only apps/pod-id-sa", assocs)
		}
		if aws.ToString(assocs[0].AssociationId) == aws.ToString(old[0].AssociationId) {
			t.Error("the association was not replaced")
		}
		if e.kubeObject("pod", "default", "aws-cli-pod-identity") != nil || e.kubeObject("serviceaccount", "default", "pod-id-sa") != nil {
			t.Error("the pod or service account is still in the old namespace")
		}
		pod := e.kubeObject("pod", "apps", "aws-cli-pod-identity")
		if pod == nil || field(pod, "status", "phase") != "Running" {
			t.Errorf("test pod in apps: %v", field(pod, "status", "phase"))
		}
		r := e.role(role)
		if got := decodePolicy(t, aws.ToString(r.AssumeRolePolicyDocument)); !strings.Contains(fmt.Sprint(got), "apps") {
			t.Errorf("the trust policy was not rescoped to namespace apps: %v", got)
		}
	})

	t.Run("e destroy leaves nothing behind", func(t *testing.T) {
		if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t})); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		if e.role(role) != nil {
			t.Error("role still in moto")
		}
		if a := e.associations("us-east-1", "my-eks-cluster"); len(a) != 0 {
			t.Errorf("associations left: %+v", a)
		}
		if a := e.addons("us-east-1", "my-eks-cluster"); len(a) != 0 {
			t.Errorf("add-ons left: %v", a)
		}
		for _, ns := range []string{"default", "apps"} {
			for _, kind := range []string{"serviceaccounts", "pods", "jobs"} {
				if names := e.kubeNames(kind, ns, "app.kubernetes.io/part-of=eks-pod-identity"); len(names) != 0 {
					t.Errorf("%s left in %s: %v", kind, ns, names)
				}
			}
		}
		if ns := e.kubeObject("namespace", "", "apps"); ns != nil && field(ns, "status", "phase") != "Terminating" {
			t.Error("namespace apps, which the stack created, is still there")
		}
		if n := resourceCount(t, s); n != 0 {
			t.Errorf("the stack still holds %d resources", n)
		}
	})
}

// TestProdStackLifecycle runs the production example: several workloads,
// the agent managed elsewhere, an inline policy and a permissions boundary.
func TestProdStackLifecycle(t *testing.T) {
	e := newEnv(t)
	account := strings.Split(e.registerCluster("prod-eks", "eu-west-1"), ":")[4]
	boundary, err := e.iamClient().CreatePolicy(e.ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("eks-workload-boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatalf("create the boundary policy the prod stack names: %v", err)
	}
	// The bucket the invoices workload's verification lists.
	e.createBucket("prod-invoices", "eu-west-1")
	s := e.stack("prod", "prod", func(cfg config.Map) {
		// The example's account is made up; moto's is fixed.
		workloads(t, cfg, func(ws []map[string]any) {
			for _, w := range ws {
				w["permissionsBoundary"] = aws.ToString(boundary.Policy.Arn)
			}
		})
	})
	t.Cleanup(func() {
		if resourceCount(t, s) > 1 {
			_, _ = s.Destroy(e.ctx)
		}
	})

	res, err := s.Up(e.ctx, upOpts(t)...)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	ws := res.Outputs["workloads"].Value.(map[string]any)
	for _, name := range []string{"invoices", "reports"} {
		w, ok := ws[name].(map[string]any)
		if !ok {
			t.Fatalf("no outputs for workload %s: %v", name, ws)
		}
		r := e.role(w["roleName"].(string))
		if r == nil {
			t.Fatalf("role of %s missing", name)
		}
		if got := aws.ToString(r.Path); got != "/eks/" {
			t.Errorf("%s role path = %q, want /eks/", name, got)
		}
		if r.PermissionsBoundary == nil || aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn) != aws.ToString(boundary.Policy.Arn) {
			t.Errorf("%s role boundary = %+v", name, r.PermissionsBoundary)
		}
		if !strings.HasPrefix(aws.ToString(r.Arn), "arn:aws:iam::"+account+":role/eks/") {
			t.Errorf("%s role ARN = %s", name, aws.ToString(r.Arn))
		}
	}
	// Its verification ran `aws s3 ls s3://prod-invoices` as the role, which
	// only the inline policy allows.
	invoices := ws["invoices"].(map[string]any)
	e.verificationPassed(t, invoices, invoices["roleArn"].(string), "arn:aws:eks:eu-west-1:"+account+":cluster/prod-eks", "eu-west-1")
	inline, err := e.iamClient().GetRolePolicy(e.ctx, &iam.GetRolePolicyInput{
		RoleName: aws.String("prod-payments-invoice-writer"), PolicyName: aws.String("invoices-bucket")})
	if err != nil {
		t.Fatalf("inline policy: %v", err)
	}
	if doc := fmt.Sprint(decodePolicy(t, aws.ToString(inline.PolicyDocument))); !strings.Contains(doc, "arn:aws:s3:::prod-invoices/*") {
		t.Errorf("inline policy = %s", doc)
	}
	if got := e.attachedPolicies("prod-payments-invoice-writer"); len(got) != 0 {
		t.Errorf("invoices has policyArns: [] but attached %v", got)
	}
	if a := e.addons("eu-west-1", "prod-eks"); len(a) != 0 {
		t.Errorf("manageAgent is false but add-ons exist: %v", a)
	}
	assocs := e.associations("eu-west-1", "prod-eks")
	var pairs []string
	for _, a := range assocs {
		pairs = append(pairs, aws.ToString(a.Namespace)+"/"+aws.ToString(a.ServiceAccount))
	}
	slices.Sort(pairs)
	if !slices.Equal(pairs, []string{"payments/invoice-writer", "payments/report-reader"}) {
		t.Errorf("associations = %v", pairs)
	}
	if e.kubeObject("serviceaccount", "payments", "invoice-writer") == nil {
		t.Error("invoice-writer service account missing")
	}
	if e.kubeObject("serviceaccount", "payments", "report-reader") != nil {
		t.Error("report-reader is external, yet the stack created it")
	}

	if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t})); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, name := range []string{"invoices", "reports"} {
		if e.role(ws[name].(map[string]any)["roleName"].(string)) != nil {
			t.Errorf("role of %s left behind", name)
		}
	}
	if a := e.associations("eu-west-1", "prod-eks"); len(a) != 0 {
		t.Errorf("associations left: %+v", a)
	}
	for _, kind := range []string{"serviceaccounts", "pods", "jobs"} {
		if names := e.kubeNames(kind, "payments", "app.kubernetes.io/part-of=eks-pod-identity"); len(names) != 0 {
			t.Errorf("%s left in payments: %v", kind, names)
		}
	}
	if ns := e.kubeObject("namespace", "", "payments"); ns != nil && field(ns, "status", "phase") != "Terminating" {
		t.Error("namespace payments, which the stack created, is still there")
	}
	if n := resourceCount(t, s); n != 0 {
		t.Errorf("the stack still holds %d resources", n)
	}
}

// expectNoChanges runs `preview --expect-no-changes --diff` and fails the
// test on any planned change, printing the diff the CLI shows.
func expectNoChanges(ctx context.Context, t *testing.T, s auto.Stack) {
	t.Helper()
	res, err := s.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.Diff())
	if err != nil {
		t.Fatalf("preview --expect-no-changes: %v", err)
	}
	for op, n := range res.ChangeSummary {
		// A read changes nothing: the program reads its own stack's
		// recorded ID (program/stackid.go) on every run, and the CLI's
		// --expect-no-changes does not count reads either.
		if op != apitype.OpSame && op != apitype.OpRead && n != 0 {
			t.Errorf("preview wants %d %s", n, op)
		}
	}
}
