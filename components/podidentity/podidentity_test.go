package podidentity_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// These tests drive the component through its Go API, as another program
// would, with no stack configuration in between.

type reg struct {
	typ, name, provider, parent string
	aliases                     int
	importID                    string
	createTimeout               string
	deps                        []string
	inputs                      resource.PropertyMap
}

type recordingMocks struct {
	mu   sync.Mutex
	regs []reg
}

func (m *recordingMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := reg{typ: args.TypeToken, name: args.Name, provider: args.Provider, inputs: args.Inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		r.parent = rpc.GetParent()
		r.aliases = len(rpc.GetAliases())
		r.importID = rpc.GetImportId()
		r.deps = rpc.GetDependencies()
		r.createTimeout = rpc.GetCustomTimeouts().GetCreate()
	}
	m.mu.Lock()
	m.regs = append(m.regs, r)
	m.mu.Unlock()
	outs := args.Inputs.Copy()
	switch args.TypeToken {
	case "aws:iam/role:Role":
		outs["name"] = resource.NewStringProperty(args.Inputs["name"].StringValue())
		outs["arn"] = resource.NewStringProperty("arn:aws:iam::111122223333:role/" + args.Inputs["name"].StringValue())
	case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		outs["associationId"] = resource.NewStringProperty("a-" + args.Name)
		outs["associationArn"] = resource.NewStringProperty("arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-" + args.Name)
	case "aws:eks/addon:Addon":
		outs["addonVersion"] = resource.NewStringProperty("v1.3.8-eksbuild.2")
	}
	return args.Name + "-id", outs, nil
}

func (m *recordingMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func (m *recordingMocks) find(name string) (reg, bool) {
	for _, r := range m.regs {
		if r.name == name {
			return r, true
		}
	}
	return reg{}, false
}

func baseArgs() podidentity.Args {
	return podidentity.Args{
		ClusterName: pulumi.String("c"),
		ClusterArn:  pulumi.String("arn:aws:eks:us-east-1:111122223333:cluster/c"),
		Workloads: []podidentity.Workload{{
			ServiceAccount: "api", Namespace: "apps", CreateNamespace: true, RoleName: "api-role",
			TestPod: true, Verify: true,
		}},
	}
}

func run(t *testing.T, program func(ctx *pulumi.Context) error) *recordingMocks {
	t.Helper()
	mocks := &recordingMocks{}
	if err := pulumi.RunErr(program, pulumi.WithMocks("project", "stack", mocks)); err != nil {
		t.Fatal(err)
	}
	return mocks
}

// The component refuses invalid arguments before registering itself or any
// child, and reports every problem at once with its field path.
func TestNewPodIdentityRefusesBeforeRegistering(t *testing.T) {
	mocks := &recordingMocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := podidentity.NewPodIdentity(ctx, "pi", podidentity.Args{
			ClusterName: pulumi.String("c"),
			Workloads:   []podidentity.Workload{{ServiceAccount: "api", Trust: "loose"}},
		})
		return err
	}, pulumi.WithMocks("project", "stack", mocks))
	for _, want := range []string{
		"podidentity pi: invalid arguments:",
		"clusterArn: is required",
		`workloads[0].trust: "loose" is not a trust mode`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if len(mocks.regs) != 0 {
		t.Errorf("registered %v before refusing", mocks.regs)
	}
}

// Providers passed to the component as options reach every child through
// its parent; none is pinned by the component.
func TestProvidersPassedAsOptionsReachEveryChild(t *testing.T) {
	mocks := run(t, func(ctx *pulumi.Context) error {
		awsProvider, err := aws.NewProvider(ctx, "team-aws", &aws.ProviderArgs{Region: pulumi.String("us-east-1")})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "team-k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = podidentity.NewPodIdentity(ctx, "pi", baseArgs(), pulumi.Providers(awsProvider, k8s))
		return err
	})
	children := 0
	for _, r := range mocks.regs {
		if strings.HasPrefix(r.typ, "pulumi:providers:") || r.typ == podidentity.TypeToken {
			continue
		}
		children++
		want := "team-aws"
		if strings.HasPrefix(r.typ, "kubernetes:") {
			want = "team-k8s"
		}
		if !strings.Contains(r.provider, "::"+want+"::") {
			t.Errorf("%s %s uses provider %q, want %s", r.typ, r.name, r.provider, want)
		}
		if !strings.HasSuffix(r.parent, podidentity.TypeToken+"::pi") {
			t.Errorf("%s %s has parent %q, want the component", r.typ, r.name, r.parent)
		}
	}
	// add-on, role, attachment, association, namespace, ServiceAccount, Job, Pod
	if children != 8 {
		t.Errorf("registered %d children, want 8: %v", children, mocks.regs)
	}
}

