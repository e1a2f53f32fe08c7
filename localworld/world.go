// Package localworld is the local EKS world: a loopback Kubernetes cluster
// (etcd, kube-apiserver, controller-manager, scheduler, one kwok node), moto
// with its EKS extension standing in for AWS, the node stand-in (Pod
// Identity webhook, agent, pod runner) and the pulumi-aws and pulumi-eks
// plugin stand-ins, started from the scripts and sources under tests/engine.
//
// `go run ./cmd/local` runs a user's stack against it and leaves it running;
// the engine tier (tests/engine/run.sh) starts the same world for its
// scenarios. Everything the world writes is under one directory, and every
// process it starts is recorded there by PID, in a session of its own so a
// Ctrl-C at the terminal never reaches it.
//
// Stdlib only: the program's own packages never import it, and it adds
// nothing to their first compile.
package localworld

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Module is the module path that marks the repository root.
const Module = "github.com/platform-eng/eks-pod-identity"

// World is one local EKS world, kept in Dir.
type World struct {
	Dir  string    // everything the world writes: state, logs, binaries
	Repo string    // the repository root: scripts and stand-in sources
	Out  io.Writer // progress for the user
	// AWSPluginPkg is the package of the pulumi-aws stand-in, relative to
	// tests/engine (default ./awsstandin).
	AWSPluginPkg string
	// Smoke checks the cluster (tests/engine/cluster/smoke.sh) before the
	// node stand-in starts, which would otherwise run the check's pods.
	Smoke bool
}

// DefaultDir is where `go run ./cmd/local` keeps its world:
// $EKS_POD_IDENTITY_LOCAL, else $XDG_STATE_HOME/eks-pod-identity-local,
// else ~/.local/state/eks-pod-identity-local.
func DefaultDir() (string, error) {
	if d := os.Getenv("EKS_POD_IDENTITY_LOCAL"); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "eks-pod-identity-local"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the local world (set EKS_POD_IDENTITY_LOCAL): %w", err)
	}
	return filepath.Join(home, ".local", "state", "eks-pod-identity-local"), nil
}

// FindRepo walks up from dir to the repository root: the directory whose
// go.mod declares Module.
func FindRepo(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module "+Module+"\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside a clone of %s: run this from the repository", dir, Module)
		}
	}
}

func (w *World) engineDir() string    { return filepath.Join(w.Repo, "tests", "engine") }
func (w *World) clusterState() string { return filepath.Join(w.Dir, "cluster") }
func (w *World) motoState() string    { return filepath.Join(w.Dir, "moto") }
func (w *World) nodeState() string    { return filepath.Join(w.Dir, "node") }
func (w *World) binDir() string       { return filepath.Join(w.Dir, "bin") }
func (w *World) EnvFile() string      { return filepath.Join(w.Dir, "world.env") }
func (w *World) StacksDir() string    { return filepath.Join(w.Dir, "stacks") }
func (w *World) Kubeconfig() string   { return filepath.Join(w.clusterState(), "kubeconfig") }
func (w *World) logf(f string, a ...any) {
	fmt.Fprintf(w.Out, "[local %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(f, a...))
}

// Versions reads tests/engine/versions.env, the one place the world's tool
// and plugin versions are set.
func (w *World) Versions() (map[string]string, error) {
	return readEnvFile(filepath.Join(w.engineDir(), "versions.env"))
}

// readEnvFile reads KEY=VALUE and `export KEY="VALUE"` lines.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out[k] = unquote(v)
	}
	return out, s.Err()
}

// unquote undoes shellQuote, or strips the double quotes of cluster.env.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return strings.Trim(v, `"`)
}

// Env is the environment of the running world, as world.env records it:
// what a Pulumi run, kubectl or the AWS CLI needs to use it.
func (w *World) Env() (map[string]string, error) {
	env, err := readEnvFile(w.EnvFile())
	if err != nil {
		return nil, fmt.Errorf("the local world in %s is not started (no world.env): %w", w.Dir, err)
	}
	return env, nil
}

