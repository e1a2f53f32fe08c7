package podidentity

import (
	"maps"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/platform-eng/eks-pod-identity/components/verification"
)

// AccessCheckOff turns a workload's verification access check off.
const AccessCheckOff = "off"

func (a Args) partition() string {
	if a.Partition == "" {
		return DefaultPartition
	}
	return a.Partition
}

func (a Args) image() string {
	if a.Image == "" {
		return DefaultImage
	}
	return a.Image
}

// withDefaults fills the fields whose zero value means a default, so the
// rest of the component never has to know the defaults.
func (w Workload) withDefaults(partition string) Workload {
	if p, ok := presets.Lookup(w.Preset); ok {
		w = w.withPreset(p, partition)
	}
	if w.Name == "" {
		w.Name = w.ServiceAccount
	}
	if w.Namespace == "" {
		w.Namespace = DefaultNamespace
	}
	if w.Trust == "" {
		w.Trust = TrustScoped
	}
	if w.TargetRole != nil && w.TargetRoleArn == "" {
		w.TargetRoleArn = w.TargetRole.Arn(partition)
	}
	// With a target role the pod gets the target's permissions: the
	// first role needs only the chaining permission the component adds.
	// A role on IRSA keeps the permissions it has: the stack attaches only
	// what the workload names.
	if w.Irsa != nil && w.PolicyArns == nil {
		w.PolicyArns = []string{}
	}
	if w.Irsa != nil {
		// Someone else's: the migration patches its annotation only.
		w.ExternalServiceAccount = true
	}
	if w.Preset == "" && w.PolicyArns == nil && len(w.InlinePolicies) == 0 && w.TargetRoleArn == "" {
		w.PolicyArns = []string{ManagedPolicyArn(partition, DefaultPolicyName)}
	}
	if w.TestPod && w.TestPodName == "" {
		w.TestPodName = "aws-cli-" + w.Name
	}
	if w.AccessCheck == "" {
		w.AccessCheck = verification.DefaultAccessCheck
	}
	return w
}

// withPreset fills every field the workload leaves empty from its preset;
// what the workload sets wins, field by field.
func (w Workload) withPreset(p presets.Preset, partition string) Workload {
	if w.Name == "" {
		w.Name = p.Name
	}
	if w.Namespace == "" {
		w.Namespace = p.Namespace
	}
	if w.ServiceAccount == "" {
		w.ServiceAccount = p.ServiceAccount
	}
	// The add-on or chart a preset serves owns its service account;
	// creating it too would fight it over the object.
	w.ExternalServiceAccount = true
	if w.PolicyArns == nil {
		w.PolicyArns = p.PolicyArns(partition)
	}
	// The check may name an input (a bucket): only build it from inputs
	// the preset accepts; validation reports the others.
	if w.AccessCheck == "" && len(p.CheckInputs("", w.PresetInputs)) == 0 {
		w.AccessCheck = p.AccessCheck(w.PresetInputs)
	}
	return w
}

// InlineDocuments are the workload's inline policies as IAM receives them:
// its own InlinePolicies, or else its preset's documents rendered for the
// cluster. A preset document that does not render (inputs validation
// refuses) is left out. w has its defaults applied (Resolved).
func (w Workload) InlineDocuments(partition, cluster string) map[string]string {
	if w.InlinePolicies != nil {
		return maps.Clone(w.InlinePolicies)
	}
	docs := map[string]string{}
	for _, d := range w.presetDocuments() {
		if text, err := d.Render(presets.Target{Partition: partition, ClusterName: cluster, Inputs: w.PresetInputs}); err == nil {
			docs[d.Name] = text
		}
	}
	return docs
}

// presetDocuments are the preset's own inline policies, unless the
// workload's InlinePolicies (even an empty map) replace them.
func (w Workload) presetDocuments() []presets.Document {
	p, ok := presets.Lookup(w.Preset)
	if !ok || w.InlinePolicies != nil {
		return nil
	}
	return p.Documents
}

// Child resource names are API: they are part of the URNs in every stack's
// state, so changing one replaces live resources. Repeated children are keyed
// by stable keys (workload name, policy ARN, namespace), never by position.

func agentResourceName(component string) string { return component + "-agent" }

func roleResourceName(component, workload string) string {
	return component + "-" + workload + "-role"
}

// attachmentResourceName keys an attachment by its policy, so reordering
// policyArns changes nothing and the same ARN always maps to the same name:
// AWS managed policies by their name, customer ones by account and path.
func attachmentResourceName(component, workload, policyArn string) string {
	_, resource, _ := strings.Cut(policyArn, ":iam::")
	account, policy, _ := strings.Cut(resource, ":policy/")
	if account != "aws" {
		policy = account + "/" + policy
	}
	return component + "-" + workload + "-" + policy
}

func inlinePolicyResourceName(component, workload, policy string) string {
	return component + "-" + workload + "-inline-" + policy
}

// targetRoleResourceName is the target role's; its attachments are named
// as the first role's, with workload "<workload>-target".
func targetRoleResourceName(component, workload string) string {
	return component + "-" + workload + "-target-role"
}

func associationResourceName(component, workload string) string {
	return component + "-" + workload + "-association"
}

func namespaceResourceName(component, namespace string) string {
	return component + "-ns-" + namespace
}

func serviceAccountResourceName(component, workload string) string {
	return component + "-" + workload + "-sa"
}

func testPodResourceName(component, workload string) string {
	return component + "-" + workload + "-test-pod"
}

func verifyJobResourceName(component, workload string) string {
	return component + "-" + workload + "-verify"
}

// Effective returns the workload as the component will create it: its
// preset applied and every default filled in, with policy ARNs in the
// given partition. Programs use it to check a workload against what they
// see on the cluster (an add-on's own associations) before creating it.
func (w Workload) Effective(partition string) Workload {
	return w.withDefaults(partition)
}
