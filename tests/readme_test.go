package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// startHere reads the commands of the README's first code block, under
// "## Start here", without their comments.
func startHere(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n## Start here\n")
	if !ok {
		t.Fatal(`README.md has no "## Start here" section`)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal("README.md: no sh block under Start here")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md: unterminated sh block under Start here")
	}
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		if cmd = strings.TrimSpace(cmd); cmd != "" {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}

// The README's first screen has two commands: the tests, which .ci/run runs
// as written, and the main job on the local world, which the engine tier's
// TestLocalUpAsAUser runs as a user would (it reads the same block).
func TestStartHereHasTheTwoCommands(t *testing.T) {
	cmds := startHere(t)
	if !slices.Equal(cmds, []string{"go test ./...", "go run ./cmd/local up"}) {
		t.Fatalf("Start here commands: %q, want the test command and `go run ./cmd/local up`", cmds)
	}
	ci, err := os.ReadFile(filepath.Join("..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cmds[0]) + `$`).Match(ci) {
		t.Errorf(".ci/run does not run the README's test command %q as a line of its own", cmds[0])
	}
	if !regexp.MustCompile(`(?m)^\s*bash tests/engine/run\.sh`).Match(ci) {
		t.Error(".ci/run does not run the engine tier, where the README's second command is run")
	}
	main, err := os.ReadFile(filepath.Join("..", "cmd", "local", "main.go"))
	if err != nil {
		t.Fatalf("the README's second command needs cmd/local: %v", err)
	}
	if !strings.Contains(string(main), `case "up":`) {
		t.Error("cmd/local has no up command")
	}
}

// readmeBlock is the first ```lang block of the README's section
// "## Use it from TypeScript, Python, YAML or C#".
func readmeBlock(t *testing.T, lang string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
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
	return block
}

// The README's YAML is an excerpt of examples/yaml/Pulumi.yaml, the program
// the engine tier runs: its lines appear there, in order.
func TestReadmeYAMLIsAnExcerptOfTheExampleThatRuns(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "examples", "yaml", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(example), "\n")
	i, n := 0, 0
	for _, want := range strings.Split(readmeBlock(t, "yaml"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(want), "#") || strings.TrimSpace(want) == "" {
			continue
		}
		n++
		for i < len(lines) && lines[i] != want {
			i++
		}
		if i == len(lines) {
			t.Fatalf("the README's YAML line %q is not in examples/yaml/Pulumi.yaml (in this order)", want)
		}
		i++
	}
	if n < 10 {
		t.Errorf("the README's YAML block has %d lines of program; want the component's whole resource", n)
	}
}
