package program

import (
	"fmt"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/irsa"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Exports are the stack outputs: the component's typed outputs, plus the
// commands a user runs next, built from them.
func Exports(pi *podidentity.PodIdentity) pulumi.Map {
	out := pulumi.Map{}
	if pi.Agent != nil {
		out["agentAddonName"] = pi.AgentAddonName
		out["agentAddonVersion"] = pi.AgentAddonVersion
	}
	workloads := pulumi.Map{}
	for key, r := range pi.Workloads {
		workloads[key] = workloadExports(r)
	}
	out["workloads"] = workloads
	return out
}

func workloadExports(r *podidentity.WorkloadResources) pulumi.Map {
	w := r.Settings
	out := pulumi.Map{
		"roleArn":        r.RoleArn,
		"roleName":       r.RoleName,
		"associationId":  r.AssociationId,
		"associationArn": r.AssociationArn,
		"namespace":      r.NamespaceName,
		"serviceAccount": r.ServiceAccountName,
	}
	if w.TargetRoleArn != "" {
		// What the target account's admin needs: the document for the
		// target role's trust, and the external ID in it when tags are off.
		out["targetRoleArn"] = r.TargetRoleArn
		out["targetTrustPolicy"] = r.TargetTrustPolicy
		out["externalId"] = r.ExternalId
	}
	if m := w.Irsa; m != nil {
		// Where the move from IRSA stands, and what the user runs next.
		out["irsa"] = pulumi.Map{
			"phase":       pulumi.String(string(m.Phase)),
			"newPodsGet":  pulumi.String(m.Phase.Credentials()),
			"restarts":    pulumi.ToStringArray(append([]string{}, m.Restarts...)),
			"trustPolicy": r.Role.AssumeRolePolicy,
			"next":        pulumi.String(nextStep(m)),
		}
	}
	if w.TestPod {
		out["testPod"] = r.TestPodName
		out["verifyCommands"] = r.TestPodName.ApplyT(func(pod string) []string {
			return VerifyCommands(w.Namespace, pod, w.AccessCheck)
		}).(pulumi.StringArrayOutput)
	}
	if w.Verify && (w.Irsa == nil || w.Irsa.Phase.Associated()) {
		out["verifyJob"] = r.VerifyJobName
		out["verifyLogsCommand"] = pulumi.Sprintf("kubectl logs job/%s -n %s", r.VerifyJobName, w.Namespace)
	}
	return out
}

// VerifyCommands are the walkthrough's step-5 checks against the test Pod,
// filled in for a user to copy.
func VerifyCommands(namespace, pod, accessCheck string) []string {
	exec := fmt.Sprintf("kubectl exec -n %s %s -- ", namespace, pod)
	cmds := []string{exec + "aws sts get-caller-identity"}
	if accessCheck != podidentity.AccessCheckOff {
		cmds = append(cmds, exec+"aws "+accessCheck)
	}
	return append(cmds, exec+"env | grep AWS_CONTAINER_AUTHORIZATION_TOKEN")
}

// nextStep says what is safe to do after an `up` in the migration's phase.
func nextStep(m *podidentity.IrsaMigration) string {
	switch m.Phase {
	case irsa.Dual:
		return "nothing running changed; when ready, set phase: podIdentity and run up (new pods then get Pod Identity)"
	case irsa.PodIdentity:
		if len(m.Restarts) > 0 {
			return "run the restarts, check the pods, then set phase: cleanup; to go back, set phase: dual and restart the same pods"
		}
		return "every pod of the service account has Pod Identity; set phase: cleanup, or phase: dual to go back"
	default:
		return "done: the service account is on Pod Identity alone; its annotation and OIDC trust are gone"
	}
}