// Without a provider for a package, children use the stack's default one,
// which reads every aws: key of the stack itself.
func TestChildrenWithoutProviderUseTheDefault(t *testing.T) {
	mocks := run(t, func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = podidentity.NewPodIdentity(ctx, "pi", baseArgs(), pulumi.Providers(k8s))
		return err
	})
	role, ok := mocks.find("pi-api-role")
	if !ok {
		t.Fatal("no role registered")
	}
	if role.provider != "" {
		t.Errorf("role pinned provider %q; want the default AWS provider", role.provider)
	}
	sa, _ := mocks.find("pi-api-sa")
	if !strings.Contains(sa.provider, "::k8s::") {
		t.Errorf("ServiceAccount uses %q, want the k8s provider passed to the component", sa.provider)
	}
}

// The typed outputs resolve to what the children report.
func TestTypedOutputs(t *testing.T) {
	run(t, func(ctx *pulumi.Context) error {
		pi, err := podidentity.NewPodIdentity(ctx, "pi", baseArgs())
		if err != nil {
			return err
		}
		w := pi.Workloads["api"]
		for name, tc := range map[string]struct {
			out  pulumi.StringOutput
			want string
		}{
			"AgentAddonName":     {pi.AgentAddonName, "eks-pod-identity-agent"},
			"AgentAddonVersion":  {pi.AgentAddonVersion, "v1.3.8-eksbuild.2"},
			"RoleArn":            {w.RoleArn, "arn:aws:iam::111122223333:role/api-role"},
			"RoleName":           {w.RoleName, "api-role"},
			"AssociationId":      {w.AssociationId, "a-pi-api-association"},
			"AssociationArn":     {w.AssociationArn, "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-pi-api-association"},
			"NamespaceName":      {w.NamespaceName, "apps"},
			"ServiceAccountName": {w.ServiceAccountName, "api"},
			"TestPodName":        {w.TestPodName, "aws-cli-api"},
		} {
			got, err := internals.UnsafeAwaitOutput(ctx.Context(), tc.out)
			if err != nil {
				return err
			}
			if got.Value != tc.want {
				t.Errorf("%s = %v, want %q", name, got.Value, tc.want)
			}
		}
		job, err := internals.UnsafeAwaitOutput(ctx.Context(), w.VerifyJobName)
		if err != nil {
			return err
		}
		if s, _ := job.Value.(string); !strings.HasPrefix(s, "verify-api-") {
			t.Errorf("VerifyJobName = %v, want verify-api-<hash>", job.Value)
		}
		return nil
	})
}

// Optional children leave their outputs empty rather than unset, so a
// consumer can export them unconditionally.
func TestOutputsOfSkippedChildrenAreEmpty(t *testing.T) {
	run(t, func(ctx *pulumi.Context) error {
		args := baseArgs()
		args.Agent.Skip = true
		args.Workloads[0].TestPod, args.Workloads[0].Verify = false, false
		pi, err := podidentity.NewPodIdentity(ctx, "pi", args)
		if err != nil {
			return err
		}
		w := pi.Workloads["api"]
		for name, out := range map[string]pulumi.StringOutput{
			"AgentAddonName": pi.AgentAddonName, "AgentAddonVersion": pi.AgentAddonVersion,
			"TestPodName": w.TestPodName, "VerifyJobName": w.VerifyJobName,
		} {
			got, err := internals.UnsafeAwaitOutput(ctx.Context(), out)
			if err != nil {
				return err
			}
			if got.Value != "" {
				t.Errorf("%s = %v, want empty", name, got.Value)
			}
		}
		if pi.Agent != nil || w.TestPod != nil || w.VerifyJob != nil {
			t.Errorf("skipped children were created")
		}
		return nil
	})
}

