package main

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type registration struct {
	typ, name, provider, parent string
	deps                        []string
}

type mocks struct {
	mu   sync.Mutex
	regs []registration
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := registration{typ: args.TypeToken, name: args.Name, provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		r.parent, r.deps = rpc.GetParent(), rpc.GetDependencies()
	}
	m.mu.Lock()
	m.regs = append(m.regs, r)
	m.mu.Unlock()
	outs := args.Inputs.Copy()
	if args.TypeToken == "aws:iam/role:Role" {
		outs["arn"] = resource.NewStringProperty("arn:aws:iam::111122223333:role/" + args.Name)
	}
	return args.Name + "-id", outs, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.NewPropertyMapFromMap(map[string]any{
		"name": args.Args["name"].StringValue(),
		"arn":  "arn:aws:eks:eu-west-1:111122223333:cluster/" + args.Args["name"].StringValue(),
	}), nil
}

func runExample(t *testing.T) *mocks {
	t.Helper()
	cfg, _ := json.Marshal(map[string]string{
		"project:clusterName": "apps-eks",
		"project:region":      "eu-west-1",
		"project:kubeconfig":  "apiVersion: v1\nkind: Config\n",
	})
	t.Setenv("PULUMI_CONFIG", string(cfg))
	m := &mocks{}
	if err := pulumi.RunErr(run, pulumi.WithMocks("project", "stack", m)); err != nil {
		t.Fatal(err)
	}
	return m
}

// The consumer's two instances share one cluster: only the first manages
// the agent add-on, and the second waits for that add-on, nothing more.
func TestTwoInstancesOneAgent(t *testing.T) {
	m := runExample(t)
	var addons, components []string
	var search registration
	for _, r := range m.regs {
		switch r.typ {
		case "aws:eks/addon:Addon":
			addons = append(addons, r.name)
		case "eks-pod-identity:components:PodIdentity":
			components = append(components, r.name)
			if r.name == "search" {
				search = r
			}
		}
	}
	slices.Sort(components)
	if !slices.Equal(addons, []string{"payments-agent"}) || !slices.Equal(components, []string{"payments", "search"}) {
		t.Fatalf("add-ons %v, components %v; want one add-on, of payments", addons, components)
	}
	if len(search.deps) != 1 || !strings.HasSuffix(search.deps[0], "aws:eks/addon:Addon::payments-agent") {
		t.Errorf("search depends on %v, want only payments' agent add-on", search.deps)
	}
	// The search instance's verification Job proves its identity through
	// the agent payments installs: it must not start before that add-on.
	waits := 0
	for _, r := range m.regs {
		if strings.HasPrefix(r.name, "search-") && (r.typ == "kubernetes:batch/v1:Job" || r.typ == "aws:eks/podIdentityAssociation:PodIdentityAssociation") {
			waits++
			if !slices.ContainsFunc(r.deps, func(d string) bool { return strings.HasSuffix(d, "aws:eks/addon:Addon::payments-agent") }) {
				t.Errorf("%s %s does not wait for payments' agent add-on: depends on %v", r.typ, r.name, r.deps)
			}
		}
	}
	if waits != 2 {
		t.Errorf("found %d of search's Job and association, want 2", waits)
	}
}

// The providers the consumer passes as options reach every child of both
// instances; nothing falls back to a default provider.
func TestConsumerProvidersReachEveryChild(t *testing.T) {
	m := runExample(t)
	children := 0
	for _, r := range m.regs {
		want := ""
		switch {
		case strings.HasPrefix(r.typ, "aws:"):
			want = "::apps-aws::"
		case strings.HasPrefix(r.typ, "kubernetes:"):
			want = "::apps-eks::"
		default:
			continue
		}
		children++
		if !strings.Contains(r.provider, want) {
			t.Errorf("%s %s uses provider %q, want %s", r.typ, r.name, r.provider, want)
		}
		if !strings.Contains(r.parent, "PodIdentity::payments") && !strings.Contains(r.parent, "PodIdentity::search") {
			t.Errorf("%s %s has parent %q, want one of the two instances", r.typ, r.name, r.parent)
		}
	}
	// payments: add-on, role, inline policy, association, namespace, SA, Job;
	// search: role, attachment, association, SA, Job.
	if children != 12 {
		t.Errorf("%d children, want 12", children)
	}
}
