package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/stackcheck"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
)

// Every stack file at the project root, including ones added later, goes
// through the whole program under mocks, with the mocked cluster named and
// placed as the stack says: a stack file the program would refuse fails
// `go test ./...`.
func TestEveryStackFileIsAccepted(t *testing.T) {
	stacks, err := stackcheck.Stacks("..")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(stacks, "dev") || !slices.Contains(stacks, "prod") {
		t.Fatalf("stack files found: %v, want dev and prod among them", stacks)
	}
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			noAmbientAWS(t)
			r := stackcheck.Check("..", stack, "")
			if stack == "irsa" {
				// A move from IRSA starts from what exists: checked in the
				// recorded world its README section gives.
				r = checkIrsaStack(t, "irsa")
			}
			var out bytes.Buffer
			if err := r.Write(&out); err != nil {
				t.Fatal(err)
			}
			if !r.OK() {
				t.Fatalf("Pulumi.%s.yaml would not deploy:\n%s", stack, out.String())
			}
			if len(r.Plan.Resources) == 0 {
				t.Fatalf("Pulumi.%s.yaml: accepted but nothing would be created:\n%s", stack, out.String())
			}
			for _, w := range r.Warnings {
				t.Logf("Pulumi.%s.yaml: warning: %s", stack, w)
			}
		})
	}
}

// noAmbientAWS keeps the machine's AWS settings out of a check, as on a
// fresh CI machine: the stack file alone decides.
func noAmbientAWS(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", stackcheck.EnvPassphrase, stackcheck.EnvPassphraseFile} {
		t.Setenv(k, "")
	}
}

// project makes a project directory with the real Pulumi.yaml and the given
// stack files (name -> content).
func project(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	proj, err := os.ReadFile(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"Pulumi.yaml": string(proj)}
	for name, content := range stacks {
		files["Pulumi."+name+".yaml"] = content
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkStack runs the one-stack command on a stack file and returns its
// exit status and output.
func checkStack(t *testing.T, content string, args ...string) (int, string) {
	t.Helper()
	noAmbientAWS(t)
	dir := project(t, map[string]string{"staging": content})
	var stdout, stderr bytes.Buffer
	code := stackcheck.Main(append([]string{"-C", dir}, append(args, "staging")...), &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	return code, stdout.String()
}

// The staging stack a newcomer wrote (the example) as the README
// shows it: accepted, and the plan says what `up` would create.
func TestReadmeStagingStackIsAccepted(t *testing.T) {
	code, out := checkStack(t, readmeStagingStack(t))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"stack staging: accepted. `pulumi up` would create 12 resources",
		"Mocked cluster (the real lookup decides): staging-eks, arn:aws:eks:eu-central-1:111122223333:cluster/staging-eks,",
		"kubernetes:core/v1:Namespace pod-identity-ns-shop",
		"aws:iam/rolePolicy:RolePolicy pod-identity-orders-inline-orders-bucket",
		"  Allow s3:GetObject, s3:PutObject on arn:aws:s3:::staging-orders/*",
		"attach arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy to role pod-identity-metrics-role-",
		"aws:RequestTag/eks-cluster-arn StringEquals arn:aws:eks:eu-central-1:111122223333:cluster/staging-eks",
		"aws:RequestTag/kubernetes-namespace StringEquals shop",
		"aws:RequestTag/kubernetes-service-account StringEquals cloudwatch-agent",
		"cluster staging-eks: service account monitoring/cloudwatch-agent gets role arn:aws:iam::111122223333:role/pod-identity-metrics-role-",
		"`aws logs describe-log-groups --max-items 1` succeeds",
		"the aws CLI's region: eu-central-1",
		"role auto-named by Pulumi: pod-identity-orders-role-<7 random characters>, path /",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "AmazonS3ReadOnlyAccess") {
		t.Errorf("a workload naming its own permissions got the default S3 policy:\n%s", out)
	}
}

// readmeStagingStack is the stack file the README's quick start shows.
func readmeStagingStack(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- checked by tests/stacks_test.go -->"
	_, after, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("README.md has no %q", marker)
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("README.md: no yaml block after the marker")
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok {
		t.Fatal("README.md: unterminated yaml block")
	}
	return block
}

// The same stack as a newcomer first writes it, without access checks:
// least privilege leaves neither role s3:ListAllMyBuckets, so the default
// `aws s3 ls` check cannot pass, and both are refused, each under its key,
// with nothing created and exit status 1.
func TestStackWithTwoMistakesIsRefused(t *testing.T) {
	stack := strings.ReplaceAll(strings.ReplaceAll(readmeStagingStack(t),
		"      accessCheck: s3 ls s3://staging-orders\n", ""),
		"      accessCheck: logs describe-log-groups --max-items 1\n", "")
	code, out := checkStack(t, stack)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"stack staging: REFUSED. `pulumi up` would stop before creating anything:\n",
		`  - eks-pod-identity:workloads[0].accessCheck: is not set, and the default "s3 ls" needs s3:ListAllMyBuckets`,
		`  - eks-pod-identity:workloads[1].accessCheck: is not set, and the default "s3 ls" needs s3:ListAllMyBuckets`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "wave 1") {
		t.Errorf("a refused stack printed a plan:\n%s", out)
	}
}

// Under the engine the program refuses a key of its namespace it does not
// know; under mocks it never sees one, so the check must refuse it too.
func TestMisspeltTopLevelKeyIsRefused(t *testing.T) {
	code, out := checkStack(t, readmeStagingStack(t)+"  eks-pod-identity:manageAgnet: false\n")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "REFUSED") || !strings.Contains(out, "  - eks-pod-identity:manageAgnet: unknown key (did you mean eks-pod-identity:manageAgent?)") {
		t.Errorf("output does not name the misspelt key:\n%s", out)
	}
}

