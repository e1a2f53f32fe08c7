//go:build engine

package scenarios

// The createCluster path under the real engine: Pulumi.sandbox.yaml creates
// an EKS cluster and a managed node group (in moto, through the pulumi-eks
// stand-in's constructs and the pulumi-aws stand-in), then the walkthrough's
// pod identity on that cluster, whose endpoint and CA moto reports as the
// local kube-apiserver's. The Kubernetes provider uses the kubeconfig the
// program generates from the created cluster (`aws eks get-token`, served by
// tests/engine/fakeaws on this stack's PATH), not a kubeconfig from the test.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

const (
	sandboxCluster = "sandbox-eks"
	sandboxRegion  = "us-east-1"
)

// pointNewClustersAtTheLocalAPIServer makes clusters CreateCluster makes in
// moto report the local apiserver's endpoint and CA.
func (e *env) pointNewClustersAtTheLocalAPIServer(t *testing.T) {
	t.Helper()
	post := func(body map[string]string) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(e.moto+"/moto-ext/cluster-defaults", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("moto cluster defaults: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("moto cluster defaults: HTTP %d", resp.StatusCode)
		}
	}
	post(map[string]string{"endpoint": mustEnv(t, "ENGINE_K8S_ENDPOINT"), "certificateAuthorityData": mustEnv(t, "ENGINE_K8S_CA_B64")})
	t.Cleanup(func() { post(map[string]string{}) })
}

// sandboxStack is the sandbox stack from byte-for-byte copies of the real
// files; unlike e.stack it sets no kubeconfig (the program refuses one with
// createCluster) and puts the `aws eks get-token` stand-in on the PATH of
// the CLI and its plugins.
func (e *env) sandboxStack(t *testing.T, tokenLog string) auto.Stack {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, filepath.Join(e.repo, "Pulumi.yaml"), filepath.Join(dir, "Pulumi.yaml"))
	copyFile(t, filepath.Join(e.repo, "Pulumi.sandbox.yaml"), filepath.Join(dir, "Pulumi.sandbox.yaml"))
	fakeAWS := filepath.Join(e.repo, "tests", "engine", "fakeaws")
	s, err := auto.UpsertStackInlineSource(e.ctx, "sandbox", stackconfig.Project, program.Run,
		auto.WorkDir(dir), auto.SecretsProvider("passphrase"),
		auto.EnvVars(map[string]string{
			"PATH":             fakeAWS + string(os.PathListSeparator) + os.Getenv("PATH"),
			"FAKE_AWS_CLUSTER": sandboxCluster,
			"FAKE_AWS_REGION":  sandboxRegion,
			"FAKE_AWS_LOG":     tokenLog,
		}))
	if err != nil {
		t.Fatalf("create stack sandbox: %v", err)
	}
	return s
}

// opLog is the engine's record of when each resource's step started and
// finished, from its event stream.
type opLog struct {
	events []events.EngineEvent
	done   chan struct{}
}

func watch() (*opLog, chan events.EngineEvent) {
	ch := make(chan events.EngineEvent)
	l := &opLog{done: make(chan struct{})}
	go func() {
		for ev := range ch {
			l.events = append(l.events, ev)
		}
		close(l.done)
	}()
	return l, ch
}

// steps returns the index of the step start and end events of the resource
// of type typ and name, or -1.
func (l *opLog) steps(typ, name string) (start, end int) {
	<-l.done
	start, end = -1, -1
	match := func(urn string) bool {
		return strings.HasSuffix(urn, "::"+name) && (strings.Contains(urn, "::"+typ+"::") || strings.Contains(urn, "$"+typ+"::"))
	}
	for i, ev := range l.events {
		if p := ev.ResourcePreEvent; p != nil && start < 0 && match(p.Metadata.URN) {
			start = i
		}
		if o := ev.ResOutputsEvent; o != nil && match(o.Metadata.URN) {
			end = i
		}
	}
	return start, end
}

// before fails unless a's step ended before b's started.
func (l *opLog) before(t *testing.T, what string, aTyp, aName, bTyp, bName string) {
	t.Helper()
	_, aEnd := l.steps(aTyp, aName)
	bStart, _ := l.steps(bTyp, bName)
	if aEnd < 0 || bStart < 0 {
		t.Errorf("%s: no step for %s %s (end %d) or %s %s (start %d)", what, aTyp, aName, aEnd, bTyp, bName, bStart)
		return
	}
	if aEnd > bStart {
		t.Errorf("%s: %s %s finished at event %d, after %s %s started at event %d", what, aTyp, aName, aEnd, bTyp, bName, bStart)
	}
}

