package discover_test

import (
	"context"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/discover"
)

// A recording answers the lookups as AWS and the apiserver did: a role by
// its name in any case (IAM's rule), the association of a service account,
// every association of the cluster, a pod with its spec and phase; and it
// never takes a part it cannot read for "nothing exists".
func TestParseRecorded(t *testing.T) {
	r, err := discover.ParseRecorded([]byte(`{"addon": null,
		"roles": [{"Role": {"RoleName": "OrdersRole", "Path": "/team/", "Arn": "arn:aws:iam::1:role/team/OrdersRole", "Tags": [{"Key": "k", "Value": "v"}]}}],
		"associations": [{"association": {"associationId": "a-1", "namespace": "shop", "serviceAccount": "orders", "roleArn": "arn:aws:iam::1:role/team/OrdersRole"}},
			{"association": {"associationId": "a-2", "namespace": "reports", "serviceAccount": "reader", "roleArn": "arn:aws:iam::1:role/team/OrdersRole", "ownerArn": "arn:addon"}}],
		"kubernetes": {"items": [{"kind": "Namespace", "metadata": {"name": "shop", "labels": {"a": "b"}}},
			{"kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"serviceAccountName": "orders", "containers": [{"name": "c", "image": "i"}]}, "status": {"phase": "Failed"}},
			{"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if a, _ := r.Addon(ctx, "c", "eks-pod-identity-agent"); a != nil {
		t.Errorf("add-on = %+v, want none (null)", a)
	}
	if role, _ := r.Role(ctx, "ordersrole"); role == nil || role.Name != "OrdersRole" || role.Path != "/team/" || role.Tags["k"] != "v" {
		t.Errorf("role = %+v", role)
	}
	if a, _ := r.Association(ctx, "c", "reports", "reader"); a == nil || a.ID != "a-2" || a.OwnerArn != "arn:addon" {
		t.Errorf("association = %+v", a)
	}
	if all, _ := r.ClusterAssociations(ctx, "c"); len(all) != 2 {
		t.Errorf("cluster associations = %d, want 2", len(all))
	}
	if ns, _ := r.Namespace(ctx, "shop"); ns == nil || ns.Labels["a"] != "b" {
		t.Errorf("namespace = %+v", ns)
	}
	if p, _ := r.Pod(ctx, "shop", "p"); p == nil || p.Phase != "Failed" || p.Pod.ServiceAccountName != "orders" || p.Pod.Containers[0].Image != "i" {
		t.Errorf("pod = %+v", p)
	}
	if sa, _ := r.ServiceAccount(ctx, "shop", "orders"); sa != nil {
		t.Errorf("service account = %+v, want none", sa)
	}

	for _, tc := range []struct{ file, want string }{
		{`{"addon": null}`, `no "kubernetes"`},
		{`{"roles": [{"RoleName": "x"}], "kubernetes": {"items": []}}`, `"roles"[0] has no Role.RoleName: it is not aws iam get-role's output`},
		{`{"addon": {"addonName": "x"}, "kubernetes": {"items": []}}`, `"addon" has no addon.addonName`},
		{`{"associations": [{"associationId": "a-1"}], "kubernetes": {"items": []}}`, `"associations"[0] has no association.associationId`},
		{`[]`, "not a JSON object"},
	} {
		if _, err := discover.ParseRecorded([]byte(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.file, err, tc.want)
		}
	}
}
