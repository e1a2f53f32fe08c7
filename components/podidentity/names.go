package podidentity

import (
	"strings"

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
	if w.Name == "" {
		w.Name = w.ServiceAccount
	}
	if w.Namespace == "" {
		w.Namespace = DefaultNamespace
	}
	if w.Trust == "" {
		w.Trust = TrustScoped
	}
	if w.PolicyArns == nil && len(w.InlinePolicies) == 0 {
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
