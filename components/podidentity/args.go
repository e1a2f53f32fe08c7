package podidentity

import (
	"github.com/platform-eng/eks-pod-identity/components/presets"
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
	// DefaultImage is the aws CLI image of the test Pod and the
	// verification Job, pinned by version and by its registry digest, so a
	// push to a tag (the walkthrough's amazon/aws-cli:latest moves with
	// every CLI release) changes neither. 2.36.43 was the current CLI v2
	// release in early September 2026 (2.36.44 followed by 12 September).
	// The digest could not be resolved from here (no registry access); it
	// is the one public manifests pin for this tag, e.g. kagent-dev/substrate
	// manifests/ate-install/kind/rustfs.yaml (commit 7d182e8), and the same
	// digest is published for public.ecr.aws/aws-cli/aws-cli:2.36.43.
	// To update: pick a release from the aws-cli CHANGELOG and take its
	// multi-arch index digest with
	//   docker buildx imagetools inspect amazon/aws-cli:<version>
	// (the "Digest:" line) or `crane digest amazon/aws-cli:<version>`.
	// Changing it renames every verification Job (the image is part of
	// the Job's name), so verification runs again.
	DefaultImage = "amazon/aws-cli:2.36.43@sha256:d948ee299a7ffcaec0d6052a00b9f4c513c61cacfaedfe68b098c85808394441"
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

// Args configures a PodIdentity component. Providers are not part of it:
// pass them as resource options on the component (pulumi.Providers or
// pulumi.Provider), and they reach every child through its parent, as with
// any Pulumi component. Without one, a child uses the stack's default
// provider for its package.
type Args struct {
	// ClusterName is the EKS cluster's name. Required. An output of a cluster
	// created in the same program makes every child wait for it.
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
	// Annotations are added to every Kubernetes object the component
	// creates (namespaces, service accounts, test pods, verification Jobs),
	// as Tags are to AWS resources: the program marks them with its stack.
	// Optional.
	Annotations map[string]string
	// Workloads are the service accounts that get a role. At least one.
	Workloads []Workload
	// DependsOn are resources the add-on, the associations and every
	// Kubernetes resource wait for, such as the node group of a cluster
	// created in the same program: without nodes the agent has nowhere to
	// run and the pods cannot schedule. Roles and policies do not wait.
	// Optional.
	DependsOn []pulumi.Resource
	// Adopt lists existing objects to take over instead of creating them
	// (see Adoption). Nil creates everything.
	Adopt *Adoption
}

// Agent configures the eks-pod-identity-agent add-on. The zero value installs
// the version EKS picks as default and removes the agent on destroy.
type Agent struct {
	// Skip leaves the add-on alone: EKS Auto Mode has the agent built in,
	// or another stack (or another PodIdentity on the same cluster) owns it.
	// Default false: the component installs it.
	Skip bool
	// Version pins the add-on version, e.g. "v1.3.4-eksbuild.1". Empty lets
	// EKS choose its default version.
	Version string
	// Preserve keeps the agent running on the cluster when the add-on is
	// deleted (the walkthrough's teardown leaves its removal optional).
	Preserve bool
}

// Workload is one Kubernetes service account that gets an IAM role.
type Workload struct {
	// Preset names an entry of the presets catalogue (package presets:
	// "ebs-csi", "external-dns", ...). It fills in Name, Namespace,
	// ServiceAccount, PolicyArns, InlinePolicies and AccessCheck; each of
	// those the workload sets itself replaces the preset's. Empty: no preset.
	Preset string
	// PresetInputs are what the preset needs from the user (hosted zones,
	// buckets); they are refused without a preset that takes them.
	PresetInputs presets.Inputs

	// Name is the workload's stable key: it names the workload's child
	// resources, so renaming it replaces them. Empty means the preset's
	// name, or else ServiceAccount.
	Name string
	// Namespace of the service account. Empty means the preset's, or else
	// "default".
	Namespace string
	// ServiceAccount is the Kubernetes service account's name. Required
	// unless a preset gives it.
	ServiceAccount string
	// CreateNamespace creates the namespace. Default false: it exists.
	CreateNamespace bool
	// ExternalServiceAccount says the service account is owned elsewhere (a
	// Helm chart, say); the component then creates none. Default false;
	// always true with a Preset, whose add-on or chart owns it.
	ExternalServiceAccount bool

	// RoleName names the IAM role. Empty lets Pulumi auto-name it.
	RoleName string
	// RolePath is the IAM path, e.g. "/eks/". Empty means "/".
	RolePath string
	// RoleDescription is the role's description. Optional.
	RoleDescription string
	// PermissionsBoundary is a managed policy ARN capping the role's
	// permissions. Optional.
	PermissionsBoundary string
	// MaxSessionDuration in seconds, 3600 to 43200. Zero means IAM's 3600.
	MaxSessionDuration int
	// Trust is TrustScoped (the default when empty) or TrustOpen.
	Trust TrustMode
	// PolicyArns are managed policies attached to the role. Nil means the
	// preset's; without a preset, and with no InlinePolicies either, the
	// walkthrough's AmazonS3ReadOnlyAccess: a workload that names any
	// permission gets only what it names. An empty list attaches none.
	PolicyArns []string
	// InlinePolicies maps an inline policy name to its JSON document. Nil
	// means the preset's documents (none without a preset); an empty map
	// drops them.
	InlinePolicies map[string]string
	// Tags are added to this workload's role and association, over Args.Tags.
	Tags map[string]string

	// TargetRoleArn is a role in another account (or this one) that EKS
	// assumes with the workload's role, so the pod gets the target role's
	// credentials (EKS User Guide, pod-id-assign-target-role). The workload's
	// role then gets only sts:AssumeRole and sts:TagSession on it, plus what
	// PolicyArns and InlinePolicies name; the target account's admin gives
	// the target role the trust policy WorkloadResources.TargetTrustPolicy.
	// Empty: no chaining.
	TargetRoleArn string
	// TargetRole creates the target role too, in its account, through an
	// explicit AWS provider that can create roles there; TargetRoleArn is
	// then its ARN and must be left empty. Optional.
	TargetRole *TargetRole
	// DisableSessionTags stops EKS from adding its six session tags
	// (PackedPolicyTooLarge is the documented reason). Scoped trust matches
	// those tags, so it needs Trust: TrustOpen. Default false.
	DisableSessionTags bool
	// SessionPolicy is an IAM policy document (JSON) that narrows the pod's
	// permissions: the role's (with a target role, the target role's)
	// intersected with it. EKS takes it only with DisableSessionTags.
	// Empty: none.
	SessionPolicy string

	// Irsa moves the service account from IRSA to Pod Identity in phases
	// (IrsaMigration). Nil: a service account that was never on IRSA.
	Irsa *IrsaMigration

	// TestPod creates the walkthrough's aws-cli Pod (sleep 3600) running as
	// the service account. Default false.
	TestPod bool
	// TestPodName names the test Pod. Empty means "aws-cli-<name>".
	TestPodName string
	// Verify runs a Job that proves the pod gets the role; a failure fails
	// `pulumi up`. Default false.
	Verify bool
	// AccessCheck is the aws CLI command (without "aws") the verification
	// runs as the role, e.g. "s3 ls s3://my-bucket". Empty means the
	// preset's, or else "s3 ls"; AccessCheckOff skips it for roles with
	// nothing safe to probe.
	AccessCheck string
	// VerifyDeadlineSeconds bounds the verification Job (its
	// activeDeadlineSeconds), 60 to 1800. Zero means 240: the script's own
	// minute of retries and three fresh pods fit, a stuck pod does not.
	VerifyDeadlineSeconds int
}

// TargetRole is a target role the component creates in its own account,
// with the trust policy the EKS User Guide gives for role chaining
// (WorkloadResources.TargetTrustPolicy) and the permissions the pod needs.
type TargetRole struct {
	// Account is the target account's 12-digit ID.
	Account string
	// RoleName is the role's name in that account.
	RoleName string
	// PolicyArns are managed policies attached to the target role: the
	// pod's permissions.
	PolicyArns []string
	// Provider is an AWS provider for the target account, passed to every
	// resource made there as its provider option.
	Provider pulumi.ProviderResource
}

// Arn is the target role's ARN in partition.
func (t *TargetRole) Arn(partition string) string {
	return "arn:" + partition + ":iam::" + t.Account + ":role/" + t.RoleName
}
