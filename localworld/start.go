package localworld

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Missing is a prerequisite the machine lacks, with the command that
// installs it.
type Missing struct {
	What    string
	Install string
}

// Prerequisites lists what the world needs and the machine lacks. The four
// built tools are not in it: Start builds them.
func Prerequisites(lookPath func(string) (string, error), run func(name string, args ...string) error) []Missing {
	var out []Missing
	for _, m := range []struct{ bin, what, install string }{
		{"go", "Go (to build the tools and stand-ins)", "see https://go.dev/doc/install"},
		{"python3", "Python 3 (moto, the AWS stand-in)", "sudo apt-get install -y python3 python3-pip"},
		{"openssl", "openssl (the cluster's certificates)", "sudo apt-get install -y openssl"},
		{"etcd", "etcd (the cluster's store)", "sudo apt-get install -y --no-install-recommends etcd-server etcd-client"},
		{"etcdctl", "etcdctl", "sudo apt-get install -y --no-install-recommends etcd-client"},
	} {
		if _, err := lookPath(m.bin); err != nil {
			out = append(out, Missing{m.what, m.install})
		}
	}
	if _, err := lookPath("python3"); err == nil {
		if run("python3", "-c", "import moto, flask") != nil {
			out = append(out, Missing{"moto 5 with its server (the AWS stand-in)", "python3 -m pip install 'moto[server]==5.2.1'"})
		}
		if run("python3", "-c", "import awscli") != nil {
			out = append(out, Missing{"the AWS CLI for python3 (the pods' `aws`)", "python3 -m pip install awscli"})
		}
	}
	return out
}

// FormatMissing is the message for a machine that lacks prerequisites.
func FormatMissing(ms []Missing) string {
	var b strings.Builder
	b.WriteString("the local world needs what this machine lacks:\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "  - %s: %s\n", m.What, m.Install)
	}
	return strings.TrimRight(b.String(), "\n")
}

func runQuiet(name string, args ...string) error {
	return exec.Command(name, args...).Run()
}

// Tool is one of the binaries Start builds once per machine.
type Tool struct {
	Name string // as tools/build.sh logs it
	Dir  string // its cache directory
	// Measured is the wall time of its cold build on an idle 2-core
	// machine, two builds side by side (docs/engine.md, Timings).
	Measured time.Duration
}

// Tools are the built tools, longest first, as tools/build.sh queues them.
func (w *World) Tools(cache string, v map[string]string) []Tool {
	bin := filepath.Join(cache, "bin")
	return []Tool{
		{"kubernetes-provider", filepath.Join(bin, "kubernetes-provider-"+v["K8S_PROVIDER_VERSION"]), 1037 * time.Second},
		{"k8s", filepath.Join(bin, "k8s-"+v["K8S_VERSION"]), 743 * time.Second},
		{"pulumi", filepath.Join(bin, "pulumi-"+v["PULUMI_VERSION"]), 467 * time.Second},
		{"kwok", filepath.Join(bin, "kwok-"+v["KWOK_VERSION"]), 161 * time.Second},
	}
}

