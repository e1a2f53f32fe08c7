package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/platform-eng/eks-pod-identity"

// layers reads the README's Layout paragraph, "Imports point down only: a ←
// b, c ← d ...", into its layers, left (bottom) to right (top). main.go is
// the module's root package, ".".
func layers(t *testing.T) [][]string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const lead = "Imports point down only: "
	_, rest, ok := strings.Cut(string(readme), "\n"+lead)
	if !ok {
		t.Fatalf("README.md has no line starting %q", lead)
	}
	line, _, _ := strings.Cut(rest, "\n")
	var out [][]string
	for _, layer := range strings.Split(strings.TrimSuffix(line, "."), " ← ") {
		var pkgs []string
		for _, p := range strings.Split(layer, ", ") {
			p = strings.Trim(p, "`")
			if p == "main.go" {
				p = "."
			}
			pkgs = append(pkgs, p)
		}
		out = append(out, pkgs)
	}
	return out
}

// goList maps each of the module's packages (relative, "." for the root) to
// the module's packages it imports, or with sdk to the AWS SDK and
// client-go packages it imports.
func goList(t *testing.T) (project, sdk map[string][]string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rel := func(p string) string {
		if p == module {
			return "."
		}
		return strings.TrimPrefix(p, module+"/")
	}
	project, sdk = map[string][]string{}, map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := rel(fields[0])
		project[pkg] = nil
		for _, imp := range fields[1:] {
			switch {
			case strings.HasPrefix(imp, module):
				project[pkg] = append(project[pkg], rel(imp))
			case strings.HasPrefix(imp, "github.com/aws/aws-sdk-go-v2"), strings.HasPrefix(imp, "k8s.io/client-go"):
				sdk[pkg] = append(sdk[pkg], imp)
			}
		}
	}
	return project, sdk
}

// TestImportsPointDown keeps the README's Layout paragraph true: every
// product package is in one layer and imports only lower layers; helper
// packages under a listed one (discover/discovertest) may also import their
// parent. Only discover links the AWS SDK and client-go.
func TestImportsPointDown(t *testing.T) {
	layerOf := map[string]int{}
	for i, layer := range layers(t) {
		for _, p := range layer {
			layerOf[p] = i
		}
	}
	// Test and example code is above every product package.
	above := func(p string) bool { return p == "tests" || strings.HasPrefix(p, "examples/") }
	owner := func(p string) (string, bool) {
		if _, ok := layerOf[p]; ok {
			return p, true
		}
		for q := range layerOf {
			if strings.HasPrefix(p, q+"/") {
				return q, true
			}
		}
		return "", false
	}
	project, sdk := goList(t)
	for _, pkg := range slices.Sorted(func(yield func(string) bool) {
		for p := range project {
			if !yield(p) {
				return
			}
		}
	}) {
		if above(pkg) {
			continue
		}
		home, ok := owner(pkg)
		if !ok {
			t.Errorf("package %s is in no layer of the README's Layout paragraph", pkg)
			continue
		}
		for _, imp := range project[pkg] {
			impHome, ok := owner(imp)
			switch {
			case !ok:
				t.Errorf("%s imports %s, which is in no layer", pkg, imp)
			case pkg != home && imp == home:
				// a helper package under its parent (discover/discovertest)
			case layerOf[impHome] >= layerOf[home]:
				t.Errorf("%s imports %s: %s is not below %s in the README's Layout paragraph", pkg, imp, impHome, home)
			}
		}
		if home != "discover" && len(sdk[pkg]) > 0 {
			t.Errorf("%s imports %v: only discover may link the AWS SDK and client-go", pkg, sdk[pkg])
		}
	}
}
