package tests

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/verification"
)

const (
	tAddon       = "aws:eks/addon:Addon"
	tRole        = "aws:iam/role:Role"
	tAttachment  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	tAssociation = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
	tNamespace   = "kubernetes:core/v1:Namespace"
	tSA          = "kubernetes:core/v1:ServiceAccount"
	tPod         = "kubernetes:core/v1:Pod"
	tJob         = "kubernetes:batch/v1:Job"
	tComponent   = "eks-pod-identity:components:PodIdentity"
	tAWSProvider = "pulumi:providers:aws"
	tK8sProvider = "pulumi:providers:kubernetes"
	// tMarker is the provider whose ID is the stack's ID.
	tMarker = tK8sProvider + "::stack-marker"
)

func runDev(t *testing.T) (*recorder, map[string]any) {
	t.Helper()
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	exports, err := run(t, stackConfig(t, "dev"), rec)
	if err != nil {
		t.Fatalf("program failed on Pulumi.dev.yaml: %v", err)
	}
	return rec, exports
}

func runProd(t *testing.T) (*recorder, map[string]any) {
	t.Helper()
	rec := newRecorder("prod", clusterIn("eu-west-1", "prod-eks", "1.32", false))
	exports, err := run(t, stackConfig(t, "prod"), rec)
	if err != nil {
		t.Fatalf("program failed on Pulumi.prod.yaml: %v", err)
	}
	return rec, exports
}

// The dev stack is the walkthrough, resource for resource. URNs are the
// names in every stack's state: a rename here replaces live resources.
func TestDevStackURNs(t *testing.T) {
	rec, _ := runDev(t)
	const c = "urn:pulumi:dev::eks-pod-identity::"
	const child = c + tComponent + "$"
	want := []string{
		c + tMarker,
		c + tK8sProvider + "::kubernetes",
		c + tComponent + "::pod-identity",
		child + tAddon + "::pod-identity-agent",
		child + tRole + "::pod-identity-pod-id-sa-role",
		child + tAttachment + "::pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess",
		child + tAssociation + "::pod-identity-pod-id-sa-association",
		child + tSA + "::pod-identity-pod-id-sa-sa",
		child + tPod + "::pod-identity-pod-id-sa-test-pod",
		child + tJob + "::pod-identity-pod-id-sa-verify",
	}
	assertSameSet(t, "dev stack URNs", rec.urns(), want)
}

func TestDevAgentAddon(t *testing.T) {
	rec, _ := runDev(t)
	addon := rec.get(t, tAddon, "pod-identity-agent")
	assertInputs(t, addon, map[string]any{
		"clusterName":              "my-eks-cluster",
		"addonName":                "eks-pod-identity-agent",
		"resolveConflictsOnCreate": "OVERWRITE",
		"resolveConflictsOnUpdate": "OVERWRITE",
		"preserve":                 false,
	})
	if addon.Inputs["addonVersion"].HasValue() {
		t.Errorf("addonVersion = %v, want unset so EKS picks its default", addon.Inputs["addonVersion"])
	}
	if !addon.DeleteBeforeReplace {
		t.Error("the add-on must be replaced delete-first: its name is unique per cluster")
	}
}

