package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/platform-eng/eks-pod-identity/localworld"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// ensureWorld starts the world unless it runs. A world whose processes
// died (a reboot, a kill) is replaced by a fresh one, and the stacks' state
// goes with it: the objects it recorded lived in those processes.
func ensureWorld(ctx context.Context, w *localworld.World) (map[string]string, error) {
	switch w.Status() {
	case localworld.Running:
		fmt.Printf("local world: running in %s\n", w.Dir)
	case localworld.Broken:
		fmt.Printf("local world: some of its processes are gone (%s); starting a fresh one, the old stacks' state goes with it\n", w.Dir)
		if err := w.Stop(ctx, true); err != nil {
			return nil, err
		}
		fallthrough
	default:
		if err := w.Start(ctx); err != nil {
			return nil, err
		}
	}
	env, err := w.Env()
	if err != nil {
		return nil, err
	}
	return env, localworld.Apply(env)
}

// seed is what the world must hold before the stack's `up`: the cluster a
// stack names, in its region, pointing at the local apiserver.
type seed struct {
	region, cluster string
	create          bool // createCluster: the pulumi-eks stand-in makes it
}

func readSeed(proj *workspace.Project, path string) (seed, error) {
	ps, err := workspace.LoadProjectStack(nil, proj, path)
	if err != nil {
		return seed{}, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	get := func(ns, key string) string {
		v, ok := ps.Config[config.MustMakeKey(ns, key)]
		if !ok {
			return ""
		}
		s, err := v.Value(config.NopDecrypter)
		if err != nil {
			return ""
		}
		return s
	}
	s := seed{region: get("aws", "region"), cluster: get(stackconfig.Project, "clusterName")}
	if raw := get(stackconfig.Project, "createCluster"); raw != "" && raw != "{}" {
		var cc struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(raw), &cc); err == nil && cc.Name != "" {
			s.cluster, s.create = cc.Name, true
		}
	}
	return s, nil
}

// stackFiles lists the repository's stacks, for a message.
func stackFiles(repo string) []string {
	m, _ := filepath.Glob(filepath.Join(repo, "Pulumi.*.yaml"))
	var out []string
	for _, p := range m {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "Pulumi."), ".yaml"))
	}
	slices.Sort(out)
	return out
}

func up(ctx context.Context, w *localworld.World, project, stackName string) error {
	src := filepath.Join(project, "Pulumi."+stackName+".yaml")
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no stack file Pulumi.%s.yaml in %s; the stacks there are %s", stackName, project, strings.Join(stackFiles(project), ", "))
	}
	proj, err := workspace.LoadProject(filepath.Join(project, "Pulumi.yaml"))
	if err != nil {
		return err
	}
	sd, err := readSeed(proj, src)
	if err != nil {
		return err
	}
	unlock, err := w.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	env, err := ensureWorld(ctx, w)
	if err != nil {
		return err
	}
	dir, err := stageStack(w, proj, project, stackName, src, sd)
	if err != nil {
		return err
	}
	extra := map[string]string{}
	if sd.cluster != "" && sd.region != "" {
		if err := seedCluster(env, sd); err != nil {
			return err
		}
		if sd.create {
			// The generated kubeconfig runs `aws eks get-token`, which only
			// EKS can answer: this stand-in prints the local apiserver's token.
			extra["PATH"] = filepath.Join(w.Repo, "tests", "engine", "fakeaws") + string(os.PathListSeparator) + os.Getenv("PATH")
			extra["FAKE_AWS_CLUSTER"], extra["FAKE_AWS_REGION"] = sd.cluster, sd.region
		}
	}
	s, err := auto.UpsertStackInlineSource(ctx, stackName, stackconfig.Project, program.Run,
		auto.WorkDir(dir), auto.SecretsProvider("passphrase"), auto.EnvVars(extra))
	if err != nil {
		return fmt.Errorf("stack %s: %w", stackName, err)
	}
	if err := recoverInterrupted(ctx, w, s); err != nil {
		return err
	}
	fmt.Printf("\n== pulumi up %s (the real Pulumi CLI, the program in process)\n", stackName)
	t0 := time.Now()
	res, err := s.Up(ctx, optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr), optup.SuppressOutputs())
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted; the local world keeps running: `go run ./cmd/local up %s` resumes, `go run ./cmd/local down` removes it", stackName)
		}
		return fmt.Errorf("pulumi up %s: %w", stackName, err)
	}
	fmt.Printf("\n== outputs (up took %s)\n", time.Since(t0).Round(time.Second))
	b, _ := json.MarshalIndent(plain(res.Outputs), "", "  ")
	fmt.Println(string(b))
	report(ctx, w, env, sd, res.Outputs)
	return nil
}

