//go:build unix

package tests

// Benchmarks of the two speeds users feel (run them with scripts/bench.sh):
//
//   - BenchmarkSimulatedDeploy: how long `pulumi up` takes to reach a
//     verified identity. The real program runs under mocks whose NewResource
//     waits a per-type latency typical of AWS and Kubernetes (deployLatency),
//     scaled so one simulated second takes simSecond. It reports the
//     simulated wall time, the critical path of the recorded dependency
//     graph, their ratio, the sequential sum (the walkthrough done by hand,
//     one step after another) and the speed-up over it.
//   - BenchmarkProgramOverhead: time, allocations and peak heap of one
//     program run under mocks with no waits, for 1 to 1,000 workloads.
//
// Neither asserts on time: `go test ./...` runs no benchmark, and the goals
// (wall ≤ 1.05 × critical path; under 50 ms and 30 MiB for one workload,
// growing linearly) are read off the table scripts/bench.sh prints.

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// simSecond is the real time one simulated second takes: 5 ms, so the
// walkthrough's ~80 simulated seconds run in ~0.4 s. The run's real-time
// costs (the program's and the SDK's CPU between registrations, a sleep's
// overshoot) are not scaled, so they weigh more the more the run is
// compressed: on a loaded 2-core machine they added up to 21 % to the wall
// time at 1 ms, up to 8 % at 2 ms and up to 4 % at 5 ms (docs/benchmarks.md).
const simSecond = 5 * time.Millisecond

// tGetCluster is the program's one invoke, the cluster lookup.
const tGetCluster = "aws:eks/getCluster:getCluster"

// latency is how long the engine waits on one resource (or invoke) of a
// type, in simulated seconds, and what the figure stands for. The figures
// are typical orders of magnitude for a healthy cluster in a nearby region
// (the issue's: add-on 60 s, role 2 s, attachment 1 s, association 3 s,
// ServiceAccount 0.1 s, pod ready 15 s, verification Job 20 s; the others
// added here), not measurements of any one account: what matters is their
// relative size, which decides the critical path. The Pod and Job figures
// model the Kubernetes provider's await of Ready and Complete.
type latency struct {
	seconds float64
	basis   string
}

var deployLatency = map[string]latency{
	tK8sProvider: {0.5, "provider plugin start and the API server's discovery calls"},
	tGetCluster: {1.5, "the stack's default AWS provider starts on this first AWS call and checks its credentials " +
		"(sts:GetCallerIdentity, 1 s), then eks:DescribeCluster, one synchronous call (0.5 s)"},
	tComponent: {0, "a component is bookkeeping in the engine: no cloud call"},
	tAddon: {60, "eks:CreateAddon is asynchronous: the AWS provider polls DescribeAddon until ACTIVE, " +
		"i.e. until the agent DaemonSet runs on every node: about a minute is typical, " +
		"the provider's 20-minute create timeout is for the slow cases"},
	tRole: {2, "iam:CreateRole answers in well under a second; the provider then reads the role back, " +
		"retrying through IAM's eventual consistency"},
	tAttachment:  {1, "iam:AttachRolePolicy, one synchronous call and the read-back"},
	tRolePolicy:  {1, "iam:PutRolePolicy, one synchronous call and the read-back"},
	tAssociation: {3, "eks:CreatePodIdentityAssociation, synchronous, plus the read-back (DescribePodIdentityAssociation)"},
	tNamespace:   {0.5, "one API request; the Kubernetes provider waits for phase Active, at once for a new namespace"},
	tSA:          {0.1, "one API request; the provider awaits nothing more for a ServiceAccount"},
	tPod: {15, "the provider awaits Ready: scheduling, pulling amazon/aws-cli on a node that lacks it, " +
		"container start"},
	tJob: {20, "the provider awaits Complete: a pod starts as the test pod does, then verify.sh runs " +
		"`aws sts get-caller-identity` and the access check (a couple of seconds per CLI start)"},
}

// span is when the mock served one registration or invoke, from the start of
// the run: start when the SDK sent it (after its dependencies resolved), end
// after its simulated latency.
type span struct{ start, end time.Duration }

// timedMock serves the program like the recorder does, but first waits the
// type's latency, and keeps the schedule.
type timedMock struct {
	rec *recorder
	t0  time.Time

	mu      sync.Mutex
	spans   map[string]span // by type and name; the invoke by its token
	unknown []string        // types with no figure in deployLatency
}

