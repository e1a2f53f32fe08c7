package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

const (
	testAccount = "111122223333"
)

// registration is what the engine would receive for one resource: its
// inputs and the options that decide ordering and replacement.
type registration struct {
	Type, Name          string
	Custom              bool
	Inputs              resource.PropertyMap
	Provider            string // provider reference, "<urn>::<id>"
	Parent              string // URN
	Dependencies        []string
	DeleteBeforeReplace bool
	URN                 string
}

// recorder is a pulumi.MockResourceMonitor that answers like AWS and
// Kubernetes would (computed ARNs, IDs, auto-names) and keeps every
// registration for assertions.
type recorder struct {
	mu      sync.Mutex
	regs    []*registration
	calls   []pulumi.MockCallArgs
	cluster resource.PropertyMap
	stack   string
	// associationSalt varies the association IDs the mock hands out, as a
	// re-created association would get a new one.
	associationSalt string
}

func newRecorder(stack string, cluster resource.PropertyMap) *recorder {
	return &recorder{stack: stack, cluster: cluster}
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	reg := &registration{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		reg.Parent = rpc.GetParent()
		reg.Dependencies = rpc.GetDependencies()
		reg.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
	}
	id, outs := answer(args, r.associationSalt)
	r.mu.Lock()
	defer r.mu.Unlock()
	reg.URN = r.urnFor(reg)
	r.regs = append(r.regs, reg)
	return id, outs, nil
}

// answer is what AWS and Kubernetes would return for a new resource: its
// physical ID and its outputs (the inputs plus computed ARNs, IDs and names).
func answer(args pulumi.MockResourceArgs, associationSalt string) (string, resource.PropertyMap) {
	outs := args.Inputs.Copy()
	id := args.Name + "-id"
	switch args.TypeToken {
	case "aws:iam/role:Role":
		name := args.Name + "-" + shortHash(args.Name) // as Pulumi's auto-naming would
		if args.Inputs["name"].HasValue() {
			name = args.Inputs["name"].StringValue()
		}
		path := "/"
		if args.Inputs["path"].HasValue() {
			path = args.Inputs["path"].StringValue()
		}
		outs["name"] = resource.NewStringProperty(name)
		outs["arn"] = resource.NewStringProperty(fmt.Sprintf("arn:aws:iam::%s:role%s%s", testAccount, path, name))
		id = name
	case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		assoc := "a-" + shortHash(associationSalt+args.Name+args.Inputs["namespace"].StringValue()+args.Inputs["serviceAccount"].StringValue())
		outs["associationId"] = resource.NewStringProperty(assoc)
		outs["associationArn"] = resource.NewStringProperty(fmt.Sprintf("arn:aws:eks:us-east-1:%s:podidentityassociation/%s/%s",
			testAccount, args.Inputs["clusterName"].StringValue(), assoc))
		id = args.Inputs["clusterName"].StringValue() + "," + assoc
	case "aws:eks/addon:Addon":
		if !args.Inputs["addonVersion"].HasValue() {
			outs["addonVersion"] = resource.NewStringProperty("v1.3.8-eksbuild.2")
		}
		id = args.Inputs["clusterName"].StringValue() + ":" + args.Inputs["addonName"].StringValue()
	}
	return id, outs
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, args)
	r.mu.Unlock()
	if args.Token == "aws:eks/getCluster:getCluster" {
		if got := args.Args["name"].StringValue(); got != r.cluster["name"].StringValue() {
			return nil, fmt.Errorf("ResourceNotFoundException: No cluster found for name: %s", got)
		}
		return r.cluster, nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// urnFor rebuilds the URN the engine assigns, with the parent's type chain,
// so dependency and parent URNs can be matched to registrations.
func (r *recorder) urnFor(reg *registration) string {
	typ := reg.Type
	if reg.Parent != "" {
		if parent := r.byURN(reg.Parent); parent != nil && parent.Type != "pulumi:pulumi:Stack" {
			typ = parentTypeChain(parent.URN) + "$" + reg.Type
		}
	}
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", r.stack, program.Project, typ, reg.Name)
}

func parentTypeChain(urn string) string {
	parts := strings.Split(urn, "::")
	return parts[len(parts)-2]
}

func (r *recorder) byURN(urn string) *registration {
	for _, reg := range r.regs {
		if reg.URN == urn {
			return reg
		}
	}
	return nil
}

// get returns the registration of a type and name, failing the test if
// there is not exactly one.
func (r *recorder) get(t *testing.T, typ, name string) *registration {
	t.Helper()
	var found *registration
	for _, reg := range r.regs {
		if reg.Type == typ && reg.Name == name {
			if found != nil {
				t.Fatalf("%s %s registered twice", typ, name)
			}
			found = reg
		}
	}
	if found == nil {
		t.Fatalf("%s %s was not registered; have: %v", typ, name, r.names())
	}
	return found
}

func (r *recorder) names() []string {
	var out []string
	for _, reg := range r.regs {
		out = append(out, reg.Type+" "+reg.Name)
	}
	return out
}

// dependsOn reports whether reg's registration lists other as a dependency.
func (r *recorder) dependsOn(reg, other *registration) bool {
	for _, d := range reg.Dependencies {
		if d == other.URN {
			return true
		}
	}
	return false
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:7]
}

