//go:build engine

// The stand-in under injected AWS faults (../moto/moto_faults.py): it must
// retry what pulumi-aws retries, as often, and give up where it gives up.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type faultRule map[string]any

type faultState struct {
	Rules []struct {
		Injected int `json:"injected"`
	} `json:"rules"`
	Calls map[string]int `json:"calls"`
}

// setFaults installs rules for this test and removes them when it ends.
func setFaults(t *testing.T, rules ...faultRule) {
	t.Helper()
	faultsRequest(t, http.MethodPost, map[string]any{"rules": rules})
	t.Cleanup(func() { faultsRequest(t, http.MethodDelete, nil) })
}

func faultsRequest(t *testing.T, method string, body any) faultState {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, motoURL+"/moto-ext/faults", rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st faultState
	if resp.StatusCode != 200 {
		t.Fatalf("%s /moto-ext/faults: HTTP %d", method, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func throttle(service, action string, n int) faultRule {
	return faultRule{"service": service, "action": action, "fault": "throttle", "count": n}
}

func roleNotVisible(n int) faultRule {
	r := faultRule{"service": "eks", "action": "CreatePodIdentityAssociation", "fault": "error",
		"code": "InvalidParameterException", "message": roleNotYetVisible}
	if n > 0 {
		r["count"] = n
	}
	return r
}

// associationsFor counts moto's associations for one service account.
func associationsFor(t *testing.T, ns, sa string) int {
	t.Helper()
	out, err := motoEKS().ListPodIdentityAssociations(context.Background(), &eks.ListPodIdentityAssociationsInput{
		ClusterName: aws.String(testCluster), Namespace: aws.String(ns), ServiceAccount: aws.String(sa)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Associations)
}

func TestThrottlingIsRetried(t *testing.T) {
	c := client(t)
	// Three throttles in a row need a fourth attempt: more than the SDK's
	// default of three, within terraform-provider-aws's 25.
	setFaults(t, throttle("iam", "CreateRole", 3), throttle("iam", "AttachRolePolicy", 1),
		throttle("eks", "CreatePodIdentityAssociation", 1))

	role := res(t, c, roleToken, "throttled")
	rID, rOuts := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "throttled-role", "assumeRolePolicy", trustPolicy)))
	defer role.delete(rID, rOuts)
	att := res(t, c, attachmentToken, "throttled")
	aID, aOuts := att.mustCreate(att.mustCheck(resource.PropertyMap{}, props("role", "throttled-role", "policyArn", s3ReadOnly)))
	defer att.delete(aID, aOuts)
	h := res(t, c, associationToken, "throttled")
	id, outs := h.mustCreate(h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster,
		"namespace", "throttled", "serviceAccount", "sa", "roleArn", str(rOuts, "arn"))))
	defer h.delete(id, outs)

	st := faultsRequest(t, http.MethodGet, nil)
	for call, want := range map[string]int{"iam:CreateRole": 4, "iam:AttachRolePolicy": 2, "eks:CreatePodIdentityAssociation": 2} {
		if st.Calls[call] != want {
			t.Errorf("%s called %d times, want %d (all but the last throttled)", call, st.Calls[call], want)
		}
	}
	if n := associationsFor(t, "throttled", "sa"); n != 1 {
		t.Errorf("%d associations for throttled/sa after the retries, want 1", n)
	}
}

func TestMaxRetriesIsHonoured(t *testing.T) {
	c := client(t)
	// aws:maxRetries reaches the provider as maxRetries: 2 attempts in all.
	if _, err := c.Configure(context.Background(), &pulumirpc.ConfigureRequest{
		Args: mustStruct(t, resource.PropertyMap{"region": strProp(testRegion), "maxRetries": resource.NewNumberProperty(2)}),
	}); err != nil {
		t.Fatal(err)
	}
	setFaults(t, throttle("iam", "CreateRole", 2))
	role := res(t, c, roleToken, "gives-up")
	_, _, err := role.create(role.mustCheck(resource.PropertyMap{}, props("name", "gives-up-role", "assumeRolePolicy", trustPolicy)), false)
	wantErr(t, err, "creating IAM Role (gives-up-role)", "Throttling", "Rate exceeded")
	if st := faultsRequest(t, http.MethodGet, nil); st.Calls["iam:CreateRole"] != 2 {
		t.Errorf("CreateRole called %d times, want 2", st.Calls["iam:CreateRole"])
	}
}

func TestRoleNotYetVisibleIsRetried(t *testing.T) {
	c := client(t)
	role := res(t, c, roleToken, "unseen")
	rID, rOuts := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "unseen-role", "assumeRolePolicy", trustPolicy)))
	defer role.delete(rID, rOuts)
	setFaults(t, roleNotVisible(2))

	h := res(t, c, associationToken, "unseen")
	id, outs := h.mustCreate(h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster,
		"namespace", "unseen", "serviceAccount", "sa", "roleArn", str(rOuts, "arn"))))
	defer h.delete(id, outs)
	if st := faultsRequest(t, http.MethodGet, nil); st.Calls["eks:CreatePodIdentityAssociation"] != 3 {
		t.Errorf("CreatePodIdentityAssociation called %d times, want 3", st.Calls["eks:CreatePodIdentityAssociation"])
	}
	if n := associationsFor(t, "unseen", "sa"); n != 1 {
		t.Errorf("%d associations for unseen/sa, want 1", n)
	}
}

func TestRoleNotYetVisibleGivesUp(t *testing.T) {
	c := client(t)
	defer func(d time.Duration) { propagationTimeout = d }(propagationTimeout)
	propagationTimeout = time.Second
	role := res(t, c, roleToken, "never")
	rID, rOuts := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "never-role", "assumeRolePolicy", trustPolicy)))
	defer role.delete(rID, rOuts)
	setFaults(t, roleNotVisible(0))

	h := res(t, c, associationToken, "never")
	_, _, err := h.create(h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster,
		"namespace", "never", "serviceAccount", "sa", "roleArn", str(rOuts, "arn"))), false)
	wantErr(t, err, "creating EKS Pod Identity Association", roleNotYetVisible)
	if st := faultsRequest(t, http.MethodGet, nil); st.Calls["eks:CreatePodIdentityAssociation"] < 2 {
		t.Errorf("CreatePodIdentityAssociation called %d times, want retries", st.Calls["eks:CreatePodIdentityAssociation"])
	}
	if n := associationsFor(t, "never", "sa"); n != 0 {
		t.Errorf("%d associations for never/sa, want none", n)
	}
}
