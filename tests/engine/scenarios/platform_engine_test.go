//go:build engine

package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
)

// TestPlatformStackLifecycle runs Pulumi.platform.yaml, one workload per
// preset: up, a no-change preview, destroy. Before anything is created the
// program looks up each preset's EKS add-on through the stand-in's getAddon
// (none is installed in moto, so none conflicts).
func TestPlatformStackLifecycle(t *testing.T) {
	e := newEnv(t)
	const cluster, region = "platform-eks", "us-west-2"
	clusterArn := e.registerCluster(cluster, region)

	// The add-ons and charts own the presets' service accounts, and the
	// verification Jobs run as them: kubectl creates them here as the
	// add-ons would, outside the stack, and removes them at the end.
	var created []string
	for _, p := range presets.All() {
		if p.Namespace != "kube-system" && e.kubeObject("namespace", "", p.Namespace) == nil {
			if out, err := e.kubectl("create", "namespace", p.Namespace); err != nil {
				t.Fatalf("create namespace %s: %v\n%s", p.Namespace, err, out)
			}
			created = append(created, "namespace/"+p.Namespace)
		}
		if out, err := e.kubectl("create", "serviceaccount", p.ServiceAccount, "-n", p.Namespace); err != nil {
			t.Fatalf("create service account %s/%s: %v\n%s", p.Namespace, p.ServiceAccount, err, out)
		}
		created = append(created, p.Namespace+"/serviceaccount/"+p.ServiceAccount)
	}
	t.Cleanup(func() {
		for _, c := range slices.Backward(created) {
			if ns, sa, ok := strings.Cut(c, "/serviceaccount/"); ok {
				_, _ = e.kubectl("delete", "serviceaccount", sa, "-n", ns, "--ignore-not-found", "--wait=false")
			} else {
				_, _ = e.kubectl("delete", c, "--ignore-not-found", "--wait=false")
			}
		}
	})

	// mountpoint-s3's access check lists the stack's bucket, which the
	// verification runs against moto for real: the bucket must exist.
	e.createBucket("platform-eks-datasets", region)

	s := e.stack("platform", "platform", nil)
	t.Cleanup(func() {
		if resourceCount(t, s) > 1 {
			_, _ = s.Destroy(e.ctx)
		}
	})

	var roles []string
	t.Run("up creates every preset's identity", func(t *testing.T) {
		res, err := s.Up(e.ctx, upOpts(t)...)
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		outs, _ := res.Outputs["workloads"].Value.(map[string]any)
		var pairs []string
		for _, a := range e.associations(region, cluster) {
			pairs = append(pairs, aws.ToString(a.Namespace)+"/"+aws.ToString(a.ServiceAccount))
		}
		var wantPairs []string
		for _, p := range presets.All() {
			wantPairs = append(wantPairs, p.Namespace+"/"+p.ServiceAccount)
			w, ok := outs[p.Name].(map[string]any)
			if !ok {
				t.Fatalf("no outputs for workload %s: %v", p.Name, outs)
			}
			roleName, _ := w["roleName"].(string)
			roles = append(roles, roleName)
			r := e.role(roleName)
			if r == nil {
				t.Fatalf("%s: role %s not in moto", p.Name, roleName)
			}
			wantTrust := decodePolicy(t, fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
				"Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
				"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":[%q],
				"aws:RequestTag/kubernetes-namespace":[%q],"aws:RequestTag/kubernetes-service-account":[%q]}}}]}`,
				clusterArn, p.Namespace, p.ServiceAccount))
			if got := decodePolicy(t, aws.ToString(r.AssumeRolePolicyDocument)); !reflect.DeepEqual(got, wantTrust) {
				t.Errorf("%s trust policy in moto = %v\nwant %v", p.Name, got, wantTrust)
			}
			// moto attaches only policies it knows (MOTO_IAM_LOAD_MANAGED_POLICIES):
			// the managed ARNs, paths included, exist as named.
			if got, want := e.attachedPolicies(roleName), p.PolicyArns("aws"); !sameSet(got, want) {
				t.Errorf("%s attached policies = %v, want %v", p.Name, got, want)
			}
			for _, d := range p.Documents {
				got, err := e.iamClient().GetRolePolicy(e.ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(d.Name)})
				if err != nil {
					t.Fatalf("%s inline policy %s: %v", p.Name, d.Name, err)
				}
				want, err := d.Render(presets.Target{Partition: "aws", ClusterName: cluster, Inputs: platformInputs(p.Name)})
				if err != nil {
					t.Fatal(err)
				}
				if g, w := decodePolicy(t, aws.ToString(got.PolicyDocument)), decodePolicy(t, want); !reflect.DeepEqual(g, w) {
					t.Errorf("%s inline policy in moto = %v\nwant %v", p.Name, g, w)
				}
			}
			if e.kubeObject("serviceaccount", p.Namespace, p.ServiceAccount) == nil {
				t.Errorf("%s: service account %s/%s gone: the stack must leave the add-on's alone", p.Name, p.Namespace, p.ServiceAccount)
			}
			jobName, _ := w["verifyJob"].(string)
			job := e.kubeObject("job", p.Namespace, jobName)
			if job == nil {
				t.Fatalf("%s: verification job %q missing", p.Name, jobName)
			}
			// kwok completes the pod without running the script: this proves
			// the Job was admitted as the add-on's service account and awaited.
			if got := field(job, "status", "succeeded"); got != float64(1) {
				t.Errorf("%s job succeeded = %v, want 1", p.Name, got)
			}
			if got := field(job, "spec", "template", "spec", "serviceAccountName"); got != p.ServiceAccount {
				t.Errorf("%s job runs as %v", p.Name, got)
			}
			env := map[string]any{}
			for _, v := range field(job, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["env"].([]any) {
				env[v.(map[string]any)["name"].(string)] = v.(map[string]any)["value"]
			}
			if env["AWS_REGION"] != region || env["AWS_DEFAULT_REGION"] != region || env["EXPECTED_ROLE_ARN"] != aws.ToString(r.Arn) {
				t.Errorf("%s job env = %v, want region %s and role %s", p.Name, env, region, aws.ToString(r.Arn))
			}
			if env["ACCESS_CHECK"] != p.AccessCheck(platformInputs(p.Name)) {
				t.Errorf("%s ACCESS_CHECK = %v", p.Name, env["ACCESS_CHECK"])
			}
		}
		if !sameSet(pairs, wantPairs) {
			t.Errorf("associations = %v, want %v", pairs, wantPairs)
		}
		if got := e.addons(region, cluster); !slices.Equal(got, []string{"eks-pod-identity-agent"}) {
			t.Errorf("add-ons = %v, want only the agent", got)
		}
	})

	t.Run("second up changes nothing", func(t *testing.T) {
		expectNoChanges(e.ctx, t, s)
	})

	t.Run("destroy leaves nothing of the stack", func(t *testing.T) {
		if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t})); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		for _, name := range roles {
			if e.role(name) != nil {
				t.Errorf("role %s left behind", name)
			}
		}
		if a := e.associations(region, cluster); len(a) != 0 {
			t.Errorf("associations left: %+v", a)
		}
		if a := e.addons(region, cluster); len(a) != 0 {
			t.Errorf("add-ons left: %v", a)
		}
		for _, p := range presets.All() {
			if jobs := e.kubeNames("jobs", p.Namespace, "app.kubernetes.io/part-of=eks-pod-identity"); len(jobs) != 0 {
				t.Errorf("jobs left in %s: %v", p.Namespace, jobs)
			}
			// Never the stack's: still there after destroy.
			if e.kubeObject("serviceaccount", p.Namespace, p.ServiceAccount) == nil {
				t.Errorf("destroy removed %s/%s, which the add-on owns", p.Namespace, p.ServiceAccount)
			}
		}
		if n := resourceCount(t, s); n != 0 {
			t.Errorf("the stack still holds %d resources", n)
		}
	})
}

// platformInputs are Pulumi.platform.yaml's preset inputs.
func platformInputs(preset string) presets.Inputs {
	switch preset {
	case "external-dns":
		return presets.Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z0PLATFORMEXAMPLE0001"}}
	case "cert-manager":
		return presets.Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z0PLATFORMEXAMPLE0001", "arn:aws:route53:::hostedzone/Z0PLATFORMEXAMPLE0002"}}
	case "mountpoint-s3":
		return presets.Inputs{BucketArns: []string{"arn:aws:s3:::platform-eks-datasets"}}
	}
	return presets.Inputs{}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