// The mocked cluster sits in the stack's region and that region's
// partition, so partition rules apply as they would at `pulumi up`.
func TestMockedClusterIsPlacedAsTheStackSays(t *testing.T) {
	china := `config:
  aws:region: cn-north-1
  eks-pod-identity:clusterName: beijing
  eks-pod-identity:workloads:
    - serviceAccount: app
      policyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
`
	code, out := checkStack(t, china)
	if code != 1 || !strings.Contains(out, `eks-pod-identity:workloads[0].policyArns[0]: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" is in partition "aws" but the cluster is in "aws-cn"`) {
		t.Errorf("exit %d, want the partition refusal:\n%s", code, out)
	}
	code, out = checkStack(t, strings.ReplaceAll(china, "arn:aws:", "arn:aws-cn:"))
	if code != 0 || !strings.Contains(out, "arn:aws-cn:eks:cn-north-1:111122223333:cluster/beijing") {
		t.Errorf("exit %d, want the cluster in aws-cn:\n%s", code, out)
	}

	// Without aws:region the AWS provider takes AWS_REGION, and so does the
	// mocked cluster.
	noRegion := strings.ReplaceAll(readmeStagingStack(t), "  aws:region: eu-central-1\n", "")
	dir := project(t, map[string]string{"staging": noRegion})
	noAmbientAWS(t)
	if r := stackcheck.Check(dir, "staging", ""); r.OK() || !slices.Contains(r.Refusals, "aws:region: is not set and neither is AWS_REGION: run `pulumi config set aws:region us-east-1`") {
		t.Errorf("no region anywhere: refusals %v", r.Refusals)
	}
	t.Setenv("AWS_REGION", "ap-southeast-2")
	if r := stackcheck.Check(dir, "staging", ""); !r.OK() || r.Cluster.Arn() != "arn:aws:eks:ap-southeast-2:111122223333:cluster/staging-eks" {
		t.Errorf("AWS_REGION: cluster %s, refusals %v", r.Cluster.Arn(), r.Refusals)
	}

	// A region typo is the program's refusal, so the check's too.
	code, out = checkStack(t, strings.ReplaceAll(readmeStagingStack(t), "eu-central-1", "eu-central"))
	if code != 1 || !strings.Contains(out, "REFUSED") || !strings.Contains(out, `  - aws:region: "eu-central" is not a known AWS region (did you mean eu-central-1?)`) {
		t.Errorf("exit %d, want the region refused:\n%s", code, out)
	}

	// The account: the stack's only allowed account, or -account.
	code, out = checkStack(t, readmeStagingStack(t)+"  aws:allowedAccountIds: [\"444455556666\"]\n")
	if code != 0 || !strings.Contains(out, "arn:aws:eks:eu-central-1:444455556666:cluster/staging-eks") || strings.Contains(out, "placeholder") {
		t.Errorf("exit %d, want account 444455556666 and no placeholder note:\n%s", code, out)
	}
	if _, out = checkStack(t, readmeStagingStack(t), "-account", "777788889999"); !strings.Contains(out, "arn:aws:iam::777788889999:role/") {
		t.Errorf("-account did not reach the ARNs:\n%s", out)
	}
}

