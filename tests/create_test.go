package tests

// The createCluster path under mocks, on the real Pulumi.sandbox.yaml.
//
// pulumi-eks's components are remote: the SDK registers eks:index:Cluster
// and eks:index:ManagedNodeGroup and the plugin's construct registers their
// children, which mocks never see. So these tests assert what the program
// sends (the components' inputs, options and dependencies) and how it uses
// what they return. The outputs that are resources (the cluster's
// eksCluster, the node group's nodeGroup) are references the SDK reads back
// by URN; the test program registers stand-ins for those two children first
// (fixtures, not recorded) and the mock answers with references to them.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackcheck"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

const (
	tEksCluster   = "eks:index:Cluster"
	tEksNodeGroup = "eks:index:ManagedNodeGroup"
	tAwsCluster   = "aws:eks/cluster:Cluster"
	tAwsNodeGroup = "aws:eks/nodeGroup:NodeGroup"
	tGetPartition = "aws:index/getPartition:getPartition"

	// The created cluster's account differs from testAccount, the roles',
	// so an ARN in a trust policy shows where it came from.
	createdAccount  = "444455556666"
	createdEndpoint = "https://E1D2C3B4A5.gr7.us-east-1.eks.amazonaws.com"
	createdCA       = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
	createdNGName   = "cluster-nodes-20261129"
)

// createMock answers like the recorder, plus pulumi-eks's components and
// the partition lookup.
type createMock struct {
	*recorder
	mu           sync.Mutex
	clusterRef   resource.PropertyValue // reference to the eksCluster fixture
	nodeGroupRef resource.PropertyValue
	// fixtureURNs maps each fixture's URN to the component type whose
	// child it stands for.
	fixtureURNs map[string]string
}

func newCreateMock(stack string) *createMock {
	return &createMock{recorder: newRecorder(stack, nil), fixtureURNs: map[string]string{}}
}

func isFixture(args pulumi.MockResourceArgs) bool {
	return args.TypeToken == tAwsCluster || args.TypeToken == tAwsNodeGroup
}

func (m *createMock) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	switch {
	case isFixture(args):
		return m.fixture(args)
	case args.TypeToken == tEksCluster:
		id, outs, err := m.recorder.NewResource(args)
		m.mu.Lock()
		defer m.mu.Unlock()
		// The state pulumi-eks's construct returns, as far as the program reads it.
		outs["eksCluster"] = m.clusterRef
		outs["core"] = resource.NewObjectProperty(resource.PropertyMap{
			"cluster":  m.clusterRef,
			"endpoint": resource.NewStringProperty(createdEndpoint),
		})
		outs["kubeconfigJson"] = resource.NewStringProperty(`{"apiVersion":"v1","kind":"Config"}`)
		return id, outs, err
	case args.TypeToken == tEksNodeGroup:
		id, outs, err := m.recorder.NewResource(args)
		m.mu.Lock()
		defer m.mu.Unlock()
		outs["nodeGroup"] = m.nodeGroupRef
		return id, outs, err
	}
	return m.recorder.NewResource(args)
}

// fixture answers for a stand-in child: what AWS returns for the cluster
// and the node group the construct creates.
func (m *createMock) fixture(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	outs := args.Inputs.Copy()
	id := args.Name + "-id"
	switch args.TypeToken {
	case tAwsCluster:
		name := args.Inputs["name"].StringValue()
		outs["arn"] = resource.NewStringProperty(fmt.Sprintf("arn:aws:eks:us-east-1:%s:cluster/%s", createdAccount, name))
		outs["endpoint"] = resource.NewStringProperty(createdEndpoint)
		outs["certificateAuthority"] = resource.NewObjectProperty(resource.PropertyMap{"data": resource.NewStringProperty(createdCA)})
		id = name
	case tAwsNodeGroup:
		outs["nodeGroupName"] = resource.NewStringProperty(createdNGName)
		id = args.Inputs["clusterName"].StringValue() + ":" + createdNGName
	}
	return id, outs, nil
}

func (m *createMock) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == tGetPartition {
		m.recorder.mu.Lock()
		m.recorder.calls = append(m.recorder.calls, args)
		m.recorder.mu.Unlock()
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
		}), nil
	}
	return m.recorder.Call(args)
}

