package tests

import (
	"os"
	"testing"
)

// PULUMI_K8S_DELETE_UNREACHABLE is for the one `destroy` of a stack whose
// cluster is gone. Exported during an `up`, it must not reach the explicit
// Kubernetes provider's inputs, which the state keeps: there it would drop
// objects from the state at every later outage. The program's own
// environment is left as it was.
func TestDeleteUnreachableIsNeverFrozenIntoTheProvider(t *testing.T) {
	t.Setenv("PULUMI_K8S_DELETE_UNREACHABLE", "true")
	rec, _ := runDev(t)
	k8s := rec.get(t, tK8sProvider, "kubernetes")
	if v, ok := k8s.Inputs["deleteUnreachable"]; ok {
		t.Errorf("the Kubernetes provider's inputs carry deleteUnreachable = %v", v)
	}
	if got := os.Getenv("PULUMI_K8S_DELETE_UNREACHABLE"); got != "true" {
		t.Errorf("the program left PULUMI_K8S_DELETE_UNREACHABLE = %q, want it restored", got)
	}
}

// The same on the createCluster path, whose provider is built from the new
// cluster's outputs.
func TestDeleteUnreachableIsNeverFrozenIntoTheCreatedClustersProvider(t *testing.T) {
	t.Setenv("PULUMI_K8S_DELETE_UNREACHABLE", "true")
	m, _ := runSandbox(t, nil)
	if v, ok := m.get(t, tK8sProvider, "kubernetes").Inputs["deleteUnreachable"]; ok {
		t.Errorf("the Kubernetes provider's inputs carry deleteUnreachable = %v", v)
	}
}
