// Package irsa moves one service account from IRSA (an OIDC provider, a
// role trusting it, a ServiceAccount annotated eks.amazonaws.com/role-arn)
// to EKS Pod Identity, in phases the user steps through by editing the
// stack and running `up`. Pure: the role's trust document for each phase,
// the refusals, the restart commands. The program feeds it what discovery
// found; the component registers what it returns.
package irsa

import (
	"fmt"
	"strings"
)

// Phase is where a service account stands in its move from IRSA.
type Phase string

const (
	// Dual: the role trusts both IRSA (its OIDC statements, untouched) and
	// Pod Identity; no association yet, so every pod keeps IRSA. Safe to
	// leave for as long as needed. Destroy leaves the role as it is, Pod
	// Identity statement included (harmless without an association).
	Dual Phase = "dual"
	// PodIdentity: the association exists, so a pod admitted from now on
	// gets Pod Identity credentials (EKS's webhook gives the container
	// credentials precedence over the annotation). The annotation and the
	// OIDC trust stay: going back to Dual deletes the association, and a
	// restart returns pods to IRSA.
	PodIdentity Phase = "podIdentity"
	// Cleanup: the annotation goes, and this service account's `sub` leaves
	// the OIDC statements; other service accounts' and other clusters'
	// statements are kept. Once every pod has restarted, IRSA is gone for
	// this service account.
	Cleanup Phase = "cleanup"
)

// Phases lists the phases in the order a migration takes them.
var Phases = []Phase{Dual, PodIdentity, Cleanup}

// From is the only value of a workload's `from` key.
const From = "irsa"

// RoleArnAnnotation is IRSA's ServiceAccount annotation.
const RoleArnAnnotation = "eks.amazonaws.com/role-arn"

// ParsePhase checks a phase as the stack file spells it.
func ParsePhase(s string) (Phase, error) {
	for _, p := range Phases {
		if string(p) == s {
			return p, nil
		}
	}
	names := make([]string, len(Phases))
	for i, p := range Phases {
		names[i] = string(p)
	}
	return "", fmt.Errorf("%q is not a phase (allowed, in order: %s)", s, strings.Join(names, ", "))
}

// Associated says whether the phase has the Pod Identity association.
func (p Phase) Associated() bool { return p == PodIdentity || p == Cleanup }

// KeepsIRSA says whether the phase keeps the annotation and this service
// account's OIDC trust.
func (p Phase) KeepsIRSA() bool { return p == Dual || p == PodIdentity }

// Credentials is what a pod admitted in the phase gets: "irsa" or
// "podIdentity". The stack's own pods carry it as an annotation, so a
// change of it re-admits them.
func (p Phase) Credentials() string {
	if p.Associated() {
		return "podIdentity"
	}
	return "irsa"
}

// Subject is the `sub` claim of a service account's projected token.
func Subject(namespace, serviceAccount string) string {
	return "system:serviceaccount:" + namespace + ":" + serviceAccount
}
