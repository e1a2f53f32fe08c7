package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/stackcheck"
)

// docs/check-stack.md's "Rehearsing adopt": its recorded walkthrough,
// checked against the dev stack, prints the doc's samples (the refusal in
// full, the accepted plan line for line in order, "..." marking cuts), and
// the same recording without its pod is accepted with the imports marked.
func TestRehearsingAdoptSamplesAreTheCommandsOutput(t *testing.T) {
	noAmbientAWS(t)
	doc, err := os.ReadFile(filepath.Join("..", "docs", "check-stack.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Rehearsing adopt\n")
	if !ok {
		t.Fatal("docs/check-stack.md has no Rehearsing adopt section")
	}
	blocks := func(fence string) []string {
		var out []string
		for rest := section; ; {
			var block string
			if _, rest, ok = strings.Cut(rest, "```"+fence+"\n"); !ok {
				return out
			}
			block, rest, _ = strings.Cut(rest, "```")
			out = append(out, block)
		}
	}
	recorded, texts := blocks("json"), blocks("text")
	if len(recorded) != 1 || len(texts) != 2 {
		t.Fatalf("want one recorded world and two outputs in the section, found %d and %d", len(recorded), len(texts))
	}
	check := func(world []byte) (string, int) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "existing.json")
		if err := os.WriteFile(path, world, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := stackcheck.Main([]string{"-C", "..", "-existing", path, "dev"}, &out, &errOut)
		if errOut.Len() > 0 {
			t.Errorf("stderr: %s", errOut.String())
		}
		return out.String(), code
	}

	refused, code := check([]byte(recorded[0]))
	if code != stackcheck.ExitRefused || strings.TrimSpace(refused) != strings.TrimSpace(texts[0]) {
		t.Errorf("exit %d; the doc's refusal sample\n%s\nis not the command's output\n%s", code, texts[0], refused)
	}

	// As the refusal says: the pod deleted.
	var world map[string]any
	if err := json.Unmarshal([]byte(recorded[0]), &world); err != nil {
		t.Fatalf("the doc's recording is not JSON: %v", err)
	}
	kube := world["kubernetes"].(map[string]any)
	var kept []any
	for _, item := range kube["items"].([]any) {
		if item.(map[string]any)["kind"] != "Pod" {
			kept = append(kept, item)
		}
	}
	kube["items"] = kept
	deleted, _ := json.Marshal(world)
	plan, code := check(deleted)
	if code != stackcheck.ExitAccepted {
		t.Fatalf("exit %d:\n%s", code, plan)
	}
	lines := strings.Split(plan, "\n")
	next := 0
	for _, want := range strings.Split(strings.TrimSpace(texts[1]), "\n") {
		if want == "..." {
			continue
		}
		for next < len(lines) && lines[next] != want {
			next++
		}
		if next == len(lines) {
			t.Fatalf("the doc's plan sample line is not in the output (in order):\n%s\noutput:\n%s", want, plan)
		}
		next++
	}
}

// A recording with a misspelt part is refused, not taken for "nothing
// exists" there.
func TestARecordingWithAnUnknownKeyIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "existing.json")
	if err := os.WriteFile(path, []byte(`{"addons": null, "kubernetes": {"items": []}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := stackcheck.Main([]string{"-C", "..", "-existing", path, "dev"}, &out, &errOut)
	if code != stackcheck.ExitUsage || !strings.Contains(errOut.String(), `unknown key "addons" (allowed: addon, roles, associations, kubernetes)`) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