// A consumer renaming its instance keeps the live URNs with an alias: the
// component passes the caller's options through, and the engine carries the
// alias to every child whose name starts with the component's.
func TestRenamedInstanceCarriesTheAlias(t *testing.T) {
	mocks := run(t, func(ctx *pulumi.Context) error {
		_, err := podidentity.NewPodIdentity(ctx, "platform", baseArgs(),
			pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String("pi")}}))
		return err
	})
	c, ok := mocks.find("platform")
	if !ok || c.aliases != 1 {
		t.Errorf("component registered with %d aliases, want 1 (the old name)", c.aliases)
	}
}

// Whatever runs as the service account is admitted only after every
// permission of the role exists, inline policies included: a pod admitted
// earlier would run its access check without them.
func TestRunnersWaitForInlinePolicies(t *testing.T) {
	mocks := run(t, func(ctx *pulumi.Context) error {
		args := baseArgs()
		args.Workloads[0].InlinePolicies = map[string]string{
			"read": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`,
		}
		_, err := podidentity.NewPodIdentity(ctx, "pi", args)
		return err
	})
	inline, ok := mocks.find("pi-api-inline-read")
	if !ok {
		t.Fatal("no inline policy registered")
	}
	for _, runner := range []string{"pi-api-test-pod", "pi-api-verify"} {
		r, ok := mocks.find(runner)
		if !ok {
			t.Fatalf("%s not registered", runner)
		}
		if !slices.ContainsFunc(r.deps, func(d string) bool { return strings.HasSuffix(d, "::"+inline.name) }) {
			t.Errorf("%s does not wait for the inline policy: depends on %v", runner, r.deps)
		}
	}
}

// Args.DependsOn holds back everything that needs the cluster ready (the
// add-on, the association, the Namespace, the ServiceAccount, the test pod
// and the Job): children do not inherit a component's own DependsOn.
func TestChildrenThatNeedTheClusterWaitForArgsDependsOn(t *testing.T) {
	mocks := run(t, func(ctx *pulumi.Context) error {
		gate, err := corev1.NewConfigMap(ctx, "nodes-ready", &corev1.ConfigMapArgs{})
		if err != nil {
			return err
		}
		args := baseArgs()
		args.DependsOn = []pulumi.Resource{gate}
		_, err = podidentity.NewPodIdentity(ctx, "pi", args)
		return err
	})
	for _, name := range []string{"pi-agent", "pi-api-association", "pi-ns-apps", "pi-api-sa", "pi-api-test-pod", "pi-api-verify"} {
		r, ok := mocks.find(name)
		if !ok {
			t.Errorf("%s not registered (registered: %v)", name, mocks.names())
			continue
		}
		if !slices.ContainsFunc(r.deps, func(d string) bool { return strings.HasSuffix(d, "::nodes-ready") }) {
			t.Errorf("%s does not wait for Args.DependsOn: depends on %v", name, r.deps)
		}
	}
}

func (m *recordingMocks) names() []string {
	var out []string
	for _, r := range m.regs {
		out = append(out, r.name)
	}
	return out
}

// The verification Job's deadline is the workload's, 240 s by default, and
// the provider waits a minute longer, so the Job's own failure ends `up`.
func TestVerifyDeadline(t *testing.T) {
	for _, tc := range []struct {
		set      int
		deadline float64
		timeout  string
	}{{0, 240, "300s"}, {60, 60, "120s"}, {1800, 1800, "1860s"}} {
		args := baseArgs()
		args.Workloads[0].VerifyDeadlineSeconds = tc.set
		mocks := run(t, func(ctx *pulumi.Context) error {
			_, err := podidentity.NewPodIdentity(ctx, "pi", args)
			return err
		})
		var job reg
		for _, r := range mocks.regs {
			if r.typ == "kubernetes:batch/v1:Job" {
				job = r
			}
		}
		if job.typ == "" {
			t.Fatal("no verification Job registered")
		}
		if got := job.inputs["spec"].ObjectValue()["activeDeadlineSeconds"].NumberValue(); got != tc.deadline {
			t.Errorf("verifyDeadlineSeconds %d: activeDeadlineSeconds %v, want %v", tc.set, got, tc.deadline)
		}
		if job.createTimeout != tc.timeout {
			t.Errorf("verifyDeadlineSeconds %d: provider create timeout %q, want %q", tc.set, job.createTimeout, tc.timeout)
		}
	}
}
