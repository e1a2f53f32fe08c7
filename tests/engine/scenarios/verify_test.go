//go:build engine

package scenarios

// The verification Job, run for real: run.sh starts the node stand-in
// (tests/engine/podrunner/cmd/engine-node), so the Job's pod gets what EKS's
// webhook injects at admission, its command (the embedded script) runs on
// this machine with the real AWS CLI, the CLI's container credential
// provider fetches credentials from the agent stand-in, which assumes the
// association's role in moto, and moto authorizes the CLI's calls against
// the role's policies. The pod's phase comes from the script's exit code.
//
// Scenario numbers are issue 12's: 1 and 4 run inside TestDevStackLifecycle
// (verificationPassed, stepFive); 2 and 3 are TestVerificationFailures.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/platform-eng/eks-pod-identity/tests/engine/agent"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
)

// shell runs a command line the way a user pastes it (the stack's
// verifyCommands and verifyLogsCommand), against the local cluster.
func (e *env) shell(line string) (string, error) {
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// agentSessions are the credentials the agent stand-in vended so far.
func (e *env) agentSessions() []agent.Session {
	e.t.Helper()
	resp, err := http.Get(mustEnv(e.t, "ENGINE_AGENT_URL") + "/debug/sessions")
	if err != nil {
		e.t.Fatalf("agent sessions: %v", err)
	}
	defer resp.Body.Close()
	var out []agent.Session
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("agent sessions: %v", err)
	}
	return out
}

