package podrunner

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// applyPatch applies the add operations Mutate produces (RFC 6902 "add",
// with "-" appending) to a JSON document, so the tests check the pod the
// apiserver would hold, not the patch's shape.
func applyPatch(t *testing.T, doc []byte, ops []PatchOp) map[string]any {
	t.Helper()
	var obj any
	if err := json.Unmarshal(doc, &obj); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.Op != "add" {
			t.Fatalf("unexpected op %q", op.Op)
		}
		b, _ := json.Marshal(op.Value)
		var v any
		_ = json.Unmarshal(b, &v)
		parts := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
		cur := obj
		for i, p := range parts {
			last := i == len(parts)-1
			switch c := cur.(type) {
			case map[string]any:
				if last {
					if _, exists := c[p]; exists {
						t.Fatalf("add %s replaces an existing member", op.Path)
					}
					c[p] = v
				} else {
					cur = c[p]
				}
			case []any:
				if !last {
					var idx int
					if err := json.Unmarshal([]byte(p), &idx); err != nil {
						t.Fatalf("bad index in %s", op.Path)
					}
					cur = c[idx]
					continue
				}
				if p != "-" {
					t.Fatalf("only appends expected, got %s", op.Path)
				}
				// Re-point the parent at the grown slice.
				parent := obj
				for _, q := range parts[:i-1] {
					switch pc := parent.(type) {
					case map[string]any:
						parent = pc[q]
					case []any:
						var idx int
						_ = json.Unmarshal([]byte(q), &idx)
						parent = pc[idx]
					}
				}
				parent.(map[string]any)[parts[i-1]] = append(c, v)
			default:
				t.Fatalf("cannot walk %s", op.Path)
			}
		}
	}
	return obj.(map[string]any)
}

func envOf(t *testing.T, container any) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, _ := container.(map[string]any)["env"].([]any)
	for _, e := range list {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		out[m["name"].(string)] = v
	}
	return out
}

