package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/eks-pod-identity/stackcheck"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	testAccount = "111122223333"
	// testStackID is the mocked stacks' ID: the ID the mocks give their
	// marker provider (stackcheck.Answer: name + "-id").
	testStackID = "stack-marker-id"
)

// marker is the stack's marker tag for a mocked stack with testStackID.
func marker(stack string) string {
	return stackconfig.Marker("organization/"+stackconfig.Project+"/"+stack, testStackID)
}

// registration is what the engine would receive for one resource.
type registration = stackcheck.Registration

// testCluster places the tests' mocked AWS answers: the walkthrough's
// region and AWS's documentation account.
var testCluster = stackcheck.Cluster{Region: "us-east-1", Partition: "aws", Account: testAccount}

// recorder is a pulumi.MockResourceMonitor that answers like AWS and
// Kubernetes would (stackcheck.Answer: computed ARNs, IDs, auto-names) and
// keeps every registration for assertions.
type recorder struct {
	mu      sync.Mutex
	regs    []*registration
	calls   []pulumi.MockCallArgs
	cluster resource.PropertyMap
	stack   string
	// associationSalt varies the association IDs the mock hands out, as a
	// re-created association would get a new one.
	associationSalt string
	// addons are the EKS add-ons installed on the cluster, by name, as
	// aws:eks/getAddon answers for them; any other is not found.
	addons map[string]resource.PropertyMap
}

func newRecorder(stack string, cluster resource.PropertyMap) *recorder {
	return &recorder{stack: stack, cluster: cluster}
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	reg := stackcheck.NewRegistration(args)
	id, outs := stackcheck.Answer(args, r.place(), r.associationSalt)
	r.mu.Lock()
	defer r.mu.Unlock()
	reg.URN = stackcheck.URN(stackconfig.Project, r.stack, reg, r.byURN(reg.Parent))
	r.regs = append(r.regs, reg)
	return id, outs, nil
}

// place is testCluster in the region of the recorder's cluster, so answers
// that name the region (Cloud Control's ExternalId) match the cluster's ARN.
func (r *recorder) place() stackcheck.Cluster {
	c := testCluster
	if arn, ok := r.cluster["arn"]; ok && arn.IsString() {
		if parts := strings.Split(arn.StringValue(), ":"); len(parts) > 3 && parts[3] != "" {
			c.Region = parts[3]
		}
	}
	return c
}

// answer is what AWS and Kubernetes would return for a new resource.
func answer(args pulumi.MockResourceArgs, associationSalt string) (string, resource.PropertyMap) {
	return stackcheck.Answer(args, testCluster, associationSalt)
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
	if args.Token == "aws:eks/getAddon:getAddon" {
		name := args.Args["addonName"].StringValue()
		if addon, ok := r.addons[name]; ok {
			return addon, nil
		}
		return nil, stackcheck.AddonNotFound(args)
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
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

func (r *recorder) urns() []string {
	var out []string
	for _, reg := range r.regs {
		out = append(out, reg.URN)
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
		"identities":             []any{map[string]any{"oidcs": []any{map[string]any{"issuer": "https://oidc.eks." + region + ".amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"}}}},
	})
}

// stackConfig is the configuration Pulumi hands the program for a stack
// file at the project root: the stack's values over the project's defaults,
// loaded with Pulumi's own loaders so the files are tested as they are.
func stackConfig(t testing.TB, stack string) map[string]string {
	t.Helper()
	cfg, err := stackcheck.LoadConfig("..", stack, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Values
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
	clearRegionEnv(t)
	_, exports, err := stackcheck.Run(stack, stackcheck.Config{Values: cfg}, mocks)
	return exports, err
}

// clearRegionEnv keeps this machine's AWS region out of the program, which
// would take it when a stack sets no aws:region.
func clearRegionEnv(t testing.TB) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
}

// setConfigEnv hands cfg to a program run by pulumi.RunErr as the engine
// does, through PULUMI_CONFIG, and clears the region variables.
func setConfigEnv(t testing.TB, cfg map[string]string) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PULUMI_CONFIG", string(b))
	clearRegionEnv(t)
}
