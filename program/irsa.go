package program

import (
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/ekscluster"
	"github.com/platform-eng/eks-pod-identity/irsa"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
)

// migrations fills in each workload that moves from IRSA (from: irsa) from
// what discovery found: the role's trust, the cluster's OIDC provider, the
// annotation to keep, the pods to restart. It refuses, before anything is
// registered, what cannot move: no such role or service account, a service
// account not on IRSA or on a role in another account, pods Pod Identity
// cannot serve, a China Region, a trust policy the phase cannot edit or
// that would outgrow IAM's quota, and a cleanup while pods still use IRSA.
func migrations(args podidentity.Args, found discover.Existing, cluster *eks.LookupClusterResult, st adoption.Stack) (podidentity.Args, []string, error) {
	var problems, warnings []string
	partition := ekscluster.Partition(cluster.Arn)
	account := ekscluster.Account(cluster.Arn)
	// The cluster's, so the same for every workload.
	clusterProblem := irsa.CheckRegion(partition)
	provider, err := irsa.ProviderFor(partition, account, clusterIssuer(cluster))
	if clusterProblem == nil {
		clusterProblem = err
	}
	workloads := append([]podidentity.Workload(nil), args.Workloads...)
	for i, raw := range workloads {
		if raw.Irsa == nil {
			continue
		}
		w := raw.Resolved(partition)
		at := func(field string) string {
			return fmt.Sprintf("%s[%d].%s", stackconfig.Key(stackconfig.KeyWorkloads), i, field)
		}
		refuse := func(field, format string, a ...any) {
			problems = append(problems, at(field)+": "+fmt.Sprintf(format, a...))
		}
		sa := w.Namespace + "/" + w.ServiceAccount
		if clusterProblem != nil {
			refuse("from", "cluster %s: %v", cluster.Name, clusterProblem)
			continue
		}
		role := found.Roles[w.RoleName]
		if role == nil {
			refuse("roleName", "role %s does not exist in account %s: from: irsa takes over the role the service account's %s annotation names", w.RoleName, account, irsa.RoleArnAnnotation)
		}
		obj := found.ServiceAccounts[sa]
		if obj == nil {
			refuse("serviceAccount", "ServiceAccount %s does not exist on cluster %s: from: irsa moves an existing service account", sa, cluster.Name)
		}
		if role == nil || obj == nil {
			continue
		}
		// The import must not weaken or reset what the role has: the stack
		// would remove a permissions boundary it does not name.
		if role.PermissionsBoundary != w.PermissionsBoundary {
			refuse("permissionsBoundary", "is %q, but role %s has permissions boundary %q: taking the role over would change it; set permissionsBoundary to %q", w.PermissionsBoundary, w.RoleName, role.PermissionsBoundary, role.PermissionsBoundary)
		}
		if d := max(w.MaxSessionDuration, 3600); role.MaxSessionDuration != 0 && role.MaxSessionDuration != d {
			refuse("maxSessionDuration", "is %d, but role %s has %d: taking the role over would change it; set maxSessionDuration to %d", d, w.RoleName, role.MaxSessionDuration, role.MaxSessionDuration)
		}
		if role.Description != w.RoleDescription {
			refuse("roleDescription", "is %q, but role %s has description %q: taking the role over would change it; set roleDescription to it", w.RoleDescription, w.RoleName, role.Description)
		}
		m := *raw.Irsa
		m.Trust = role.Trust
		m.RoleArnAnnotation = obj.Annotations[irsa.RoleArnAnnotation]
		switch {
		case m.RoleArnAnnotation != "":
			if err := irsa.CheckAnnotation(m.RoleArnAnnotation, w.RoleName, account); err != nil {
				refuse("serviceAccount", "ServiceAccount %s %v", sa, err)
				continue
			}
		case st.Owns(role.Tags[stackconfig.StackTagKey]):
			// This stack's cleanup removed it; going back puts it back.
			m.RoleArnAnnotation = role.Arn
		case m.Phase.KeepsIRSA():
			refuse("serviceAccount", "ServiceAccount %s %v", sa, irsa.CheckAnnotation("", w.RoleName, account))
			continue
		}
		m.Provider = provider

		pods := found.ServiceAccountPods[sa]
		for _, msg := range irsa.CheckPods(pods) {
			refuse("serviceAccount", "ServiceAccount %s: %s", sa, msg)
		}
		// The stack re-creates its own test pod (its credentials
		// annotation); the verification Job's pods finish.
		ownPod := func(name string) bool { return w.TestPod && name == w.TestPodName }
		restarts := irsa.Restarts(w.Namespace, irsa.StillOnIRSA(pods), ownPod)
		if m.Phase.Associated() {
			m.Restarts = restarts
		}
		if m.Phase == irsa.Cleanup {
			if len(restarts) > 0 {
				refuse("phase", "is cleanup, but pods of ServiceAccount %s still have IRSA credentials (admitted before the association): cleanup takes this service account out of the role's OIDC trust, and they would fail to refresh them. Restart them first, and run `up` again:\n      %s", sa, strings.Join(restarts, "\n      "))
				continue
			}
			// Server-side apply removes the annotation only if the stack's
			// patch is its last owner; another manager keeps it.
			var others []string
			for _, mgr := range obj.AnnotationManagers[irsa.RoleArnAnnotation] {
				if !strings.HasPrefix(mgr, "pulumi") {
					others = append(others, mgr)
				}
			}
			if m.RoleArnAnnotation != "" && len(others) > 0 {
				warnings = append(warnings, fmt.Sprintf("%s: cleanup leaves ServiceAccount %s's %s in place: field manager %s also owns it, and server-side apply removes a field only when its last owner leaves it out. It is harmless while the association exists (EKS puts Pod Identity first); remove it where it is set (a Helm chart's values, a manifest) and run `kubectl annotate serviceaccount %s -n %s %s-`",
					at("phase"), sa, irsa.RoleArnAnnotation, strings.Join(others, ", "), w.ServiceAccount, w.Namespace, irsa.RoleArnAnnotation))
			}
		}
		w.Irsa = &m
		if _, err := podidentity.MigrationTrust(w, cluster.Arn); err != nil {
			refuse("phase", "is %s, but role %s: %v", m.Phase, w.RoleName, err)
			continue
		}
		workloads[i].Irsa = &m
	}
	if len(problems) > 0 {
		return args, nil, &stackconfig.ConfigError{Problems: problems}
	}
	args.Workloads = workloads
	return args, warnings, nil
}

// clusterIssuer is the cluster's OIDC issuer URL, "" when it has none.
func clusterIssuer(c *eks.LookupClusterResult) string {
	for _, id := range c.Identities {
		for _, o := range id.Oidcs {
			if o.Issuer != "" {
				return o.Issuer
			}
		}
	}
	return ""
}