// stageStack copies Pulumi.yaml and the stack file into the world (no
// tracked file is written) and points the copy at the local cluster. The
// copy keeps the secrets salt of the previous run's copy.
func stageStack(w *localworld.World, proj *workspace.Project, project, name, src string, sd seed) (string, error) {
	dir := filepath.Join(w.StacksDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(project, "Pulumi.yaml"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), b, 0o644); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "Pulumi."+name+".yaml")
	var salt string
	if old, err := workspace.LoadProjectStack(nil, proj, dst); err == nil {
		salt = old.EncryptionSalt
	}
	ps, err := workspace.LoadProjectStack(nil, proj, src)
	if err != nil {
		return "", err
	}
	ps.EncryptionSalt = salt
	if !sd.create {
		// A path, not content: nothing secret goes into the copy.
		ps.Config[config.MustMakeKey(stackconfig.Project, stackconfig.KeyKubeconfig)] = config.NewValue(w.Kubeconfig())
	}
	return dir, ps.Save(dst)
}

// seedCluster makes the stack's cluster exist in moto, in its region,
// pointing at the local apiserver; for createCluster, it makes the cluster
// the stand-in creates point there.
func seedCluster(env map[string]string, sd seed) error {
	moto := env["ENGINE_MOTO_ENDPOINT"]
	body := map[string]string{"endpoint": env["ENGINE_K8S_ENDPOINT"], "certificateAuthorityData": env["ENGINE_K8S_CA_B64"]}
	path := "/moto-ext/cluster-defaults"
	if !sd.create {
		body["name"], body["region"], body["version"] = sd.cluster, sd.region, "1.33"
		path = "/moto-ext/clusters"
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(moto+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("seed cluster %s in the local AWS: %w", sd.cluster, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("seed cluster %s in the local AWS: HTTP %d", sd.cluster, resp.StatusCode)
	}
	if !sd.create {
		fmt.Printf("local world: cluster %s in %s points at the local apiserver\n", sd.cluster, sd.region)
	}
	return nil
}

// recoverInterrupted clears what an interrupted run left: a lock of the
// file backend (this command holds the world, so no other run owns it) and
// pending operations, by a refresh that drops pending creates.
func recoverInterrupted(ctx context.Context, w *localworld.World, s auto.Stack) error {
	locks := filepath.Join(w.Dir, "pulumi-state", ".pulumi", "locks")
	_ = filepath.WalkDir(locks, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			if os.Remove(p) == nil {
				fmt.Printf("local world: removed the lock an interrupted run left (%s)\n", filepath.Base(p))
			}
		}
		return nil
	})
	dep, err := s.Export(ctx)
	if err != nil {
		return fmt.Errorf("read the state of stack %s: %w", s.Name(), err)
	}
	var snap struct {
		Pending []json.RawMessage `json:"pending_operations"`
	}
	if len(dep.Deployment) > 0 {
		if err := json.Unmarshal(dep.Deployment, &snap); err != nil {
			return fmt.Errorf("read the state of stack %s: %w", s.Name(), err)
		}
	}
	if len(snap.Pending) == 0 {
		return nil
	}
	fmt.Printf("local world: the last run of %s was interrupted with %d operations in flight; refreshing first\n", s.Name(), len(snap.Pending))
	if _, err := s.Refresh(ctx, optrefresh.ClearPendingCreates(), optrefresh.ProgressStreams(os.Stdout)); err != nil {
		return fmt.Errorf("refresh stack %s after an interrupted run: %w", s.Name(), err)
	}
	return nil
}

func plain(out auto.OutputMap) map[string]any {
	m := map[string]any{}
	for k, v := range out {
		if v.Secret {
			m[k] = "[secret]"
			continue
		}
		m[k] = v.Value
	}
	return m
}

