//go:build engine

package scenarios

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gensdk writes the component's SDK for language under dir with the code
// generators `pulumi package gen-sdk` uses (tools/pulumi-gensdk).
func gensdk(t *testing.T, repo, language, dir string) {
	t.Helper()
	out, err := exec.Command(mustEnv(t, "ENGINE_TOOLS_GENSDK"), "-language", language,
		"-schema", filepath.Join(repo, "componentprovider", "schema.json"), "-out", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("pulumi-gensdk -language %s: %v\n%s", language, err, out)
	}
}

// readmeBlock is the first ```lang block of the README's section on other
// languages.
func readmeBlock(t *testing.T, repo, lang string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Use it from TypeScript, Python, YAML or C#\n")
	if !ok {
		t.Fatal("README.md has no section \"Use it from TypeScript, Python, YAML or C#\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```"+lang+"\n")
	if !ok {
		t.Fatalf("README.md: no %s block in that section", lang)
	}
	block, _, _ = strings.Cut(block, "\n```")
	return block + "\n"
}

// TestTypeScriptConsumerCompiles generates the TypeScript SDK from the
// schema and compiles examples/typescript against it and @pulumi/pulumi
// (pinned by the example's package-lock.json) with tsc; then a consumer
// with a misspelt input must not compile, so the SDK's types are checked,
// not `any`.
func TestTypeScriptConsumerCompiles(t *testing.T) {
	repo := mustEnv(t, "ENGINE_REPO_ROOT")
	app := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "tsconfig.json", "index.ts"} {
		copyFile(t, filepath.Join(repo, "examples", "typescript", f), filepath.Join(app, f))
	}
	gensdk(t, repo, "nodejs", filepath.Join(app, "sdk", "nodejs"))
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = app
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("npm", "ci", "--no-audit", "--no-fund"); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	tsc := filepath.Join(app, "node_modules", ".bin", "tsc")
	out, err := run(tsc, "--noEmit", "-p", ".")
	if err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
	version, _ := run(tsc, "--version")
	t.Logf("tsc --noEmit: no errors (%s)", strings.TrimSpace(version))

	// The README's program, in place of the example's.
	src := []byte(readmeBlock(t, repo, "ts"))
	if err := os.WriteFile(filepath.Join(app, "index.ts"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(tsc, "--noEmit", "-p", "."); err != nil {
		t.Fatalf("tsc on the README's TypeScript: %v\n%s", err, out)
	}
	t.Log("tsc --noEmit on the README's TypeScript: no errors")
	bad := strings.Replace(string(src), "serviceAccount:", "serviceAcount:", 1)
	if bad == string(src) {
		t.Fatal("the README's TypeScript sets no serviceAccount")
	}
	if err := os.WriteFile(filepath.Join(app, "index.ts"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(tsc, "--noEmit", "-p", ".")
	if err == nil || !strings.Contains(out, "serviceAcount") {
		t.Fatalf("tsc accepted a misspelt workload key (%v):\n%s", err, out)
	}
	t.Logf("a misspelt key is refused:\n%s", out)
}

// TestPythonConsumerMatchesTheSDK generates the Python SDK and checks
// examples/python against it without the pulumi package (PyPI cannot be
// reached here): every file compiles, and every keyword the example passes
// to an SDK class is a parameter of that class's __init__.
func TestPythonConsumerMatchesTheSDK(t *testing.T) {
	repo := mustEnv(t, "ENGINE_REPO_ROOT")
	sdk := t.TempDir()
	gensdk(t, repo, "python", sdk)
	example := filepath.Join(repo, "examples", "python", "__main__.py")
	readme := filepath.Join(t.TempDir(), "readme.py")
	if err := os.WriteFile(readme, []byte(readmeBlock(t, repo, "python")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, program := range []string{example, readme} {
		out, err := exec.Command("python3", "-c", pythonCheck, sdk, program).CombinedOutput()
		t.Logf("%s: %s", filepath.Base(program), out)
		if err != nil {
			t.Fatalf("%s does not match the generated SDK: %v", program, err)
		}
	}
	// The check can fail: a misspelt keyword is caught.
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "__main__.py")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), "service_account=", "service_acount=", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-c", pythonCheck, sdk, bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "service_acount") {
		t.Fatalf("a misspelt keyword passed the check (%v):\n%s", err, out)
	}
}

// pythonCheck: argv[1] is the SDK's root, argv[2] the example.
const pythonCheck = `
import ast, pathlib, py_compile, sys
root, example = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
files = sorted(root.rglob("*.py"))
for f in files + [example]:
    py_compile.compile(str(f), doraise=True)
params = {}
for f in files:
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    a = item.args
                    params.setdefault(node.name, set()).update(x.arg for x in a.args + a.kwonlyargs)
bad = []
calls = 0
for node in ast.walk(ast.parse(example.read_text())):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "podidentity":
        calls += 1
        cls = node.func.attr
        if cls not in params:
            bad.append(f"podidentity.{cls} is not in the SDK")
            continue
        for kw in node.keywords:
            if kw.arg not in params[cls]:
                bad.append(f"podidentity.{cls}({kw.arg}=...) is not a parameter")
print(f"{len(files)} SDK files compile; {calls} SDK calls in the example")
if bad or calls == 0:
    sys.exit("\n".join(bad) or "the example calls no SDK class")
`
