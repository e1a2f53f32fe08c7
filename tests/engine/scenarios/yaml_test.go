//go:build engine

package scenarios

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/platform-eng/eks-pod-identity/componentprovider"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
)

// TestYAMLProgramUsesTheComponentProvider runs examples/yaml, a Pulumi
// YAML program as a user writes it, through the real CLI and the YAML
// language host built from the module proxy: the engine asks the installed
// pulumi-resource-eks-pod-identity plugin to Construct the component, whose
// children go through the program's own explicit AWS and Kubernetes
// providers. up runs the verification Job, a preview after it wants
// nothing, and destroy leaves nothing.
func TestYAMLProgramUsesTheComponentProvider(t *testing.T) {
	e := newEnv(t)
	const region, cluster, namespace = "us-west-2", "yaml-cluster", "yaml-team"
	e.registerCluster(cluster, region)

	// Built and installed the way the README says.
	bin := filepath.Join(t.TempDir(), "pulumi-resource-eks-pod-identity")
	build := exec.Command("go", "build", "-o", bin, "./cmd/pulumi-resource-eks-pod-identity")
	build.Dir = e.repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the provider: %v\n%s", err, out)
	}
	version := componentprovider.Version()
	if out, err := exec.Command("pulumi", "plugin", "install", "resource", componentprovider.Name, version, "--file", bin).CombinedOutput(); err != nil {
		t.Fatalf("pulumi plugin install: %v\n%s", err, out)
	}
	if out, err := exec.Command("pulumi-language-yaml", "--help").CombinedOutput(); err != nil && !strings.Contains(string(out), "Usage") {
		t.Fatalf("the YAML language host is not on PATH (tools/build.sh builds it with ENGINE_WITH_LANGUAGES=1): %v\n%s", err, out)
	}

	dir := t.TempDir()
	copyFile(t, filepath.Join(e.repo, "examples", "yaml", "Pulumi.yaml"), filepath.Join(dir, "Pulumi.yaml"))
	s, err := auto.UpsertStackLocalSource(e.ctx, "yaml", dir, auto.SecretsProvider("passphrase"))
	if err != nil {
		t.Fatalf("create the YAML stack: %v", err)
	}
	kubeconfig, err := os.ReadFile(e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]auto.ConfigValue{
		"clusterName": {Value: cluster},
		"region":      {Value: region},
		"kubeconfig":  {Value: string(kubeconfig), Secret: true},
	} {
		if err := s.SetConfig(e.ctx, key, v); err != nil {
			t.Fatalf("config set %s: %v", key, err)
		}
	}
	t.Cleanup(func() {
		// A failed run leaves nothing for the next scenario.
		_, _ = s.Destroy(e.ctx)
		_ = s.Workspace().RemoveStack(e.ctx, "yaml")
	})

	// A refusal comes back through Construct as it reads in Go, before the
	// component registers anything: the trap the first run of this test
	// fell into, a YAML-style logical name.
	program, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	camel := strings.Replace(string(program), "\n  s3-reader:", "\n  s3Reader:", 1)
	camel = strings.ReplaceAll(camel, "${s3-reader.", "${s3Reader.")
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(camel), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.Up(e.ctx, upOpts(t)...)
	const refusal = `podidentity s3Reader: invalid arguments:`
	if err == nil || !strings.Contains(err.Error(), refusal) || !strings.Contains(err.Error(), `name: "s3Reader" must be a DNS-1123 label`) {
		t.Fatalf("up with the component named s3Reader: %v; want the Go component's refusal", err)
	}
	if as := e.associations(region, cluster); len(as) != 0 || len(e.addons(region, cluster)) != 0 {
		t.Fatalf("the refused up created associations %+v or add-ons", as)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), program, 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := s.Up(e.ctx, upOpts(t)...)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	out := func(k string) string { v, _ := res.Outputs[k].Value.(string); return v }
	roleArn, associationID, job := out("roleArn"), out("associationId"), out("verifyJob")
	t.Logf("outputs: roleArn=%s associationId=%s testPod=%s verifyJob=%s", roleArn, associationID, out("testPod"), job)
	roleName := roleArn[strings.LastIndex(roleArn, "/")+1:]
	if !strings.HasPrefix(roleArn, "arn:aws:iam::") || roleName == "" || associationID == "" || job == "" || out("testPod") == "" {
		t.Fatalf("outputs missing: %v", res.Outputs)
	}

	// The association EKS holds is the component's, for the YAML's names.
	as := e.associations(region, cluster)
	if len(as) != 1 || aws.ToString(as[0].Namespace) != namespace || aws.ToString(as[0].ServiceAccount) != "s3-reader" || aws.ToString(as[0].AssociationId) != associationID {
		t.Fatalf("associations of %s: %+v", cluster, as)
	}
	if got := e.attachedPolicies(roleName); len(got) != 1 || got[0] != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" {
		t.Errorf("%s's policies: %v", roleName, got)
	}

	// The Job ran as the role through the agent and passed.
	logs, err := e.kubectl("logs", "job/"+job, "-n", namespace)
	t.Logf("verification Job log:\n%s", logs)
	if err != nil {
		t.Fatalf("kubectl logs job/%s: %v", job, err)
	}
	if !regexp.MustCompile(`PASS identity: arn:aws:sts::\d{12}:assumed-role/`+regexp.QuoteMeta(roleName)+`/eks-`).MatchString(logs) ||
		!regexp.MustCompile(`RESULT: \d+ pass, 0 fail`).MatchString(logs) {
		t.Errorf("the Job's log does not show %s's identity and a pass", roleName)
	}

	// Every AWS and Kubernetes child went through the program's own
	// providers, none through a default provider.
	st := exportState(t, s)
	children := 0
	for _, r := range st.Resources {
		if !strings.HasPrefix(r.Type, "aws:") && !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		children++
		want := "::pulumi:providers:aws::aws::"
		if strings.HasPrefix(r.Type, "kubernetes:") {
			want = "::pulumi:providers:kubernetes::k8s::"
		}
		if !strings.Contains(r.Provider, want) {
			t.Errorf("%s uses provider %q, not the program's (%s)", r.URN, r.Provider, want)
		}
		if !strings.Contains(r.URN, "eks-pod-identity:index:PodIdentity$") {
			t.Errorf("%s is not a child of the component", r.URN)
		}
	}
	if children < 6 {
		t.Errorf("%d AWS and Kubernetes resources in state; the component makes at least 6 (add-on, role, attachment, association, namespace, service account)", children)
	}

	expectNoChanges(e.ctx, t, s)

	if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t})); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if as := e.associations(region, cluster); len(as) != 0 {
		t.Errorf("associations left: %+v", as)
	}
	if ad := e.addons(region, cluster); len(ad) != 0 {
		t.Errorf("add-ons left: %v", ad)
	}
	if _, err := e.iamClient().GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)}); err == nil {
		t.Errorf("role %s left", roleName)
	}
	if slices.Contains(e.kubeNames("namespace", "", ""), namespace) {
		t.Errorf("namespace %s left", namespace)
	}
	if n := resourceCount(t, s); n != 0 {
		t.Errorf("%d resources left in state", n)
	}
}