// report shows what the walkthrough's step 6 shows on EKS: each
// verification Job's log and the test pod's identity, then how to look
// around the world.
func report(ctx context.Context, w *localworld.World, env map[string]string, sd seed, out auto.OutputMap) {
	kubectl := filepath.Join(env["ENGINE_TOOLS_K8S_BIN"], "kubectl")
	run := func(args ...string) string {
		c := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", w.Kubeconfig()}, args...)...)
		b, err := c.CombinedOutput()
		if err != nil {
			return strings.TrimSpace(string(b)) + "\n(" + err.Error() + ")"
		}
		return strings.TrimSpace(string(b))
	}
	workloads, _ := out["workloads"].Value.(map[string]any)
	for _, key := range sortedKeys(workloads) {
		wl, _ := workloads[key].(map[string]any)
		ns, _ := wl["namespace"].(string)
		if job, ok := wl["verifyJob"].(string); ok {
			fmt.Printf("\n== %s: verification Job %s/%s, its log\n%s\n", key, ns, job, run("logs", "job/"+job, "-n", ns))
		}
		if pod, ok := wl["testPod"].(string); ok {
			fmt.Printf("\n== %s: kubectl exec -n %s %s -- aws sts get-caller-identity\n", key, ns, pod)
			var got string
			// The node stand-in registers a new pod's exec environment just
			// after it is bound.
			for range 20 {
				if got = run("exec", "-n", ns, pod, "--", "aws", "sts", "get-caller-identity"); !strings.Contains(got, "no exec found") {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			fmt.Println(got)
		}
	}
	region := sd.region
	if region == "" {
		region = "us-east-1"
	}
	fmt.Printf(`
== inside the local world
  KUBECONFIG=%s %s get pods -A
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url %s --region %s iam list-roles
  go run ./cmd/local status    go run ./cmd/local down
`, w.Kubeconfig(), kubectl, env["ENGINE_MOTO_ENDPOINT"], region)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// down destroys the stacks of the world, then stops it and removes its
// files. A world whose processes are gone took its objects with it: only
// its files are left to remove.
func down(ctx context.Context, w *localworld.World, only string) error {
	unlock, err := w.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	names := stagedStacks(w)
	if only != "" {
		if !slices.Contains(names, only) {
			// A typo must not stop the world and remove its files with
			// nothing destroyed.
			return fmt.Errorf("no stack %q in %s (stacks: %s): nothing was changed", only, w.Dir, strings.Join(names, ", "))
		}
		names = []string{only}
	}
	switch w.Status() {
	case localworld.Absent:
		fmt.Printf("local world: nothing runs from %s\n", w.Dir)
	case localworld.Broken:
		fmt.Printf("local world: some of its processes are gone; the objects of %s went with them\n", strings.Join(names, ", "))
	case localworld.Running:
		env, err := w.Env()
		if err != nil {
			return err
		}
		if err := localworld.Apply(env); err != nil {
			return err
		}
		for _, name := range names {
			if err := destroy(ctx, w, name); err != nil {
				return fmt.Errorf("%w\nthe world is left running; fix the cause and run `go run ./cmd/local down` again", err)
			}
		}
	}
	if err := w.Stop(context.Background(), true); err != nil {
		return err
	}
	fmt.Printf("local world: stopped; %s removed\n", w.Dir)
	return nil
}

func stagedStacks(w *localworld.World) []string {
	entries, err := os.ReadDir(w.StacksDir())
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func destroy(ctx context.Context, w *localworld.World, name string) error {
	dir := filepath.Join(w.StacksDir(), name)
	extra := map[string]string{}
	if proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml")); err == nil {
		if sd, err := readSeed(proj, filepath.Join(dir, "Pulumi."+name+".yaml")); err == nil && sd.create {
			extra["PATH"] = filepath.Join(w.Repo, "tests", "engine", "fakeaws") + string(os.PathListSeparator) + os.Getenv("PATH")
			extra["FAKE_AWS_CLUSTER"], extra["FAKE_AWS_REGION"] = sd.cluster, sd.region
		}
	}
	s, err := auto.SelectStackInlineSource(ctx, name, stackconfig.Project, program.Run,
		auto.WorkDir(dir), auto.SecretsProvider("passphrase"), auto.EnvVars(extra))
	if err != nil {
		if auto.IsSelectStack404Error(err) {
			return nil
		}
		return fmt.Errorf("stack %s: %w", name, err)
	}
	if err := recoverInterrupted(ctx, w, s); err != nil {
		return err
	}
	fmt.Printf("\n== pulumi destroy %s\n", name)
	if _, err := s.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr)); err != nil {
		return fmt.Errorf("pulumi destroy %s: %w", name, err)
	}
	if err := s.Workspace().RemoveStack(ctx, name); err != nil {
		return fmt.Errorf("remove stack %s: %w", name, err)
	}
	return nil
}

// status says what runs and what the world holds.
func status(w *localworld.World) error {
	ps := w.Processes()
	switch w.Status() {
	case localworld.Absent:
		fmt.Printf("local world: not started (%s); `go run ./cmd/local up` starts it\n", w.Dir)
		return nil
	case localworld.Running:
		fmt.Printf("local world: running in %s\n", w.Dir)
	case localworld.Broken:
		fmt.Printf("local world: BROKEN in %s (a process is gone); `go run ./cmd/local down` cleans up, `up` starts afresh\n", w.Dir)
	}
	for _, p := range ps {
		state := "running"
		if !p.Alive {
			state = "gone"
		}
		fmt.Printf("  %-24s pid %-7d %s\n", p.Name, p.PID, state)
	}
	if env, err := w.Env(); err == nil {
		fmt.Printf("  apiserver %s\n  AWS (moto) %s\n  agent %s\n", env["ENGINE_K8S_ENDPOINT"], env["ENGINE_MOTO_ENDPOINT"], env["ENGINE_AGENT_URL"])
		fmt.Printf("  KUBECONFIG=%s %s get pods -A\n", w.Kubeconfig(), filepath.Join(env["ENGINE_TOOLS_K8S_BIN"], "kubectl"))
	}
	if names := stagedStacks(w); len(names) > 0 {
		fmt.Printf("  stacks: %s\n", strings.Join(names, ", "))
	}
	return nil
}
