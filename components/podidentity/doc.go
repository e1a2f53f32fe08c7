// Package podidentity holds the PodIdentity ComponentResource: everything
// Amazon EKS Pod Identity needs to give one or more Kubernetes workloads an
// IAM role on one cluster, as one unit the Pulumi engine orders and destroys.
//
// Why one unit: the pieces only work together and in order. EKS injects
// credentials into a pod only when the pod is admitted, so a pod admitted
// before its association exists never gets them. Bundling the agent add-on,
// role, trust policy, policy attachments, association, ServiceAccount, test
// Pod and verification Job in one component lets the engine enforce that order
// on `pulumi up` and reverse it on `pulumi destroy`.
//
// What it creates, in the order of the manual walkthrough it replaces:
//
//  1. the eks-pod-identity-agent add-on (unless Agent.Skip);
//  2. per workload, an IAM role trusting pods.eks.amazonaws.com for
//     sts:AssumeRole and sts:TagSession, scoped by default to the cluster,
//     namespace and service account through the session tags EKS sets;
//  3. the role's managed policy attachments and inline policies;
//  4. the Pod Identity Association (cluster, namespace, service account, role);
//     a workload with a target role, session tags off or a session policy
//     gets it through Cloud Control (AWS::EKS::PodIdentityAssociation),
//     since pulumi-aws v6's native resource lacks those fields, and its
//     role may assume and tag the target role;
//  5. the namespace (when asked), the ServiceAccount (never carrying the IRSA
//     annotation eks.amazonaws.com/role-arn) and the walkthrough's test Pod;
//  6. a verification Job that fails `pulumi up` unless the pod really is the
//     role and passes the workload's access check.
//
// Providers: the component takes none in its Args. A caller passes them as
// resource options (pulumi.Providers(awsProvider, k8sProvider)) and every
// child inherits them through its parent, as Pulumi documents for
// components; a package with none passed uses the stack's default provider.
// Outputs are typed fields (PodIdentity.AgentAddonVersion, and per workload
// WorkloadResources.RoleArn, AssociationId, ...), also registered with
// RegisterResourceOutputs.
//
// Child names are "<component name>-<workload>-<role>", so two instances
// on one cluster never collide, and a consumer that renames its instance
// keeps every child with pulumi.Aliases on the component: the engine
// carries the alias to the children whose names start with the old name.
//
// What it refuses, before registering anything: every problem Args.Validate
// finds (names AWS or Kubernetes would reject, malformed ARNs and policies,
// duplicate service accounts, unknown trust modes, session controls EKS
// would refuse or that would lock the role out), reported together.
package podidentity