func newTimedMock(rec *recorder) *timedMock {
	return &timedMock{rec: rec, t0: time.Now(), spans: map[string]span{}}
}

func (m *timedMock) wait(typ string) {
	l, ok := deployLatency[typ]
	if !ok {
		m.mu.Lock()
		m.unknown = append(m.unknown, typ)
		m.mu.Unlock()
		return
	}
	time.Sleep(time.Duration(l.seconds * float64(simSecond)))
}

func (m *timedMock) record(key string, start time.Duration) {
	end := time.Since(m.t0)
	m.mu.Lock()
	m.spans[key] = span{start, end}
	m.mu.Unlock()
}

func (m *timedMock) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	start := time.Since(m.t0)
	m.wait(args.TypeToken)
	id, outs, err := m.rec.NewResource(args)
	m.record(args.TypeToken+"::"+args.Name, start)
	return id, outs, err
}

func (m *timedMock) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	start := time.Since(m.t0)
	m.wait(args.Token)
	out, err := m.rec.Call(args)
	m.record(args.Token, start)
	return out, err
}

// node is one registration (or the invoke) in the deploy's dependency graph.
type node struct {
	label   string
	latency float64 // simulated seconds
	span    span
	deps    []*node
}

// deployGraph joins the recorded registrations, their dependencies and the
// schedule. Edges are what the engine waits on:
//   - RegisterResourceRequest.Dependencies (inputs that are other resources'
//     outputs, and DependsOn), mapped from URN to registration;
//   - the resource's provider, which must be configured first;
//   - the cluster lookup, for everything the program registers after it:
//     the Kubernetes provider's kubeconfig and the component's cluster name,
//     ARN and partition are plain values taken from its result, so the
//     engine sees no dependency, yet none of those registrations can be sent
//     before the lookup returns. The lookup starts the default AWS
//     provider, whose start is counted in the lookup's latency.
//
// Parent edges are not waits and are left out.
func deployGraph(rec *recorder, m *timedMock) ([]*node, error) {
	byURN := map[string]*node{}
	var nodes []*node
	invoke := &node{label: "invoke " + tGetCluster, latency: deployLatency[tGetCluster].seconds}
	sp, ok := m.spans[tGetCluster]
	if !ok {
		return nil, fmt.Errorf("the program made no %s invoke", tGetCluster)
	}
	invoke.span = sp
	nodes = append(nodes, invoke)
	for _, reg := range rec.regs {
		key := reg.Type + "::" + reg.Name
		sp, ok := m.spans[key]
		if !ok {
			return nil, fmt.Errorf("no span for %s", key)
		}
		n := &node{label: reg.Type + " " + reg.Name, latency: deployLatency[reg.Type].seconds, span: sp}
		byURN[reg.URN] = n
		nodes = append(nodes, n)
	}
	for i, reg := range rec.regs {
		n := nodes[i+1]
		for _, d := range reg.Dependencies {
			dep, ok := byURN[d]
			if !ok {
				return nil, fmt.Errorf("%s depends on %s, which was not registered", n.label, d)
			}
			n.deps = append(n.deps, dep)
		}
		if reg.Provider != "" {
			urn := reg.Provider[:strings.LastIndex(reg.Provider, "::")]
			p, ok := byURN[urn]
			if !ok {
				return nil, fmt.Errorf("%s uses provider %s, which was not registered", n.label, urn)
			}
			n.deps = append(n.deps, p)
		}
		n.deps = append(n.deps, invoke)
	}
	return nodes, nil
}

// criticalPath is the longest path through the graph, with each node
// weighted by weight(node): with its latency figure, the least time any
// engine could take, however parallel.
func criticalPath(nodes []*node, weight func(*node) float64) (float64, []*node) {
	finish := map[*node]float64{}
	via := map[*node]*node{}
	var visit func(n *node) float64
	visit = func(n *node) float64 {
		if f, ok := finish[n]; ok {
			return f
		}
		var longest float64
		for _, d := range n.deps {
			if f := visit(d); f > longest || via[n] == nil {
				longest, via[n] = f, d
			}
		}
		finish[n] = longest + weight(n)
		return finish[n]
	}
	var last *node
	for _, n := range nodes {
		if last == nil || visit(n) > finish[last] {
			last = n
		}
	}
	var path []*node
	for n := last; n != nil; n = via[n] {
		path = append([]*node{n}, path...)
	}
	return finish[last], path
}