// Cache is where the built tools are kept, shared by every world on the
// machine: $ENGINE_CACHE, default ~/.cache/eks-pod-identity-engine.
func Cache() string {
	if c := os.Getenv("ENGINE_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "eks-pod-identity-engine")
}

// BuildPlan is what the first run will build and what it costs, or "" when
// every tool is cached. The figures are the ones docs/engine.md records.
func BuildPlan(tools []Tool) string {
	var todo []Tool
	for _, t := range tools {
		if _, err := os.Stat(filepath.Join(t.Dir, ".stamp")); err != nil {
			todo = append(todo, t)
		}
	}
	if len(todo) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first run on this machine: building %d tools from the Go module proxy, once (cached in %s):\n", len(todo), filepath.Dir(filepath.Dir(todo[0].Dir)))
	// Two at a time, longest first: the wall time is about the longer lane.
	var lanes [2]time.Duration
	for _, t := range todo {
		fmt.Fprintf(&b, "  - %-20s measured %s cold\n", t.Name, t.Measured.Round(time.Second))
		if lanes[0] <= lanes[1] {
			lanes[0] += t.Measured
		} else {
			lanes[1] += t.Measured
		}
	}
	fmt.Fprintf(&b, "  about %d minutes on an idle 2-core machine (27 minutes measured in a cold CI run with the tests compiling beside it), two builds at once, up to 6.5 GB of memory;\n", int(max(lanes[0], lanes[1]).Minutes()+0.5))
	b.WriteString("  disk: 0.8 GB of binaries, plus the Go module and build caches they fill (several GB)")
	return b.String()
}

// Start starts the world, building the tools first if this machine has not
// yet. On failure or cancellation it stops whatever it started.
func (w *World) Start(ctx context.Context) (err error) {
	if ms := Prerequisites(exec.LookPath, runQuiet); len(ms) > 0 {
		return errors.New(FormatMissing(ms))
	}
	v, err := w.Versions()
	if err != nil {
		return fmt.Errorf("read tests/engine/versions.env: %w", err)
	}
	if err := w.checkPins(v); err != nil {
		return err
	}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.logf("start failed; stopping what was started")
			if stopErr := w.Stop(context.Background(), false); stopErr != nil {
				err = errors.Join(err, stopErr)
			}
		}
	}()
	t0 := time.Now()
	env, err := w.buildTools(ctx, v)
	if err != nil {
		return err
	}
	podPath, awsCLI, err := awsCLIPath()
	if err != nil {
		return err
	}
	env["ENGINE_AWS_CLI_DIR"] = awsCLI
	env["ENGINE_POD_PATH"] = podPath
	env["ENGINE_REPO_ROOT"] = w.Repo
	env["ENGINE_WORK"] = w.Dir
	env["ENGINE_STATE"] = w.clusterState()

	if err := w.pulumiEnv(ctx, env, v); err != nil {
		return err
	}
	w.logf("starting the cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok node)")
	if _, err := w.script(ctx, envList(env), filepath.Join(w.engineDir(), "cluster", "up.sh"), w.clusterState()); err != nil {
		return err
	}
	cluster, err := readEnvFile(filepath.Join(w.clusterState(), "cluster.env"))
	if err != nil {
		return err
	}
	for k, val := range cluster {
		env[k] = val
	}
	env["KUBECONFIG"] = cluster["ENGINE_KUBECONFIG"]
	if w.Smoke {
		w.logf("checking the cluster (cluster/smoke.sh)")
		if _, err := w.script(ctx, envList(env), filepath.Join(w.engineDir(), "cluster", "smoke.sh"), w.clusterState()); err != nil {
			return err
		}
	}

	w.logf("starting moto (AWS stand-in)")
	for k, val := range map[string]string{
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		env[k] = val
	}
	out, err := w.script(ctx, envList(env), filepath.Join(w.engineDir(), "moto", "start.sh"), w.motoState())
	if err != nil {
		return err
	}
	moto := strings.TrimSpace(out)
	env["ENGINE_MOTO_ENDPOINT"] = moto
	env["AWS_ENDPOINT_URL"] = moto

	if err := w.startNode(ctx, env); err != nil {
		return err
	}
	if err := w.installStandIns(ctx, env, v); err != nil {
		return err
	}
	if err := writeEnvFile(w.EnvFile(), env); err != nil {
		return err
	}
	w.logf("local world up in %s (%s)", time.Since(t0).Round(time.Second), w.Dir)
	return nil
}