// registerFixtures registers the stand-ins for the construct's children and
// keeps references to them for the components' answers.
func (m *createMock) registerFixtures(ctx *pulumi.Context, clusterName, version string) error {
	c, err := awseks.NewCluster(ctx, "cluster-eksCluster", &awseks.ClusterArgs{
		Name:      pulumi.String(clusterName),
		Version:   pulumi.String(version),
		RoleArn:   pulumi.String("arn:aws:iam::" + createdAccount + ":role/cluster-eksRole-role-1234567"),
		VpcConfig: &awseks.ClusterVpcConfigArgs{},
	})
	if err != nil {
		return err
	}
	ng, err := awseks.NewNodeGroup(ctx, "cluster-nodes", &awseks.NodeGroupArgs{
		ClusterName: pulumi.String(clusterName),
		NodeRoleArn: pulumi.String("arn:aws:iam::" + testAccount + ":role/cluster-node-role"),
		SubnetIds:   pulumi.StringArray{},
		ScalingConfig: &awseks.NodeGroupScalingConfigArgs{
			DesiredSize: pulumi.Int(2), MinSize: pulumi.Int(1), MaxSize: pulumi.Int(3),
		},
	})
	if err != nil {
		return err
	}
	ref := func(r pulumi.CustomResource, component string) (resource.PropertyValue, error) {
		urn, err := internals.UnsafeAwaitOutput(context.Background(), r.URN())
		if err != nil {
			return resource.PropertyValue{}, err
		}
		id, err := internals.UnsafeAwaitOutput(context.Background(), r.ID())
		if err != nil {
			return resource.PropertyValue{}, err
		}
		m.fixtureURNs[string(urn.Value.(pulumi.URN))] = component
		return resource.MakeCustomResourceReference(resource.URN(urn.Value.(pulumi.URN)), resource.ID(id.Value.(pulumi.ID)), ""), nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.clusterRef, err = ref(c, tEksCluster); err != nil {
		return err
	}
	m.nodeGroupRef, err = ref(ng, tEksNodeGroup)
	return err
}

// export is one stack output with its secretness.
type export struct {
	value  any
	secret bool
}

// runCreate runs the program on cfg (a createCluster stack) under mocks.
func runCreate(t testing.TB, cfg map[string]string, stack string, mocks pulumi.MockResourceMonitor, m *createMock) (map[string]export, error) {
	t.Helper()
	setConfigEnv(t, cfg)
	name, version, _ := stackcheck.CreatedCluster(cfg)
	exports := map[string]export{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		if err := m.registerFixtures(ctx, name, version); err != nil {
			return err
		}
		d, err := program.Deploy(ctx)
		if err != nil {
			return err
		}
		for k, v := range d.Exports {
			res, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
			if err != nil {
				return err
			}
			exports[k] = export{res.Value, res.Secret}
		}
		return nil
	}, pulumi.WithMocks(stackconfig.Project, stack, mocks))
	return exports, err
}

func runSandbox(t *testing.T, edit func(cfg map[string]string)) (*createMock, map[string]export) {
	t.Helper()
	cfg := stackConfig(t, "sandbox")
	if edit != nil {
		edit(cfg)
	}
	m := newCreateMock("sandbox")
	exports, err := runCreate(t, cfg, "sandbox", m, m)
	if err != nil {
		t.Fatalf("program failed on Pulumi.sandbox.yaml: %v", err)
	}
	return m, exports
}

// What the sandbox stack registers, by URN: the cluster, the node role and
// its policies, the node group, the Kubernetes provider, and the same
// PodIdentity component as the dev stack (role auto-named).
func TestSandboxStackURNs(t *testing.T) {
	m, _ := runSandbox(t, nil)
	const c = "urn:pulumi:sandbox::eks-pod-identity::"
	const child = c + tComponent + "$"
	want := []string{
		c + tEksCluster + "::cluster",
		c + "aws:iam/role:Role::cluster-node-role",
		c + tAttachment + "::cluster-node-role-AmazonEKSWorkerNodePolicy",
		c + tAttachment + "::cluster-node-role-AmazonEKS_CNI_Policy",
		c + tAttachment + "::cluster-node-role-AmazonEC2ContainerRegistryReadOnly",
		c + tEksNodeGroup + "::cluster-nodes",
		c + tMarker,
		c + tK8sProvider + "::kubernetes",
		c + tComponent + "::pod-identity",
		child + tAddon + "::pod-identity-agent",
		child + tRole + "::pod-identity-pod-id-sa-role",
		child + tAttachment + "::pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess",
		child + tAssociation + "::pod-identity-pod-id-sa-association",
		child + tSA + "::pod-identity-pod-id-sa-sa",
		child + tPod + "::pod-identity-pod-id-sa-test-pod",
		child + tJob + "::pod-identity-pod-id-sa-verify",
	}
	assertSameSet(t, "sandbox stack URNs", m.urns(), want)
	if i := slices.IndexFunc(m.calls, func(c pulumi.MockCallArgs) bool { return c.Token == tGetCluster }); i >= 0 {
		t.Error("the create path looked an existing cluster up")
	}
}

