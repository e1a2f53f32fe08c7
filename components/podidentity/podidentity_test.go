package podidentity_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type countingMocks struct {
	mu    sync.Mutex
	names []string
}

func (m *countingMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names = append(m.names, args.TypeToken+" "+args.Name)
	return args.Name + "-id", args.Inputs, nil
}

func (m *countingMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// The component refuses invalid arguments before registering itself or any
// child, and reports every problem at once with its field path.
func TestNewPodIdentityRefusesBeforeRegistering(t *testing.T) {
	mocks := &countingMocks{}
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
		"providers.aws: is required: the component never uses the ambient default AWS provider",
		"providers.kubernetes: is required",
		`workloads[0].trust: "loose" is not a trust mode`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if len(mocks.names) != 0 {
		t.Errorf("registered %v before refusing", mocks.names)
	}
}
