//go:build engine

package main

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// getAddon answers a missing add-on with the not-found error the program
// treats as "not installed", and an installed one with its fields.
func TestInvokeGetAddon(t *testing.T) {
	c := client(t)
	_, err := c.Invoke(context.Background(), &pulumirpc.InvokeRequest{
		Tok: "aws:eks/getAddon:getAddon", Args: mustStruct(t, props("clusterName", testCluster, "addonName", "aws-ebs-csi-driver")),
	})
	wantErr(t, err, "reading EKS Add-On (demo:aws-ebs-csi-driver)", "couldn't find resource")

	h := res(t, c, addonToken, "lookup-agent")
	id, outs := h.mustCreate(h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster, "addonName", "eks-pod-identity-agent")))
	t.Cleanup(func() { h.delete(id, outs) })
	resp, err := c.Invoke(context.Background(), &pulumirpc.InvokeRequest{
		Tok: "aws:eks/getAddon:getAddon", Args: mustStruct(t, props("clusterName", testCluster, "addonName", "eks-pod-identity-agent")),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mustMap(t, resp.Return)
	if str(r, "id") != id || str(r, "arn") != str(outs, "arn") || str(r, "addonVersion") != str(outs, "addonVersion") {
		t.Errorf("getAddon = %v, want the created add-on %s", r, id)
	}
	if v := r["podIdentityAssociations"]; !v.IsArray() || len(v.ArrayValue()) != 0 {
		t.Errorf("podIdentityAssociations = %v, want an empty list", v)
	}
}
