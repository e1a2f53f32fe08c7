package componentprovider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

// Excluded are the Go API's fields the schema leaves out, and why. The
// drift test fails on any other field without a schema property.
var Excluded = map[string]string{
	"Args.DependsOn": "resources of the consumer's program: the dependsOn resource option on the component, which Construct passes on as Args.DependsOn",
	"Args.Adopt":     "adoption is decided by the stack's pre-flight lookups, which only the Go program runs",
	"Workload.TargetRole": "it needs an explicit AWS provider for the target account, which a schema input cannot carry: " +
		"a consumer in another language creates the target role with its own provider (its trust is the output targetTrustPolicy) and sets targetRoleArn",
	"Workload.Irsa": "a migration from IRSA starts from what the Go program's pre-flight finds (the role's trust, the cluster's OIDC provider, the pods to restart), which a consumer of the schema has no way to supply",
}

// Required are the inputs the schema requires: those the component refuses
// to be without (podidentity.Args.Validate).
var Required = map[string][]string{
	"Args": {"ClusterName", "ClusterArn", "Workloads"},
}

// Source is a Go file the schema is generated from, by its package path.
type Source struct {
	Package string // "podidentity" or "presets"
	Text    []byte
}

// objectTypes are the Go structs that become schema types, and where.
var objectTypes = []struct{ pkg, goName, token string }{
	{"podidentity", "Args", ""}, // the resource's inputs
	{"podidentity", "Agent", Name + ":index:Agent"},
	{"podidentity", "Workload", Name + ":index:Workload"},
	{"presets", "Inputs", Name + ":index:PresetInputs"},
}

// SourcesIn reads the Go files the schema comes from, in the repository at
// root: the component's args.go and the presets' Inputs.
func SourcesIn(root string) []Source {
	var out []Source
	for _, f := range []struct{ pkg, path string }{
		{"podidentity", "components/podidentity/args.go"},
		{"presets", "components/presets/presets.go"},
	} {
		b, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			panic(fmt.Sprintf("read %s: %v", f.path, err))
		}
		out = append(out, Source{Package: f.pkg, Text: b})
	}
	return out
}

// GenerateSchema builds the package schema from the Go API's structs and
// their doc comments, so the two cannot drift: schema.json is its output
// (go generate), and a test regenerates it.
func GenerateSchema(sources []Source) ([]byte, error) {
	structs := map[string]*ast.StructType{}
	for _, src := range sources {
		f, err := parser.ParseFile(token.NewFileSet(), src.Package+".go", src.Text, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", src.Package, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[src.Package+"."+ts.Name.Name] = st
				}
			}
			return true
		})
	}
	fields, err := fieldNames(structs)
	if err != nil {
		return nil, err
	}
	types := map[string]any{}
	var inputs map[string]any
	var required []string
	for _, ot := range objectTypes {
		st, ok := structs[ot.pkg+"."+ot.goName]
		if !ok {
			return nil, fmt.Errorf("no struct %s.%s in the sources", ot.pkg, ot.goName)
		}
		props, req, err := properties(ot.goName, st, fields)
		if err != nil {
			return nil, err
		}
		if ot.token == "" {
			inputs, required = props, req
			continue
		}
		t := map[string]any{"type": "object", "properties": props}
		if len(req) > 0 {
			t["required"] = req
		}
		types[ot.token] = t
	}
	types[Name+":index:WorkloadOutputs"] = workloadOutputs()
	schema := map[string]any{
		"name":        Name,
		"version":     Version(), // so the SDKs `gen-sdk` makes from the file carry it
		"displayName": "EKS Pod Identity",
		"description": "Amazon EKS Pod Identity for Kubernetes workloads: the eks-pod-identity-agent add-on, an IAM role per workload trusting pods.eks.amazonaws.com, its policies, the Pod Identity Association, the Kubernetes service account, a test Pod and a verification Job.",
		"types":       types,
		"resources": map[string]any{
			TypeToken: map[string]any{
				"isComponent":     true,
				"description":     "The walkthrough's steps for each workload, as one component: pass the AWS and Kubernetes providers as resource options; they reach every child.",
				"inputProperties": inputs,
				"requiredInputs":  required,
				"properties": map[string]any{
					"agentAddonName":    map[string]any{"type": "string", "description": "The agent add-on's name; empty when agent.skip."},
					"agentAddonVersion": map[string]any{"type": "string", "description": "The add-on version EKS installed; empty when agent.skip."},
					"workloads": map[string]any{"type": "object", "description": "Each workload's outputs, by workload name.",
						"additionalProperties": map[string]any{"$ref": "#/types/" + Name + ":index:WorkloadOutputs"}},
				},
				"required": []string{"agentAddonName", "agentAddonVersion", "workloads"},
			},
		},
		"language": map[string]any{
			// Our own package names: the generators' defaults would publish
			// under Pulumi's (@pulumi/eks-pod-identity, pulumi_eks_pod_identity).
			"nodejs": map[string]any{"packageName": "@platform-eng/eks-pod-identity", "dependencies": map[string]any{"@pulumi/pulumi": "^3.0.0"}, "respectSchemaVersion": true},
			"python": map[string]any{"packageName": "platform_eng_eks_pod_identity", "requires": map[string]any{"pulumi": ">=3.0.0,<4.0.0"}, "respectSchemaVersion": true},
			"csharp": map[string]any{"rootNamespace": "PlatformEng", "packageReferences": map[string]any{"Pulumi": "3.*"}, "respectSchemaVersion": true},
		},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(schema); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// workloadOutputs mirrors the component's registered outputs per workload.
func workloadOutputs() map[string]any {
	s := func(d string) map[string]any { return map[string]any{"type": "string", "description": d} }
	props := map[string]any{
		"roleArn":           s("The IAM role's ARN."),
		"roleName":          s("The IAM role's name."),
		"associationId":     s("The Pod Identity Association's ID."),
		"associationArn":    s("The Pod Identity Association's ARN."),
		"targetRoleArn":     s("The role in another account the pod's credentials are for; empty without targetRoleArn."),
		"targetTrustPolicy": s("The trust policy the target role must carry (EKS User Guide, pod-id-assign-target-role), filled in; empty without targetRoleArn."),
		"externalId":        s("The association's external ID, which EKS sends as sts:ExternalId to the target role; empty without targetRoleArn."),
		"namespace":         s("The service account's namespace."),
		"serviceAccount":    s("The service account's name."),
		"testPodName":       s("The test Pod's name; empty without testPod."),
		"verifyJobName":     s("The verification Job's name; empty without verify."),
	}
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return map[string]any{"type": "object", "properties": props, "required": req}
}

// properties maps a struct's fields to schema properties.
func properties(owner string, st *ast.StructType, fields *regexp.Regexp) (map[string]any, []string, error) {
	props := map[string]any{}
	var required []string
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			if _, ok := Excluded[owner+"."+n.Name]; ok {
				continue
			}
			p, err := propertyType(f.Type)
			if err != nil {
				return nil, nil, fmt.Errorf("%s.%s: %w", owner, n.Name, err)
			}
			doc := docText(f.Doc)
			if doc == "" {
				return nil, nil, fmt.Errorf("%s.%s has no doc comment to describe it with", owner, n.Name)
			}
			p["description"] = forOtherLanguages(doc, fields)
			name := PropertyName(n.Name)
			props[name] = p
			if slices.Contains(Required[owner], n.Name) {
				required = append(required, name)
			}
		}
	}
	slices.Sort(required)
	return props, required, nil
}

