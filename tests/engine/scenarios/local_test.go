//go:build engine

package scenarios

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// localCmd is `go run ./cmd/local` as a user runs it: from the repository
// root, with its own world in dir and the stack files in project.
type localCmd struct {
	t             *testing.T
	bin, repo     string
	dir, project  string
	env           []string
	recordedPIDs  map[int]string
	recordedPorts []string
}

func newLocal(t *testing.T, e *env) *localCmd {
	root := t.TempDir()
	l := &localCmd{
		t: t, bin: mustEnv(t, "ENGINE_LOCAL_BIN"), repo: e.repo,
		dir: filepath.Join(root, "world"), project: filepath.Join(root, "project"),
		recordedPIDs: map[int]string{},
	}
	// A user's shell: none of this tier's world leaks into the new one.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ENGINE_") && k != "ENGINE_CACHE" || strings.HasPrefix(k, "PULUMI_") ||
			strings.HasPrefix(k, "AWS_") || k == "KUBECONFIG" {
			continue
		}
		l.env = append(l.env, kv)
	}
	if err := os.MkdirAll(l.project, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(e.repo, "Pulumi.yaml"), filepath.Join(l.project, "Pulumi.yaml"))
	t.Cleanup(func() {
		// Whatever the test did, leave no process of the nested world.
		_ = l.run("down")
	})
	return l
}