func (e *env) roleByPrefix(prefix string) *string {
	e.t.Helper()
	for _, n := range e.roleNames() {
		if strings.HasPrefix(n, prefix) {
			return aws.String(n)
		}
	}
	return nil
}

func isEKSNotFound(err error) bool {
	var nf *ekstypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// TestSandboxCreatesClusterAndPodIdentity: one `up` makes the cluster, its
// nodes and the verified pod identity on it; a second changes nothing; one
// `destroy` removes all of it, in reverse.
func TestSandboxCreatesClusterAndPodIdentity(t *testing.T) {
	e := newEnv(t)
	e.pointNewClustersAtTheLocalAPIServer(t)
	tokenLog := filepath.Join(t.TempDir(), "aws-calls.log")
	s := e.sandboxStack(t, tokenLog)
	t.Cleanup(func() {
		if resourceCount(t, s) > 1 {
			_, _ = s.Destroy(context.Background())
		}
	})
	client := e.eksIn(sandboxRegion)

	var outputs auto.OutputMap
	t.Run("a up creates the cluster, its nodes and the pod identity", func(t *testing.T) {
		log, ch := watch()
		res, err := s.Up(e.ctx, append(upOpts(t), optup.EventStreams(ch))...)
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		outputs = res.Outputs

		// The cluster, in moto.
		desc, err := client.DescribeCluster(e.ctx, &eks.DescribeClusterInput{Name: aws.String(sandboxCluster)})
		if err != nil {
			t.Fatalf("cluster %s not in moto: %v", sandboxCluster, err)
		}
		c := desc.Cluster
		if got := aws.ToString(c.Version); got != stackconfig.DefaultClusterVersion {
			t.Errorf("cluster version = %s, want %s", got, stackconfig.DefaultClusterVersion)
		}
		if c.Tags["purpose"] != "sandbox" {
			t.Errorf("cluster tags = %v, want purpose=sandbox", c.Tags)
		}
		serviceRole := e.roleByPrefix("cluster-eksRole-role-")
		if serviceRole == nil || !strings.HasSuffix(aws.ToString(c.RoleArn), "/"+aws.ToString(serviceRole)) {
			t.Errorf("cluster role %s is not the service role pulumi-eks makes (%v)", aws.ToString(c.RoleArn), serviceRole)
		} else if got := e.attachedPolicies(aws.ToString(serviceRole)); !slices.Equal(got, []string{"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"}) {
			t.Errorf("service role policies = %v", got)
		}

		// The node group, in moto, with its own role and three policies.
		ngs, err := client.ListNodegroups(e.ctx, &eks.ListNodegroupsInput{ClusterName: aws.String(sandboxCluster)})
		if err != nil || len(ngs.Nodegroups) != 1 {
			t.Fatalf("node groups of %s = %v, %v; want one", sandboxCluster, ngs, err)
		}
		ngDesc, err := client.DescribeNodegroup(e.ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(sandboxCluster), NodegroupName: aws.String(ngs.Nodegroups[0])})
		if err != nil {
			t.Fatal(err)
		}
		ng := ngDesc.Nodegroup
		if ng.AmiType != ekstypes.AMITypesAl2023X8664Standard || !slices.Equal(ng.InstanceTypes, []string{"t3.medium"}) ||
			aws.ToInt32(ng.ScalingConfig.DesiredSize) != 2 || aws.ToInt32(ng.ScalingConfig.MinSize) != 1 || aws.ToInt32(ng.ScalingConfig.MaxSize) != 3 ||
			aws.ToString(ng.Version) != stackconfig.DefaultClusterVersion {
			t.Errorf("node group = ami %s, types %v, scaling %d/%d/%d, version %s; want AL2023_x86_64_STANDARD, [t3.medium], 2/1/3, %s",
				ng.AmiType, ng.InstanceTypes, aws.ToInt32(ng.ScalingConfig.DesiredSize), aws.ToInt32(ng.ScalingConfig.MinSize),
				aws.ToInt32(ng.ScalingConfig.MaxSize), aws.ToString(ng.Version), stackconfig.DefaultClusterVersion)
		}
		nodeRole := e.roleByPrefix("cluster-node-role-")
		if nodeRole == nil || !strings.HasSuffix(aws.ToString(ng.NodeRole), "/"+aws.ToString(nodeRole)) {
			t.Errorf("node group role %s is not the program's node role (%v)", aws.ToString(ng.NodeRole), nodeRole)
		} else {
			got := e.attachedPolicies(aws.ToString(nodeRole))
			slices.Sort(got)
			want := []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}
			if !slices.Equal(got, want) {
				t.Errorf("node role policies = %v, want %v", got, want)
			}
		}

		// The pod identity, on that cluster.
		if got := e.addons(sandboxRegion, sandboxCluster); !slices.Equal(got, []string{"eks-pod-identity-agent"}) {
			t.Errorf("add-ons on %s = %v, want the agent", sandboxCluster, got)
		}
		assocs := e.associations(sandboxRegion, sandboxCluster)
		if len(assocs) != 1 || aws.ToString(assocs[0].Namespace) != "default" || aws.ToString(assocs[0].ServiceAccount) != "pod-id-sa" {
			t.Fatalf("associations on %s = %+v, want default/pod-id-sa", sandboxCluster, assocs)
		}
		w, _ := outputs["workloads"].Value.(map[string]any)["pod-id-sa"].(map[string]any)
		roleName, _ := w["roleName"].(string)
		r := e.role(roleName)
		if r == nil {
			t.Fatalf("workload role %q not in moto", roleName)
		}
		assoc, err := client.DescribePodIdentityAssociation(e.ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String(sandboxCluster), AssociationId: assocs[0].AssociationId})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(assoc.Association.RoleArn) != aws.ToString(r.Arn) {
			t.Errorf("association role %s, want %s", aws.ToString(assoc.Association.RoleArn), aws.ToString(r.Arn))
		}
		wantTrust := decodePolicy(t, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
			"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":[%q],
			"aws:RequestTag/kubernetes-namespace":["default"],"aws:RequestTag/kubernetes-service-account":["pod-id-sa"]}}}]}`, aws.ToString(c.Arn)))
		if got := decodePolicy(t, aws.ToString(r.AssumeRolePolicyDocument)); !reflect.DeepEqual(got, wantTrust) {
			t.Errorf("trust policy = %v\nwant (the created cluster's ARN) %v", got, wantTrust)
		}
		if sa := e.kubeObject("serviceaccount", "default", "pod-id-sa"); sa == nil {
			t.Error("service account pod-id-sa missing")
		}
		if pod := e.kubeObject("pod", "default", "aws-cli-pod-identity"); pod == nil || field(pod, "status", "phase") != "Running" {
			t.Errorf("test pod: %v", field(pod, "status", "phase"))
		}
		jobName, _ := w["verifyJob"].(string)
		if job := e.kubeObject("job", "default", jobName); job == nil || field(job, "status", "succeeded") != float64(1) {
			t.Errorf("verification job %q did not succeed (kwok completes its pod)", jobName)
		}

		// The Kubernetes provider used the kubeconfig generated from the
		// created cluster: its `aws eks get-token` asked for this cluster.
		calls, _ := os.ReadFile(tokenLog)
		if !strings.Contains(string(calls), "--region "+sandboxRegion+" eks get-token --cluster-name "+sandboxCluster+" --output json") {
			t.Errorf("the generated kubeconfig's `aws eks get-token` was not called for %s; calls:\n%s", sandboxCluster, calls)
		}

		// Outputs.
		for k, want := range map[string]any{
			"clusterName":             sandboxCluster,
			"clusterArn":              aws.ToString(c.Arn),
			"clusterVersion":          stackconfig.DefaultClusterVersion,
			"clusterEndpoint":         mustEnv(t, "ENGINE_K8S_ENDPOINT"),
			"nodeGroupName":           ngs.Nodegroups[0],
			"updateKubeconfigCommand": "aws eks update-kubeconfig --region us-east-1 --name sandbox-eks",
		} {
			if got := outputs[k]; got.Value != want || got.Secret {
				t.Errorf("output %s = %v (secret %v), want %v", k, got.Value, got.Secret, want)
			}
		}
		if kc := outputs["kubeconfig"]; !kc.Secret || !strings.Contains(fmt.Sprint(kc.Value), mustEnv(t, "ENGINE_K8S_ENDPOINT")) {
			t.Errorf("kubeconfig output: secret %v, value mentions the cluster endpoint: %v", kc.Secret, strings.Contains(fmt.Sprint(kc.Value), mustEnv(t, "ENGINE_K8S_ENDPOINT")))
		}

		// Order: the pod identity waited for the nodes.
		const ngType, clusterType = "aws:eks/nodeGroup:NodeGroup", "aws:eks/cluster:Cluster"
		log.before(t, "cluster before node group", clusterType, "cluster-eksCluster", ngType, "cluster-nodes")
		for _, dep := range [][2]string{
			{"aws:eks/addon:Addon", "pod-identity-agent"},
			{"aws:eks/podIdentityAssociation:PodIdentityAssociation", "pod-identity-pod-id-sa-association"},
			{"kubernetes:core/v1:ServiceAccount", "pod-identity-pod-id-sa-sa"},
			{"kubernetes:core/v1:Pod", "pod-identity-pod-id-sa-test-pod"},
			{"kubernetes:batch/v1:Job", "pod-identity-pod-id-sa-verify"},
		} {
			log.before(t, "nodes before "+dep[1], ngType, "cluster-nodes", dep[0], dep[1])
		}
	})

	t.Run("b second up changes nothing", func(t *testing.T) {
		expectNoChanges(e.ctx, t, s)
	})

	t.Run("c destroy removes everything, in reverse", func(t *testing.T) {
		roles := []string{}
		for _, prefix := range []string{"cluster-eksRole-role-", "cluster-node-role-"} {
			if r := e.roleByPrefix(prefix); r != nil {
				roles = append(roles, aws.ToString(r))
			}
		}
		if ws, ok := outputs["workloads"].Value.(map[string]any); ok {
			if w, ok := ws["pod-id-sa"].(map[string]any); ok {
				roles = append(roles, fmt.Sprint(w["roleName"]))
			}
		}
		log, ch := watch()
		if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t}), optdestroy.EventStreams(ch)); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		if _, err := client.DescribeCluster(e.ctx, &eks.DescribeClusterInput{Name: aws.String(sandboxCluster)}); !isEKSNotFound(err) {
			t.Errorf("cluster %s still in moto (err %v)", sandboxCluster, err)
		}
		if ngs, err := client.ListNodegroups(e.ctx, &eks.ListNodegroupsInput{ClusterName: aws.String(sandboxCluster)}); !isEKSNotFound(err) {
			var left []string
			if ngs != nil {
				left = ngs.Nodegroups
			}
			t.Errorf("node groups of %s still listed: %v (err %v)", sandboxCluster, left, err)
		}
		if _, err := client.ListPodIdentityAssociations(e.ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandboxCluster)}); !isEKSNotFound(err) {
			t.Errorf("associations still listed for %s (err %v)", sandboxCluster, err)
		}
		for _, r := range roles {
			if e.role(r) != nil {
				t.Errorf("role %s still in moto", r)
			}
		}
		if len(roles) != 3 {
			t.Errorf("found %d of the 3 roles to check: %v", len(roles), roles)
		}
		for _, kind := range []string{"serviceaccounts", "pods", "jobs"} {
			if names := e.kubeNames(kind, "default", "app.kubernetes.io/part-of=eks-pod-identity"); len(names) != 0 {
				t.Errorf("%s left: %v", kind, names)
			}
		}
		if n := resourceCount(t, s); n != 0 {
			t.Errorf("the stack still holds %d resources", n)
		}

		// Reverse order: pod and Job, association, add-on, node group, cluster.
		const ngType, clusterType = "aws:eks/nodeGroup:NodeGroup", "aws:eks/cluster:Cluster"
		log.before(t, "pod before association", "kubernetes:core/v1:Pod", "pod-identity-pod-id-sa-test-pod",
			"aws:eks/podIdentityAssociation:PodIdentityAssociation", "pod-identity-pod-id-sa-association")
		log.before(t, "job before association", "kubernetes:batch/v1:Job", "pod-identity-pod-id-sa-verify",
			"aws:eks/podIdentityAssociation:PodIdentityAssociation", "pod-identity-pod-id-sa-association")
		log.before(t, "association before node group", "aws:eks/podIdentityAssociation:PodIdentityAssociation", "pod-identity-pod-id-sa-association", ngType, "cluster-nodes")
		log.before(t, "add-on before node group", "aws:eks/addon:Addon", "pod-identity-agent", ngType, "cluster-nodes")
		log.before(t, "node group before cluster", ngType, "cluster-nodes", clusterType, "cluster-eksCluster")
	})
}