func propertyType(e ast.Expr) (map[string]any, error) {
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string", "TrustMode":
			return map[string]any{"type": "string"}, nil
		case "bool":
			return map[string]any{"type": "boolean"}, nil
		case "int":
			return map[string]any{"type": "integer"}, nil
		case "Agent", "Workload":
			return map[string]any{"$ref": "#/types/" + Name + ":index:" + t.Name}, nil
		}
	case *ast.SelectorExpr:
		switch x := t.X.(*ast.Ident).Name + "." + t.Sel.Name; x {
		case "pulumi.StringInput":
			return map[string]any{"type": "string"}, nil
		case "presets.Inputs":
			return map[string]any{"$ref": "#/types/" + Name + ":index:PresetInputs"}, nil
		}
	case *ast.ArrayType:
		item, err := propertyType(t.Elt)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": item}, nil
	case *ast.MapType:
		if k, ok := t.Key.(*ast.Ident); ok && k.Name == "string" {
			v, err := propertyType(t.Value)
			if err != nil {
				return nil, err
			}
			return map[string]any{"type": "object", "additionalProperties": v}, nil
		}
	}
	return nil, fmt.Errorf("no schema type for %T %v: map it in propertyType or list it in Excluded", e, e)
}

// docText is a doc comment as one paragraph.
func docText(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}

// PropertyName is a Go field's schema name: its first word in lower case
// (ClusterArn → clusterArn, ARN-free names only).
func PropertyName(goName string) string {
	r := []rune(goName)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// goWords are the Go names doc comments use that mean nothing to a
// TypeScript, Python or YAML reader, and what the schema says instead.
var goWords = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\bTrustScoped\b`), `"scoped"`},
	{regexp.MustCompile(`\bTrustOpen\b`), `"open"`},
	{regexp.MustCompile(`\bAccessCheckOff\b`), `"` + podidentity.AccessCheckOff + `"`},
	{regexp.MustCompile(`\bDefaultImage\b`), `"` + podidentity.DefaultImage + `"`},
	{regexp.MustCompile(`\bArgs\.Tags\b`), "the component's tags"},
	{regexp.MustCompile(`\bNil means\b`), "Absent means"},
	{regexp.MustCompile(`\bZero means\b`), "Absent or 0 means"},
}

// fieldNames matches, at word boundaries, the exported field names of the
// schema's structs, as doc comments name them; taken from the parsed
// sources, so a new field is renamed in descriptions without a list to keep.
func fieldNames(structs map[string]*ast.StructType) (*regexp.Regexp, error) {
	var names []string
	for _, ot := range objectTypes {
		st, ok := structs[ot.pkg+"."+ot.goName]
		if !ok {
			return nil, fmt.Errorf("no struct %s.%s in the sources", ot.pkg, ot.goName)
		}
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				if n.IsExported() && !slices.Contains(names, n.Name) {
					names = append(names, n.Name)
				}
			}
		}
	}
	// Longest first, so TestPodName is not read as TestPod + Name.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`), nil
}

// forOtherLanguages rewrites a Go doc comment for the schema: Go constants
// become the values a consumer writes, field names the property names.
func forOtherLanguages(doc string, fields *regexp.Regexp) string {
	for _, w := range goWords {
		doc = w.re.ReplaceAllString(doc, w.with)
	}
	return fields.ReplaceAllStringFunc(doc, PropertyName)
}
