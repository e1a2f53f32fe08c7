package podrunner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/platform-eng/eks-pod-identity/tests/engine/kube"
)

// Selector picks the pods the runner owns: the ones this project's stacks
// create (the component labels its test pod and Job pod templates so). kwok
// completes every other Job pod as before.
const Selector = "app.kubernetes.io/part-of=eks-pod-identity"

// Runner is the kubelet stand-in for the selected pods on one kwok node.
type Runner struct {
	Kube    *kube.Client
	NodeEnv Node
	// NodeName is the kwok node whose pods the runner takes.
	NodeName string
	// WorkDir holds a directory per pod: volumes, logs, HOME.
	WorkDir string
	Log     *log.Logger

	mu   sync.Mutex
	pods map[string]*podState
}

type podState struct {
	prepared bool
	started  bool
	dir      string
	env      map[string][]string // per container
	cancel   context.CancelFunc  // kills the running command
	done     chan struct{}
}

// Run watches the selected pods until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	r.pods = map[string]*podState{}
	sel := url.QueryEscape(Selector)
	for ctx.Err() == nil {
		var list struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
			Items []Pod `json:"items"`
		}
		if err := r.Kube.Get(ctx, "/api/v1/pods?labelSelector="+sel, &list); err != nil {
			r.Log.Printf("runner: list pods: %v", err)
			sleep(ctx, time.Second)
			continue
		}
		live := map[string]bool{}
		for i := range list.Items {
			live[list.Items[i].Metadata.UID] = true
			r.handle(ctx, &list.Items[i])
		}
		r.forgetExcept(live)
		path := "/api/v1/pods?watch=true&allowWatchBookmarks=false&labelSelector=" + sel +
			"&resourceVersion=" + list.Metadata.ResourceVersion
		err := r.Kube.Watch(ctx, path, func(ev kube.Event) error {
			var pod Pod
			if err := json.Unmarshal(ev.Object, &pod); err != nil {
				return fmt.Errorf("decode %s event: %w", ev.Type, err)
			}
			switch ev.Type {
			case "ADDED", "MODIFIED":
				r.handle(ctx, &pod)
			case "DELETED":
				r.forget(pod.Metadata.UID)
			case "ERROR":
				return errors.New("watch error event: " + string(ev.Object))
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			r.Log.Printf("runner: watch pods: %v (relisting)", err)
		}
	}
	r.mu.Lock()
	for _, st := range r.pods {
		if st.cancel != nil {
			st.cancel()
		}
	}
	r.mu.Unlock()
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle moves a pod along: prepare (volumes, environment, kwok's exec and
// logs) once it is bound to the node, run a Job pod's command once kwok has
// marked it Running, stop it when the pod is being deleted.
func (r *Runner) handle(ctx context.Context, pod *Pod) {
	if pod.Spec.NodeName != r.NodeName {
		return
	}
	r.mu.Lock()
	st := r.pods[pod.Metadata.UID]
	if st == nil {
		st = &podState{dir: filepath.Join(r.WorkDir, pod.Metadata.Namespace+"_"+pod.Metadata.Name+"_"+pod.Metadata.UID)}
		r.pods[pod.Metadata.UID] = st
	}
	r.mu.Unlock()
	if pod.Metadata.DeletionTimestamp != nil {
		r.stop(pod.Metadata.UID)
		return
	}
	if !st.prepared {
		if err := r.prepare(ctx, pod, st); err != nil {
			r.Log.Printf("runner: pod %s/%s: %v (will retry on its next change)", pod.Metadata.Namespace, pod.Metadata.Name, err)
			return
		}
		st.prepared = true
	}
	if pod.ownedByJob() && pod.Status.Phase == "Running" && !st.started {
		st.started = true
		runCtx, cancel := context.WithCancel(ctx)
		st.cancel, st.done = cancel, make(chan struct{})
		go func() {
			defer close(st.done)
			r.run(runCtx, pod, st)
		}()
	}
}

// prepare does what the kubelet does before starting containers.
func (r *Runner) prepare(ctx context.Context, pod *Pod, st *podState) error {
	home := filepath.Join(st.dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	volumes, err := r.projectVolumes(ctx, pod, st.dir)
	if err != nil {
		return err
	}
	st.env = map[string][]string{}
	var execs []map[string]any
	var logs []map[string]any
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		mounts := Mounts{}
		for _, m := range c.VolumeMounts {
			if host, ok := volumes[m.Name]; ok {
				mounts[m.MountPath] = host
			}
		}
		env, err := ContainerEnv(pod, c, mounts, r.NodeEnv, home)
		if err != nil {
			return err
		}
		st.env[c.Name] = env
		var envs []map[string]string
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			envs = append(envs, map[string]string{"name": k, "value": v})
		}
		execs = append(execs, map[string]any{"containers": []string{c.Name},
			"local": map[string]any{"workDir": home, "envs": envs}})
		logFile := filepath.Join(st.dir, c.Name+".log")
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		logs = append(logs, map[string]any{"containers": []string{c.Name}, "logsFile": logFile})
	}
	// kwok serves `kubectl exec` and `kubectl logs` for the pod from these;
	// owned by the pod, so the garbage collector removes them with it.
	owner := []map[string]any{{"apiVersion": "v1", "kind": "Pod", "name": pod.Metadata.Name, "uid": pod.Metadata.UID}}
	ns := pod.Metadata.Namespace
	for kind, spec := range map[string]map[string]any{"execs": {"execs": execs}, "logs": {"logs": logs}} {
		obj := map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1",
			"kind":       map[string]string{"execs": "Exec", "logs": "Logs"}[kind],
			"metadata":   map[string]any{"name": pod.Metadata.Name, "namespace": ns, "ownerReferences": owner},
			"spec":       spec,
		}
		path := "/apis/kwok.x-k8s.io/v1alpha1/namespaces/" + ns + "/" + kind
		if err := r.Kube.Create(ctx, path, obj, nil); kube.IsConflict(err) {
			// A pod of the same name from before (a replaced test pod).
			if err := r.Kube.Delete(ctx, path+"/"+pod.Metadata.Name); err != nil {
				return err
			}
			err = r.Kube.Create(ctx, path, obj, nil)
			if err != nil {
				return fmt.Errorf("register %s with kwok: %w", kind, err)
			}
		} else if err != nil {
			return fmt.Errorf("register %s with kwok: %w", kind, err)
		}
	}
	r.Log.Printf("runner: pod %s/%s ready for exec and logs (service account %s, %d projected token volume(s))",
		ns, pod.Metadata.Name, pod.serviceAccount(), len(volumes))
	return nil
}

