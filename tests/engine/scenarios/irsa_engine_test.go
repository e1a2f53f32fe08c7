//go:build engine

package scenarios

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
)

// TestMoveFromIrsa does by hand what an IRSA user did: an IAM OIDC provider
// for the cluster's issuer, role EKSPodIdentityS3Role trusting it for
// default/pod-id-sa and default/reports, the annotated ServiceAccount and a
// Deployment whose pod EKS's webhook (the node stand-in) admitted with
// IRSA's variables. Then Pulumi.irsa.yaml takes it through the phases:
// dual, podIdentity, back to dual and forward again, a cleanup refused while
// the pod still has IRSA credentials, the restart, cleanup, destroy. Each
// step asserts the role's trust, the associations, the annotation and, once
// associated, the verification Job's log; default/reports' IRSA trust is
// never touched.
func TestMoveFromIrsa(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	e.registerCluster(devCluster, devRegion)
	if e.role(devRole) != nil {
		t.Fatalf("role %s already in moto: an earlier scenario left it", devRole)
	}
	c, err := e.eksIn(devRegion).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(devCluster)})
	if err != nil || c.Cluster.Identity == nil || c.Cluster.Identity.Oidc == nil {
		t.Fatalf("the cluster has no OIDC issuer: %v", err)
	}
	issuer := aws.ToString(c.Cluster.Identity.Oidc.Issuer)
	host := strings.TrimPrefix(issuer, "https://")
	iamc := e.iamClient()
	prov, err := iamc.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(issuer), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
	})
	if err != nil {
		t.Fatal(err)
	}
	provArn := aws.ToString(prov.OpenIDConnectProviderArn)
	const (
		app     = "system:serviceaccount:default:pod-id-sa"
		reports = "system:serviceaccount:default:reports"
	)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{%q:[%q,%q],%q:"sts.amazonaws.com"}}}]}`,
		provArn, host+":sub", app, reports, host+":aud")
	role, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(devRole), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleArn := aws.ToString(role.Role.Arn)
	const s3ro = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	if _, err := iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(devRole), PolicyArn: aws.String(s3ro)}); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: pod-id-sa
  namespace: default
  annotations:
    eks.amazonaws.com/role-arn: %s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: s3-reader
  namespace: default
spec:
  replicas: 1
  selector: {matchLabels: {app: s3-reader}}
  template:
    metadata: {labels: {app: s3-reader}}
    spec:
      serviceAccountName: pod-id-sa
      containers:
        - name: app
          image: amazon/aws-cli:2.36.43
          command: [sleep, "3600"]
`, roleArn)
	if out, err := e.kubectlStdin(manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_, _ = e.kubectl("delete", "deployment", "s3-reader", "-n", "default", "--ignore-not-found", "--wait=false")
		_, _ = e.kubectl("delete", "serviceaccount", "pod-id-sa", "-n", "default", "--ignore-not-found")
		for _, arn := range e.attachedPolicies(devRole) {
			_, _ = iamc.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(devRole), PolicyArn: aws.String(arn)})
		}
		_, _ = iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(devRole)})
		_, _ = iamc.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provArn)})
	})
	// The pod EKS admitted on IRSA: the webhook stand-in injected it.
	podEnv := func() map[string][]string {
		out, err := e.kubectl("get", "pods", "-n", "default", "-l", "app=s3-reader", "-o", "json")
		if err != nil {
			t.Fatalf("kubectl get pods: %v\n%s", err, out)
		}
		var list struct {
			Items []struct {
				Metadata struct {
					Name              string `json:"name"`
					DeletionTimestamp string `json:"deletionTimestamp"`
				} `json:"metadata"`
				Spec struct {
					Containers []struct {
						Env []struct{ Name string } `json:"env"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		pods := map[string][]string{}
		for _, p := range list.Items {
			if p.Metadata.DeletionTimestamp != "" {
				continue
			}
			for _, c := range p.Spec.Containers {
				for _, v := range c.Env {
					pods[p.Metadata.Name] = append(pods[p.Metadata.Name], v.Name)
				}
			}
		}
		return pods
	}
	onIRSA := func(vars []string) bool { return slices.Contains(vars, "AWS_WEB_IDENTITY_TOKEN_FILE") }
	waitFor(t, 2*time.Minute, "the Deployment's pod, admitted with IRSA's variables", func() bool {
		pods := podEnv()
		return len(pods) == 1 && slices.ContainsFunc(mapValues(pods), onIRSA)
	})

	s := e.stack("irsa-move", "irsa", nil)
	dir := s.Workspace().WorkDir()
	t.Cleanup(func() {
		_ = s.Cancel(ctx)
		if _, err := s.Destroy(ctx); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
		_ = s.Workspace().RemoveStack(ctx, "irsa-move")
	})
	phase := func(p string) {
		e.editStack(dir, "irsa-move", func(cfg config.Map) {
			workloads(t, cfg, func(ws []map[string]any) { ws[0]["phase"] = p })
		})
	}
	subs := func() (subs []string, podIdentity int) {
		t.Helper()
		r := e.role(devRole)
		if r == nil {
			t.Fatalf("role %s is gone", devRole)
		}
		doc := decodePolicy(t, aws.ToString(r.AssumeRolePolicyDocument)).(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			p := st["Principal"].(map[string]any)
			if p["Service"] == "pods.eks.amazonaws.com" {
				podIdentity++
				continue
			}
			if p["Federated"] != provArn {
				t.Errorf("a statement of another principal appeared: %v", st)
				continue
			}
			switch v := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)[host+":sub"].(type) {
			case string:
				subs = append(subs, v)
			case []any:
				for _, x := range v {
					subs = append(subs, x.(string))
				}
			}
		}
		slices.Sort(subs)
		return subs, podIdentity
	}
	annotation := func() string {
		sa := e.kubeObject("serviceaccount", "default", "pod-id-sa")
		a, _ := field(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn").(string)
		return a
	}
	assocs := func() int { return len(e.associations(devRegion, devCluster)) }
	up := func(what string) auto.UpResult {
		t.Helper()
		res, err := s.Up(ctx, upOpts(t)...)
		if err != nil {
			t.Fatalf("up (%s): %v", what, err)
		}
		return res
	}
	irsaOut := func(res auto.UpResult) map[string]any {
		w := res.Outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
		return w["irsa"].(map[string]any)
	}
	jobLog := func(res auto.UpResult) string {
		w := res.Outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
		job, _ := w["verifyJob"].(string)
		logs, err := e.kubectl("logs", "job/"+job, "-n", "default")
		if err != nil {
			t.Fatalf("logs of job %q: %v\n%s", job, err, logs)
		}
		return logs
	}

	// dual: the role trusts both; nothing running changes.
	res := up("dual")
	if got, pi := subs(); !slices.Equal(got, []string{app, reports}) || pi != 1 {
		t.Errorf("dual: trust subs %v, %d Pod Identity statements; want both IRSA subs and one", got, pi)
	}
	if n := assocs(); n != 0 {
		t.Errorf("dual: %d associations, want none", n)
	}
	if a := annotation(); a != roleArn {
		t.Errorf("dual: annotation %q, want %q", a, roleArn)
	}
	if id := aws.ToString(e.role(devRole).RoleId); id != aws.ToString(role.Role.RoleId) {
		t.Errorf("the role was replaced (RoleId %s, was %s)", id, aws.ToString(role.Role.RoleId))
	}
	t.Logf("dual: irsa output %v", irsaOut(res))
	expectNoChanges(ctx, t, s)

	// podIdentity: the association; new pods get Pod Identity.
	phase("podIdentity")
	res = up("podIdentity")
	if n := assocs(); n != 1 {
		t.Errorf("podIdentity: %d associations, want 1", n)
	}
	if got, _ := subs(); !slices.Equal(got, []string{app, reports}) {
		t.Errorf("podIdentity changed the IRSA trust: %v", got)
	}
	if a := annotation(); a != roleArn {
		t.Errorf("podIdentity: annotation %q, want it kept", a)
	}
	logs := jobLog(res)
	t.Logf("podIdentity: verification Job's log:\n%s", logs)
	for _, want := range []string{"PASS identity: arn:aws:sts::", "assumed-role/" + devRole + "/eks-", "PASS irsa", "RESULT:"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the Job's log lacks %q", want)
		}
	}
	restarts := irsaOut(res)["restarts"]
	t.Logf("podIdentity: irsa output %v", irsaOut(res))
	if !strings.Contains(fmt.Sprint(restarts), "kubectl rollout restart deployment/s3-reader -n default") {
		t.Errorf("restarts %v do not name the Deployment", restarts)
	}
	expectNoChanges(ctx, t, s)

	// Back to dual, and at once forward again.
	phase("dual")
	up("back to dual")
	if n := assocs(); n != 0 {
		t.Errorf("back in dual: %d associations, want none", n)
	}
	// EKS deletes an association eventually: a create at once may answer
	// 409 (aws-controllers-k8s/community#2684), and pulumi-aws does not
	// retry it. The runbook's answer, `up` again, is shown to recover.
	phase("podIdentity")
	e.setFaults(t, fault{"service": "eks", "action": "CreatePodIdentityAssociation", "fault": "error", "count": 1,
		"status": 409, "code": "ResourceInUseException", "message": "Association already exists: a deletion is still in progress"})
	if _, err := s.Up(ctx, upOpts(t)...); err == nil || !strings.Contains(err.Error(), "ResourceInUseException") {
		t.Fatalf("forward again with EKS answering 409: %v", err)
	}
	if n := assocs(); n != 0 {
		t.Errorf("after the 409: %d associations", n)
	}
	up("forward again, the runbook's second up")
	if n := assocs(); n != 1 {
		t.Errorf("forward again: %d associations, want 1", n)
	}
	expectNoChanges(ctx, t, s)

	// cleanup is refused while the Deployment's pod has IRSA credentials.
	phase("cleanup")
	_, err = s.Up(ctx, upOpts(t)...)
	if err == nil || !strings.Contains(err.Error(), "still have IRSA credentials") || !strings.Contains(err.Error(), "kubectl rollout restart deployment/s3-reader -n default") {
		t.Fatalf("cleanup with a pod on IRSA: %v", err)
	}
	if got, _ := subs(); !slices.Equal(got, []string{app, reports}) {
		t.Errorf("the refused cleanup changed the trust: %v", got)
	}
	if out, err := e.kubectl("rollout", "restart", "deployment/s3-reader", "-n", "default"); err != nil {
		t.Fatalf("rollout restart: %v\n%s", err, out)
	}
	waitFor(t, 2*time.Minute, "the restarted pod, admitted with Pod Identity", func() bool {
		pods := podEnv()
		return len(pods) == 1 && !slices.ContainsFunc(mapValues(pods), onIRSA) &&
			slices.ContainsFunc(mapValues(pods), func(v []string) bool { return slices.Contains(v, "AWS_CONTAINER_CREDENTIALS_FULL_URI") })
	})

	res = up("cleanup")
	if got, pi := subs(); !slices.Equal(got, []string{reports}) || pi != 1 {
		t.Errorf("cleanup: trust subs %v, %d Pod Identity statements; want only %s and one", got, pi, reports)
	}
	logs = jobLog(res)
	if !strings.Contains(logs, "PASS identity") {
		t.Errorf("cleanup: the Job's log:\n%s", logs)
	}
	// kubectl apply (client-side) owns the annotation too: server-side
	// apply keeps it, and the cleanup up says so, with the command.
	a := annotation()
	t.Logf("cleanup: annotation after the stack's patch left it out: %q", a)
	const remove = "kubectl annotate serviceaccount pod-id-sa -n default eks.amazonaws.com/role-arn-"
	if a != roleArn || !strings.Contains(res.StdOut, "field manager kubectl-client-side-apply also owns it") || !strings.Contains(res.StdOut, remove) {
		t.Errorf("cleanup: annotation %q; want it kept by kubectl's ownership, and the up to say so with %q:\n%s", a, remove, res.StdOut)
	}
	if out, err := e.kubectl(strings.Fields(remove)[1:]...); err != nil {
		t.Fatalf("%s: %v\n%s", remove, err, out)
	}
	if a := annotation(); a != "" {
		t.Errorf("the command left the annotation: %q", a)
	}
	expectNoChanges(ctx, t, s)

	// destroy: the association and the stack's pods go; the role stays,
	// since default/reports still assumes it through IRSA.
	if _, err := s.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := assocs(); n != 0 {
		t.Errorf("after destroy: %d associations", n)
	}
	if got, _ := subs(); !slices.Equal(got, []string{reports}) {
		t.Errorf("after destroy the role's IRSA trust is %v, want %s's kept", got, reports)
	}
}

func mapValues(m map[string][]string) [][]string {
	var out [][]string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// kubectlStdin runs kubectl with stdin.
func (e *env) kubectlStdin(stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", e.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
