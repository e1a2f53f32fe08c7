package tests

import (
	"strings"
	"testing"
)

// Bad input is refused before anything exists: not a provider, not a role.
func TestInvalidConfigRegistersNothing(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"Pod_SA","trust":"loose"},{"serviceAcount":"x"}]`
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	_, err := run(t, cfg, rec)
	if err == nil {
		t.Fatal("the program accepted an invalid configuration")
	}
	for _, want := range []string{
		`eks-pod-identity:workloads[0].serviceAccount: "Pod_SA" must be a DNS-1123 subdomain`,
		`eks-pod-identity:workloads[0].trust: "loose" is not a trust mode`,
		`eks-pod-identity:workloads[1]: unknown key "serviceAcount"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if len(rec.regs) != 0 || len(rec.calls) != 0 {
		t.Errorf("a refused configuration still registered %v and invoked %d functions", rec.names(), len(rec.calls))
	}
}

// Cluster problems are found by the lookup, before any resource but the
// AWS provider (which the lookup needs) is registered.
func TestClusterRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster string
		version string
		auto    bool
		want    string
	}{
		{"too old", "my-eks-cluster", "1.23", false, `cluster "my-eks-cluster" runs Kubernetes "1.23"; EKS Pod Identity needs 1.24 or later`},
		{"auto mode with managed agent", "my-eks-cluster", "1.31", true, "runs EKS Auto Mode, which has the Pod Identity Agent built in and conflicts with the eks-pod-identity-agent add-on: set eks-pod-identity:manageAgent to false"},
		{"missing cluster", "other-cluster", "1.31", false, `look up EKS cluster "my-eks-cluster" in us-east-1: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder("dev", clusterResult(tc.cluster, tc.version, tc.auto))
			_, err := run(t, stackConfig(t, "dev"), rec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to say %q", err, tc.want)
			}
			if names := rec.names(); len(names) != 0 {
				t.Errorf("registered %v, want nothing: the lookup uses the default provider", names)
			}
		})
	}
}

// On Auto Mode with the agent left to EKS, the program goes ahead.
func TestAutoModeWithAgentSkipped(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["eks-pod-identity:manageAgent"] = "false"
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", true))
	if _, err := run(t, cfg, rec); err != nil {
		t.Fatalf("Auto Mode with manageAgent false: %v", err)
	}
	for _, reg := range rec.regs {
		if reg.Type == tAddon {
			t.Error("the add-on was registered although manageAgent is false")
		}
	}
}

// A kubeconfig from config (how the engine tests reach a local cluster)
// replaces the generated one.
func TestKubeconfigFromConfig(t *testing.T) {
	cfg := stackConfig(t, "dev")
	content := "apiVersion: v1\nkind: Config\nclusters: []\n"
	cfg["eks-pod-identity:kubeconfig"] = content
	cfg["eks-pod-identity:kubeContext"] = "kind-local"
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	if _, err := run(t, cfg, rec); err != nil {
		t.Fatal(err)
	}
	p := rec.get(t, tK8sProvider, "kubernetes")
	if got := p.Inputs["kubeconfig"].SecretValue().Element.StringValue(); got != content {
		t.Errorf("kubeconfig = %q, want the configured content", got)
	}
	if got := p.Inputs["context"].StringValue(); got != "kind-local" {
		t.Errorf("context = %q, want kind-local", got)
	}
}