// checkPins refuses a go.mod whose SDKs name other plugin versions than
// versions.env installs.
func (w *World) checkPins(v map[string]string) error {
	gomod, err := os.ReadFile(filepath.Join(w.Repo, "go.mod"))
	if err != nil {
		return err
	}
	for mod, ver := range map[string]string{
		"github.com/pulumi/pulumi-kubernetes/sdk/v4": v["K8S_PROVIDER_VERSION"],
		"github.com/pulumi/pulumi-aws/sdk/v6":        v["AWS_PLUGIN_VERSION"],
	} {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(mod) + `\s+v` + regexp.QuoteMeta(ver) + `(\s|$)`).Match(gomod) {
			return fmt.Errorf("go.mod does not require %s v%s (tests/engine/versions.env); update one of them", mod, ver)
		}
	}
	return nil
}

// buildTools runs tools/build.sh (seconds when cached), saying first what
// a cold build costs and then, while it builds, what is building and for
// how long.
func (w *World) buildTools(ctx context.Context, v map[string]string) (map[string]string, error) {
	cache := Cache()
	plan := BuildPlan(w.Tools(cache, v))
	if plan != "" {
		fmt.Fprintln(w.Out, plan)
	} else {
		w.logf("tools: cached in %s", cache)
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(w.engineDir(), "tools", "build.sh"))
	cmd.Env = append(os.Environ(), "ENGINE_CACHE="+cache)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("tools/build.sh: %w", err)
	}
	progress := newBuildProgress(w.Out, plan != "")
	done := make(chan struct{})
	go func() { progress.follow(stderr); close(done) }()
	ticker := time.NewTicker(time.Minute)
	defer ticker.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-ticker.C:
			progress.tick()
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("building the tools (logs in %s): %w", filepath.Join(cache, "logs"), err)
	}
	env, err := readEnvFile(filepath.Join(cache, "env.sh"))
	if err != nil {
		return nil, err
	}
	env["PATH"] = strings.ReplaceAll(env["PATH"], "$PATH", os.Getenv("PATH"))
	return env, nil
}

// awsCLIPath finds the AWS CLI python3 has (its scripts directory) and the
// PATH pods' commands get: that directory first.
func awsCLIPath() (podPath, dir string, err error) {
	out, err := exec.Command("python3", "-c", `
import os, sysconfig
for scheme in (sysconfig.get_default_scheme(), f"{os.name}_user"):
    d = sysconfig.get_path("scripts", scheme)
    if os.access(os.path.join(d, "aws"), os.X_OK):
        print(d)
        break
`).Output()
	dir = strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		return "", "", errors.New("the AWS CLI is not installed for python3: python3 -m pip install awscli")
	}
	return dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", dir, nil
}