func TestDevRoleTrustsPodsScopedToServiceAccount(t *testing.T) {
	rec, _ := runDev(t)
	role := rec.get(t, tRole, "pod-identity-pod-id-sa-role")
	assertInputs(t, role, map[string]any{"name": "EKSPodIdentityS3Role"})
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Service":"pods.eks.amazonaws.com"},
		"Action":["sts:AssumeRole","sts:TagSession"],
		"Condition":{"StringEquals":{
			"aws:RequestTag/eks-cluster-arn":["arn:aws:eks:us-east-1:111122223333:cluster/my-eks-cluster"],
			"aws:RequestTag/kubernetes-namespace":["default"],
			"aws:RequestTag/kubernetes-service-account":["pod-id-sa"]}}}]}`
	assertJSONEqual(t, "assumeRolePolicy", role.Inputs["assumeRolePolicy"].StringValue(), want)
	if !role.DeleteBeforeReplace {
		t.Error("a role with a fixed name must be replaced delete-first, or the new one collides with the old")
	}
}

func TestDevAttachesS3ReadOnlyToTheRole(t *testing.T) {
	rec, _ := runDev(t)
	att := rec.get(t, tAttachment, "pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess")
	assertInputs(t, att, map[string]any{
		"role":      "EKSPodIdentityS3Role",
		"policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
	})
	role := rec.get(t, tRole, "pod-identity-pod-id-sa-role")
	if !rec.dependsOn(att, role) {
		t.Error("the attachment must take the role name from the role resource")
	}
}

func TestDevAssociation(t *testing.T) {
	rec, _ := runDev(t)
	assoc := rec.get(t, tAssociation, "pod-identity-pod-id-sa-association")
	assertInputs(t, assoc, map[string]any{
		"clusterName":    "my-eks-cluster",
		"namespace":      "default",
		"serviceAccount": "pod-id-sa",
		"roleArn":        "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role",
	})
	if !assoc.DeleteBeforeReplace {
		t.Error("the association must be replaced delete-first: EKS allows one per cluster, namespace and service account")
	}
	if !rec.dependsOn(assoc, rec.get(t, tRole, "pod-identity-pod-id-sa-role")) {
		t.Error("the association must depend on the role")
	}
}

func TestDevServiceAccountHasNoIRSAAnnotation(t *testing.T) {
	rec, _ := runDev(t)
	sa := rec.get(t, tSA, "pod-identity-pod-id-sa-sa")
	meta := sa.Inputs["metadata"].ObjectValue()
	if got := meta["name"].StringValue(); got != "pod-id-sa" {
		t.Errorf("service account name = %q, want pod-id-sa", got)
	}
	if got := meta["namespace"].StringValue(); got != "default" {
		t.Errorf("service account namespace = %q, want default", got)
	}
	if ann := meta["annotations"]; ann.HasValue() {
		if _, irsa := ann.ObjectValue()["eks.amazonaws.com/role-arn"]; irsa {
			t.Error("the ServiceAccount carries the IRSA annotation eks.amazonaws.com/role-arn")
		}
	}
	labels := meta["labels"].ObjectValue()
	if got := labels["app.kubernetes.io/managed-by"].StringValue(); got != "pulumi" {
		t.Errorf("managed-by label = %q, want pulumi", got)
	}
}

func TestDevTestPodIsTheWalkthroughs(t *testing.T) {
	rec, _ := runDev(t)
	pod := rec.get(t, tPod, "pod-identity-pod-id-sa-test-pod")
	want := map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata": map[string]any{
			"name":      "aws-cli-pod-identity",
			"namespace": "default",
			"labels": map[string]any{
				"app.kubernetes.io/managed-by": "pulumi",
				"app.kubernetes.io/part-of":    "eks-pod-identity",
				"app.kubernetes.io/instance":   "pod-identity",
				"eks-pod-identity/workload":    "pod-id-sa",
			},
			// Tells this stack's pod from that of another stack with the
			// same names (adoption).
			"annotations": map[string]any{"eks-pod-identity/stack": devMarker},
		},
		// The walkthrough's pod, hardened: no API token (Pod Identity's
		// webhook adds its own), the restricted profile, a writable HOME.
		"spec": map[string]any{
			"serviceAccountName":           "pod-id-sa",
			"restartPolicy":                "Never",
			"automountServiceAccountToken": false,
			"securityContext": map[string]any{
				"runAsNonRoot": true, "runAsUser": float64(1000), "runAsGroup": float64(1000),
				"seccompProfile": map[string]any{"type": "RuntimeDefault"},
			},
			"volumes": []any{map[string]any{"name": "home", "emptyDir": map[string]any{}}},
			"containers": []any{map[string]any{
				"name":    "aws-cli",
				"image":   podidentity.DefaultImage,
				"command": []any{"sleep", "3600"},
				"env":     []any{map[string]any{"name": "HOME", "value": "/tmp/home"}},
				"securityContext": map[string]any{
					"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
					"capabilities": map[string]any{"drop": []any{"ALL"}},
				},
				"volumeMounts": []any{map[string]any{"name": "home", "mountPath": "/tmp/home"}},
			}},
		},
	}
	if got := pod.Inputs.Mappable(); !reflect.DeepEqual(got, want) {
		t.Errorf("test pod inputs\n got: %v\nwant: %v", got, want)
	}
	if !pod.DeleteBeforeReplace {
		t.Error("the test pod has a fixed name, so it must be replaced delete-first")
	}
}

// EKS injects credentials only at admission: a pod created before the
// association, the policies, the service account or the agent never gets
// the role.
func TestPodAndJobWaitForTheWholeIdentity(t *testing.T) {
	rec, _ := runDev(t)
	needs := []*registration{
		rec.get(t, tAssociation, "pod-identity-pod-id-sa-association"),
		rec.get(t, tAttachment, "pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess"),
		rec.get(t, tSA, "pod-identity-pod-id-sa-sa"),
		rec.get(t, tAddon, "pod-identity-agent"),
	}
	for _, runner := range []*registration{
		rec.get(t, tPod, "pod-identity-pod-id-sa-test-pod"),
		rec.get(t, tJob, "pod-identity-pod-id-sa-verify"),
	} {
		for _, need := range needs {
			if !rec.dependsOn(runner, need) {
				t.Errorf("%s %s does not depend on %s %s", runner.Type, runner.Name, need.Type, need.Name)
			}
		}
	}
}

// A pod admitted while a new association is still taking effect never gets
// credentials; the test pod waits for the Job's proof that it has.
func TestTestPodWaitsForVerification(t *testing.T) {
	rec, _ := runDev(t)
	pod := rec.get(t, tPod, "pod-identity-pod-id-sa-test-pod")
	if !rec.dependsOn(pod, rec.get(t, tJob, "pod-identity-pod-id-sa-verify")) {
		t.Error("the test pod does not wait for the verification Job")
	}
}

// Nothing else waits: a dependency the walkthrough does not need would only
// slow `pulumi up` down.
func TestNoFalseDependencies(t *testing.T) {
	rec, _ := runDev(t)
	independent := map[string][]string{
		"pod-identity-agent":                            nil,
		"pod-identity-pod-id-sa-role":                   nil,
		"pod-identity-pod-id-sa-sa":                     nil,
		"pod-identity-pod-id-sa-association":            {"pod-identity-pod-id-sa-role"},
		"pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess": {"pod-identity-pod-id-sa-role"},
	}
	for name, allowed := range independent {
		var reg *registration
		for _, r := range rec.regs {
			if r.Name == name {
				reg = r
			}
		}
		if reg == nil {
			t.Fatalf("%s not registered", name)
		}
		for _, dep := range reg.Dependencies {
			d := rec.byURN(dep)
			if d == nil || d.Type == tComponent || strings.HasPrefix(d.Type, "pulumi:providers:") {
				continue
			}
			if !slices.Contains(allowed, d.Name) {
				t.Errorf("%s depends on %s, which it does not need", name, d.Name)
			}
		}
	}
}

func TestDevVerifyJob(t *testing.T) {
	rec, exports := runDev(t)
	job := rec.get(t, tJob, "pod-identity-pod-id-sa-verify")
	meta := job.Inputs["metadata"].ObjectValue()
	spec := job.Inputs["spec"].ObjectValue()
	pod := spec["template"].ObjectValue()["spec"].ObjectValue()
	container := pod["containers"].ArrayValue()[0].ObjectValue()

	if got := meta["namespace"].StringValue(); got != "default" {
		t.Errorf("job namespace = %q, want default", got)
	}
	if got := pod["serviceAccountName"].StringValue(); got != "pod-id-sa" {
		t.Errorf("job service account = %q, want pod-id-sa", got)
	}
	if got := pod["restartPolicy"].StringValue(); got != "Never" {
		t.Errorf("job restartPolicy = %q, want Never", got)
	}
	if got := container["image"].StringValue(); got != podidentity.DefaultImage {
		t.Errorf("job image = %q, want the test pod's %s", got, podidentity.DefaultImage)
	}
	// The test pod's hardening (TestDevTestPodIsTheWalkthroughs), on the
	// Job's pod template.
	testPod := rec.get(t, tPod, "pod-identity-pod-id-sa-test-pod").Inputs["spec"].ObjectValue().Mappable()
	for _, k := range []string{"automountServiceAccountToken", "securityContext", "volumes"} {
		if got := pod.Mappable()[k]; !reflect.DeepEqual(got, testPod[k]) {
			t.Errorf("job spec.%s = %v, want the test pod's %v", k, got, testPod[k])
		}
	}
	testContainer := testPod["containers"].([]any)[0].(map[string]any)
	for _, k := range []string{"securityContext", "volumeMounts"} {
		if got := container.Mappable()[k]; !reflect.DeepEqual(got, testContainer[k]) {
			t.Errorf("job containers[0].%s = %v, want the test pod's %v", k, got, testContainer[k])
		}
	}
	cmd := container["command"].ArrayValue()
	if len(cmd) != 3 || cmd[0].StringValue() != "/bin/sh" || cmd[1].StringValue() != "-c" || cmd[2].StringValue() != verification.Script {
		t.Errorf("job command is not /bin/sh -c <embedded verify.sh>")
	}
	env := map[string]string{}
	for _, e := range container["env"].ArrayValue() {
		env[e.ObjectValue()["name"].StringValue()] = e.ObjectValue()["value"].StringValue()
	}
	wantEnv := map[string]string{
		verification.EnvExpectedRoleArn: "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role",
		verification.EnvAccessCheck:     "s3 ls",
		// The cluster's region, from its ARN: EKS documents no region
		// variable for Pod Identity pods, and regional checks need one.
		"AWS_REGION":         "us-east-1",
		"AWS_DEFAULT_REGION": "us-east-1",
		// Writable: the root filesystem is read-only.
		"HOME": "/tmp/home",
	}
	if !reflect.DeepEqual(env, wantEnv) {
		t.Errorf("job env = %v, want %v", env, wantEnv)
	}
	if !rec.dependsOn(job, rec.get(t, tRole, "pod-identity-pod-id-sa-role")) {
		t.Error("the expected role ARN must come from the role resource's output")
	}
	if got := spec["backoffLimit"].NumberValue(); got != 3 {
		t.Errorf("backoffLimit = %v, want 3: only a new pod can be admitted with credentials", got)
	}
	if got := spec["activeDeadlineSeconds"].NumberValue(); got <= 0 || got > 300 {
		t.Errorf("activeDeadlineSeconds = %v, want a few minutes at most", got)
	}
	if spec["ttlSecondsAfterFinished"].HasValue() {
		t.Error("a Job that deletes itself shows up as drift")
	}
	name := meta["name"].StringValue()
	if !strings.HasPrefix(name, "verify-pod-id-sa-") || len(name) > 63 {
		t.Errorf("job name = %q, want verify-pod-id-sa-<hash>, at most 63 characters", name)
	}
	w := exports["workloads"].(map[string]any)["pod-id-sa"].(map[string]any)
	if got, want := w["verifyLogsCommand"], "kubectl logs job/"+name+" -n default"; got != want {
		t.Errorf("verifyLogsCommand = %q, want %q", got, want)
	}
}

func TestEveryChildIsParentedToTheComponent(t *testing.T) {
	for _, runStack := range []func(*testing.T) (*recorder, map[string]any){runDev, runProd} {
		rec, _ := runStack(t)
		component := rec.get(t, tComponent, "pod-identity")
		for _, reg := range rec.regs {
			if reg.Type == tComponent || reg.Type == "pulumi:pulumi:Stack" || strings.HasPrefix(reg.Type, "pulumi:providers:") {
				continue
			}
			if reg.Parent != component.URN {
				t.Errorf("%s %s has parent %q, want the component", reg.Type, reg.Name, reg.Parent)
			}
		}
	}
}

// AWS resources and the cluster lookup use the stack's default AWS provider,
// which honours every aws: key; every Kubernetes resource uses the one
// explicit Kubernetes provider, never the ambient kubeconfig's context. The
// component pins neither: the program passes the Kubernetes provider to it
// as an option and its children inherit it.
func TestChildrenUseTheDefaultAWSAndTheExplicitKubernetesProvider(t *testing.T) {
	for _, runStack := range []func(*testing.T) (*recorder, map[string]any){runDev, runProd} {
		rec, _ := runStack(t)
		k8sRef := rec.get(t, tK8sProvider, "kubernetes").URN + "::kubernetes-id"
		for _, reg := range rec.regs {
			switch {
			case reg.Type == tAWSProvider:
				t.Errorf("an explicit AWS provider %s was registered; the default one reads the stack's aws: keys", reg.Name)
			case strings.HasPrefix(reg.Type, "aws:") && reg.Provider != "":
				t.Errorf("%s %s uses provider %q, want the stack's default AWS provider", reg.Type, reg.Name, reg.Provider)
			case strings.HasPrefix(reg.Type, "kubernetes:") && reg.Provider != k8sRef:
				t.Errorf("%s %s uses provider %q, want the explicit Kubernetes provider", reg.Type, reg.Name, reg.Provider)
			}
		}
		for _, call := range rec.calls {
			if call.Provider != "" {
				t.Errorf("invoke %s uses provider %q, want the stack's default AWS provider", call.Token, call.Provider)
			}
		}
		if got := rec.get(t, tComponent, "pod-identity").Provider; got != "" {
			t.Errorf("component registered with provider %q", got)
		}
	}
}

func TestProvidersFromConfig(t *testing.T) {
	rec, _ := runDev(t)
	kc := rec.get(t, tK8sProvider, "kubernetes").Inputs["kubeconfig"]
	if !kc.IsSecret() {
		t.Error("the kubeconfig must be a secret in state")
	}
	var doc struct {
		Clusters []struct {
			Cluster map[string]string `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				Exec struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(kc.SecretValue().Element.StringValue()), &doc); err != nil {
		t.Fatalf("kubeconfig is not JSON: %v", err)
	}
	if got := doc.Clusters[0].Cluster["server"]; got != "https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com" {
		t.Errorf("kubeconfig server = %q, want the cluster's endpoint", got)
	}
	exec := doc.Users[0].User.Exec
	if exec.Command != "aws" || strings.Join(exec.Args, " ") != "--region us-east-1 eks get-token --cluster-name my-eks-cluster --output json" {
		t.Errorf("kubeconfig exec = %s %v, want aws eks get-token for my-eks-cluster", exec.Command, exec.Args)
	}
}