// projectVolumes writes each projected volume's service account tokens,
// requested from the apiserver as the kubelet requests them (audience,
// expiry, bound to the pod), into a host directory per volume. Other volume
// kinds are not materialized.
func (r *Runner) projectVolumes(ctx context.Context, pod *Pod, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		vdir := filepath.Join(dir, "volumes", v.Name)
		if v.EmptyDir != nil {
			// An empty directory of the pod's, as the kubelet makes one: a
			// HOME on it (HOME=/tmp/home) maps to it, not to this machine's /tmp.
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				return nil, err
			}
			out[v.Name] = vdir
			continue
		}
		if v.Projected == nil {
			continue
		}
		var files int
		for _, src := range v.Projected.Sources {
			t := src.ServiceAccountToken
			if t == nil {
				continue
			}
			spec := map[string]any{
				"boundObjectRef": map[string]string{"apiVersion": "v1", "kind": "Pod", "name": pod.Metadata.Name, "uid": pod.Metadata.UID},
			}
			if t.Audience != "" {
				spec["audiences"] = []string{t.Audience}
			}
			if t.ExpirationSeconds != nil {
				spec["expirationSeconds"] = *t.ExpirationSeconds
			}
			var tr struct {
				Status struct {
					Token string `json:"token"`
				} `json:"status"`
			}
			path := "/api/v1/namespaces/" + pod.Metadata.Namespace + "/serviceaccounts/" + pod.serviceAccount() + "/token"
			if err := r.Kube.Create(ctx, path, map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}, &tr); err != nil {
				return nil, fmt.Errorf("volume %s: token request: %w", v.Name, err)
			}
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				return nil, err
			}
			mode := os.FileMode(0o644)
			if v.Projected.DefaultMode != nil {
				mode = os.FileMode(*v.Projected.DefaultMode)
			}
			// No trailing newline: the SDKs send the file's content as a
			// header value and refuse one with a line break.
			if err := os.WriteFile(filepath.Join(vdir, t.Path), []byte(tr.Status.Token), mode); err != nil {
				return nil, err
			}
			files++
		}
		if files > 0 {
			out[v.Name] = vdir
		}
	}
	return out, nil
}