// pulumiEnv sets an offline Pulumi: a home and a file backend of the
// world's own, a passphrase made once for its secrets, and the Kubernetes
// plugin installed from the built provider.
func (w *World) pulumiEnv(ctx context.Context, env map[string]string, v map[string]string) error {
	home := filepath.Join(w.Dir, "pulumi-home")
	state := filepath.Join(w.Dir, "pulumi-state")
	for _, d := range []string{home, state, w.binDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	pass, err := passphrase(filepath.Join(w.Dir, "passphrase"))
	if err != nil {
		return err
	}
	for k, val := range map[string]string{
		"PULUMI_HOME": home, "PULUMI_BACKEND_URL": "file://" + state, "PULUMI_CONFIG_PASSPHRASE": pass,
		"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
		"ENGINE_K8S_PLUGIN_VERSION":                v["K8S_PROVIDER_VERSION"],
		"ENGINE_AWS_PLUGIN_VERSION":                v["AWS_PLUGIN_VERSION"],
	} {
		env[k] = val
	}
	return w.pulumi(ctx, env, "plugin", "install", "resource", "kubernetes", "v"+v["K8S_PROVIDER_VERSION"], "--file", env["ENGINE_TOOLS_K8S_PROVIDER_BIN"])
}

func (w *World) pulumi(ctx context.Context, env map[string]string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(env["ENGINE_TOOLS_PULUMI_BIN"], "pulumi"), args...)
	cmd.Env = append(baseEnviron(), envList(env)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pulumi %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// passphrase is the world's secrets passphrase, made on first use.
func passphrase(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	p := hex.EncodeToString(raw)
	return p, os.WriteFile(path, []byte(p+"\n"), 0o600)
}

// startNode builds and starts engine-node: the Pod Identity webhook, the
// agent and the pod runner.
func (w *World) startNode(ctx context.Context, env map[string]string) error {
	w.logf("starting the node stand-in (Pod Identity webhook, agent, pod runner)")
	bin := filepath.Join(w.binDir(), "engine-node")
	if err := w.goBuild(ctx, nil, bin, "./podrunner/cmd/engine-node"); err != nil {
		return err
	}
	state := w.nodeState()
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	ready := filepath.Join(state, "ready")
	_ = os.Remove(ready)
	logf, err := os.Create(filepath.Join(state, "node.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin,
		"--apiserver", env["ENGINE_K8S_ENDPOINT"], "--ca-file", env["ENGINE_K8S_CA_FILE"], "--token-file", env["ENGINE_K8S_TOKEN_FILE"],
		"--moto", env["ENGINE_MOTO_ENDPOINT"], "--node", env["ENGINE_K8S_NODE"], "--work-dir", state,
		"--pod-path", env["ENGINE_POD_PATH"], "--ready-file", ready)
	cmd.Env = append(baseEnviron(), envList(env)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start engine-node: %w", err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(state, "pid"), fmt.Appendf(nil, "%d\n", pid), 0o644); err != nil {
		return err
	}
	// Reap it if it dies while this process still runs; it outlives us otherwise.
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			for _, line := range strings.Split(string(b), "\n") {
				if u, ok := strings.CutPrefix(line, "agent="); ok {
					env["ENGINE_AGENT_URL"] = u
				}
			}
			env["ENGINE_NODE_LOG"] = filepath.Join(state, "node.log")
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(state, "node.log"))
			return fmt.Errorf("engine-node exited during start:\n%s", log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("engine-node not ready within 30 s (log %s)", filepath.Join(state, "node.log"))
		}
	}
}

// installStandIns builds the pulumi-aws and pulumi-eks stand-ins, labelled
// with the versions the program's SDKs ask for, and installs them as those
// plugins.
func (w *World) installStandIns(ctx context.Context, env map[string]string, v map[string]string) error {
	w.logf("building the pulumi-aws %s and pulumi-eks %s stand-ins", v["AWS_PLUGIN_VERSION"], v["EKS_PLUGIN_VERSION"])
	pkg := w.AWSPluginPkg
	if pkg == "" {
		pkg = "./awsstandin"
	}
	for _, p := range []struct{ name, pkg, version string }{
		{"aws", pkg, v["AWS_PLUGIN_VERSION"]},
		{"eks", "./eksstandin", v["EKS_PLUGIN_VERSION"]},
	} {
		bin := filepath.Join(w.binDir(), "pulumi-resource-"+p.name)
		if err := w.goBuild(ctx, []string{"-ldflags", "-X main.providerVersion=" + p.version}, bin, p.pkg); err != nil {
			return err
		}
		if err := w.pulumi(ctx, env, "plugin", "install", "resource", p.name, "v"+p.version, "--file", bin); err != nil {
			return err
		}
	}
	return nil
}

// goBuild builds a package of the tests/engine module.
func (w *World) goBuild(ctx context.Context, flags []string, out, pkg string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = w.engineDir()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (in tests/engine): %w\n%s", pkg, err, b)
	}
	return nil
}

// baseEnviron is this process's environment without the variables that
// would point the world's AWS clients at a real account's profile.
func baseEnviron() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(unset, k)
	})
}

// unset are the variables the world's processes must not see.
var unset = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}

func envList(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// writeEnvFile writes env as `export K='V'` lines a shell can source.
func writeEnvFile(path string, env map[string]string) error {
	var b strings.Builder
	b.WriteString("# Written by localworld: the running local EKS world's environment.\n")
	for _, kv := range envList(env) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
