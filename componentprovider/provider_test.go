package componentprovider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// schema.json is what the generator makes of the Go API today: a field
// added to podidentity.Args, Agent or Workload, or a changed doc comment,
// fails here until `go generate ./componentprovider/` is run.
func TestSchemaIsGeneratedFromTheGoAPI(t *testing.T) {
	got, err := GenerateSchema(SourcesIn(".."))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, schema) {
		t.Error("schema.json differs from the Go API: run `go generate ./componentprovider/`")
	}
}

func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func propNames(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func tagNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ",")
		out = append(out, tag)
	}
	slices.Sort(out)
	return out
}

// The names Construct decodes are the schema's, type by type; and the
// pinned type token and inputs are what other languages' programs use.
func TestInputsAreTheSchemas(t *testing.T) {
	s := schemaDoc(t)
	res := s["resources"].(map[string]any)[TypeToken].(map[string]any)
	if TypeToken != "eks-pod-identity:index:PodIdentity" || res["isComponent"] != true {
		t.Fatalf("type token %s, isComponent %v", TypeToken, res["isComponent"])
	}
	types := s["types"].(map[string]any)
	for _, tc := range []struct {
		schema map[string]any
		goType reflect.Type
	}{
		{res["inputProperties"].(map[string]any), reflect.TypeFor[Inputs]()},
		{types[Name+":index:Agent"].(map[string]any)["properties"].(map[string]any), reflect.TypeFor[AgentInputs]()},
		{types[Name+":index:Workload"].(map[string]any)["properties"].(map[string]any), reflect.TypeFor[WorkloadInputs]()},
		{types[Name+":index:PresetInputs"].(map[string]any)["properties"].(map[string]any), reflect.TypeFor[PresetInputs]()},
	} {
		if got, want := tagNames(tc.goType), propNames(tc.schema); !slices.Equal(got, want) {
			t.Errorf("%s decodes %v, the schema has %v", tc.goType.Name(), got, want)
		}
	}
	if got := res["requiredInputs"]; !reflect.DeepEqual(got, []any{"clusterArn", "clusterName", "workloads"}) {
		t.Errorf("requiredInputs %v", got)
	}
	if got := propNames(res["properties"].(map[string]any)); !slices.Equal(got, []string{"agentAddonName", "agentAddonVersion", "workloads"}) {
		t.Errorf("outputs %v", got)
	}
	// The outputs the schema promises are those the component registers.
	c := &podidentity.PodIdentity{Workloads: map[string]*podidentity.WorkloadResources{"w": {}}}
	registered := slices.Sorted(maps.Keys(c.Outputs()["workloads"].(pulumi.Map)["w"].(pulumi.Map)))
	promised := propNames(types[Name+":index:WorkloadOutputs"].(map[string]any)["properties"].(map[string]any))
	if !slices.Equal(registered, promised) {
		t.Errorf("the component registers workload outputs %v, the schema has %v", registered, promised)
	}
	if got := s["version"]; got != Version() {
		t.Errorf("schema version %v, VERSION says %s", got, Version())
	}
}

// Every field of the Go API, but those the schema excludes with a reason,
// is set from the inputs.
func TestArgsMapsEveryField(t *testing.T) {
	in := Inputs{
		ClusterName: pulumi.String("c"), ClusterArn: pulumi.String("arn"), Partition: "aws", Image: "img",
		Tags: map[string]string{"k": "v"}, Annotations: map[string]string{"a": "b"}, Agent: &AgentInputs{Skip: true, Version: "v1", Preserve: true},
		Workloads: []WorkloadInputs{{
			Preset: "external-dns", PresetInputs: &PresetInputs{HostedZoneArns: []string{"z"}, BucketArns: []string{"b"}},
			Name: "n", Namespace: "ns", ServiceAccount: "sa", CreateNamespace: true, ExternalServiceAccount: true,
			RoleName: "r", RolePath: "/p/", RoleDescription: "d", PermissionsBoundary: "pb", MaxSessionDuration: 7200,
			Trust: "open", PolicyArns: []string{"arn"}, InlinePolicies: map[string]string{"i": "{}"}, Tags: map[string]string{"k": "v"},
			TestPod: true, TestPodName: "p", Verify: true, AccessCheck: "s3 ls", VerifyDeadlineSeconds: 90,
			TargetRoleArn: "arn:t", DisableSessionTags: true, SessionPolicy: "{}",
		}},
	}
	a := in.Args()
	want := podidentity.Workload{
		Preset: "external-dns", PresetInputs: presets.Inputs{HostedZoneArns: []string{"z"}, BucketArns: []string{"b"}},
		Name: "n", Namespace: "ns", ServiceAccount: "sa", CreateNamespace: true, ExternalServiceAccount: true,
		RoleName: "r", RolePath: "/p/", RoleDescription: "d", PermissionsBoundary: "pb", MaxSessionDuration: 7200,
		Trust: podidentity.TrustOpen, PolicyArns: []string{"arn"}, InlinePolicies: map[string]string{"i": "{}"}, Tags: map[string]string{"k": "v"},
		TestPod: true, TestPodName: "p", Verify: true, AccessCheck: "s3 ls", VerifyDeadlineSeconds: 90,
		TargetRoleArn: "arn:t", DisableSessionTags: true, SessionPolicy: "{}",
	}
	if len(a.Workloads) != 1 || !reflect.DeepEqual(a.Workloads[0], want) {
		t.Errorf("workload:\n got %+v\nwant %+v", a.Workloads, want)
	}
	for _, v := range []reflect.Value{reflect.ValueOf(a), reflect.ValueOf(a.Agent), reflect.ValueOf(a.Workloads[0])} {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if _, excluded := Excluded[v.Type().Name()+"."+f.Name]; !excluded && v.Field(i).IsZero() {
				t.Errorf("%s.%s is not set from the inputs", v.Type().Name(), f.Name)
			}
		}
	}
	// Absent and empty are different: an empty policyArns attaches none.
	if got := (Inputs{Workloads: []WorkloadInputs{{}}}).Args().Workloads[0].PolicyArns; got != nil {
		t.Errorf("absent policyArns became %v", got)
	}
	if got := (Inputs{Workloads: []WorkloadInputs{{PolicyArns: []string{}}}}).Args().Workloads[0].PolicyArns; got == nil {
		t.Error("an empty policyArns became absent (the S3 default)")
	}
}