func (l *localCmd) command(args ...string) *exec.Cmd {
	cmd := exec.Command(l.bin, append([]string{"--dir", l.dir, "--project", l.project}, args...)...)
	cmd.Dir = l.repo
	cmd.Env = l.env
	// A process group of its own, as a terminal gives a foreground job.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// run runs a command to its end, its output in the test log.
func (l *localCmd) run(args ...string) error {
	_, err := l.output(args...)
	return err
}

func (l *localCmd) output(args ...string) (string, error) {
	out, err := l.command(args...).CombinedOutput()
	l.t.Logf("$ go run ./cmd/local %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// writeStack writes the user's own stack file: the walkthrough, with tags.
func (l *localCmd) writeStack(name, tags string) {
	l.t.Helper()
	stack := `config:
  aws:region: eu-central-1
  eks-pod-identity:clusterName: local-demo
  eks-pod-identity:tags:` + tags + `
  eks-pod-identity:workloads:
    - serviceAccount: demo-sa
      namespace: demo
      createNamespace: true
      roleName: LocalDemoS3Role
      testPod: true
      testPodName: aws-cli-pod-identity
      verify: true
`
	if err := os.WriteFile(filepath.Join(l.project, "Pulumi."+name+".yaml"), []byte(stack), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// record notes the world's processes and ports while it runs.
func (l *localCmd) record() {
	l.t.Helper()
	pidFiles, _ := filepath.Glob(filepath.Join(l.dir, "cluster", "pids", "*.pid"))
	pidFiles = append(pidFiles, filepath.Join(l.dir, "moto", "pid"), filepath.Join(l.dir, "node", "pid"))
	for _, f := range pidFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			l.t.Fatalf("the running world has no %s: %v", f, err)
		}
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err != nil {
			l.t.Fatal(err)
		}
		l.recordedPIDs[pid] = filepath.Base(f)
	}
	worldEnv, err := os.ReadFile(filepath.Join(l.dir, "world.env"))
	if err != nil {
		l.t.Fatal(err)
	}
	for _, key := range []string{"ENGINE_K8S_ENDPOINT", "ENGINE_MOTO_ENDPOINT", "ENGINE_AGENT_URL", "ENGINE_ETCD_ENDPOINT"} {
		m := regexp.MustCompile(`(?m)^export ` + key + `='([^']+)'$`).FindStringSubmatch(string(worldEnv))
		if m == nil {
			l.t.Fatalf("world.env has no %s", key)
		}
		u, err := url.Parse(m[1])
		if err != nil {
			l.t.Fatal(err)
		}
		l.recordedPorts = append(l.recordedPorts, u.Host)
	}
	if len(l.recordedPIDs) < 7 {
		l.t.Errorf("recorded %d processes, want etcd, apiserver, controller-manager, scheduler, kwok, moto, engine-node", len(l.recordedPIDs))
	}
}

// nothingLeft fails for any recorded process still running, port still
// answering, or file of the world still on disk.
func (l *localCmd) nothingLeft() {
	l.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for pid, name := range l.recordedPIDs {
		for syscall.Kill(pid, 0) == nil && notZombie(pid) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil && notZombie(pid) {
			l.t.Errorf("process %d (%s) still runs after down", pid, name)
		}
	}
	for _, hp := range l.recordedPorts {
		if c, err := net.DialTimeout("tcp", hp, time.Second); err == nil {
			c.Close()
			l.t.Errorf("%s still answers after down", hp)
		}
	}
	if _, err := os.Stat(l.dir); !os.IsNotExist(err) {
		l.t.Errorf("the world's directory %s is still there after down (stat: %v)", l.dir, err)
	}
}

func notZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// readmeLocalUp is the README's second Start here command, split into
// words: the test runs what the README says.
func readmeLocalUp(t *testing.T, repo string) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(go run ./cmd/local up)\s+#`).FindStringSubmatch(string(readme))
	if m == nil {
		t.Fatal("the README has no `go run ./cmd/local up` command line")
	}
	return strings.Fields(m[1])[3:]
}

// TestLocalUpAsAUser drives `go run ./cmd/local` the way the README tells a
// user to: an `up` of a stack file of the user's own (interrupted by Ctrl-C
// once it reaches `pulumi up`, then run again), which must leave the world
// running with the Job's log and the test pod's identity printed; a second
// `up` with nothing changed; an `up` after an edit, which updates in place;
// `status`; and `down`, after which no process, port or file is left.
func TestLocalUpAsAUser(t *testing.T) {
	e := newEnv(t)
	l := newLocal(t, e)
	l.writeStack("mine", " {}")
	upMine := append(readmeLocalUp(t, e.repo), "mine")

	// Ctrl-C twice at the terminal (SIGINT to the foreground process
	// group: "terminating immediately") while the verification Job runs,
	// which leaves the Job's create in flight in the state.
	cmd := l.command(upMine...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var first strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := bufio.NewScanner(pr)
		sent := false
		for s.Scan() {
			first.WriteString(s.Text() + "\n")
			if !sent && strings.Contains(s.Text(), "Waiting for Job") {
				sent = true
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
				time.Sleep(50 * time.Millisecond)
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			}
		}
	}()
	err := cmd.Wait()
	pw.Close()
	wg.Wait()
	t.Logf("$ go run ./cmd/local up mine   (Ctrl-C twice while the Job runs)\n%s", first.String())
	if err == nil {
		t.Fatal("the interrupted up succeeded")
	}
	if !strings.Contains(first.String(), "local world up in") || !strings.Contains(first.String(), "interrupted; the local world keeps running") {
		t.Fatalf("the first up did not start the world, or did not say how to go on after the interrupt")
	}

	// No Pulumi process of the world outlives the interrupted up: not the
	// CLI, not a plugin, not a language host.
	if left := pulumiProcessesOf(filepath.Join(l.dir, "pulumi-home")); len(left) > 0 {
		t.Errorf("the interrupted up left Pulumi processes running: %v", left)
	}
	// The CLI says "received; terminating" when the second Ctrl-C stops it
	// at once; when the first one's cancel finished before the second
	// arrived, nothing is in flight and there is nothing to recover.
	// The second Ctrl-C can also land after the first one's cancel has
	// already ended the update ("update failed" printed before it): then
	// too nothing was in flight.
	printed := first.String()
	term, ended := strings.Index(printed, "received; terminating"), strings.Index(printed, "error: update failed")
	hard := term >= 0 && (ended < 0 || term < ended)
	t.Logf("the second Ctrl-C terminated the CLI: %v", hard)

	out, err := l.output(upMine...)
	if err != nil {
		t.Fatalf("up after an interrupted up: %v", err)
	}
	// The world's processes run in sessions of their own: the Ctrl-C never
	// reached them, so this up finds the world running, not broken.
	if !strings.Contains(out, "local world: running in") {
		t.Errorf("the Ctrl-C reached the world's processes: the next up did not find it running")
	}
	if hard && !strings.Contains(out, "operations in flight; refreshing first") {
		t.Errorf("the hard interrupt left no pending operation to recover, or up did not recover it")
	}
	if !regexp.MustCompile(`(?m)^RESULT: \d+ pass, 0 fail`).MatchString(out) {
		t.Errorf("up printed no passing verification Job log")
	}
	identity := regexp.MustCompile(`"Arn": "arn:aws:sts::\d{12}:assumed-role/LocalDemoS3Role/eks-local-dem`)
	if !identity.MatchString(out) {
		t.Errorf("up printed no `kubectl exec ... aws sts get-caller-identity` answering as LocalDemoS3Role")
	}
	if !strings.Contains(out, "KUBECONFIG="+filepath.Join(l.dir, "cluster", "kubeconfig")) || !strings.Contains(out, "aws --endpoint-url http://127.0.0.1:") {
		t.Errorf("up printed no kubectl and aws lines to look inside the world")
	}
	l.record()

	// The exec line a user copies, run as printed.
	kubectl := regexp.MustCompile(`(?m)^  (KUBECONFIG=\S+ \S+/kubectl) get pods -A$`).FindStringSubmatch(out)
	if kubectl == nil {
		t.Fatal("no kubectl line in up's output")
	}
	sh := exec.Command("sh", "-c", kubectl[1]+" exec -n demo aws-cli-pod-identity -- aws sts get-caller-identity")
	sh.Env = l.env
	got, err := sh.CombinedOutput()
	if err != nil || !identity.Match(got) {
		t.Errorf("kubectl exec from the printed line: %v\n%s", err, got)
	}

	out, err = l.output("up", "mine")
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if !regexp.MustCompile(`(?m)^\s+\d+ unchanged$`).MatchString(out) || changeLine.MatchString(out) {
		t.Errorf("a second up with the stack unchanged changed something")
	}

	l.writeStack("mine", "\n    team: local-demo")
	out, err = l.output("up", "mine")
	if err != nil {
		t.Fatalf("up after editing the stack: %v", err)
	}
	if !regexp.MustCompile(`(?m)^\s+~ \d+ updated$`).MatchString(out) || regexp.MustCompile(`(?m)^\s+(\+|-|\+-) ?\d+ (created|deleted|replaced)$`).MatchString(out) {
		t.Errorf("an up after adding a tag should update in place, creating and replacing nothing")
	}

	out, err = l.output("status")
	if err != nil || !strings.Contains(out, "local world: running") || !strings.Contains(out, "stacks: mine") {
		t.Errorf("status: %v", err)
	}

	if err := l.run("down"); err != nil {
		t.Fatalf("down: %v", err)
	}
	l.nothingLeft()
	out, err = l.output("status")
	if err != nil || !strings.Contains(out, "not started") {
		t.Errorf("status after down: %v", err)
	}
}

// changeLine is a change in the summary the CLI prints at the end of an
// update ("    + 1 created", "    ~ 1 updated", "    +-1 replaced").
var changeLine = regexp.MustCompile(`(?m)^\s+(\+|~|-|\+-) ?\d+ (created|updated|deleted|replaced)$`)

// pulumiProcessesOf lists the running processes named pulumi* (the CLI,
// plugins, language hosts) whose PULUMI_HOME is home.
func pulumiProcessesOf(home string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil || !strings.HasPrefix(string(comm), "pulumi") {
			continue
		}
		environ, err := os.ReadFile(filepath.Join(p, "environ"))
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(environ), "\x00") {
			if kv == "PULUMI_HOME="+home {
				out = append(out, filepath.Base(p)+" "+strings.TrimSpace(string(comm)))
			}
		}
	}
	return out
}