func TestSandboxCluster(t *testing.T) {
	m, _ := runSandbox(t, nil)
	cluster := m.get(t, tEksCluster, "cluster")
	if cluster.Custom {
		t.Error("eks:index:Cluster registered as a custom resource; it is pulumi-eks's component")
	}
	assertInputs(t, cluster, map[string]any{
		"name":                      "sandbox-eks",
		"version":                   "1.35",
		"authenticationMode":        "API",
		"skipDefaultNodeGroup":      true,
		"skipDefaultSecurityGroups": true,
		"endpointPublicAccess":      true,
		"endpointPrivateAccess":     true,
		"publicAccessCidrs":         []any{"0.0.0.0/0"},
		"tags":                      map[string]any{"purpose": "sandbox"},
	})
	for _, absent := range []string{"autoMode", "corednsAddonOptions", "vpcId", "subnetIds", "instanceType", "desiredCapacity", "nodeGroupOptions"} {
		if v, ok := cluster.Inputs[resource.PropertyKey(absent)]; ok && !v.IsNull() {
			t.Errorf("cluster input %s = %v, want it unset (default VPC, no default node group, no Auto Mode)", absent, v)
		}
	}
	if cluster.Provider != "" {
		t.Errorf("cluster registered with provider %q, want the stack's default AWS provider", cluster.Provider)
	}
}