func TestDevOutputs(t *testing.T) {
	_, exports := runDev(t)
	if got := exports["agentAddonName"]; got != "eks-pod-identity-agent" {
		t.Errorf("agentAddonName = %v", got)
	}
	if got := exports["agentAddonVersion"]; got != "v1.3.8-eksbuild.2" {
		t.Errorf("agentAddonVersion = %v, want the version EKS reports", got)
	}
	w := exports["workloads"].(map[string]any)["pod-id-sa"].(map[string]any)
	want := map[string]any{
		"roleArn":        "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role",
		"roleName":       "EKSPodIdentityS3Role",
		"namespace":      "default",
		"serviceAccount": "pod-id-sa",
		"testPod":        "aws-cli-pod-identity",
		"verifyCommands": []string{
			"kubectl exec -n default aws-cli-pod-identity -- aws sts get-caller-identity",
			"kubectl exec -n default aws-cli-pod-identity -- aws s3 ls",
			"kubectl exec -n default aws-cli-pod-identity -- env | grep AWS_CONTAINER_AUTHORIZATION_TOKEN",
		},
	}
	for k, v := range want {
		if !reflect.DeepEqual(w[k], v) {
			t.Errorf("workloads.pod-id-sa.%s = %v, want %v", k, w[k], v)
		}
	}
	if id, _ := w["associationId"].(string); !strings.HasPrefix(id, "a-") {
		t.Errorf("associationId = %v, want the association's id", w["associationId"])
	}
	if arn, _ := w["associationArn"].(string); !strings.HasPrefix(arn, "arn:aws:eks:us-east-1:111122223333:podidentityassociation/my-eks-cluster/a-") {
		t.Errorf("associationArn = %v", w["associationArn"])
	}
	if exports["clusterArn"] != "arn:aws:eks:us-east-1:111122223333:cluster/my-eks-cluster" {
		t.Errorf("clusterArn = %v", exports["clusterArn"])
	}
}

