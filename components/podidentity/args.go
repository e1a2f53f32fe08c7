package podidentity

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's Pulumi type; it is part of every child's URN,
// so changing it would replace every resource the component manages.
const TypeToken = "eks-pod-identity:components:PodIdentity"

// Defaults a platform engineer gets when a field is left empty.
const (
	// AgentAddonName is the EKS add-on that runs the Pod Identity Agent.
	AgentAddonName = "eks-pod-identity-agent"
	// DefaultNamespace is where a workload lives when it names none.
	DefaultNamespace = "default"
	// DefaultImage is the walkthrough's test image.
	DefaultImage = "amazon/aws-cli:latest"
	// DefaultPolicyName is the walkthrough's permission policy; its ARN is
	// built with the cluster's partition.
	DefaultPolicyName = "AmazonS3ReadOnlyAccess"
	// DefaultPartition is used when Args.Partition is empty.
	DefaultPartition = "aws"
)

// TrustMode selects the role's trust policy.
type TrustMode string

const (
	// TrustScoped (the default) lets pods.eks.amazonaws.com assume the role
	// only for this cluster, namespace and service account, matched on the
	// session tags EKS sets on every AssumeRole.
	TrustScoped TrustMode = "scoped"
	// TrustOpen is the walkthrough's unconditioned trust policy: any pod
	// identity association in the account may use the role.
	TrustOpen TrustMode = "open"
)

// Args configures a PodIdentity component.
type Args struct {
	// ClusterName is the EKS cluster's name. Required.
	ClusterName pulumi.StringInput
	// ClusterArn is the cluster's ARN. Required: scoped trust policies pin
	// the cluster through the eks-cluster-arn session tag.
	ClusterArn pulumi.StringInput
	// Partition is the cluster's AWS partition ("aws", "aws-cn",
	// "aws-us-gov", ...). Empty means "aws". Default policy ARNs are built
	// with it, and given policy ARNs must use it.
	Partition string
	// Agent configures the eks-pod-identity-agent add-on.
	Agent Agent
	// Image is the aws CLI image of the test Pod and the verification Job.
	// Empty means DefaultImage.
	Image string
	// Tags are added to every AWS resource that takes tags. Optional.
	Tags map[string]string
	// Workloads are the service accounts that get a role. At least one.
	Workloads []Workload
	// Providers are the explicit providers every child uses. Both required:
	// the component never falls back to ambient default providers.
	Providers Providers
}

// Providers holds the explicit providers for the component's children.
type Providers struct {
	// AWS creates the add-on, roles, policies and associations.
	AWS pulumi.ProviderResource
	// Kubernetes creates namespaces, ServiceAccounts, Pods and Jobs.
	Kubernetes pulumi.ProviderResource
}

// Agent configures the eks-pod-identity-agent add-on. The zero value installs
// the version EKS picks as default and removes the agent on destroy.
type Agent struct {
	// Skip leaves the add-on alone: EKS Auto Mode has the agent built in,
	// or another stack owns it. Default false: the component installs it.
	Skip bool
	// Version pins the add-on version, e.g. "v1.3.4-eksbuild.1". Empty lets
	// EKS choose its default version.
	Version string
	// Preserve keeps the agent running on the cluster when the add-on is
	// deleted (the walkthrough's teardown leaves its removal optional).
	Preserve bool
}

// Workload is one Kubernetes service account that gets an IAM role. Its JSON
// names are the stack configuration's keys inside `workloads`.
type Workload struct {
	// Name is the workload's stable key: it names the workload's child
	// resources, so renaming it replaces them. Empty means ServiceAccount.
	Name string `json:"name"`
	// Namespace of the service account. Empty means "default".
	Namespace string `json:"namespace"`
	// ServiceAccount is the Kubernetes service account's name. Required.
	ServiceAccount string `json:"serviceAccount"`
	// CreateNamespace creates the namespace. Default false: it exists.
	CreateNamespace bool `json:"createNamespace"`
	// ExternalServiceAccount says the service account is owned elsewhere (a
	// Helm chart, say); the component then creates none. Default false.
	ExternalServiceAccount bool `json:"externalServiceAccount"`

	// RoleName names the IAM role. Empty lets Pulumi auto-name it.
	RoleName string `json:"roleName"`
	// RolePath is the IAM path, e.g. "/eks/". Empty means "/".
	RolePath string `json:"rolePath"`
	// RoleDescription is the role's description. Optional.
	RoleDescription string `json:"roleDescription"`
	// PermissionsBoundary is a managed policy ARN capping the role's
	// permissions. Optional.
	PermissionsBoundary string `json:"permissionsBoundary"`
	// MaxSessionDuration in seconds, 3600 to 43200. Zero means IAM's 3600.
	MaxSessionDuration int `json:"maxSessionDuration"`
	// Trust is "scoped" (default when empty) or "open"; see TrustMode.
	Trust TrustMode `json:"trust"`
	// PolicyArns are managed policies attached to the role. Nil means the
	// walkthrough's AmazonS3ReadOnlyAccess; an empty list attaches none.
	PolicyArns []string `json:"policyArns"`
	// InlinePolicies maps an inline policy name to its JSON document.
	// Optional.
	InlinePolicies map[string]PolicyDocument `json:"inlinePolicies"`
	// Tags are added to this workload's role and association, over Args.Tags.
	Tags map[string]string `json:"tags"`

	// TestPod creates the walkthrough's aws-cli Pod (sleep 3600) running as
	// the service account. Default false.
	TestPod bool `json:"testPod"`
	// TestPodName names the test Pod. Empty means "aws-cli-<name>".
	TestPodName string `json:"testPodName"`
	// Verify runs a Job that proves the pod gets the role; a failure fails
	// `pulumi up`. Default false.
	Verify bool `json:"verify"`
	// AccessCheck is the aws CLI command (without "aws") the verification
	// runs as the role, e.g. "s3 ls s3://my-bucket". Empty means "s3 ls";
	// "off" skips it for roles with nothing safe to probe.
	AccessCheck string `json:"accessCheck"`
}