func TestSandboxNodeGroupAndRole(t *testing.T) {
	m, _ := runSandbox(t, nil)
	ng := m.get(t, tEksNodeGroup, "cluster-nodes")
	role := m.get(t, tRole, "cluster-node-role")
	roleArn := fmt.Sprintf("arn:aws:iam::%s:role/%s", testAccount, stackcheck.AutoName("cluster-node-role"))
	assertInputs(t, ng, map[string]any{
		"amiType":       "AL2023_x86_64_STANDARD",
		"instanceTypes": []any{"t3.medium"},
		"scalingConfig": map[string]any{"desiredSize": float64(2), "minSize": float64(1), "maxSize": float64(3)},
		"nodeRoleArn":   roleArn,
		"tags":          map[string]any{"purpose": "sandbox"},
	})
	// The cluster is a resource reference. For a remote component the SDK
	// leaves references out of the registration's dependencies, but sends
	// the registration only once the reference's URN is known, i.e. once the
	// cluster's construct has returned (the benchmark's schedule check and
	// the engine scenario's event order prove the wait).
	cluster := m.get(t, tEksCluster, "cluster")
	ref := ng.Inputs["cluster"]
	if !ref.IsResourceReference() || string(ref.ResourceReferenceValue().URN) != cluster.URN {
		t.Errorf("node group input cluster = %v, want a reference to %s", ref, cluster.URN)
	}
	if !m.dependsOn(ng, role) {
		t.Error("the node group must wait for its role")
	}
	assertJSONEqual(t, "node role trust policy", role.Inputs["assumeRolePolicy"].StringValue(),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	for _, policy := range []string{"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"} {
		att := m.get(t, tAttachment, "cluster-node-role-"+policy)
		assertInputs(t, att, map[string]any{"role": stackcheck.AutoName("cluster-node-role"), "policyArn": "arn:aws:iam::aws:policy/" + policy})
		if !m.dependsOn(ng, att) {
			t.Errorf("the node group does not wait for %s: nodes would join without it", policy)
		}
	}
}

// The add-on, the association and every Kubernetes resource target the new
// cluster and wait for its nodes; the role and its policies need not.
func TestSandboxPodIdentityWaitsForTheNodes(t *testing.T) {
	m, _ := runSandbox(t, nil)
	cluster := m.get(t, tEksCluster, "cluster")
	ng := m.get(t, tEksNodeGroup, "cluster-nodes")
	for _, r := range []*registration{
		m.get(t, tAddon, "pod-identity-agent"),
		m.get(t, tAssociation, "pod-identity-pod-id-sa-association"),
		m.get(t, tSA, "pod-identity-pod-id-sa-sa"),
		m.get(t, tPod, "pod-identity-pod-id-sa-test-pod"),
		m.get(t, tJob, "pod-identity-pod-id-sa-verify"),
	} {
		if !m.dependsOn(r, ng) {
			t.Errorf("%s %s does not wait for the node group", r.Type, r.Name)
		}
		if !m.dependsOn(r, cluster) {
			t.Errorf("%s %s does not wait for the cluster", r.Type, r.Name)
		}
	}
	// IAM needs the cluster's ARN (known once the cluster is), not its nodes.
	for _, r := range []*registration{m.get(t, tRole, "pod-identity-pod-id-sa-role"), m.get(t, tAttachment, "pod-identity-pod-id-sa-AmazonS3ReadOnlyAccess")} {
		if m.dependsOn(r, ng) {
			t.Errorf("%s %s waits for the node group; it needs only the cluster's ARN", r.Type, r.Name)
		}
	}
	assertInputs(t, m.get(t, tAddon, "pod-identity-agent"), map[string]any{"clusterName": "sandbox-eks", "addonName": "eks-pod-identity-agent"})
	assertInputs(t, m.get(t, tAssociation, "pod-identity-pod-id-sa-association"), map[string]any{"clusterName": "sandbox-eks", "namespace": "default", "serviceAccount": "pod-id-sa"})
}

// The trust policy pins the created cluster by the ARN it reports.
func TestSandboxTrustPolicyNamesTheCreatedCluster(t *testing.T) {
	m, _ := runSandbox(t, nil)
	role := m.get(t, tRole, "pod-identity-pod-id-sa-role")
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Service":"pods.eks.amazonaws.com"},
		"Action":["sts:AssumeRole","sts:TagSession"],
		"Condition":{"StringEquals":{
			"aws:RequestTag/eks-cluster-arn":["arn:aws:eks:us-east-1:444455556666:cluster/sandbox-eks"],
			"aws:RequestTag/kubernetes-namespace":["default"],
			"aws:RequestTag/kubernetes-service-account":["pod-id-sa"]}}}]}`
	assertJSONEqual(t, "assumeRolePolicy", role.Inputs["assumeRolePolicy"].StringValue(), want)
	if fixture := m.fixtureURN(tEksCluster); !slices.Contains(role.Dependencies, fixture) {
		t.Errorf("the role's dependencies %v do not include the created cluster %s its ARN comes from", role.Dependencies, fixture)
	}
	// The stack's marker tag, as on the lookup path: adoption elsewhere
	// tells this stack's roles from others by it.
	if got := role.Inputs["tags"].ObjectValue()[stackconfig.StackTagKey]; !got.IsString() || got.StringValue() != marker("sandbox") {
		t.Errorf("role tag %s = %v, want the stack's marker", stackconfig.StackTagKey, got)
	}
}

// The Kubernetes provider's kubeconfig is the created cluster's: its
// endpoint and CA, `aws eks get-token` as the stack's identity.
func TestSandboxKubernetesProviderFromTheCluster(t *testing.T) {
	m, _ := runSandbox(t, func(cfg map[string]string) {
		cfg["aws:profile"] = "sandbox-admin"
		cfg["aws:assumeRole"] = `{"roleArn":"arn:aws:iam::111122223333:role/deployer"}`
	})
	p := m.get(t, tK8sProvider, "kubernetes")
	kc := p.Inputs["kubeconfig"]
	if !kc.IsSecret() {
		t.Fatal("the kubeconfig must be a secret in state")
	}
	var doc struct {
		Clusters []struct {
			Cluster map[string]string `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				Exec struct {
					Command string              `json:"command"`
					Args    []string            `json:"args"`
					Env     []map[string]string `json:"env"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(kc.SecretValue().Element.StringValue()), &doc); err != nil {
		t.Fatalf("kubeconfig is not JSON: %v", err)
	}
	if got := doc.Clusters[0].Cluster; got["server"] != createdEndpoint || got["certificate-authority-data"] != createdCA {
		t.Errorf("kubeconfig cluster = %v, want the created cluster's endpoint and CA", got)
	}
	exec := doc.Users[0].User.Exec
	if got := strings.Join(exec.Args, " "); got != "--region us-east-1 eks get-token --cluster-name sandbox-eks --output json --role-arn arn:aws:iam::111122223333:role/deployer" {
		t.Errorf("kubeconfig exec args = %s", got)
	}
	if len(exec.Env) != 1 || exec.Env[0]["name"] != "AWS_PROFILE" || exec.Env[0]["value"] != "sandbox-admin" {
		t.Errorf("kubeconfig exec env = %v, want AWS_PROFILE=sandbox-admin", exec.Env)
	}
	if !m.dependsOn(p, m.get(t, tEksCluster, "cluster")) {
		t.Error("the Kubernetes provider does not depend on the cluster its kubeconfig comes from")
	}
}

func TestSandboxOutputs(t *testing.T) {
	_, exports := runSandbox(t, nil)
	for k, want := range map[string]any{
		"clusterName":             "sandbox-eks",
		"clusterArn":              "arn:aws:eks:us-east-1:444455556666:cluster/sandbox-eks",
		"clusterVersion":          "1.35",
		"clusterEndpoint":         createdEndpoint,
		"nodeGroupName":           createdNGName,
		"updateKubeconfigCommand": "aws eks update-kubeconfig --region us-east-1 --name sandbox-eks",
		"agentAddonName":          "eks-pod-identity-agent",
	} {
		if got := exports[k]; got.value != want || got.secret {
			t.Errorf("output %s = %v (secret %v), want %v", k, got.value, got.secret, want)
		}
	}
	kc := exports["kubeconfig"]
	if !kc.secret {
		t.Error("the kubeconfig output is not secret")
	}
	if s, _ := kc.value.(string); !strings.Contains(s, createdEndpoint) {
		t.Errorf("kubeconfig output = %v, want the created cluster's", kc.value)
	}
	w := exports["workloads"].value.(map[string]any)["pod-id-sa"].(map[string]any)
	if arn, _ := w["associationArn"].(string); !strings.Contains(arn, "/sandbox-eks/") {
		t.Errorf("associationArn = %v, want one on sandbox-eks", arn)
	}
}

// EKS Auto Mode: pulumi-eks's Auto Mode, CoreDNS off, no node group or
// node role, no agent add-on; the rest waits for the cluster.
func TestSandboxAutoMode(t *testing.T) {
	m, exports := runSandbox(t, func(cfg map[string]string) {
		cfg["eks-pod-identity:createCluster"] = `{"name":"sandbox-eks","nodes":"auto"}`
		cfg["eks-pod-identity:manageAgent"] = "false"
	})
	cluster := m.get(t, tEksCluster, "cluster")
	auto := cluster.Inputs["autoMode"].ObjectValue()
	if !auto["enabled"].BoolValue() {
		t.Errorf("autoMode = %v, want enabled", auto)
	}
	if got := cluster.Inputs["corednsAddonOptions"].ObjectValue()["enabled"]; !got.IsBool() || got.BoolValue() {
		t.Errorf("corednsAddonOptions.enabled = %v, want false (pulumi-eks#1726)", got)
	}
	for _, reg := range m.regs {
		switch {
		case reg.Type == tEksNodeGroup, reg.Type == tAddon, reg.Name == "cluster-node-role":
			t.Errorf("Auto Mode registered %s %s", reg.Type, reg.Name)
		}
	}
	assoc := m.get(t, tAssociation, "pod-identity-pod-id-sa-association")
	if !m.dependsOn(assoc, cluster) {
		t.Error("the association does not wait for the cluster")
	}
	if _, ok := exports["nodeGroupName"]; ok {
		t.Error("Auto Mode exports a node group name")
	}
}

// A refused createCluster registers nothing and calls nothing.
func TestSandboxRefusalCreatesNothing(t *testing.T) {
	cfg := stackConfig(t, "sandbox")
	cfg["eks-pod-identity:createCluster"] = `{"name":"sandbox-eks","version":"1.27","minSize":0}`
	m := newCreateMock("sandbox")
	_, err := runCreate(t, cfg, "sandbox", m, m)
	for _, want := range []string{
		`eks-pod-identity:createCluster.version: "1.27" is no longer offered by EKS`,
		"eks-pod-identity:createCluster.minSize: 0 is out of range",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if len(m.regs) != 0 || len(m.calls) != 0 {
		t.Errorf("a refused createCluster registered %v and invoked %d functions", m.names(), len(m.calls))
	}
}

// The existing-cluster path is untouched: no pulumi-eks, no node role, no
// partition lookup.
func TestExistingClusterPathRegistersNoCluster(t *testing.T) {
	for _, runStack := range []func(*testing.T) (*recorder, map[string]any){runDev, runProd} {
		rec, exports := runStack(t)
		for _, reg := range rec.regs {
			if strings.HasPrefix(reg.Type, "eks:") || strings.HasPrefix(reg.Name, "cluster-") {
				t.Errorf("%s registered %s %s", rec.stack, reg.Type, reg.Name)
			}
		}
		for _, c := range rec.calls {
			if c.Token != tGetCluster {
				t.Errorf("%s invoked %s", rec.stack, c.Token)
			}
		}
		for _, k := range []string{"kubeconfig", "nodeGroupName", "updateKubeconfigCommand"} {
			if _, ok := exports[k]; ok {
				t.Errorf("%s exports %s", rec.stack, k)
			}
		}
	}
}

// fixtureURN is the URN of the stand-in for a component's child.
func (m *createMock) fixtureURN(component string) string {
	for urn, c := range m.fixtureURNs {
		if c == component {
			return urn
		}
	}
	return ""
}