// jobPods are the Job's pods as the apiserver holds them.
func (e *env) jobPods(namespace, job string) []map[string]any {
	e.t.Helper()
	out, err := e.kubectl("get", "pods", "-n", namespace, "-l", "job-name="+job, "-o", "json")
	if err != nil {
		e.t.Fatalf("pods of job %s: %v\n%s", job, err, out)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// containerEnv is the first container's env as the pod spec holds it.
func containerEnv(pod map[string]any) map[string]string {
	env := map[string]string{}
	cs, _ := field(pod, "spec", "containers").([]any)
	if len(cs) == 0 {
		return env
	}
	list, _ := cs[0].(map[string]any)["env"].([]any)
	for _, v := range list {
		m := v.(map[string]any)
		s, _ := m["value"].(string)
		env[m["name"].(string)] = s
	}
	return env
}

// injected tells whether the pod spec carries what EKS's webhook injects
// for region, and says what is missing.
func injected(pod map[string]any, region string) (bool, string) {
	env := containerEnv(pod)
	want := map[string]string{
		"AWS_STS_REGIONAL_ENDPOINTS":             "regional",
		"AWS_DEFAULT_REGION":                     region,
		"AWS_REGION":                             region,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "http://169.254.170.23/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
	}
	var missing []string
	for k, v := range want {
		if env[k] != v {
			missing = append(missing, fmt.Sprintf("%s=%q (has %q)", k, v, env[k]))
		}
	}
	vols, _ := field(pod, "spec", "volumes").([]any)
	if !slices.ContainsFunc(vols, func(v any) bool {
		m := v.(map[string]any)
		src, _ := field(m, "projected", "sources").([]any)
		return m["name"] == "eks-pod-identity-token" && len(src) == 1 &&
			field(src[0].(map[string]any), "serviceAccountToken", "audience") == "pods.eks.amazonaws.com"
	}) {
		missing = append(missing, "volume eks-pod-identity-token (projected token, audience pods.eks.amazonaws.com)")
	}
	slices.Sort(missing)
	return len(missing) == 0, strings.Join(missing, "; ")
}

// verificationPassed checks a workload's verification Job after a
// successful up (scenario 1): the Job succeeded because its script
// succeeded, its pod spec holds the injected Pod Identity settings, and its
// log, read with the stack's verifyLogsCommand, shows the four checks
// passing with the assumed-role ARN of the session the agent vended to that
// very pod, for the role moto holds.
func (e *env) verificationPassed(t *testing.T, w map[string]any, roleArn, clusterArn, region string) {
	t.Helper()
	ns, _ := w["namespace"].(string)
	job, _ := w["verifyJob"].(string)
	logsCmd, _ := w["verifyLogsCommand"].(string)
	if job == "" || logsCmd == "" {
		t.Fatalf("outputs without verifyJob/verifyLogsCommand: %v", w)
	}
	obj := e.kubeObject("job", ns, job)
	if obj == nil {
		t.Fatalf("verification job %s/%s missing", ns, job)
	}
	if got := field(obj, "status", "succeeded"); got != float64(1) {
		t.Errorf("job %s succeeded = %v, want 1", job, got)
	}
	pods := e.jobPods(ns, job)
	var pod map[string]any
	for _, p := range pods {
		if field(p, "status", "phase") == "Succeeded" {
			pod = p
		}
	}
	if pod == nil {
		t.Fatalf("job %s has no Succeeded pod (%d pods)", job, len(pods))
	}
	podName := field(pod, "metadata", "name").(string)
	statuses, _ := field(pod, "status", "containerStatuses").([]any)
	if len(statuses) != 1 || field(statuses[0].(map[string]any), "state", "terminated", "exitCode") != float64(0) {
		t.Errorf("pod %s container status = %v, want terminated with exit code 0 (the runner's report)", podName, statuses)
	}
	if ok, missing := injected(pod, region); !ok {
		t.Errorf("pod %s lacks the Pod Identity injection: %s", podName, missing)
	}
	env := containerEnv(pod)
	if env["EXPECTED_ROLE_ARN"] != roleArn {
		t.Errorf("pod %s EXPECTED_ROLE_ARN = %q, want moto's %s", podName, env["EXPECTED_ROLE_ARN"], roleArn)
	}

	out, err := e.shell(logsCmd)
	t.Logf("verification Job log (%s):\n%s", logsCmd, out)
	if err != nil {
		t.Fatalf("%s: %v", logsCmd, err)
	}
	for _, want := range []string{
		"PASS env: AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:",
		"PASS irsa: no AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN",
		"PASS access: aws " + env["ACCESS_CHECK"] + " exited 0",
		"RESULT: 4 pass, 0 fail, 0 skip",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the Job's log lacks %q", want)
		}
	}
	// The identity the script saw is a session the agent vended to this
	// very pod (each aws call fetches its own), for the role moto holds,
	// with EKS's session tags.
	roleName := roleArn[strings.LastIndex(roleArn, "/")+1:]
	account := strings.Split(roleArn, ":")[4]
	m := regexp.MustCompile(`PASS identity: (arn:aws:sts::` + account + `:assumed-role/` + regexp.QuoteMeta(roleName) + `/eks-[A-Za-z0-9-]+) \(attempt \d+\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the Job's log has no PASS identity line with an assumed-role ARN of %s", roleName)
	}
	var session *agent.Session
	for _, s := range e.agentSessions() {
		if s.AssumedRoleArn == m[1] {
			session = &s
		}
	}
	if session == nil {
		t.Fatalf("the agent vended no session %s", m[1])
	}
	wantTags := agent.SessionTags(clusterArn, clusterArn[strings.LastIndex(clusterArn, "/")+1:], ns,
		field(pod, "spec", "serviceAccountName").(string), podName, field(pod, "metadata", "uid").(string))
	if session.Namespace != ns || session.Pod != podName || session.RoleArn != roleArn || !mapsEqual(session.Tags, wantTags) {
		t.Errorf("session %s went to %s/%s for %s with tags %v; want pod %s/%s, role %s, tags %v",
			m[1], session.Namespace, session.Pod, session.RoleArn, session.Tags, ns, podName, roleArn, wantTags)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// stepFive runs the walkthrough's step-5 commands from the verifyCommands
// output against the test pod (scenario 4): kubectl exec goes through the
// apiserver to kwok's kubelet server, which runs them on this machine in the
// pod's environment, as the node stand-in registered it.
func (e *env) stepFive(t *testing.T, w map[string]any, roleArn string) {
	t.Helper()
	raw, _ := w["verifyCommands"].([]any)
	if len(raw) == 0 {
		t.Fatalf("outputs without verifyCommands: %v", w)
	}
	roleName := roleArn[strings.LastIndex(roleArn, "/")+1:]
	identity := regexp.MustCompile(`"Arn": "arn:aws:sts::\d{12}:assumed-role/` + regexp.QuoteMeta(roleName) + `/eks-[A-Za-z0-9-]+"`)
	var sawIdentity, sawToken bool
	for _, c := range raw {
		line := c.(string)
		var out string
		var err error
		// The node stand-in registers the pod's exec environment right after
		// the pod is bound; give it a moment.
		for range 20 {
			if out, err = e.shell(line); err == nil || !strings.Contains(out, "no exec found") {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Logf("$ %s\n%s", line, out)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		switch {
		case strings.HasSuffix(line, "aws sts get-caller-identity"):
			sawIdentity = identity.MatchString(out)
			if !sawIdentity {
				t.Errorf("get-caller-identity printed no assumed-role ARN of %s", roleName)
			}
		case strings.Contains(line, "grep AWS_CONTAINER_AUTHORIZATION_TOKEN"):
			sawToken = regexp.MustCompile(`(?m)^AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/\S+/eks-pod-identity-token$`).MatchString(out)
			if !sawToken {
				t.Errorf("the env check printed no AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
			}
		}
	}
	if !sawIdentity || !sawToken {
		t.Errorf("verifyCommands %q: want a get-caller-identity and a token variable check", raw)
	}
}

// createBucket makes an S3 bucket in moto, as the account's administrator.
func (e *env) createBucket(name, region string) {
	e.t.Helper()
	args := []string{"s3api", "create-bucket", "--bucket", name, "--region", region}
	if region != "us-east-1" {
		args = append(args, "--create-bucket-configuration", "LocationConstraint="+region)
	}
	cmd := exec.Command("aws", args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+e.moto, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("create bucket %s: %v\n%s", name, err, out)
	}
}

// failedVerification returns the logs of the newest verification Job of a
// workload in namespace after a failed up, printing what a user would run.
func (e *env) failedVerification(t *testing.T, namespace, workload string) (job, logs string) {
	t.Helper()
	out, err := e.kubectl("get", "jobs", "-n", namespace, "-l", "eks-pod-identity/workload="+workload,
		"--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={.items[*].metadata.name}")
	if err != nil {
		t.Fatalf("jobs of %s: %v\n%s", workload, err, out)
	}
	names := strings.Fields(out)
	if len(names) == 0 {
		t.Fatalf("no verification job for %s in %s", workload, namespace)
	}
	job = names[len(names)-1]
	obj := e.kubeObject("job", namespace, job)
	conds, _ := field(obj, "status", "conditions").([]any)
	var failed bool
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == "Failed" && m["status"] == "True" {
			failed = true
		}
	}
	if !failed {
		t.Errorf("job %s is not Failed: %v", job, conds)
	}
	cmd := fmt.Sprintf("kubectl logs job/%s -n %s", job, namespace)
	printed, err := e.shell(cmd)
	t.Logf("verification Job log (%s):\n%s", cmd, printed)
	if err != nil {
		t.Errorf("%s: %v", cmd, err)
	}
	// Every pod of the Job, for the assertions: the pod kubectl picks may
	// be one the deadline stopped before it printed its verdict.
	var all strings.Builder
	for _, p := range e.jobPods(namespace, job) {
		name := field(p, "metadata", "name").(string)
		l, _ := e.kubectl("logs", "-n", namespace, name)
		fmt.Fprintf(&all, "--- %s (%v)\n%s", name, field(p, "status", "phase"), l)
	}
	return job, printed + all.String()
}

// verifyStack is a copy of the dev stack in its own namespace, with its own
// role, no test pod and no agent add-on (one add-on per cluster; the
// stacks share my-eks-cluster).
type verifyStack struct {
	e    *env
	s    auto.Stack
	name string
}

func (e *env) verifyStack(t *testing.T, name string, edit func(w map[string]any)) *verifyStack {
	te := *e
	te.t = t
	s := te.stack(name, "dev", func(cfg config.Map) {
		cfg[config.MustMakeKey(stackconfig.Project, stackconfig.KeyManageAgent)] = config.NewValue("false")
		workloads(t, cfg, func(ws []map[string]any) {
			ws[0]["namespace"] = name
			ws[0]["createNamespace"] = true
			ws[0]["roleName"] = "Verify-" + name
			ws[0]["testPod"] = false
			delete(ws[0], "testPodName")
			edit(ws[0])
		})
	})
	t.Cleanup(func() {
		if resourceCount(t, s) > 1 {
			if _, err := s.Destroy(context.Background()); err != nil {
				t.Errorf("destroy %s: %v", name, err)
			}
		}
		_ = s.Workspace().RemoveStack(context.Background(), name)
	})
	return &verifyStack{e: &te, s: s, name: name}
}

func (v *verifyStack) up() error {
	_, err := v.s.Up(v.e.ctx, upOpts(v.e.t)...)
	return err
}

// reverify changes what the Job's name hashes (the access check, to a
// command the role may run as well) without touching the identity, so the
// next up runs a new verification Job.
func (v *verifyStack) reverify() error {
	v.e.editStack(v.s.Workspace().WorkDir(), v.name, func(cfg config.Map) {
		workloads(v.e.t, cfg, func(ws []map[string]any) { ws[0]["accessCheck"] = "s3api list-buckets" })
	})
	return v.up()
}

// association is the stack's association in moto.
func (v *verifyStack) association() ekstypes.PodIdentityAssociationSummary {
	v.e.t.Helper()
	for _, a := range v.e.associations("us-east-1", "my-eks-cluster") {
		if aws.ToString(a.Namespace) == v.name {
			return a
		}
	}
	v.e.t.Fatalf("no association in namespace %s", v.name)
	return ekstypes.PodIdentityAssociationSummary{}
}

func mustTrust(t *testing.T, mode podidentity.TrustMode, clusterArn, namespace, sa string) string {
	t.Helper()
	doc, err := podidentity.TrustPolicy(mode, clusterArn, namespace, sa)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// wantJobFailure checks that up failed because the Job did, with its reason.
func wantJobFailure(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatal("up succeeded: the verification did not catch the broken identity")
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("up failed without the Job's reason %q:\n%v", reason, err)
	}
	t.Logf("pulumi up failed as it should; its error names the Job's reason %q", reason)
}

// TestVerificationFailures breaks the identity a verification Job proves, in
// ways a real cluster can be broken, and checks that `pulumi up` fails with
// the Job's reason and that the log names what was expected and what was
// seen (scenarios 2 and 3). The stacks run in parallel, each in its own
// namespace.
func TestVerificationFailures(t *testing.T) {
	e := newEnv(t)
	clusterArn := e.registerCluster("my-eks-cluster", "us-east-1")
	account := strings.Split(clusterArn, ":")[4]

	t.Run("2a association points at another role", func(t *testing.T) {
		t.Parallel()
		const name = "verify-assoc"
		// A deadline of 120 s, not 240: the script's minute of retries and
		// its FAIL line fit, and the tier waits half as long for the Job.
		v := e.verifyStack(t, name, func(w map[string]any) { w["verifyDeadlineSeconds"] = 120 })
		if err := v.up(); err != nil {
			t.Fatalf("first up: %v", err)
		}
		// Repoint the association at a decoy role that trusts pods and may
		// list S3, as anyone with EKS access could by hand; the stack does
		// not know (no refresh).
		iamc := v.e.iamClient()
		decoy, err := iamc.CreateRole(v.e.ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String("Verify-decoy"),
			AssumeRolePolicyDocument: aws.String(mustTrust(t, podidentity.TrustOpen, "", "", "")),
		})
		if err != nil {
			t.Fatalf("create the decoy role: %v", err)
		}
		s3read := aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
		t.Cleanup(func() {
			ctx := context.Background()
			_, _ = iamc.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: decoy.Role.RoleName, PolicyArn: s3read})
			_, _ = iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: decoy.Role.RoleName})
		})
		if _, err := iamc.AttachRolePolicy(v.e.ctx, &iam.AttachRolePolicyInput{RoleName: decoy.Role.RoleName, PolicyArn: s3read}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.e.eksIn("us-east-1").UpdatePodIdentityAssociation(v.e.ctx, &eks.UpdatePodIdentityAssociationInput{
			ClusterName: aws.String("my-eks-cluster"), AssociationId: v.association().AssociationId, RoleArn: decoy.Role.Arn}); err != nil {
			t.Fatalf("repoint the association: %v", err)
		}

		err = v.reverify()
		_, logs := v.e.failedVerification(t, name, "pod-id-sa")
		wantJobFailure(t, err, "DeadlineExceeded")
		want := fmt.Sprintf("FAIL identity: expected arn:aws:sts::%s:assumed-role/Verify-%s/eks-*, saw arn:aws:sts::%s:assumed-role/Verify-decoy/eks-", account, name, account)
		if !strings.Contains(logs, want) {
			t.Errorf("no pod of the Job printed %q", want)
		}
	})

	t.Run("2b trust policy scoped to another service account", func(t *testing.T) {
		t.Parallel()
		const name = "verify-trust"
		// The namespace, the service account (external to the stack, as a
		// Helm chart's would be) and an early pod exist before the stack:
		// admitted before the association, the early pod gets nothing.
		te := *e
		te.t = t
		for _, args := range [][]string{
			{"create", "namespace", name},
			{"create", "serviceaccount", "pod-id-sa", "-n", name},
			{"run", "early", "-n", name, "--image=amazon/aws-cli:latest", "--restart=Never",
				"--overrides", `{"apiVersion":"v1","spec":{"serviceAccountName":"pod-id-sa"}}`, "--command", "--", "sleep", "3600"},
		} {
			if out, err := te.kubectl(args...); err != nil {
				t.Fatalf("kubectl %v: %v\n%s", args, err, out)
			}
		}
		t.Cleanup(func() { _, _ = te.kubectl("delete", "namespace", name, "--wait=false") })
		v := te.verifyStack(t, name, func(w map[string]any) {
			w["createNamespace"] = false
			w["externalServiceAccount"] = true
			w["verifyDeadlineSeconds"] = 120
		})
		if err := v.up(); err != nil {
			t.Fatalf("first up: %v", err)
		}
		early := v.e.kubeObject("pod", name, "early")
		vols, _ := field(early, "spec", "volumes").([]any)
		if len(containerEnv(early)) != 0 || slices.ContainsFunc(vols, func(v any) bool { return v.(map[string]any)["name"] == "eks-pod-identity-token" }) {
			t.Errorf("the pod admitted before the association got something injected: env %v, volumes %v", containerEnv(early), vols)
		}
		// Rescope the role's trust to another service account, as an edit
		// in the IAM console would.
		if _, err := v.e.iamClient().UpdateAssumeRolePolicy(v.e.ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName:       aws.String("Verify-" + name),
			PolicyDocument: aws.String(mustTrust(t, podidentity.TrustScoped, clusterArn, name, "someone-else")),
		}); err != nil {
			t.Fatalf("rescope the trust policy: %v", err)
		}

		err := v.reverify()
		_, logs := v.e.failedVerification(t, name, "pod-id-sa")
		wantJobFailure(t, err, "DeadlineExceeded")
		want := fmt.Sprintf("FAIL identity: expected arn:aws:sts::%s:assumed-role/Verify-%s/eks-*, saw error (exit ", account, name)
		if !strings.Contains(logs, want) {
			t.Errorf("no pod of the Job printed %q", want)
		}
		if !regexp.MustCompile(`FAIL identity: .*kubernetes-service-account.*someone-else`).MatchString(logs) {
			t.Errorf("the FAIL line does not say which trust condition refused the pod")
		}
	})

	t.Run("3 role without S3 read", func(t *testing.T) {
		t.Parallel()
		const name = "verify-access"
		// policyArns: [] and an inline policy that grants objects but not
		// the listing of their bucket. The default check, `aws s3 ls`, is
		// refused before anything is created (no policy grants
		// s3:ListAllMyBuckets), so accessCheck lists the bucket: the
		// configuration accepts it, and moto's IAM evaluation of the role's
		// policies refuses it at run time.
		const bucket = "verify-access-bucket"
		v := e.verifyStack(t, name, func(w map[string]any) {
			w["policyArns"] = []any{}
			w["inlinePolicies"] = map[string]any{"objects-only": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`}
			w["accessCheck"] = "s3 ls s3://" + bucket
		})
		v.e.createBucket(bucket, "us-east-1")
		err := v.up()
		_, logs := v.e.failedVerification(t, name, "pod-id-sa")
		wantJobFailure(t, err, "BackoffLimitExceeded")
		for _, want := range []string{
			fmt.Sprintf("PASS identity: arn:aws:sts::%s:assumed-role/Verify-%s/eks-", account, name),
			"FAIL access: expected aws s3 ls s3://" + bucket + " to exit 0, saw exit ",
			"An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied",
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("no pod of the Job printed %q", want)
			}
		}
	})
}