// run runs a Job pod's (single) container and reports its end.
func (r *Runner) run(ctx context.Context, pod *Pod, st *podState) {
	ns, name := pod.Metadata.Namespace, pod.Metadata.Name
	c := &pod.Spec.Containers[0]
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) != 0 {
		r.finish(pod, st, c, -1, "ContainerCannotRun", "this node stand-in runs Job pods with exactly one container and no init containers", time.Now(), time.Now())
		return
	}
	env := st.env[c.Name]
	argv, err := commandLine(c, env)
	if err == nil {
		argv[0], err = lookPath(argv[0], env)
	}
	if err != nil {
		r.finish(pod, st, c, 128, "ContainerCannotRun", err.Error(), time.Now(), time.Now())
		return
	}
	logFile := filepath.Join(st.dir, c.Name+".log")
	lw, err := newCRILog(logFile, r.Log, ns+"/"+name)
	if err != nil {
		r.finish(pod, st, c, 128, "ContainerCannotRun", err.Error(), time.Now(), time.Now())
		return
	}
	defer lw.Close()

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = filepath.Join(st.dir, "home")
	if c.WorkingDir != "" {
		r.Log.Printf("runner: pod %s/%s: workingDir %s is not mapped; running in the pod's home", ns, name, c.WorkingDir)
	}
	cmd.Stdin = nil
	cmd.Stdout = lw.Stream("stdout")
	cmd.Stderr = lw.Stream("stderr")
	// Own process group: stopping the pod kills the shell and its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	started := time.Now()
	r.Log.Printf("runner: pod %s/%s: running %q", ns, name, summarize(argv))
	if err := cmd.Start(); err != nil {
		r.finish(pod, st, c, 128, "ContainerCannotRun", err.Error(), started, time.Now())
		return
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// The pod is being deleted (the Job's deadline, or the Job itself):
		// SIGTERM, then SIGKILL after the grace period, as the kubelet does.
		grace := 30 * time.Second
		if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
			grace = time.Duration(*g) * time.Second
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(grace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-waited
		}
		r.Log.Printf("runner: pod %s/%s: stopped (pod deleted)", ns, name)
		return
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		code = 128
	}
	lw.Close()
	reason, msg := "Completed", ""
	if code != 0 {
		reason = "Error"
		if c.TerminationMessagePolicy == "FallbackToLogsOnError" {
			msg = tailMessage(lw.Lines())
		}
	}
	r.finish(pod, st, c, code, reason, msg, started, time.Now())
}

