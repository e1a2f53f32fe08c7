package tests

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/irsa"
	"github.com/platform-eng/eks-pod-identity/stackcheck"
)

// The IRSA stack (Pulumi.irsa.yaml) in the world examples/irsa/existing.json
// records: role EKSPodIdentityS3Role trusting the cluster's OIDC provider for
// default/pod-id-sa and default/reports, the annotated ServiceAccount, and a
// pod admitted with IRSA's variables.
const (
	irsaRole   = "EKSPodIdentityS3Role"
	irsaIssuer = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	irsaRoleT  = "aws:iam/role:Role"
	irsaSub    = "system:serviceaccount:default:pod-id-sa"
	otherSub   = "system:serviceaccount:default:reports"
)

var irsaProvider = "arn:aws:iam::" + testAccount + ":oidc-provider/" + irsaIssuer

// irsaWorld is the recorded world with the mocked cluster's issuer (the
// recording is check-stack's, whose mocked cluster has another).
func irsaWorld(t *testing.T) discover.Existing {
	t.Helper()
	b, err := os.ReadFile("../examples/irsa/existing.json")
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.ReplaceAll(string(b), "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF", irsaIssuer))
	rec, err := discover.ParseRecorded(b)
	if err != nil {
		t.Fatal(err)
	}
	e := discover.Existing{Roles: map[string]*discover.FoundRole{}, ServiceAccounts: map[string]*discover.FoundObject{},
		ServiceAccountPods: map[string][]irsa.Pod{}}
	for _, r := range rec.Roles {
		e.Roles[r.Name] = r
	}
	e.ServiceAccounts["default/pod-id-sa"] = rec.Objects["ServiceAccount"]["default/pod-id-sa"]
	e.ServiceAccountPods["default/pod-id-sa"], _ = rec.PodsOf(t.Context(), "default", "pod-id-sa")
	return e
}

// runIrsa runs Pulumi.irsa.yaml in phase in world e; edit changes the
// workload further.
func runIrsa(t *testing.T, e discover.Existing, phase irsa.Phase, edit func(w map[string]any)) (*recorder, map[string]any, error) {
	t.Helper()
	cfg := stackConfig(t, "irsa")
	var ws []map[string]any
	if err := json.Unmarshal([]byte(cfg["eks-pod-identity:workloads"]), &ws); err != nil {
		t.Fatal(err)
	}
	ws[0]["phase"] = string(phase)
	if edit != nil {
		edit(ws[0])
	}
	b, _ := json.Marshal(ws)
	cfg["eks-pod-identity:workloads"] = string(b)
	clearRegionEnv(t)
	rec := newRecorder("irsa", clusterResult("my-eks-cluster", "1.31", false))
	_, exports, err := stackcheck.RunIn("irsa", stackcheck.Config{Values: cfg}, rec, &discover.Lookups{AWS: world{e}, Kube: world{e}})
	return rec, exports, err
}

