//go:build engine

package scenarios

// Test equipment for the operations scenarios: the moto fault switch
// (tests/engine/moto/moto_faults.py), waiting on a condition, and killing
// the Pulumi CLI the Automation API started, the way a dying CI runner does.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fault is one moto_faults.py rule: {"service", "action", "fault", "count", ...}.
type fault map[string]any

func throttle(service, action string, n int) fault {
	return fault{"service": service, "action": action, "fault": "throttle", "count": n}
}

// roleNotVisible is EKS refusing a role IAM has not propagated yet; n <= 0
// refuses every attempt.
func roleNotVisible(n int) fault {
	f := fault{"service": "eks", "action": "CreatePodIdentityAssociation", "fault": "error",
		"code": "InvalidParameterException", "message": "Role provided in the request does not exist"}
	if n > 0 {
		f["count"] = n
	}
	return f
}

// hold lets AWS perform the call but keeps its answer back until released.
func hold(service, action string) fault {
	return fault{"service": service, "action": action, "fault": "hold", "count": 1, "holdSeconds": 300}
}

type faultRuleState struct {
	Service  string `json:"service"`
	Action   string `json:"action"`
	Injected int    `json:"injected"`
	Held     int    `json:"held"`
}

type faultState struct {
	Rules []faultRuleState `json:"rules"`
	Calls map[string]int   `json:"calls"`
}

func (f faultState) rule(service, action string) faultRuleState {
	for _, r := range f.Rules {
		if r.Service == service && r.Action == action {
			return r
		}
	}
	return faultRuleState{}
}

// setFaults replaces moto's fault rules; they are removed (and held answers
// released) when the test ends, so no fault outlives its scenario.
func (e *env) setFaults(t *testing.T, rules ...fault) {
	t.Helper()
	e.faultsCall(t, http.MethodPost, "/moto-ext/faults", map[string]any{"rules": rules})
	t.Cleanup(func() { e.faultsCall(t, http.MethodDelete, "/moto-ext/faults", nil) })
}

func (e *env) faults(t *testing.T) faultState {
	t.Helper()
	return e.faultsCall(t, http.MethodGet, "/moto-ext/faults", nil)
}

func (e *env) releaseHolds(t *testing.T) {
	t.Helper()
	e.faultsCall(t, http.MethodPost, "/moto-ext/faults/release", nil)
}

func (e *env) faultsCall(t *testing.T, method, path string, body any) faultState {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.moto+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	var st faultState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return st
}

// waitFor polls cond until it holds, failing the test with what it waited
// for after limit. It waits for an event; it asserts nothing about time.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proc is one line of /proc/<pid>/stat.
type proc struct {
	pid, ppid int
	comm      string
}

func processes(t *testing.T) []proc {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []proc
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		ppid, _ := strconv.Atoi(fields[1])
		out = append(out, proc{pid: pid, ppid: ppid, comm: s[open+1 : closing]})
	}
	return out
}

// pulumiCLIs returns the PIDs of the pulumi CLI processes this test process
// started (the Automation API runs the CLI as a direct child) in dir.
func pulumiCLIs(t *testing.T, dir string) []int {
	t.Helper()
	var pids []int
	for _, p := range processes(t) {
		if p.ppid != os.Getpid() || p.comm != "pulumi" {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.pid)); err == nil && cwd == dir {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// killTree SIGKILLs pid and every process below it (the CLI's provider
// plugins), as a runner that dies takes all of them at once: nothing gets
// to clean up.
func killTree(t *testing.T, pid int) []string {
	t.Helper()
	all := processes(t)
	tree := map[int]bool{pid: true}
	for grew := true; grew; {
		grew = false
		for _, p := range all {
			if tree[p.ppid] && !tree[p.pid] {
				tree[p.pid], grew = true, true
			}
		}
	}
	var killed []string
	for _, p := range all {
		if tree[p.pid] && syscall.Kill(p.pid, syscall.SIGKILL) == nil {
			killed = append(killed, fmt.Sprintf("%s[%d]", p.comm, p.pid))
		}
	}
	return killed
}
