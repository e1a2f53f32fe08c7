package stackconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestReservedTagIsRefused(t *testing.T) {
	cfg := baseConfig()
	cfg["eks-pod-identity:tags"] = `{"eks-pod-identity:stack":"x","eks-pod-identity:adopted":"false"}`
	cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","tags":{"eks-pod-identity:stack":"y"}}]`
	_, err := Parse(cfg, noEnv)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a ConfigError, got %v", err)
	}
	want := []string{
		`eks-pod-identity:tags: "eks-pod-identity:stack" is reserved`,
		`eks-pod-identity:tags: "eks-pod-identity:adopted" is reserved`,
		`eks-pod-identity:workloads[0].tags: "eks-pod-identity:stack" is reserved`,
	}
	if len(ce.Problems) != len(want) {
		t.Fatalf("problems = %q, want %d", ce.Problems, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(ce.Problems[i], w) {
			t.Errorf("problem %d = %q, want it to start with %q", i, ce.Problems[i], w)
		}
	}
}