// assertSameSet compares two lists as sets, printing both on a mismatch.
func assertSameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s\n got: %s\nwant: %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func assertInputs(t *testing.T, reg *registration, want map[string]any) {
	t.Helper()
	got := reg.Inputs.Mappable()
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s %s: input %s = %#v, want %#v", reg.Type, reg.Name, k, got[k], v)
		}
	}
}

func assertJSONEqual(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation for %s: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s\n got: %s\nwant: %s", what, got, want)
	}
}

// The verification Job re-runs when the identity changes and only then: its
// name follows the role and the association.
func TestVerifyJobIdentityFollowsRoleAndAssociation(t *testing.T) {
	jobName := func(edit func(w map[string]any), recEdit ...func(*recorder)) string {
		t.Helper()
		cfg := stackConfig(t, "dev")
		var ws []map[string]any
		if err := json.Unmarshal([]byte(cfg["eks-pod-identity:workloads"]), &ws); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(ws[0])
		}
		b, err := json.Marshal(ws)
		if err != nil {
			t.Fatal(err)
		}
		cfg["eks-pod-identity:workloads"] = string(b)
		rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
		for _, e := range recEdit {
			e(rec)
		}
		if _, err := run(t, cfg, rec); err != nil {
			t.Fatal(err)
		}
		return rec.get(t, tJob, "pod-identity-pod-id-sa-verify").Inputs["metadata"].ObjectValue()["name"].StringValue()
	}
	base := jobName(nil)
	if again := jobName(nil); again != base {
		t.Errorf("an unchanged stack renamed the job from %q to %q: verification would re-run on every up", base, again)
	}
	for what, edit := range map[string]func(map[string]any){
		"role":              func(w map[string]any) { w["roleName"] = "OtherRole" },
		"namespace":         func(w map[string]any) { w["namespace"] = "apps" },
		"access check":      func(w map[string]any) { w["accessCheck"] = "s3 ls s3://bucket" },
		"trust policy":      func(w map[string]any) { w["trust"] = "open" },
		"managed policies":  func(w map[string]any) { w["policyArns"] = []string{"arn:aws:iam::aws:policy/AmazonS3FullAccess"} },
		"permissions bound": func(w map[string]any) { w["permissionsBoundary"] = "arn:aws:iam::111122223333:policy/boundary" },
		"inline policy": func(w map[string]any) {
			w["inlinePolicies"] = map[string]any{"p": map[string]any{"Version": "2012-10-17", "Statement": map[string]any{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}}}
		},
	} {
		if got := jobName(edit); got == base {
			t.Errorf("changing the %s kept the job name %q: verification would not re-run", what, got)
		}
	}
	// A new association for the very same settings (deleted and recreated
	// outside Pulumi, say) must re-run verification too.
	if got := jobName(nil, func(r *recorder) { r.associationSalt = "recreated" }); got == base {
		t.Errorf("a new association ID kept the job name %q", got)
	}
	reordered := func(arns []string) func(map[string]any) {
		return func(w map[string]any) { w["policyArns"] = arns }
	}
	a, b := "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"
	if jobName(reordered([]string{a, b})) != jobName(reordered([]string{b, a})) {
		t.Error("reordering policyArns re-runs verification though nothing changed")
	}
}