// An access check in a service none of the role's (known) policies
// reaches is accepted by the program, which cannot see resource policies,
// but the check warns.
func TestAccessCheckInAnUngrantedServiceWarns(t *testing.T) {
	stack := strings.ReplaceAll(readmeStagingStack(t), "accessCheck: logs describe-log-groups --max-items 1", "accessCheck: s3 ls")
	code, out := checkStack(t, stack)
	if code != 0 {
		t.Fatalf("exit %d: a warning must not fail the check:\n%s", code, out)
	}
	want := `  - eks-pod-identity:workloads[1].accessCheck: "s3 ls" calls s3, but the role's policies (CloudWatchAgentServerPolicy) allow actions in cloudwatch, ec2, logs, ssm, xray only`
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

func TestAccessCheckWarning(t *testing.T) {
	const (
		cw     = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
		bucket = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
		all    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`
		listB  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}`
		// Write-only, as an app shipping its logs has: no Describe.
		logsWrite = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:app:*"}]}`
		logsRead  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Describe*","Resource":"*"}]}`
	)
	for _, tc := range []struct {
		name string
		w    podidentity.Workload
		warn bool
	}{
		{"logs with the CloudWatch agent policy", podidentity.Workload{Verify: true, AccessCheck: "logs describe-log-groups", PolicyArns: []string{cw}}, false},
		{"s3 with the CloudWatch agent policy", podidentity.Workload{Verify: true, AccessCheck: "s3 ls", PolicyArns: []string{cw}}, true},
		{"s3api is s3", podidentity.Workload{Verify: true, AccessCheck: "s3api list-buckets", PolicyArns: []string{cw}}, true},
		{"dynamodb with an inline bucket policy", podidentity.Workload{Verify: true, AccessCheck: "dynamodb list-tables", InlinePolicies: map[string]string{"b": bucket}}, true},
		{"listing a bucket with an inline policy that only reads its objects", podidentity.Workload{Verify: true, AccessCheck: "s3 ls s3://b", InlinePolicies: map[string]string{"b": bucket}}, true},
		{"listing a bucket the inline policy lists", podidentity.Workload{Verify: true, AccessCheck: "s3 ls s3://b/logs/", InlinePolicies: map[string]string{"l": listB}}, false},
		{"listing another bucket", podidentity.Workload{Verify: true, AccessCheck: "s3api list-objects-v2 --bucket other --max-items 1", InlinePolicies: map[string]string{"l": listB}}, true},
		{"logs read on a logs-write-only inline policy", podidentity.Workload{Verify: true, AccessCheck: "logs describe-log-groups --limit 1", InlinePolicies: map[string]string{"w": logsWrite}}, true},
		{"logs read allowed inline", podidentity.Workload{Verify: true, AccessCheck: "logs describe-log-groups --limit 1", InlinePolicies: map[string]string{"r": logsRead}}, false},
		{"an inline NotAction reaches every service", podidentity.Workload{Verify: true, AccessCheck: "sqs list-queues", InlinePolicies: map[string]string{"a": all}}, false},
		{"ReadOnlyAccess reaches every service", podidentity.Workload{Verify: true, AccessCheck: "sqs list-queues", PolicyArns: []string{"arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"}}, false},
		{"a customer managed policy is unknown", podidentity.Workload{Verify: true, AccessCheck: "sqs list-queues", PolicyArns: []string{cw, "arn:aws:iam::111122223333:policy/queues"}}, false},
		{"an AWS managed policy not in the list is unknown", podidentity.Workload{Verify: true, AccessCheck: "sqs list-queues", PolicyArns: []string{"arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess"}}, false},
		{"an unknown command", podidentity.Workload{Verify: true, AccessCheck: "mediaconvert list-queues", PolicyArns: []string{cw}}, false},
		{"sts needs no permission", podidentity.Workload{Verify: true, AccessCheck: "sts get-caller-identity", PolicyArns: []string{cw}}, false},
		{"check off", podidentity.Workload{Verify: true, AccessCheck: "off", PolicyArns: []string{cw}}, false},
		{"verification off", podidentity.Workload{Verify: false, AccessCheck: "s3 ls", PolicyArns: []string{cw}}, false},
		{"no policy at all", podidentity.Workload{Verify: true, AccessCheck: "s3 ls", PolicyArns: []string{}}, true},
		{"the check runs as a target role, whose policies are elsewhere", podidentity.Workload{Verify: true, AccessCheck: "s3 ls", PolicyArns: []string{}, TargetRoleArn: "arn:aws:iam::444455556666:role/r"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stackcheck.AccessCheckWarning(tc.w, tc.w.InlinePolicies, "aws"); (got != "") != tc.warn {
				t.Errorf("warning %q, want one: %v", got, tc.warn)
			}
		})
	}
}

// Secrets: with the stack's passphrase they are decrypted and checked;
// without it a placeholder stands in and the report says so.
func TestSecretsDecryptedWithThePassphraseOrNoted(t *testing.T) {
	salt := []byte("0123456789abcdef")
	crypter := config.NewSymmetricCrypterFromPassphrase("correct horse", salt)
	check, err := crypter.EncryptValue(context.Background(), "pulumi")
	if err != nil {
		t.Fatal(err)
	}
	secretKubeconfig, err := crypter.EncryptValue(context.Background(), "/no/such/kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	stack := "encryptionsalt: v1:" + base64.StdEncoding.EncodeToString(salt) + ":" + check + "\n" + readmeStagingStack(t) +
		"  eks-pod-identity:kubeconfig:\n    secure: " + secretKubeconfig + "\n"
	dir := project(t, map[string]string{"staging": stack})
	noAmbientAWS(t)

	r := stackcheck.Check(dir, "staging", "")
	if !r.OK() || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "eks-pod-identity:kubeconfig (set PULUMI_CONFIG_PASSPHRASE to check its value)") {
		t.Errorf("without the passphrase: refusals %v, notes %v", r.Refusals, r.Notes)
	}

	t.Setenv(stackcheck.EnvPassphrase, "correct horse")
	r = stackcheck.Check(dir, "staging", "")
	want := "eks-pod-identity:kubeconfig: is neither kubeconfig content nor a readable file (value not shown: it may hold credentials): no such file or directory"
	if !slices.Contains(r.Refusals, want) || len(r.Notes) != 0 {
		t.Errorf("with the passphrase the secret is checked: refusals %v, notes %v", r.Refusals, r.Notes)
	}

	t.Setenv(stackcheck.EnvPassphrase, "wrong")
	r = stackcheck.Check(dir, "staging", "")
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "PULUMI_CONFIG_PASSPHRASE does not decrypt this stack's secrets") {
		t.Errorf("a wrong passphrase: notes %v", r.Notes)
	}
}