// deployStats are one simulated deploy's figures, in simulated seconds.
type deployStats struct {
	// wall is from the first registration's start to the last one's end.
	wall float64
	// critical is the critical path weighted by the latency figures.
	critical float64
	path     []*node
	// sequential is every latency figure added up: each step after the
	// other, as the walkthrough is done by hand.
	sequential float64
	// wall = critical + overshoot + gaps, where
	//   - overshoot is the critical path weighted by the time each mock
	//     actually took (a sleep wakes late, more so on a busy machine)
	//     minus the one weighted by the figures: an artefact of the mocks;
	//   - gaps is wall minus that served critical path: the time on the
	//     longest chain that no mock accounts for, i.e. the program, the
	//     SDK and the Go scheduler between a dependency's end and its
	//     dependent's start.
	// Both are real time that the compression does not scale, so they are
	// reported in real milliseconds: in a real deploy they would weigh
	// the same milliseconds, not the simulated seconds they weigh here.
	overshoot, gaps float64
}

func analyse(nodes []*node) (deployStats, error) {
	var s deployStats
	first, last := nodes[0].span.start, nodes[0].span.end
	for _, n := range nodes {
		first, last = min(first, n.span.start), max(last, n.span.end)
		s.sequential += n.latency
		for _, d := range n.deps {
			// The SDK sends a registration only once its dependencies
			// resolved: a start before a dependency's end would mean the
			// recorded graph is not what the schedule obeyed.
			if n.span.start < d.span.end {
				return s, fmt.Errorf("%s started at %v, before its dependency %s ended at %v", n.label, n.span.start, d.label, d.span.end)
			}
		}
	}
	s.wall = toSim(last - first)
	s.critical, s.path = criticalPath(nodes, func(n *node) float64 { return n.latency })
	served, _ := criticalPath(nodes, func(n *node) float64 { return toSim(n.span.end - n.span.start) })
	s.overshoot = served - s.critical
	s.gaps = s.wall - served
	return s, nil
}

func toSim(d time.Duration) float64 { return float64(d) / float64(simSecond) }

func BenchmarkSimulatedDeploy(b *testing.B) {
	for _, sc := range []struct {
		name    string
		stack   string
		cluster resource.PropertyMap
		cfg     func(b *testing.B) map[string]string
	}{
		// The walkthrough: agent, one role with S3 read-only, association,
		// ServiceAccount, test pod and verification Job.
		{"dev", "dev", clusterResult("my-eks-cluster", "1.31", false),
			func(b *testing.B) map[string]string { return stackConfig(b, "dev") }},
		// Two workloads, a created namespace, inline policy, no agent.
		{"prod", "prod", clusterResult("prod-eks", "1.32", false),
			func(b *testing.B) map[string]string { return stackConfig(b, "prod") }},
		// Ten walkthrough workloads: their chains must run side by side.
		{"walkthrough-x10", "bench", clusterResult("my-eks-cluster", "1.31", false),
			func(b *testing.B) map[string]string { return workloadsConfig(10) }},
	} {
		b.Run(sc.name, func(b *testing.B) {
			cfg := sc.cfg(b)
			var sum deployStats
			runs := 0
			for b.Loop() {
				runs++
				rec := newRecorder(sc.stack, sc.cluster)
				m := newTimedMock(rec)
				if _, err := runWith(b, cfg, sc.stack, m); err != nil {
					b.Fatal(err)
				}
				if len(m.unknown) > 0 {
					b.Fatalf("no latency figure for %v: add one to deployLatency", m.unknown)
				}
				nodes, err := deployGraph(rec, m)
				if err != nil {
					b.Fatal(err)
				}
				s, err := analyse(nodes)
				if err != nil {
					b.Fatal(err)
				}
				sum.wall += s.wall
				sum.critical += s.critical
				sum.sequential += s.sequential
				sum.gaps += s.gaps
				sum.overshoot += s.overshoot
				sum.path = s.path
			}
			n := float64(runs)
			wall, critical, sequential := sum.wall/n, sum.critical/n, sum.sequential/n
			var labels []string
			for _, p := range sum.path {
				labels = append(labels, fmt.Sprintf("%s (%gs)", p.label, p.latency))
			}
			if testing.Verbose() {
				b.Logf("critical path %.1fs: %s", critical, strings.Join(labels, " → "))
			}
			// Times in simulated seconds, but overshoot and gaps: real ms.
			realMS := float64(simSecond) / float64(time.Millisecond)
			b.ReportMetric(wall, "wall-s")
			b.ReportMetric(critical, "critical-path-s")
			b.ReportMetric(wall/critical, "wall/critical")
			b.ReportMetric(sequential, "sequential-s")
			b.ReportMetric(sequential/wall, "speedup-x")
			b.ReportMetric(sum.overshoot/n*realMS, "overshoot-ms")
			b.ReportMetric(sum.gaps/n*realMS, "gaps-ms")
		})
	}
}