// trustOf is the role's registered trust policy, decoded.
func trustOf(t *testing.T, rec *recorder) map[string]any {
	t.Helper()
	role := rec.get(t, irsaRoleT, "pod-identity-pod-id-sa-role")
	var doc map[string]any
	if err := json.Unmarshal([]byte(role.Inputs["assumeRolePolicy"].StringValue()), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// subsOf lists the OIDC `sub` values and Pod Identity statements of a trust.
func subsOf(doc map[string]any) (subs []string, podIdentity int) {
	for _, s := range doc["Statement"].([]any) {
		st := s.(map[string]any)
		p := st["Principal"].(map[string]any)
		if p["Service"] == "pods.eks.amazonaws.com" {
			podIdentity++
			continue
		}
		cond := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)
		switch v := cond[irsaIssuer+":sub"].(type) {
		case string:
			subs = append(subs, v)
		case []any:
			for _, x := range v {
				subs = append(subs, x.(string))
			}
		}
	}
	slices.Sort(subs)
	return subs, podIdentity
}

func TestIrsaPhases(t *testing.T) {
	e := irsaWorld(t)

	t.Run("dual", func(t *testing.T) {
		rec, out, err := runIrsa(t, e, irsa.Dual, nil)
		if err != nil {
			t.Fatal(err)
		}
		role := rec.get(t, irsaRoleT, "pod-identity-pod-id-sa-role")
		if role.ImportID != irsaRole {
			t.Errorf("role import ID %q, want %q: the role on IRSA is taken over, never replaced", role.ImportID, irsaRole)
		}
		if !role.RetainOnDelete {
			t.Error("the role is not retained on destroy: pods still on IRSA use it")
		}
		if subs, pi := subsOf(trustOf(t, rec)); !slices.Equal(subs, []string{irsaSub, otherSub}) || pi != 1 {
			t.Errorf("trust: subs %v and %d Pod Identity statements; want both service accounts' IRSA trust and one Pod Identity statement", subs, pi)
		}
		for _, r := range rec.regs {
			if strings.Contains(r.Type, "podIdentityAssociation") || strings.Contains(r.Type, "batch/v1:Job") {
				t.Errorf("dual registered %s %s: no pod changes credentials before podIdentity", r.Type, r.Name)
			}
		}
		patch := rec.get(t, "kubernetes:core/v1:ServiceAccountPatch", "pod-identity-pod-id-sa-sa")
		ann := patch.Inputs["metadata"].ObjectValue()["annotations"].ObjectValue()
		if ann["eks.amazonaws.com/role-arn"].StringValue() != "arn:aws:iam::"+testAccount+":role/"+irsaRole || ann["pulumi.com/patchForce"].StringValue() != "true" {
			t.Errorf("patch annotations %v: want the role-arn kept, taken over with patchForce", ann)
		}
		if !patch.RetainOnDelete {
			t.Error("the annotation's patch is not retained on destroy")
		}
		pod := rec.get(t, "kubernetes:core/v1:Pod", "pod-identity-pod-id-sa-test-pod")
		if got := pod.Inputs["metadata"].ObjectValue()["annotations"].ObjectValue()[podidentityCredentials].StringValue(); got != "irsa" {
			t.Errorf("test pod credentials annotation %q, want irsa", got)
		}
		if !slices.Contains(pod.ReplaceOnChanges, "metadata.annotations") {
			t.Errorf("test pod replaceOnChanges %v: a phase change would not re-admit it", pod.ReplaceOnChanges)
		}
		w := out["workloads"].(map[string]any)["pod-id-sa"].(map[string]any)
		if _, ok := w["verifyJob"]; ok {
			t.Error("dual exports a verification Job it does not run")
		}
		if m := w["irsa"].(map[string]any); m["phase"] != "dual" || m["newPodsGet"] != "irsa" || len(anyStrings(m["restarts"])) != 0 {
			t.Errorf("irsa output %v", m)
		}
	})

	t.Run("podIdentity", func(t *testing.T) {
		rec, out, err := runIrsa(t, e, irsa.PodIdentity, nil)
		if err != nil {
			t.Fatal(err)
		}
		assoc := rec.get(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "pod-identity-pod-id-sa-association")
		if assoc.Inputs["serviceAccount"].StringValue() != "pod-id-sa" {
			t.Errorf("association for %v", assoc.Inputs["serviceAccount"])
		}
		job := rec.get(t, "kubernetes:batch/v1:Job", "pod-identity-pod-id-sa-verify")
		if !rec.dependsOn(job, assoc) {
			t.Error("the verification Job does not wait for the association")
		}
		if subs, _ := subsOf(trustOf(t, rec)); !slices.Equal(subs, []string{irsaSub, otherSub}) {
			t.Errorf("podIdentity changed the IRSA trust: %v", subs)
		}
		pod := rec.get(t, "kubernetes:core/v1:Pod", "pod-identity-pod-id-sa-test-pod")
		if got := pod.Inputs["metadata"].ObjectValue()["annotations"].ObjectValue()[podidentityCredentials].StringValue(); got != "podIdentity" {
			t.Errorf("test pod credentials annotation %q, want podIdentity", got)
		}
		m := out["workloads"].(map[string]any)["pod-id-sa"].(map[string]any)["irsa"].(map[string]any)
		want := []string{"kubectl delete pod s3-reader -n default  # a bare pod: create it again as it was made"}
		if !slices.Equal(anyStrings(m["restarts"]), want) {
			t.Errorf("restarts %v, want %v", m["restarts"], want)
		}
	})

	t.Run("cleanup refused while a pod still has IRSA credentials", func(t *testing.T) {
		rec, _, err := runIrsa(t, e, irsa.Cleanup, nil)
		if err == nil || !strings.Contains(err.Error(), "eks-pod-identity:workloads[0].phase: is cleanup, but pods of ServiceAccount default/pod-id-sa still have IRSA credentials") ||
			!strings.Contains(err.Error(), "kubectl delete pod s3-reader -n default") {
			t.Fatalf("err = %v", err)
		}
		for _, r := range rec.regs {
			if !createsNothing(r) {
				t.Errorf("registered %s %s before refusing", r.Type, r.Name)
			}
		}
	})

	t.Run("cleanup", func(t *testing.T) {
		restarted := irsaWorld(t)
		restarted.ServiceAccountPods["default/pod-id-sa"] = []irsa.Pod{{Name: "s3-reader"}}
		rec, _, err := runIrsa(t, restarted, irsa.Cleanup, nil)
		if err != nil {
			t.Fatal(err)
		}
		if subs, pi := subsOf(trustOf(t, rec)); !slices.Equal(subs, []string{otherSub}) || pi != 1 {
			t.Errorf("cleanup trust: subs %v, %d Pod Identity statements; want only %s's IRSA trust left, and Pod Identity", subs, pi, otherSub)
		}
		if !rec.get(t, irsaRoleT, "pod-identity-pod-id-sa-role").RetainOnDelete {
			t.Error("after cleanup the role still trusts default/reports through IRSA, yet destroy would delete it")
		}
		// With this service account its only IRSA user, the role is the
		// stack's alone after cleanup: destroy deletes it.
		alone := irsaWorld(t)
		alone.ServiceAccountPods["default/pod-id-sa"] = nil
		r := *alone.Roles[irsaRole]
		r.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + irsaProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + irsaIssuer + `:sub":"` + irsaSub + `","` + irsaIssuer + `:aud":"sts.amazonaws.com"}}}]}`
		alone.Roles[irsaRole] = &r
		rec2, _, err := runIrsa(t, alone, irsa.Cleanup, nil)
		if err != nil {
			t.Fatal(err)
		}
		if subs, _ := subsOf(trustOf(t, rec2)); len(subs) != 0 {
			t.Fatalf("subs left %v", subs)
		}
		if rec2.get(t, irsaRoleT, "pod-identity-pod-id-sa-role").RetainOnDelete {
			t.Error("after cleanup the role is the stack's alone, yet retained on destroy")
		}
		patch := rec.get(t, "kubernetes:core/v1:ServiceAccountPatch", "pod-identity-pod-id-sa-sa")
		if _, ok := patch.Inputs["metadata"].ObjectValue()["annotations"].ObjectValue()["eks.amazonaws.com/role-arn"]; ok {
			t.Error("cleanup keeps the role-arn annotation")
		}
	})
}

// podidentityCredentials is the test pod's annotation naming the phase's credentials.
const podidentityCredentials = "eks-pod-identity/credentials"

func TestIrsaRefusals(t *testing.T) {
	tests := []struct {
		name  string
		world func(e *discover.Existing)
		edit  func(w map[string]any)
		want  string
	}{
		{"no annotation", func(e *discover.Existing) {
			e.ServiceAccounts["default/pod-id-sa"] = &discover.FoundObject{}
		}, nil, "eks-pod-identity:workloads[0].serviceAccount: ServiceAccount default/pod-id-sa has no eks.amazonaws.com/role-arn annotation: it is not on IRSA"},
		{"a role in another account", func(e *discover.Existing) {
			e.ServiceAccounts["default/pod-id-sa"] = &discover.FoundObject{Annotations: map[string]string{irsa.RoleArnAnnotation: "arn:aws:iam::999988887777:role/" + irsaRole}}
		}, nil, "a role in account 999988887777, not the cluster's account 111122223333: a Pod Identity association's role must be in the cluster's account"},
		{"no such role", func(e *discover.Existing) { delete(e.Roles, irsaRole) }, nil,
			"eks-pod-identity:workloads[0].roleName: role EKSPodIdentityS3Role does not exist in account 111122223333"},
		{"a Fargate pod", func(e *discover.Existing) {
			e.ServiceAccountPods["default/pod-id-sa"] = []irsa.Pod{{Name: "on-fargate", Fargate: true}}
		}, nil, "pod on-fargate runs on Fargate, where Pod Identity is not available"},
		{"a Windows pod", func(e *discover.Existing) {
			e.ServiceAccountPods["default/pod-id-sa"] = []irsa.Pod{{Name: "win", Windows: true}}
		}, nil, "pod win runs on a Windows node, where Pod Identity is not available"},
		{"a trust policy over IAM's quota", func(e *discover.Existing) {
			var stmts []string
			for i := range 12 {
				stmts = append(stmts, `{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/CLUSTER`+strings.Repeat("X", 20)+string(rune('A'+i))+`"},"Action":"sts:AssumeRoleWithWebIdentity"}`)
			}
			r := *e.Roles[irsaRole]
			r.Trust = `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
			e.Roles[irsaRole] = &r
		}, nil, "eks-pod-identity:workloads[0].phase: is dual, but role EKSPodIdentityS3Role: the role's trust policy would be"},
		{"a Job's pod still on IRSA in cleanup", func(e *discover.Existing) {
			e.ServiceAccountPods["default/pod-id-sa"] = []irsa.Pod{{Name: "nightly-x", OwnerKind: "Job", OwnerName: "nightly", OnIRSA: true}}
		}, func(w map[string]any) { w["phase"] = "cleanup" }, "# pod nightly-x of Job nightly: wait for it to finish, or kubectl delete job nightly -n default"},
		{"a permissions boundary the stack would remove", func(e *discover.Existing) {
			r := *e.Roles[irsaRole]
			r.PermissionsBoundary = "arn:aws:iam::111122223333:policy/Boundary"
			e.Roles[irsaRole] = &r
		}, nil, `eks-pod-identity:workloads[0].permissionsBoundary: is "", but role EKSPodIdentityS3Role has permissions boundary "arn:aws:iam::111122223333:policy/Boundary": taking the role over would change it`},
		{"a wildcard sub in cleanup", func(e *discover.Existing) {
			r := *e.Roles[irsaRole]
			r.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + irsaProvider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + irsaIssuer + `:sub":"system:serviceaccount:default:*"}}}]}`
			e.Roles[irsaRole] = &r
			e.ServiceAccountPods["default/pod-id-sa"] = nil
		}, func(w map[string]any) { w["phase"] = "cleanup" }, "by a wildcard; cleanup cannot take one service account out of it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := irsaWorld(t)
			tt.world(&e)
			rec, _, err := runIrsa(t, e, irsa.Dual, tt.edit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant %q", err, tt.want)
			}
			for _, r := range rec.regs {
				if !createsNothing(r) {
					t.Errorf("registered %s %s before refusing", r.Type, r.Name)
				}
			}
		})
	}
}

// anyStrings reads an exported list, whichever Go type the output holds.
func anyStrings(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i], _ = x.(string)
		}
		return out
	}
	return nil
}