// The plan's waves are the dependency graph's: nothing runs before what it
// waits for, and the test pod comes after the verification Job.
func TestPlanWavesFollowDependencies(t *testing.T) {
	noAmbientAWS(t)
	r := stackcheck.Check("..", "dev", "")
	if !r.OK() {
		t.Fatalf("dev refused: %v", r.Refusals)
	}
	wave := map[string]int{}
	for _, s := range r.Plan.Resources {
		wave[s.Name] = s.Wave
	}
	for _, s := range r.Plan.Resources {
		for _, d := range s.WaitsFor {
			if wave[d] >= s.Wave {
				t.Errorf("%s (wave %d) waits for %s (wave %d)", s.Name, s.Wave, d, wave[d])
			}
		}
	}
	want := map[string]int{
		"pod-identity-agent": 1, "pod-identity-pod-id-sa-role": 1, "pod-identity-pod-id-sa-sa": 1,
		"pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess": 2, "pod-identity-pod-id-sa-association": 2,
		"pod-identity-pod-id-sa-verify": 3, "pod-identity-pod-id-sa-test-pod": 4,
	}
	for name, w := range want {
		if wave[name] != w {
			t.Errorf("%s in wave %d, want %d", name, wave[name], w)
		}
	}
	if len(wave) != len(want) {
		t.Errorf("plan has %v, want %v", wave, want)
	}
}