// finish reports the container's end and the pod's phase, as the kubelet
// does for restartPolicy Never.
func (r *Runner) finish(pod *Pod, st *podState, c *Container, code int, reason, msg string, started, finished time.Time) {
	ns, name := pod.Metadata.Namespace, pod.Metadata.Name
	phase, ready := "Succeeded", "PodCompleted"
	if code != 0 {
		phase, ready = "Failed", "PodFailed"
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	now := ts(finished)
	terminated := map[string]any{"exitCode": code, "reason": reason, "startedAt": ts(started), "finishedAt": now}
	if msg != "" {
		terminated["message"] = msg
	}
	patch := map[string]any{"status": map[string]any{
		"phase": phase,
		"conditions": []map[string]any{
			{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
			{"type": "Initialized", "status": "True", "lastTransitionTime": now},
			{"type": "Ready", "status": "False", "reason": ready, "lastTransitionTime": now},
			{"type": "ContainersReady", "status": "False", "reason": ready, "lastTransitionTime": now},
		},
		"containerStatuses": []map[string]any{{
			"name": c.Name, "image": c.Image, "imageID": "", "ready": false, "started": false, "restartCount": 0,
			"state": map[string]any{"terminated": terminated},
		}},
	}}
	// A fresh context: the pod's end is reported even while shutting down.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.Kube.MergePatch(ctx, "/api/v1/namespaces/"+ns+"/pods/"+name+"/status", patch, nil)
	if err != nil {
		r.Log.Printf("runner: pod %s/%s: report exit %d: %v", ns, name, code, err)
		return
	}
	r.Log.Printf("runner: pod %s/%s: %s (exit %d, %s)", ns, name, phase, code, reason)
}

// stop kills a pod's running command.
func (r *Runner) stop(uid string) {
	r.mu.Lock()
	st := r.pods[uid]
	r.mu.Unlock()
	if st != nil && st.cancel != nil {
		st.cancel()
	}
}

func (r *Runner) forget(uid string) {
	r.stop(uid)
	r.mu.Lock()
	st := r.pods[uid]
	delete(r.pods, uid)
	r.mu.Unlock()
	if st != nil {
		go func() {
			if st.done != nil {
				<-st.done
			}
			// Keep the log for the record; drop tokens and HOME.
			_ = os.RemoveAll(filepath.Join(st.dir, "volumes"))
		}()
	}
}

func (r *Runner) forgetExcept(live map[string]bool) {
	r.mu.Lock()
	var gone []string
	for uid := range r.pods {
		if !live[uid] {
			gone = append(gone, uid)
		}
	}
	r.mu.Unlock()
	for _, uid := range gone {
		r.forget(uid)
	}
}

// lookPath resolves a command name on the container's PATH, not the runner's.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(p) {
				cand := filepath.Join(dir, name)
				if fi, err := os.Stat(cand); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return cand, nil
				}
			}
		}
	}
	return "", fmt.Errorf("executable %q not found in the container's PATH", name)
}

func summarize(argv []string) string {
	s := strings.Join(argv, " ")
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// tailMessage is the termination message the kubelet takes from the log for
// FallbackToLogsOnError: the last 80 lines, at most the last 2048 bytes.
func tailMessage(lines []string) string {
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	s := strings.Join(lines, "\n")
	if len(lines) > 0 {
		s += "\n"
	}
	if len(s) > 2048 {
		s = s[len(s)-2048:]
	}
	return s
}

// criLog writes a container's output in the CRI log format the kubelet
// (and kwok's log server) reads: "<RFC3339Nano> <stream> F <line>".
type criLog struct {
	mu     sync.Mutex
	f      *os.File
	echo   *log.Logger
	prefix string
	lines  []string
	closed bool
	pipes  []*io.PipeWriter
	wg     sync.WaitGroup
}

func newCRILog(path string, echo *log.Logger, prefix string) (*criLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &criLog{f: f, echo: echo, prefix: prefix}, nil
}

// Stream returns a writer for stdout or stderr.
func (l *criLog) Stream(name string) io.Writer {
	pr, pw := io.Pipe()
	l.pipes = append(l.pipes, pw)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for sc.Scan() {
			l.write(name, sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw
}

func (l *criLog) write(stream, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%s %s F %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, line)
	l.lines = append(l.lines, line)
	l.echo.Printf("[%s] %s", l.prefix, line)
}

// Lines returns every line written so far.
func (l *criLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Close flushes the streams (after the process ended) and closes the file.
func (l *criLog) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	for _, p := range l.pipes {
		p.Close()
	}
	l.wg.Wait()
	l.f.Close()
}
