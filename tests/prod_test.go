package tests

import (
	"strings"
	"testing"
)

// The production example: agent owned elsewhere, no test pod, two
// workloads, least privilege, a permissions boundary, tags.
func TestProdStackResources(t *testing.T) {
	rec, _ := runProd(t)
	got := rec.names()
	want := []string{
		tK8sProvider + " stack-marker",
		tK8sProvider + " kubernetes",
		tComponent + " pod-identity",
		tRole + " pod-identity-invoices-role",
		tRolePolicy + " pod-identity-invoices-inline-invoices-bucket",
		tAssociation + " pod-identity-invoices-association",
		tNamespace + " pod-identity-ns-payments",
		tSA + " pod-identity-invoices-sa",
		tJob + " pod-identity-invoices-verify",
		tRole + " pod-identity-reports-role",
		tAttachment + " pod-identity-reports-AmazonS3ReadOnlyAccess",
		tAssociation + " pod-identity-reports-association",
	}
	assertSameSet(t, "prod resources", got, want)
}

func TestProdRoles(t *testing.T) {
	rec, _ := runProd(t)
	invoices := rec.get(t, tRole, "pod-identity-invoices-role")
	assertInputs(t, invoices, map[string]any{
		"name":                "prod-payments-invoice-writer",
		"path":                "/eks/",
		"description":         "Writes invoices to the prod-invoices bucket",
		"permissionsBoundary": "arn:aws:iam::111122223333:policy/eks-workload-boundary",
		"maxSessionDuration":  3600.0,
		"tags":                map[string]any{"team": "payments", "environment": "prod", "eks-pod-identity:stack": marker("prod")},
	})
	reports := rec.get(t, tRole, "pod-identity-reports-role")
	if reports.Inputs["name"].HasValue() {
		t.Errorf("reports role name = %v, want unset so Pulumi auto-names it", reports.Inputs["name"])
	}
	if reports.DeleteBeforeReplace {
		t.Error("an auto-named role can be replaced create-first; delete-first would cut access during the swap")
	}
	assertInputs(t, reports, map[string]any{
		"tags": map[string]any{"team": "payments", "environment": "prod", "data-classification": "internal", "eks-pod-identity:stack": marker("prod")},
	})
	assertJSONEqual(t, "reports trust policy", reports.Inputs["assumeRolePolicy"].StringValue(), `{"Version":"2012-10-17","Statement":[{
		"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
		"Condition":{"StringEquals":{
			"aws:RequestTag/eks-cluster-arn":["arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks"],
			"aws:RequestTag/kubernetes-namespace":["payments"],
			"aws:RequestTag/kubernetes-service-account":["report-reader"]}}}]}`)
}

func TestProdInlinePolicyIsLeastPrivilege(t *testing.T) {
	rec, _ := runProd(t)
	p := rec.get(t, tRolePolicy, "pod-identity-invoices-inline-invoices-bucket")
	assertInputs(t, p, map[string]any{"role": "prod-payments-invoice-writer", "name": "invoices-bucket"})
	assertJSONEqual(t, "inline policy", p.Inputs["policy"].StringValue(), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":"arn:aws:s3:::prod-invoices"},
		{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::prod-invoices/*"}]}`)
	for _, reg := range rec.regs {
		if reg.Type == tAttachment && strings.HasPrefix(reg.Name, "pod-identity-invoices-") {
			t.Errorf("invoices declares policyArns: [] yet has attachment %s", reg.Name)
		}
	}
}

func TestProdNamespaceCreatedOnceAndAwaited(t *testing.T) {
	rec, _ := runProd(t)
	ns := rec.get(t, tNamespace, "pod-identity-ns-payments")
	if got := ns.Inputs["metadata"].ObjectValue()["name"].StringValue(); got != "payments" {
		t.Errorf("namespace name = %q, want payments", got)
	}
	sa := rec.get(t, tSA, "pod-identity-invoices-sa")
	if !rec.dependsOn(sa, ns) {
		t.Error("the service account must wait for the namespace it lives in")
	}
	job := rec.get(t, tJob, "pod-identity-invoices-verify")
	if !rec.dependsOn(job, ns) {
		t.Error("the verification job must wait for its namespace")
	}
}

func TestProdWithoutAgentNothingWaitsForIt(t *testing.T) {
	rec, exports := runProd(t)
	for _, reg := range rec.regs {
		if reg.Type == tAddon {
			t.Errorf("manageAgent: false, yet the add-on %s is registered", reg.Name)
		}
	}
	if _, ok := exports["agentAddonName"]; ok {
		t.Error("agentAddonName exported although the agent is not managed here")
	}
}

func TestProdExternalServiceAccountIsNotCreated(t *testing.T) {
	rec, exports := runProd(t)
	for _, reg := range rec.regs {
		if reg.Type == tSA && strings.Contains(reg.Name, "reports") {
			t.Errorf("reports declares externalServiceAccount, yet %s is registered", reg.Name)
		}
	}
	assoc := rec.get(t, tAssociation, "pod-identity-reports-association")
	assertInputs(t, assoc, map[string]any{"namespace": "payments", "serviceAccount": "report-reader"})
	w := exports["workloads"].(map[string]any)["reports"].(map[string]any)
	if _, ok := w["testPod"]; ok {
		t.Error("reports has no test pod, yet exports one")
	}
}

func TestProdVerifyJobRunsTheWorkloadsAccessCheck(t *testing.T) {
	rec, _ := runProd(t)
	job := rec.get(t, tJob, "pod-identity-invoices-verify")
	container := job.Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()["containers"].ArrayValue()[0].ObjectValue()
	for _, e := range container["env"].ArrayValue() {
		if e.ObjectValue()["name"].StringValue() == "ACCESS_CHECK" {
			if got := e.ObjectValue()["value"].StringValue(); got != "s3 ls s3://prod-invoices" {
				t.Errorf("ACCESS_CHECK = %q, want the workload's accessCheck", got)
			}
			return
		}
	}
	t.Error("the job has no ACCESS_CHECK")
}

// The prod Job verifies a role whose only permission is an inline policy:
// admitted before that policy exists, its access check would fail, so it
// waits for it like for the association.
func TestProdVerifyJobWaitsForTheInlinePolicy(t *testing.T) {
	rec, _ := runProd(t)
	job := rec.get(t, tJob, "pod-identity-invoices-verify")
	for _, need := range []*registration{
		rec.get(t, tRolePolicy, "pod-identity-invoices-inline-invoices-bucket"),
		rec.get(t, tAssociation, "pod-identity-invoices-association"),
		rec.get(t, tSA, "pod-identity-invoices-sa"),
		rec.get(t, tNamespace, "pod-identity-ns-payments"),
	} {
		if !rec.dependsOn(job, need) {
			t.Errorf("the verification Job does not wait for %s %s", need.Type, need.Name)
		}
	}
}