// The samples of check-stack output in docs/check-stack.md are what the
// command prints:
// the plan excerpt line for line in order (its "..." marks the cut), the
// refusal in full.
func TestReadmeCheckSamplesAreTheCommandsOutput(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "check-stack.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	var samples []string
	for rest := section; ; {
		var block string
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```\nstack "); !ok {
			break
		}
		block, rest, _ = strings.Cut(rest, "```")
		samples = append(samples, "stack "+block)
	}
	if len(samples) != 2 {
		t.Fatalf("want the plan and the refusal samples in the README's check section, found %d", len(samples))
	}

	_, plan := checkStack(t, readmeStagingStack(t))
	// The stack's read of its own ID is no component (nor a resource).
	if n := strings.Count(plan, "\nComponent: "); n != 1 || strings.Contains(plan, "StackReference") {
		t.Errorf("the plan lists %d components, or the stack's read of its own ID:\n%s", n, plan)
	}
	next := 0
	lines := strings.Split(plan, "\n")
	for _, want := range strings.Split(strings.TrimSpace(samples[0]), "\n") {
		if want == "..." {
			continue
		}
		for next < len(lines) && lines[next] != want {
			next++
		}
		if next == len(lines) {
			t.Fatalf("README plan sample line not in the output (in order):\n%s\noutput:\n%s", want, plan)
		}
		next++
	}

	stack := strings.ReplaceAll(strings.ReplaceAll(readmeStagingStack(t),
		"      accessCheck: s3 ls s3://staging-orders\n", ""),
		"      accessCheck: logs describe-log-groups --max-items 1\n", "")
	_, refused := checkStack(t, stack)
	if strings.TrimSpace(refused) != strings.TrimSpace(samples[1]) {
		t.Errorf("README refusal sample\n%s\nis not the command's output\n%s", samples[1], refused)
	}
}

// The offline check plans a createCluster stack: pulumi-eks's components
// are steps of their own, the pod identity's add-on, association and
// Kubernetes resources come after the node group, and the kubeconfig
// output is shown as the secret it is.
func TestCheckPlansTheSandboxStack(t *testing.T) {
	noAmbientAWS(t)
	r := stackcheck.Check("..", "sandbox", "")
	if !r.OK() {
		t.Fatalf("refused: %v", r.Refusals)
	}
	if !r.Cluster.Created || r.Cluster.Name != "sandbox-eks" {
		t.Errorf("cluster = %+v, want the created sandbox-eks", r.Cluster)
	}
	wave := map[string]int{}
	for _, s := range r.Plan.Resources {
		wave[s.Type+" "+s.Name] = s.Wave
	}
	nodes := wave["eks:index:ManagedNodeGroup cluster-nodes"]
	if cluster := wave["eks:index:Cluster cluster"]; cluster == 0 || nodes <= cluster {
		t.Fatalf("cluster in wave %d, node group in wave %d; want both planned, the nodes after the cluster", cluster, nodes)
	}
	for _, after := range []string{
		"aws:eks/addon:Addon pod-identity-agent",
		"aws:eks/podIdentityAssociation:PodIdentityAssociation pod-identity-pod-id-sa-association",
		"kubernetes:core/v1:ServiceAccount pod-identity-pod-id-sa-sa",
		"kubernetes:batch/v1:Job pod-identity-pod-id-sa-verify",
		"kubernetes:core/v1:Pod pod-identity-pod-id-sa-test-pod",
	} {
		if w := wave[after]; w <= nodes {
			t.Errorf("%s in wave %d, not after the node group (wave %d)", after, w, nodes)
		}
	}
	if got := r.Exports["kubeconfig"]; got != "[secret]" {
		t.Errorf("kubeconfig output shown as %v, want [secret]", got)
	}
}