// workloadsConfig is a stack with n workloads shaped like the walkthrough's
// (the default S3 read-only policy, a ServiceAccount, a test pod and a
// verification Job), each with its own service account sa-0001, sa-0002, …
// and an auto-named role: six resources per workload.
func workloadsConfig(n int) map[string]string {
	type workload struct {
		ServiceAccount string `json:"serviceAccount"`
		TestPod        bool   `json:"testPod"`
		Verify         bool   `json:"verify"`
	}
	ws := make([]workload, n)
	for i := range ws {
		ws[i] = workload{ServiceAccount: fmt.Sprintf("sa-%04d", i+1), TestPod: true, Verify: true}
	}
	j, err := json.Marshal(ws)
	if err != nil {
		panic(err)
	}
	return map[string]string{
		"aws:region":                   "us-east-1",
		"eks-pod-identity:clusterName": "my-eks-cluster",
		"eks-pod-identity:workloads":   string(j),
	}
}

// answeringMock answers like the recorder and records nothing, so the
// overhead measured is the program's and the SDK's, not the test harness's
// (the recorder's URN bookkeeping is quadratic in the number of resources).
type answeringMock struct{ cluster resource.PropertyMap }

func (m *answeringMock) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, outs := answer(args, "")
	return id, outs, nil
}

func (m *answeringMock) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == tGetCluster {
		return m.cluster, nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

func BenchmarkProgramOverhead(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			cfg := workloadsConfig(n)
			m := &answeringMock{cluster: clusterResult("my-eks-cluster", "1.31", false)}
			runOnce := func() {
				exports, err := runWith(b, cfg, "bench", m)
				if err != nil {
					b.Fatal(err)
				}
				if got := len(exports["workloads"].(map[string]any)); got != n {
					b.Fatalf("exported %d workloads, want %d", got, n)
				}
			}
			cpu0, runs := cpuTime(), 0
			for b.Loop() {
				runOnce()
				runs++
			}
			// CPU time of the whole process (program, SDK, mocks and the
			// garbage collector) per run: unlike ns/op, it does not grow
			// when other processes compete for the cores.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(runs)/float64(time.Millisecond), "cpu-ms/op")
			// Peak heap, outside the timed loop: sampling perturbs timing.
			b.StopTimer()
			base, peak := peakHeap(runOnce)
			b.ReportMetric(toMiB(peak), "peak-MiB")
			b.ReportMetric(toMiB(peak-base), "peak-over-base-MiB")
		})
	}
}

// peakHeap runs f three times, each after a full collection, as a fresh
// process would start, and returns the highest heap in use seen while one
// ran, and the heap in use before that run. "Heap in use" is runtime.MemStats.HeapInuse
// (spans holding objects, live or garbage not yet collected, and their free
// slots), read every 50 µs through runtime/metrics, which does not stop the
// world. It includes what the test binary holds before the run (mostly the
// SDKs' registered types): a real program carries the same.
func peakHeap(f func()) (base, peak uint64) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	inUse := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	for range 3 {
		runtime.GC()
		before := inUse()
		done := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			p := before
			for {
				select {
				case <-done:
					sampled <- max(p, inUse())
					return
				default:
					p = max(p, inUse())
					time.Sleep(50 * time.Microsecond)
				}
			}
		}()
		f()
		close(done)
		if p := <-sampled; p > peak {
			base, peak = before, p
		}
	}
	return base, peak
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func toMiB(b uint64) float64 { return float64(b) / (1 << 20) }