// Apply sets the world's environment in this process, so the Pulumi CLI
// and the plugins it starts inherit it.
func Apply(env map[string]string) error {
	for _, k := range unset {
		if err := os.Unsetenv(k); err != nil {
			return err
		}
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// Process is one process the world started.
type Process struct {
	Name  string
	PID   int
	Alive bool
}

// Processes lists what the world recorded, and which still run.
func (w *World) Processes() []Process {
	var out []Process
	add := func(name, pidFile string) {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return
		}
		var pid int
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &pid); err != nil || pid <= 0 {
			return
		}
		out = append(out, Process{Name: name, PID: pid, Alive: alive(pid)})
	}
	pids, _ := filepath.Glob(filepath.Join(w.clusterState(), "pids", "*.pid"))
	sort.Strings(pids)
	for _, p := range pids {
		add(strings.TrimSuffix(filepath.Base(p), ".pid"), p)
	}
	add("moto", filepath.Join(w.motoState(), "pid"))
	add("engine-node", filepath.Join(w.nodeState(), "pid"))
	return out
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie is not running.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// State is what Status reports.
type State int

const (
	Absent  State = iota // nothing recorded
	Running              // every recorded process runs
	Broken               // some recorded process is gone
)

// Status says whether the world runs.
func (w *World) Status() State {
	ps := w.Processes()
	if len(ps) == 0 {
		return Absent
	}
	for _, p := range ps {
		if !p.Alive {
			return Broken
		}
	}
	if _, err := os.Stat(w.EnvFile()); err != nil {
		return Broken
	}
	return Running
}

// Lock holds the world for one command at a time: a second `up` or `down`
// waits rather than start a second world in the same place.
func (w *World) Lock() (unlock func(), err error) {
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(w.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		w.logf("another command holds the local world in %s; waiting for it", w.Dir)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", w.Dir, err)
		}
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// script runs one of tests/engine's scripts in a session of its own (the
// processes it leaves running must not get the terminal's Ctrl-C), with
// env added to this process's environment. Its stdout is returned; its
// stderr goes to the user.
func (w *World) script(ctx context.Context, env []string, path string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{path}, args...)...)
	cmd.Env = append(baseEnviron(), env...)
	cmd.Stderr = w.Out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Cancel with SIGTERM to the whole session, so the script's own trap
	// stops what it started.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w", filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Stop stops every process the world recorded, by PID: the node first (it
// removes its webhook from the apiserver), then moto, then the cluster.
// With remove, the world's directory goes too.
func (w *World) Stop(ctx context.Context, remove bool) error {
	var errs []error
	if pid := readPID(filepath.Join(w.nodeState(), "pid")); pid > 0 && alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		waitGone(pid, 10*time.Second)
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.Remove(filepath.Join(w.nodeState(), "pid"))
	if _, err := os.Stat(filepath.Join(w.motoState(), "pid")); err == nil {
		if _, err := w.script(ctx, nil, filepath.Join(w.engineDir(), "moto", "stop.sh"), w.motoState()); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat(filepath.Join(w.clusterState(), "pids")); err == nil {
		keep := "1"
		if remove {
			keep = "0"
		}
		if _, err := w.script(ctx, []string{"ENGINE_KEEP_STATE=" + keep}, filepath.Join(w.engineDir(), "cluster", "down.sh"), w.clusterState()); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range w.Processes() {
		if p.Alive {
			errs = append(errs, fmt.Errorf("%s (pid %d) still runs after stop", p.Name, p.PID))
		}
	}
	_ = os.Remove(w.EnvFile())
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if remove {
		return removeAll(w.Dir)
	}
	return nil
}

// removeAll removes the world's directory; the lock file last, since a
// waiting command holds it open.
func removeAll(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if e.Name() == ".lock" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove the local world: %w", err)
		}
	}
	return os.RemoveAll(dir)
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &pid); err != nil {
		return 0
	}
	return pid
}

func waitGone(pid int, d time.Duration) {
	deadline := time.Now().Add(d)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
}