// clusterResult is what aws:eks/getCluster answers for a healthy cluster.
func clusterResult(name, version string, autoMode bool) resource.PropertyMap {
	return clusterIn("us-east-1", name, version, autoMode)
}

// clusterIn is clusterResult for a cluster in region, as a stack in that
// region would find it.
func clusterIn(region, name, version string, autoMode bool) resource.PropertyMap {
	return resource.NewPropertyMapFromMap(map[string]any{
		"name":                   name,
		"id":                     name,
		"arn":                    fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, testAccount, name),
		"endpoint":               fmt.Sprintf("https://0123456789ABCDEF.gr7.%s.eks.amazonaws.com", region),
		"version":                version,
		"status":                 "ACTIVE",
		"certificateAuthorities": []any{map[string]any{"data": "LS0tLS1CRUdJTi=="}},
		"computeConfigs":         []any{map[string]any{"enabled": autoMode, "nodePools": []any{}, "nodeRoleArn": ""}},
		"roleArn":                "arn:aws:iam::111122223333:role/eks-cluster",
	})
}

// stackConfig is the configuration Pulumi hands the program for a stack
// file at the project root: the stack's values over the project's defaults,
// loaded with Pulumi's own loaders so the files are tested as they are.
func stackConfig(t testing.TB, stack string) map[string]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("load Pulumi.yaml: %v", err)
	}
	ps, err := workspace.LoadProjectStack(nil, proj, filepath.Join(root, "Pulumi."+stack+".yaml"))
	if err != nil {
		t.Fatalf("load Pulumi.%s.yaml: %v", stack, err)
	}
	out := map[string]string{}
	for k, decl := range proj.Config {
		if decl.Default == nil {
			continue
		}
		out[program.Project+":"+k] = configString(t, decl.Default)
	}
	for k, v := range ps.Config {
		s, err := v.Value(config.NopDecrypter)
		if err != nil {
			t.Fatalf("config %s: %v", k, err)
		}
		out[k.String()] = s
	}
	return out
}

func configString(t testing.TB, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run runs the real program under mocks with the given configuration and
// returns what it registered and exported.
func run(t testing.TB, cfg map[string]string, rec *recorder) (map[string]any, error) {
	t.Helper()
	return runWith(t, cfg, rec.stack, rec)
}

// runWith is run with any mock monitor, such as the benchmarks' timed and
// non-recording ones.
func runWith(t testing.TB, cfg map[string]string, stack string, mocks pulumi.MockResourceMonitor) (map[string]any, error) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PULUMI_CONFIG", string(b))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	exports := map[string]any{}
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		d, err := program.Deploy(ctx)
		if err != nil {
			return err
		}
		for k, v := range d.Exports {
			res, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
			if err != nil {
				return err
			}
			exports[k] = res.Value
		}
		return nil
	}, pulumi.WithMocks(program.Project, stack, mocks))
	return exports, err
}