type tokenMocks struct{ types []string }

func (m *tokenMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.types = append(m.types, args.TypeToken)
	return args.Name + "-id", args.Inputs, nil
}

func (m *tokenMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// The provider's component is the Go component under the schema's token;
// its refusals are the Go ones, word for word.
func TestConstructIsTheGoComponent(t *testing.T) {
	in := Inputs{ClusterName: pulumi.String("c"), ClusterArn: pulumi.String("arn:aws:eks:us-east-1:111122223333:cluster/c"),
		Workloads: []WorkloadInputs{{ServiceAccount: "sa"}}}
	mocks := &tokenMocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := podidentity.NewPodIdentityAs(ctx, TypeToken, "pi", in.Args())
		return err
	}, pulumi.WithMocks("p", "s", mocks))
	if err != nil {
		t.Fatal(err)
	}
	if len(mocks.types) == 0 || mocks.types[0] != TypeToken || slices.Contains(mocks.types, podidentity.TypeToken) {
		t.Errorf("registered %v, want the component first as %s", mocks.types, TypeToken)
	}

	// The consumer's dependsOn on the component becomes Args.DependsOn,
	// which every child waits for.
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		first, err := podidentity.NewPodIdentity(ctx, "first", in.Args())
		if err != nil {
			return err
		}
		a, err := constructArgs(in, pulumi.Composite(pulumi.DependsOn([]pulumi.Resource{first}), pulumi.Protect(false)))
		if err != nil {
			return err
		}
		if len(a.DependsOn) != 1 || a.DependsOn[0] != first {
			t.Errorf("Args.DependsOn = %v, want the component's dependsOn", a.DependsOn)
		}
		return nil
	}, pulumi.WithMocks("p", "s", &tokenMocks{}))
	if err != nil {
		t.Fatal(err)
	}

	bad := Inputs{ClusterName: pulumi.String("c"), Workloads: []WorkloadInputs{{ServiceAccount: "sa", Trust: "loose"}}}
	var goErr, providerErr error
	_ = pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, goErr = podidentity.NewPodIdentity(ctx, "pi", bad.Args())
		_, providerErr = podidentity.NewPodIdentityAs(ctx, TypeToken, "pi", bad.Args())
		return nil
	}, pulumi.WithMocks("p", "s", &tokenMocks{}))
	if goErr == nil || providerErr == nil || goErr.Error() != providerErr.Error() {
		t.Errorf("refusals differ:\n go: %v\n provider: %v", goErr, providerErr)
	}
}

// The version is set in one place, VERSION, and the install line the
// command documents reads it from there.
func TestVersionComesFromOnePlace(t *testing.T) {
	if !regexpSemver.MatchString(Version()) {
		t.Errorf("VERSION %q is not a semantic version", Version())
	}
	main, err := os.ReadFile("../cmd/pulumi-resource-eks-pod-identity/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(main), "pulumi plugin install resource eks-pod-identity $(cat componentprovider/VERSION)") {
		t.Error("the command's install line does not read componentprovider/VERSION")
	}
}

var regexpSemver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// A TypeScript, Python or YAML reader meets no Go name in the schema's
// descriptions: constants are values, fields are property names.
func TestDescriptionsSpeakTheSchemasLanguage(t *testing.T) {
	// The Go names, from the types themselves rather than the generator's
	// own list.
	var names []string
	for _, typ := range []reflect.Type{reflect.TypeFor[podidentity.Args](), reflect.TypeFor[podidentity.Agent](),
		reflect.TypeFor[podidentity.Workload](), reflect.TypeFor[presets.Inputs]()} {
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() {
				names = append(names, regexp.QuoteMeta(f.Name))
			}
		}
	}
	fieldName := regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if d, ok := c.(string); ok && k == "description" {
					if m := fieldName.FindString(d); m != "" {
						t.Errorf("%s: Go field name %s in %q", path, m, d)
					}
					for _, w := range goWords {
						if m := w.re.FindString(d); m != "" {
							t.Errorf("%s: Go name %s in %q", path, m, d)
						}
					}
					continue
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("schema", schemaDoc(t))
}