func TestMutate(t *testing.T) {
	const jobPod = `{"metadata":{"name":"verify-x","namespace":"default"},"spec":{"serviceAccountName":"pod-id-sa",
		"containers":[{"name":"verify","image":"amazon/aws-cli:latest","command":["/bin/sh","-c","script"],
		"env":[{"name":"EXPECTED_ROLE_ARN","value":"arn:aws:iam::123456789012:role/R"},{"name":"ACCESS_CHECK","value":"s3 ls"}],
		"volumeMounts":[{"name":"kube-api-access-x","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]}],
		"volumes":[{"name":"kube-api-access-x","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}]}}`
	const bare = `{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"},{"name":"b","env":[{"name":"AWS_REGION","value":"eu-west-1"}]}],
		"initContainers":[{"name":"init"}]}}`
	want := map[string]string{
		"AWS_STS_REGIONAL_ENDPOINTS":             "regional",
		"AWS_DEFAULT_REGION":                     "us-east-1",
		"AWS_REGION":                             "us-east-1",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "http://169.254.170.23/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
	}
	wantVolume := map[string]any{"name": "eks-pod-identity-token", "projected": map[string]any{"defaultMode": float64(420),
		"sources": []any{map[string]any{"serviceAccountToken": map[string]any{
			"audience": "pods.eks.amazonaws.com", "expirationSeconds": float64(86400), "path": "eks-pod-identity-token"}}}}}
	wantMount := map[string]any{"name": "eks-pod-identity-token", "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount", "readOnly": true}

	t.Run("job pod", func(t *testing.T) {
		var pod Pod
		if err := json.Unmarshal([]byte(jobPod), &pod); err != nil {
			t.Fatal(err)
		}
		got := applyPatch(t, []byte(jobPod), Mutate(&pod, "us-east-1"))
		spec := got["spec"].(map[string]any)
		c := spec["containers"].([]any)[0]
		env := envOf(t, c)
		for k, v := range want {
			if env[k] != v {
				t.Errorf("env %s = %q, want %q", k, env[k], v)
			}
		}
		if env["EXPECTED_ROLE_ARN"] != "arn:aws:iam::123456789012:role/R" || env["ACCESS_CHECK"] != "s3 ls" {
			t.Errorf("the pod's own env changed: %v", env)
		}
		vols := spec["volumes"].([]any)
		if len(vols) != 2 || !reflect.DeepEqual(vols[1], wantVolume) {
			t.Errorf("volumes = %v, want the existing one and %v", vols, wantVolume)
		}
		mounts := c.(map[string]any)["volumeMounts"].([]any)
		if len(mounts) != 2 || !reflect.DeepEqual(mounts[1], wantMount) {
			t.Errorf("mounts = %v", mounts)
		}
		// A second admission of the same pod (reinvocation) adds nothing.
		var again Pod
		b, _ := json.Marshal(got)
		_ = json.Unmarshal(b, &again)
		if ops := Mutate(&again, "us-east-1"); len(ops) != 0 {
			t.Errorf("mutating an injected pod again: %v", ops)
		}
	})
	t.Run("no env, no volumes, init container, a variable the pod sets", func(t *testing.T) {
		var pod Pod
		if err := json.Unmarshal([]byte(bare), &pod); err != nil {
			t.Fatal(err)
		}
		got := applyPatch(t, []byte(bare), Mutate(&pod, "us-east-1"))
		spec := got["spec"].(map[string]any)
		if vols := spec["volumes"].([]any); len(vols) != 1 {
			t.Errorf("volumes = %v", vols)
		}
		cs := append(spec["containers"].([]any), spec["initContainers"].([]any)...)
		for i, c := range cs {
			env := envOf(t, c)
			for k, v := range want {
				if k == "AWS_REGION" && i == 1 {
					v = "eu-west-1" // the pod's own value stays
				}
				if env[k] != v {
					t.Errorf("container %d env %s = %q, want %q", i, k, env[k], v)
				}
			}
			if m := c.(map[string]any)["volumeMounts"].([]any); len(m) != 1 || !reflect.DeepEqual(m[0], wantMount) {
				t.Errorf("container %d mounts = %v", i, m)
			}
		}
	})
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "EMPTY": ""}
	cases := map[string]string{
		"$(A)":     "x",
		"$(A)$(A)": "xx",
		"$(B)":     "$(B)",
		"$$(A)":    "$(A)",
		"$$":       "$",
		"$$$":      "$$",
		"a$":       "a$",
		"$x":       "$x",
		"$(":       "$(",
		"$(EMPTY)": "",
		`out=$(aws sts get-caller-identity --query Arn --output text 2>&1)`: `out=$(aws sts get-caller-identity --query Arn --output text 2>&1)`,
		"passed=$((passed + 1))":     "passed=$((passed + 1))",
		`printf '%s\n' "$1" | while`: `printf '%s\n' "$1" | while`,
	}
	for in, want := range cases {
		if got := Expand(in, vars); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContainerEnv(t *testing.T) {
	pod := &Pod{Metadata: Meta{Name: "verify-x", Namespace: "default", UID: "u1"}, Spec: PodSpec{ServiceAccountName: "pod-id-sa"}}
	c := &Container{Name: "verify", Env: []EnvVar{
		{Name: "EXPECTED_ROLE_ARN", Value: "arn:aws:iam::123456789012:role/R"},
		{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: AgentURL},
		{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: TokenFile},
		{Name: "SA_TOKEN", Value: "/var/run/secrets/kubernetes.io/serviceaccount/token"},
		{Name: "REF", Value: "role=$(EXPECTED_ROLE_ARN) $(UNSET)"},
		{Name: "POD", ValueFrom: json.RawMessage(`{"fieldRef":{"fieldPath":"metadata.name"}}`)},
	}}
	mounts := Mounts{TokenMountPath: "/w/pod/volumes/eks-pod-identity-token", "/var/run/secrets/kubernetes.io/serviceaccount/": "/w/pod/volumes/kube"}
	node := Node{Path: "/aws/bin:/usr/bin:/bin", AgentURL: "http://127.0.0.1:4321", AWSEndpoint: "http://127.0.0.1:5000"}
	got, err := ContainerEnv(pod, c, mounts, node, "/w/pod/home")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PATH=/aws/bin:/usr/bin:/bin",
		"HOSTNAME=verify-x",
		"HOME=/w/pod/home",
		"EXPECTED_ROLE_ARN=arn:aws:iam::123456789012:role/R",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:4321/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/w/pod/volumes/eks-pod-identity-token/eks-pod-identity-token",
		"SA_TOKEN=/w/pod/volumes/kube/token",
		"REF=role=arn:aws:iam::123456789012:role/R $(UNSET)",
		"POD=verify-x",
		"AWS_ENDPOINT_URL=http://127.0.0.1:5000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("env =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	c.Env = append(c.Env, EnvVar{Name: "BAD", ValueFrom: json.RawMessage(`{"secretKeyRef":{"name":"s","key":"k"}}`)})
	if _, err := ContainerEnv(pod, c, mounts, node, "/h"); err == nil || !strings.Contains(err.Error(), "BAD") {
		t.Errorf("unsupported valueFrom: err = %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	c := &Container{Name: "verify", Command: []string{"/bin/sh", "-c", `echo "$(A) $$HOME $(NOPE)"`}, Args: []string{"$(A)"}}
	got, err := commandLine(c, []string{"A=1", "HOME=/h"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/sh", "-c", `echo "1 $HOME $(NOPE)"`, "1"}; !slices.Equal(got, want) {
		t.Errorf("argv = %q, want %q", got, want)
	}
	if _, err := commandLine(&Container{Name: "x"}, nil); err == nil {
		t.Error("a container without command must be refused (no image entrypoint here)")
	}
}

func TestTailMessage(t *testing.T) {
	var lines []string
	for i := range 100 {
		lines = append(lines, strings.Repeat("x", 10)+string(rune('a'+i%26)))
	}
	got := tailMessage(lines)
	if len(got) > 2048 {
		t.Errorf("message is %d bytes, the kubelet keeps at most 2048", len(got))
	}
	if !strings.HasSuffix(got, lines[99]+"\n") {
		t.Errorf("message does not end with the last line: %q", got[len(got)-20:])
	}
	if n := strings.Count(got, "\n"); n != 80 {
		t.Errorf("message has %d lines, want the last 80", n)
	}
	long := []string{strings.Repeat("y", 3000), "FAIL identity: expected a, saw b"}
	if got := tailMessage(long); len(got) != 2048 || !strings.HasSuffix(got, "saw b\n") {
		t.Errorf("long tail = %d bytes, ends %q", len(got), got[len(got)-10:])
	}
}

func TestMutateIRSA(t *testing.T) {
	pod := &Pod{Spec: PodSpec{Containers: []Container{{Name: "app"}, {Name: "side", Env: []EnvVar{{Name: "A", Value: "b"}}}}}}
	ops := MutateIRSA(pod, "arn:aws:iam::123456789012:role/R")
	var paths []string
	for _, op := range ops {
		paths = append(paths, op.Op+" "+op.Path)
	}
	want := []string{"add /spec/volumes", "add /spec/containers/0/env", "add /spec/containers/0/volumeMounts",
		"add /spec/containers/1/env/-", "add /spec/containers/1/env/-", "add /spec/containers/1/volumeMounts"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Fatalf("ops %v, want %v", paths, want)
	}
	if env := ops[1].Value.([]EnvVar); env[0].Value != "arn:aws:iam::123456789012:role/R" || env[1].Value != IRSATokenFile {
		t.Fatalf("env %v", env)
	}
	pod.Spec.Volumes = []Volume{{Name: IRSATokenVolume}}
	if ops := MutateIRSA(pod, "x"); ops != nil {
		t.Fatalf("a pod admitted once is patched again: %v", ops)
	}
}
