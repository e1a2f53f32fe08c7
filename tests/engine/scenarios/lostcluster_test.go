//go:build engine

package scenarios

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
)

// apiProxy forwards TCP to the apiserver until closed: the stack reaches
// its cluster only through it, so closing it makes the cluster unreachable
// for this stack alone (the tier's apiserver serves the other scenarios).
type apiProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startAPIProxy(t *testing.T, target string) *apiProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *apiProxy) addr() string { return p.ln.Addr().String() }

// close stops accepting and cuts every open connection.
func (p *apiProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDestroyAfterTheClusterIsGone: the cluster is deleted out of band
// (gone from EKS, its API unreachable). A plain `destroy` fails on the
// Kubernetes objects and says what to do; `PULUMI_K8S_DELETE_UNREACHABLE=true
// pulumi destroy`, the README's Teardown command, then succeeds and leaves
// no role, add-on, association or state. The `up` ran with the variable
// set, which must not have kept it on (TestDeleteUnreachableIsNeverFrozen*).
func TestDestroyAfterTheClusterIsGone(t *testing.T) {
	e := newEnv(t)
	endpoint := mustEnv(t, "ENGINE_K8S_ENDPOINT")
	target := strings.TrimPrefix(endpoint, "https://")
	proxy := startAPIProxy(t, target)
	kc, err := os.ReadFile(e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(kc), endpoint) {
		t.Fatalf("the tier's kubeconfig does not name %s", endpoint)
	}
	proxied := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(proxied, []byte(strings.ReplaceAll(string(kc), endpoint, "https://"+proxy.addr())), 0o600); err != nil {
		t.Fatal(err)
	}

	s := e.devStack(t, "ops-lost-cluster")
	if err := s.SetConfig(e.ctx, stackconfig.Project+":"+stackconfig.KeyKubeconfig, auto.ConfigValue{Value: proxied, Secret: true}); err != nil {
		t.Fatal(err)
	}
	// Set during `up` as a careless shell profile would: for the CLI and its
	// plugins, and for the program, which runs in this process (an inline
	// Automation API program; `pulumi up` hands its environment to the
	// program the same way).
	t.Setenv("PULUMI_K8S_DELETE_UNREACHABLE", "true")
	s.Workspace().SetEnvVar("PULUMI_K8S_DELETE_UNREACHABLE", "true")
	if _, err := s.Up(e.ctx, upOpts(t)...); err != nil {
		t.Fatalf("up: %v", err)
	}
	os.Unsetenv("PULUMI_K8S_DELETE_UNREACHABLE")
	s.Workspace().UnsetEnvVar("PULUMI_K8S_DELETE_UNREACHABLE")
	state := exportState(t, s)
	for _, r := range state.ofType("pulumi:providers:kubernetes") {
		if v, ok := r.Inputs["deleteUnreachable"]; ok {
			t.Errorf("the Kubernetes provider's state carries deleteUnreachable = %v", v)
		}
	}
	before := e.devWorld(t)
	if before.roleArn == "" || len(before.associations) != 1 || len(before.addons) != 1 {
		t.Fatalf("after up: role %q, associations %v, add-ons %v", before.roleArn, before.associations, before.addons)
	}

	// The cluster goes: its API stops answering and EKS forgets it, with
	// its add-ons and associations (moto's DeleteCluster drops them too).
	proxy.close()
	if _, err := e.eksIn(devRegion).DeleteCluster(e.ctx, &eks.DeleteClusterInput{Name: aws.String(devCluster)}); err != nil {
		t.Fatalf("delete the cluster in moto: %v", err)
	}
	// The objects the lost cluster held: the tier's apiserver still has
	// them (only this stack's way to it was cut); remove them as the
	// cluster's deletion would have.
	t.Cleanup(func() {
		for _, kind := range []string{"jobs", "pods", "serviceaccounts"} {
			_, _ = e.kubectl("delete", kind, "-n", "default", "-l", "app.kubernetes.io/part-of=eks-pod-identity")
		}
	})

	_, err = s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t}))
	if err == nil {
		t.Fatal("destroy of a stack whose cluster is unreachable succeeded without PULUMI_K8S_DELETE_UNREACHABLE: the variable was frozen on")
	}
	if !strings.Contains(err.Error(), "PULUMI_K8S_DELETE_UNREACHABLE") {
		t.Errorf("the failed destroy does not name PULUMI_K8S_DELETE_UNREACHABLE: %v", err)
	}

	s.Workspace().SetEnvVar("PULUMI_K8S_DELETE_UNREACHABLE", "true")
	defer s.Workspace().UnsetEnvVar("PULUMI_K8S_DELETE_UNREACHABLE")
	if _, err := s.Destroy(e.ctx, optdestroy.ProgressStreams(testWriter{t})); err != nil {
		t.Fatalf("destroy with PULUMI_K8S_DELETE_UNREACHABLE=true: %v", err)
	}
	if n := resourceCount(t, s); n != 0 {
		t.Errorf("the stack still holds %d resources", n)
	}
	if r := e.role(devRole); r != nil {
		t.Errorf("role %s left in IAM", devRole)
	}
	e.registerCluster(devCluster, devRegion) // for the scenarios after this one
	if a := e.associations(devRegion, devCluster); len(a) != 0 {
		t.Errorf("associations on the re-registered cluster: %v", a)
	}
}
