package localworld

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEnvFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.env")
	in := map[string]string{
		"PLAIN":  "x",
		"SPACES": "a b  c",
		"QUOTE":  `it's "quoted" $HOME`,
		"EMPTY":  "",
	}
	if err := writeEnvFile(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := readEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if out[k] != v {
			t.Errorf("%s: read %q, wrote %q", k, out[k], v)
		}
	}
	if len(out) != len(in) {
		t.Errorf("read %d variables, wrote %d: %v", len(out), len(in), out)
	}
}

func TestReadEnvFileReadsClusterEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.env")
	const text = `# Written by tests/engine/cluster/up.sh
export ENGINE_STATE="/tmp/x/cluster"
export ENGINE_K8S_ENDPOINT="https://127.0.0.1:23456"
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got["ENGINE_STATE"] != "/tmp/x/cluster" || got["ENGINE_K8S_ENDPOINT"] != "https://127.0.0.1:23456" || len(got) != 2 {
		t.Errorf("got %v", got)
	}
}

func TestBuildPlan(t *testing.T) {
	cache := t.TempDir()
	w := &World{}
	v := map[string]string{"K8S_PROVIDER_VERSION": "4.32.0", "K8S_VERSION": "v1.33.13", "PULUMI_VERSION": "v3.274.1", "KWOK_VERSION": "v0.8.0"}
	tools := w.Tools(cache, v)

	plan := BuildPlan(tools)
	for _, want := range []string{"building 4 tools", "kubernetes-provider", "17m17s", "k8s", "pulumi", "kwok",
		// two lanes, longest first: provider+kwok 1198 s, k8s+pulumi 1210 s
		"about 20 minutes", "6.5 GB of memory", "0.8 GB of binaries"} {
		if !strings.Contains(plan, want) {
			t.Errorf("cold plan lacks %q:\n%s", want, plan)
		}
	}

	// A built tool has a stamp; it leaves the plan.
	for _, tool := range tools[1:] {
		if err := os.MkdirAll(tool.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tool.Dir, ".stamp"), []byte("h\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan = BuildPlan(tools)
	if !strings.Contains(plan, "building 1 tools") || strings.Contains(plan, "kwok") || !strings.Contains(plan, "about 17 minutes") {
		t.Errorf("plan with only the provider left:\n%s", plan)
	}
	if err := os.MkdirAll(tools[0].Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tools[0].Dir, ".stamp"), []byte("h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if plan := BuildPlan(tools); plan != "" {
		t.Errorf("every tool cached, yet a plan:\n%s", plan)
	}
}

func TestBuildProgress(t *testing.T) {
	var out strings.Builder
	clock := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	p := newBuildProgress(&out, true)
	p.now = func() time.Time { return clock }
	p.line("[build 06:00:00] k8s: building")
	p.line("[build 06:00:00] pulumi: building")
	clock = clock.Add(90 * time.Second)
	p.tick()
	p.line("[build 06:01:30] pulumi: done in 90s (go build: 2.30 GB peak RSS, 500s CPU)")
	clock = clock.Add(60 * time.Second)
	p.tick()
	want := "  building k8s ...\n  building pulumi ...\n" +
		"  still building: k8s 1m30s, pulumi 1m30s\n" +
		"  pulumi: done in 90s (go build: 2.30 GB peak RSS, 500s CPU)\n" +
		"  still building: k8s 2m30s\n"
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}

	// A warm run says nothing of cached tools, but always of a failure.
	out.Reset()
	p = newBuildProgress(&out, false)
	p.line("[build 06:00:00] k8s: building")
	p.line("[build 06:00:00] k8s: cached")
	p.line("[build 06:00:01] kwok: FAILED after 1s (rc=1); last lines of x:")
	p.tick()
	if got := out.String(); !strings.Contains(got, "kwok: FAILED") || strings.Contains(got, "k8s") {
		t.Errorf("warm progress: %q", got)
	}
}

func TestPrerequisites(t *testing.T) {
	has := func(bins ...string) func(string) (string, error) {
		return func(b string) (string, error) {
			for _, x := range bins {
				if x == b {
					return "/usr/bin/" + b, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	ok := func(string, ...string) error { return nil }
	noMoto := func(_ string, args ...string) error {
		if strings.Contains(strings.Join(args, " "), "import moto") {
			return errors.New("ModuleNotFoundError")
		}
		return nil
	}
	for _, tc := range []struct {
		name   string
		look   func(string) (string, error)
		run    func(string, ...string) error
		want   []string
		absent []string
	}{
		{"all there", has("go", "python3", "openssl", "etcd", "etcdctl"), ok, nil, []string{"etcd", "moto"}},
		{"no etcd", has("go", "python3", "openssl"), ok,
			[]string{"apt-get install -y --no-install-recommends etcd-server etcd-client", "etcd-client"}, []string{"moto"}},
		{"no moto", has("go", "python3", "openssl", "etcd", "etcdctl"), noMoto,
			[]string{"python3 -m pip install 'moto[server]==5.2.1'"}, []string{"etcd"}},
		{"no python", has("go", "openssl", "etcd", "etcdctl"), ok,
			[]string{"Python 3"}, []string{"moto 5", "AWS CLI"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := Prerequisites(tc.look, tc.run)
			msg := ""
			if len(ms) > 0 {
				msg = FormatMissing(ms)
			}
			if len(tc.want) == 0 && len(ms) > 0 {
				t.Fatalf("nothing missing, got:\n%s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(msg, a) {
					t.Errorf("message names %q, which is there:\n%s", a, msg)
				}
			}
		})
	}
}

func TestFindRepo(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+Module+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "tests", "engine")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// A nested module (tests/engine has its own go.mod) is not the root.
	if err := os.WriteFile(filepath.Join(sub, "go.mod"), []byte("module "+Module+"/tests/engine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindRepo(sub)
	if err != nil || got != root {
		t.Errorf("FindRepo(%s) = %q, %v; want %s", sub, got, err, root)
	}
	if _, err := FindRepo(t.TempDir()); err == nil || !strings.Contains(err.Error(), "run this from the repository") {
		t.Errorf("outside a clone: %v", err)
	}
}

func TestStatusFromRecordedPIDs(t *testing.T) {
	w := &World{Dir: t.TempDir()}
	if got := w.Status(); got != Absent {
		t.Errorf("empty dir: %v, want Absent", got)
	}
	write := func(path string, pid int) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(w.Dir, "cluster", "pids", "etcd.pid"), os.Getpid())
	write(filepath.Join(w.Dir, "moto", "pid"), os.Getpid())
	if err := writeEnvFile(w.EnvFile(), map[string]string{"X": "1"}); err != nil {
		t.Fatal(err)
	}
	if got := w.Status(); got != Running {
		t.Errorf("every recorded process alive: %v, want Running", got)
	}
	// A PID no process has (beyond pid_max).
	write(filepath.Join(w.Dir, "node", "pid"), 1<<30)
	if got := w.Status(); got != Broken {
		t.Errorf("a recorded process gone: %v, want Broken", got)
	}
	names := map[string]bool{}
	for _, p := range w.Processes() {
		names[p.Name] = p.Alive
	}
	if !names["etcd"] || !names["moto"] || names["engine-node"] {
		t.Errorf("processes: %v", names)
	}
}