// TestAgentRefusals checks the agent stand-in's answers to requests EKS's
// agent refuses: no token, a token the apiserver rejects, a token for
// another audience, a token not bound to a pod, and a service account
// without an association. The CLI prints these answers in the verification
// log, so they must say why.
func TestAgentRefusals(t *testing.T) {
	e := newEnv(t)
	e.registerCluster("my-eks-cluster", "us-east-1")
	get := func(token string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, mustEnv(t, "ENGINE_AGENT_URL")+"/v1/credentials", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, strings.TrimSpace(b.String())
	}
	token := func(args ...string) string {
		out, err := e.kubectl(append([]string{"create", "token", "default", "-n", "default"}, args...)...)
		if err != nil {
			t.Fatalf("kubectl create token: %v\n%s", err, out)
		}
		return strings.TrimSpace(out)
	}
	// A pod for a pod-bound token of the default service account, which
	// has no association.
	if out, err := e.kubectl("run", "agent-probe", "-n", "default", "--image=amazon/aws-cli:latest",
		"--restart=Never", "--command", "--", "sleep", "3600"); err != nil {
		t.Fatalf("kubectl run: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = e.kubectl("delete", "pod", "agent-probe", "-n", "default", "--wait=false") })
	uid, err := e.kubectl("get", "pod", "agent-probe", "-n", "default", "-o", "jsonpath={.metadata.uid}")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		token string
		code  int
		msg   string
	}{
		{"no token", "", http.StatusBadRequest, "Service account token cannot be empty"},
		{"not a token", "garbage", http.StatusUnauthorized, "not valid for audience pods.eks.amazonaws.com"},
		{"another audience", token("--bound-object-kind", "Pod", "--bound-object-name", "agent-probe", "--bound-object-uid", uid),
			http.StatusUnauthorized, "not valid for audience pods.eks.amazonaws.com"},
		{"not bound to a pod", token("--audience", agent.Audience), http.StatusForbidden, "not bound to a pod"},
		{"no association", token("--audience", agent.Audience, "--bound-object-kind", "Pod", "--bound-object-name", "agent-probe", "--bound-object-uid", uid),
			http.StatusNotFound, "no pod identity association for service account default in namespace default"},
	}
	for _, tc := range cases {
		code, msg := get(tc.token)
		if code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: HTTP %d %q, want %d with %q", tc.name, code, msg, tc.code, tc.msg)
		}
	}
}