// userKubeconfigStack is the README's staging stack with a kubeconfig of
// its own whose exec arguments hold a credential.
func userKubeconfigStack(t *testing.T) (stack, secret string) {
	t.Helper()
	secret = "s3cr3t-client-value-7f9a"
	kubeconfig := `{"apiVersion":"v1","kind":"Config","current-context":"c","clusters":[{"name":"c","cluster":{"server":"https://example.invalid"}}],` +
		`"contexts":[{"name":"c","context":{"cluster":"c","user":"u"}}],` +
		`"users":[{"name":"u","user":{"exec":{"apiVersion":"client.authentication.k8s.io/v1beta1","command":"kubelogin","args":["get-token","--client-id","app","--client-secret","` + secret + `"]}}}]}`
	return readmeStagingStack(t) + "  eks-pod-identity:kubeconfig: '" + kubeconfig + "'\n", secret
}

// A kubeconfig of the stack's own is never echoed: its exec command is
// named, its arguments (which may hold a client secret) are not.
func TestCheckNeverEchoesAKubeconfigCredential(t *testing.T) {
	stack, secret := userKubeconfigStack(t)
	code, out := checkStack(t, stack)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, "--client-secret") {
		t.Errorf("the output echoes the kubeconfig's exec arguments:\n%s", out)
	}
	want := "kubeconfig: from eks-pod-identity:kubeconfig (a secret in state), token from an exec of kubelogin (arguments not shown: they may hold credentials)"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// A first `up` replaces nothing: a delete-before-replace resource is
