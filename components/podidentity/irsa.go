package podidentity

import (
	"github.com/platform-eng/eks-pod-identity/irsa"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// IrsaMigration moves a workload's service account from IRSA to Pod
// Identity, one phase per `up` (package irsa says what each does). The
// stack file gives From and Phase; the program fills the rest from what it
// found before registering anything.
type IrsaMigration struct {
	// From is where the service account comes from: irsa.From.
	From string
	// Phase is the step the user has reached.
	Phase irsa.Phase
	// TrustQuota is the account's trust policy length quota in characters;
	// zero means irsa.DefaultTrustQuota.
	TrustQuota int

	// Found by the program:

	// Trust is the role's trust policy as IAM holds it now.
	Trust string
	// Provider is the cluster's IAM OIDC provider.
	Provider irsa.Provider
	// RoleArnAnnotation is the service account's eks.amazonaws.com/role-arn
	// value, which the phases before Cleanup keep.
	RoleArnAnnotation string
	// Restarts are the commands that re-admit the pods, other than the
	// stack's own, that run as the service account.
	Restarts []string
}

// CredentialsAnnotation is on the stack's own pods of a migrating service
// account: its value is what the phase gives a pod admitted now ("irsa",
// "podIdentity"), so a phase that changes it re-creates the pod.
const CredentialsAnnotation = "eks-pod-identity/credentials"

// patchForceAnnotation lets the patch apply the annotation even where
// another manager (kubectl, Helm) set it to another value. Applying the
// value they set shares the field instead, and then leaving it out in
// Cleanup does not remove it: the program warns (program/irsa.go).
const patchForceAnnotation = "pulumi.com/patchForce"

func (m *IrsaMigration) quota() int {
	if m.TrustQuota == 0 {
		return irsa.DefaultTrustQuota
	}
	return m.TrustQuota
}

// MigrationTrust is the role's trust policy in the workload's phase: the
// OIDC statements the phase keeps, plus the Pod Identity trust the
// workload's Trust mode gives. w has its defaults.
func MigrationTrust(w Workload, clusterArn string) (string, error) {
	pod, err := TrustPolicy(w.Trust, clusterArn, w.Namespace, w.ServiceAccount)
	if err != nil {
		return "", err
	}
	doc, err := irsa.Trust(w.Irsa.Trust, w.Irsa.Phase, pod, w.Irsa.Provider, w.Namespace, w.ServiceAccount)
	if err != nil {
		return "", err
	}
	if err := irsa.CheckSize(doc, w.Irsa.quota()); err != nil {
		return "", err
	}
	return doc, nil
}

// checkIrsa reports the stack file's mistakes in a workload's from and
// phase, before anything is looked up.
func (w Workload) checkIrsa(ps *Problems, at func(string) string, raw Workload) {
	m := w.Irsa
	if m == nil {
		return
	}
	switch {
	case m.From == "" && m.Phase != "":
		ps.add(at("phase"), "%q is set without from: irsa: a phase is a step of a migration from IRSA", m.Phase)
		return
	case m.From == "":
		ps.add(at("trustPolicyQuota"), "is set without from: irsa: it bounds the trust policy the migration grows")
		return
	case m.From != irsa.From:
		ps.add(at("from"), "%q is not a source to migrate from: the one allowed is %q", m.From, irsa.From)
	}
	if m.Phase == "" {
		ps.add(at("phase"), "is required with from: irsa: one of dual, podIdentity, cleanup, taken in that order (README: From IRSA)")
	} else if _, err := irsa.ParsePhase(string(m.Phase)); err != nil {
		ps.add(at("phase"), "%v", err)
	}
	if raw.Preset != "" {
		ps.add(at("from"), "is set on preset %q: an add-on's service account moves with the add-on's own podIdentityAssociations, not by this migration", raw.Preset)
	}
	if raw.RoleName == "" {
		ps.add(at("roleName"), "is required with from: irsa: the role the service account's %s annotation names, which the stack takes over", irsa.RoleArnAnnotation)
	}
	if raw.CreateNamespace {
		ps.add(at("createNamespace"), "is true, but a service account on IRSA exists, and so does its namespace; set it to false")
	}
	if raw.ExternalServiceAccount {
		ps.add(at("externalServiceAccount"), "is set with from: irsa, which always leaves the service account to its owner and patches only its annotation; remove it")
	}
	if q := m.TrustQuota; q != 0 && (q < irsa.DefaultTrustQuota || q > 8192) {
		ps.add(at("trustPolicyQuota"), "%d is out of range: IAM's trust policy length quota is %d by default and can be raised up to 8192 (Service Quotas L-C07B4B0D)", q, irsa.DefaultTrustQuota)
	}
}

// retainsIRSA says destroying the stack must leave the workload's role and
// its policies: pods still on IRSA use them, this service account's before
// cleanup, other service accounts' (or clusters') as long as the trust
// keeps any OIDC statement.
func (w Workload) retainsIRSA() bool {
	if w.Irsa == nil {
		return false
	}
	if w.Irsa.Phase.KeepsIRSA() {
		return true
	}
	after, err := irsa.Trust(w.Irsa.Trust, w.Irsa.Phase, `{"Version":"2012-10-17","Statement":[]}`, w.Irsa.Provider, w.Namespace, w.ServiceAccount)
	return err != nil || irsa.Federated(after)
}

// associated says the workload has a Pod Identity association in this run.
func (w Workload) associated() bool {
	return w.Irsa == nil || w.Irsa.Phase.Associated()
}

// Step 5b for a service account on IRSA: it is someone else's (a Helm
// release's, kubectl's), so the stack patches its annotation only, with a
// server-side apply patch: kept before Cleanup, and left out in Cleanup,
// which removes it where the patch is its only manager. Destroy leaves the
// object as the last phase made it.
func (c *PodIdentity) patchIrsaAnnotation(ctx *pulumi.Context, name string, w Workload) (*corev1.ServiceAccountPatch, error) {
	own := map[string]string{patchForceAnnotation: "true"}
	if w.Irsa.Phase.KeepsIRSA() {
		own[irsa.RoleArnAnnotation] = w.Irsa.RoleArnAnnotation
	}
	return corev1.NewServiceAccountPatch(ctx, serviceAccountResourceName(name, w.Name), &corev1.ServiceAccountPatchArgs{
		Metadata: &metav1.ObjectMetaPatchArgs{
			Name:        pulumi.String(w.ServiceAccount),
			Namespace:   pulumi.String(w.Namespace),
			Annotations: annotations(c.args.Annotations, own),
		},
	}, c.childOpts(c.waitForArgs(), pulumi.RetainOnDelete(true))...)
}

// irsaPodOptions are the stack's own pods' annotation and option for a
// migrating workload: a phase that changes the credentials a pod gets
// re-creates it, since EKS decides them only when a pod is admitted.
func irsaPodOptions(w Workload) (map[string]string, []pulumi.ResourceOption) {
	if w.Irsa == nil {
		return nil, nil
	}
	return map[string]string{CredentialsAnnotation: w.Irsa.Phase.Credentials()},
		[]pulumi.ResourceOption{pulumi.ReplaceOnChanges([]string{"metadata.annotations"})}
}

// checkIrsaFound checks what the program filled in: without the role's
// trust and the cluster's provider there is nothing to build the trust on.
func (w Workload) checkIrsaFound(ps *Problems, at func(string) string) {
	if w.Irsa != nil && (w.Irsa.Trust == "" || w.Irsa.Provider.Arn == "") {
		ps.add(at("from"), "the role's trust policy and the cluster's OIDC provider were not found (the program's discovery fills them)")
	}
}
