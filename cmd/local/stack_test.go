package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/localworld"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

func repoProject(t *testing.T) *workspace.Project {
	t.Helper()
	proj, err := workspace.LoadProject(filepath.Join("..", "..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return proj
}

// The world is seeded from what each of the repository's stacks names.
func TestReadSeed(t *testing.T) {
	proj := repoProject(t)
	for _, tc := range []struct {
		stack string
		want  seed
	}{
		{"dev", seed{region: "us-east-1", cluster: "my-eks-cluster"}},
		{"prod", seed{region: "eu-west-1", cluster: "prod-eks"}},
		{"sandbox", seed{region: "us-east-1", cluster: "sandbox-eks", create: true}},
	} {
		got, err := readSeed(proj, filepath.Join("..", "..", "Pulumi."+tc.stack+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: seed %+v, want %+v", tc.stack, got, tc.want)
		}
	}
}

// The copy is the user's file with the local kubeconfig path added (never
// for createCluster, which refuses one) and the previous copy's secrets
// salt kept; the user's file is not written.
func TestStageStack(t *testing.T) {
	proj := repoProject(t)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	w := &localworld.World{Dir: t.TempDir(), Repo: repo}
	src := filepath.Join(repo, "Pulumi.dev.yaml")
	before, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfigKey := config.MustMakeKey(stackconfig.Project, stackconfig.KeyKubeconfig)

	dir, err := stageStack(w, proj, repo, "dev", src, seed{region: "us-east-1", cluster: "my-eks-cluster"})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "Pulumi.dev.yaml")
	staged, err := workspace.LoadProjectStack(nil, proj, dst)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := staged.Config[kubeconfigKey].Value(config.NopDecrypter); v != w.Kubeconfig() {
		t.Errorf("staged kubeconfig %q, want the world's %q", v, w.Kubeconfig())
	}
	user, err := workspace.LoadProjectStack(nil, proj, src)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range user.Config {
		got, _ := staged.Config[k].Value(config.NopDecrypter)
		want, _ := v.Value(config.NopDecrypter)
		if got != want {
			t.Errorf("%s: staged %q, the user's file has %q", k, got, want)
		}
	}
	if len(staged.Config) != len(user.Config)+1 {
		t.Errorf("staged %d keys, want the user's %d and the kubeconfig", len(staged.Config), len(user.Config))
	}

	// The CLI writes a salt into the copy at stack init; the next copy keeps it.
	staged.EncryptionSalt = "v1:salt:x"
	if err := staged.Save(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := stageStack(w, proj, repo, "dev", src, seed{}); err != nil {
		t.Fatal(err)
	}
	again, err := workspace.LoadProjectStack(nil, proj, dst)
	if err != nil {
		t.Fatal(err)
	}
	if again.EncryptionSalt != "v1:salt:x" {
		t.Errorf("salt %q after a second copy, want the first copy's", again.EncryptionSalt)
	}

	after, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("staging wrote the user's stack file")
	}

	sandbox := filepath.Join(repo, "Pulumi.sandbox.yaml")
	dir, err = stageStack(w, proj, repo, "sandbox", sandbox, seed{region: "us-east-1", cluster: "sandbox-eks", create: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "Pulumi.sandbox.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "kubeconfig") {
		t.Error("a createCluster stack's copy got a kubeconfig, which the program refuses")
	}
}

// `down` of a stack the world does not hold is refused before anything is
// destroyed, stopped or removed.
func TestDownOfAnUnknownStackChangesNothing(t *testing.T) {
	w := &localworld.World{Dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(w.StacksDir(), "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := down(context.Background(), w, "mnie")
	if err == nil || !strings.Contains(err.Error(), `no stack "mnie"`) || !strings.Contains(err.Error(), "stacks: mine") {
		t.Fatalf("down mnie = %v, want a refusal naming the stacks", err)
	}
	if _, err := os.Stat(filepath.Join(w.StacksDir(), "mine")); err != nil {
		t.Errorf("the world's files were touched: %v", err)
	}
}