// marked with what a later replacement would do, not as replaced.
func TestPlanDoesNotClaimAReplacement(t *testing.T) {
	_, out := checkStack(t, readmeStagingStack(t))
	if strings.Contains(out, "replaced") {
		t.Errorf("a plan of a first `up` speaks of replacing:\n%s", out)
	}
	want := "  aws:eks/podIdentityAssociation:PodIdentityAssociation pod-identity-orders-association  (on replacement: delete first)\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// A stack name without a file is answered with the stacks there are.
func TestMissingStackListsTheStacks(t *testing.T) {
	noAmbientAWS(t)
	dir := project(t, map[string]string{"staging": readmeStagingStack(t), "dev": readmeStagingStack(t)})
	var stdout, stderr bytes.Buffer
	code := stackcheck.Main([]string{"-C", dir, "nosuch"}, &stdout, &stderr)
	want := "no stack file Pulumi.nosuch.yaml in " + dir + "; its stacks: dev, staging"
	if code == 0 || !strings.Contains(stdout.String()+stderr.String(), want) {
		t.Errorf("exit %d, want %q in:\n%s%s", code, want, stdout.String(), stderr.String())
	}
}

// A created cluster's plan says that pulumi-eks's components count as one
// each, their own resources unseen under mocks.
func TestSandboxPlanSaysPulumiEksChildrenAreNotCounted(t *testing.T) {
	noAmbientAWS(t)
	var stdout, stderr bytes.Buffer
	if code := stackcheck.Main([]string{"-C", "..", "sandbox"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"2 of them are pulumi-eks components (eks:index:Cluster cluster, eks:index:ManagedNodeGroup cluster-nodes), each counted as one: the resources inside them",
		"are created by pulumi-eks and are not counted or shown, as the mocks cannot see them.\n",
		"  eks:index:Cluster cluster  (pulumi-eks component: its own resources are not shown)\n",
		"  eks:index:ManagedNodeGroup cluster-nodes  (pulumi-eks component: its own resources are not shown)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// warnedStack is the README's staging stack with an access check the
// metrics role's policies do not reach: accepted, with one warning.
func warnedStack(t *testing.T) string {
	return strings.ReplaceAll(readmeStagingStack(t), "accessCheck: logs describe-log-groups --max-items 1", "accessCheck: s3 ls")
}

// Warnings come before the plan, not after its hundred lines.
func TestWarningsComeBeforeThePlan(t *testing.T) {
	_, out := checkStack(t, warnedStack(t))
	warn, plan := strings.Index(out, "\nWarnings ("), strings.Index(out, "\nwave 1\n")
	if warn < 0 || plan < 0 || warn > plan {
		t.Errorf("warnings at %d, plan at %d; want the warnings first:\n%s", warn, plan, out)
	}
}

// -strict: a warning fails the run with 2, unless a refusal gives 1.
func TestStrictFailsOnAWarning(t *testing.T) {
	if code, out := checkStack(t, warnedStack(t)); code != 0 {
		t.Errorf("without -strict a warning gave exit %d:\n%s", code, out)
	}
	if code, out := checkStack(t, warnedStack(t), "-strict"); code != 2 {
		t.Errorf("with -strict a warning gave exit %d, want 2:\n%s", code, out)
	}
	if code, out := checkStack(t, readmeStagingStack(t), "--strict"); code != 0 {
		t.Errorf("with --strict and no warning: exit %d:\n%s", code, out)
	}
	refused := &stackcheck.Report{Stack: "a", Refusals: []string{"no"}}
	warned := &stackcheck.Report{Stack: "b", Warnings: []string{"hm"}}
	for _, order := range [][]*stackcheck.Report{{refused, warned}, {warned, refused}} {
		if got := stackcheck.ExitStatus(order, true); got != 1 {
			t.Errorf("a refusal and a warning with -strict: exit %d, want 1", got)
		}
	}
}

// checkJSON runs check-stack --json and decodes its document.
func checkJSON(t *testing.T, stack string, args ...string) (int, string, map[string]any) {
	t.Helper()
	code, out := checkStack(t, stack, append([]string{"-json"}, args...)...)
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	return code, out, doc
}

// --json: the report as one document of a stable schema.
func TestJSONReport(t *testing.T) {
	code, out, doc := checkJSON(t, warnedStack(t))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if doc["version"] != 1.0 || doc["accepted"] != true {
		t.Errorf("version %v, accepted %v:\n%s", doc["version"], doc["accepted"], out)
	}
	stacks, _ := doc["stacks"].([]any)
	if len(stacks) != 1 {
		t.Fatalf("stacks: %v", doc["stacks"])
	}
	s := stacks[0].(map[string]any)
	if s["stack"] != "staging" || s["accepted"] != true || fmt.Sprint(s["refusals"]) != "[]" {
		t.Errorf("stack %v accepted %v refusals %v", s["stack"], s["accepted"], s["refusals"])
	}
	warnings, _ := s["warnings"].([]any)
	if len(warnings) != 1 || !strings.HasPrefix(fmt.Sprint(warnings[0]), `eks-pod-identity:workloads[1].accessCheck: "s3 ls" calls s3`) {
		t.Errorf("warnings %v", s["warnings"])
	}
	cluster, _ := s["cluster"].(map[string]any)
	if cluster["arn"] != "arn:aws:eks:eu-central-1:111122223333:cluster/staging-eks" || cluster["placeholderAccount"] != true {
		t.Errorf("cluster %v", cluster)
	}
	plan, _ := s["plan"].(map[string]any)
	resources, _ := plan["resources"].([]any)
	if len(resources) != 12 {
		t.Fatalf("%d resources, want 12:\n%s", len(resources), out)
	}
	var found bool
	for _, r := range resources {
		r := r.(map[string]any)
		if r["type"] == "aws:eks/podIdentityAssociation:PodIdentityAssociation" && r["name"] == "pod-identity-orders-association" {
			found = true
			if r["wave"] != 2.0 || fmt.Sprint(r["waitsFor"]) != "[pod-identity-orders-role]" || r["deleteBeforeReplace"] != true ||
				!strings.HasPrefix(fmt.Sprint(r["inputs"]), "[cluster staging-eks: service account shop/orders gets role arn:aws:iam::111122223333:role/") {
				t.Errorf("association %v", r)
			}
		}
	}
	if !found {
		t.Errorf("no association in the plan:\n%s", out)
	}

	// A refused stack: accepted false, its refusals, no plan, exit 1.
	code, out, doc = checkJSON(t, strings.ReplaceAll(readmeStagingStack(t), "eu-central-1", "eu-central-1x"))
	s = doc["stacks"].([]any)[0].(map[string]any)
	if code != 1 || doc["accepted"] != false || s["accepted"] != false || s["plan"] != nil ||
		!strings.Contains(fmt.Sprint(s["refusals"]), `aws:region: "eu-central-1x" is not a known AWS region (did you mean eu-central-1?)`) {
		t.Errorf("refused stack: exit %d:\n%s", code, out)
	}
	// -strict applies to -json as well.
	if code, _, _ := checkJSON(t, warnedStack(t), "-strict"); code != 2 {
		t.Errorf("-json -strict with a warning: exit %d, want 2", code)
	}
}

// The JSON report echoes no kubeconfig credential either.
func TestJSONNeverEchoesAKubeconfigCredential(t *testing.T) {
	stack, secret := userKubeconfigStack(t)
	code, out, _ := checkJSON(t, stack)
	if code != 0 || strings.Contains(out, secret) || strings.Contains(out, "--client-secret") {
		t.Errorf("exit %d; the JSON report must not hold the kubeconfig's exec arguments:\n%s", code, out)
	}
}

// A preset workload's access check is held to the preset's own inline
// documents, rendered for the stack's cluster: mountpoint-s3 lists only
// the buckets it names.
func TestPresetAccessCheckIsJudgedByItsDocuments(t *testing.T) {
	stack := `config:
  aws:region: eu-central-1
  eks-pod-identity:clusterName: staging-eks
  eks-pod-identity:manageAgent: false
  eks-pod-identity:workloads:
    - preset: mountpoint-s3
      bucketArns: ["arn:aws:s3:::staging-datasets"]
      verify: true
      accessCheck: s3api list-objects-v2 --bucket staging-other --max-items 1
`
	code, out := checkStack(t, stack)
	if code != 0 {
		t.Fatalf("exit %d: a warning must not fail the check:\n%s", code, out)
	}
	want := `eks-pod-identity:workloads[0].accessCheck: "s3api list-objects-v2 --bucket staging-other --max-items 1" needs s3:ListBucket on arn:aws:s3:::staging-other, which none of the role's policies (inline `
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	code, out = checkStack(t, strings.ReplaceAll(stack, "--bucket staging-other", "--bucket staging-datasets"))
	if code != 0 || strings.Contains(out, "accessCheck:") {
		t.Errorf("exit %d; the preset's own bucket warned:\n%s", code, out)
	}
}

// checkIrsaStack checks an IRSA stack file in examples/irsa/existing.json,
// a role on IRSA for default/pod-id-sa and another service account.
func checkIrsaStack(t *testing.T, stack string) *stackcheck.Report {
	t.Helper()
	b, err := os.ReadFile("../examples/irsa/existing.json")
	if err != nil {
		t.Fatal(err)
	}
	world, err := discover.ParseRecorded(b)
	if err != nil {
		t.Fatal(err)
	}
	return stackcheck.CheckExisting("..", stack, "", world)
}
