package podidentity

import (
	"fmt"
	"maps"

	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudcontrol"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PodIdentity is the component: see the package documentation.
type PodIdentity struct {
	pulumi.ResourceState

	// AgentAddonName is the agent add-on's name; empty when Args.Agent.Skip.
	AgentAddonName pulumi.StringOutput
	// AgentAddonVersion is the add-on version EKS installed; empty when
	// Args.Agent.Skip.
	AgentAddonVersion pulumi.StringOutput
	// Workloads holds each workload's outputs and resources by workload name.
	Workloads map[string]*WorkloadResources

	// Agent is the eks-pod-identity-agent add-on; nil when Args.Agent.Skip.
	Agent *eks.Addon

	args       Args
	namespaces map[string]*corev1.Namespace
}

// WorkloadResources are one workload's outputs and the resources the
// component made for it. Optional resources are nil, and their outputs
// empty strings, when the workload's settings skip them.
type WorkloadResources struct {
	// RoleArn and RoleName are the IAM role's.
	RoleArn  pulumi.StringOutput
	RoleName pulumi.StringOutput
	// AssociationId and AssociationArn are the Pod Identity Association's.
	AssociationId  pulumi.StringOutput
	AssociationArn pulumi.StringOutput
	// TargetRoleArn is Workload.TargetRoleArn; TargetTrustPolicy is the
	// trust policy that role must carry (the EKS User Guide's document,
	// filled in), and ExternalId the association's, which EKS sends as
	// sts:ExternalId when session tags are off. All three are empty
	// without a target role.
	TargetRoleArn     pulumi.StringOutput
	TargetTrustPolicy pulumi.StringOutput
	ExternalId        pulumi.StringOutput
	// NamespaceName and ServiceAccountName are the Kubernetes identity the
	// role is for. They resolve once the namespace and ServiceAccount exist
	// when the component creates them, so a consumer using them waits too.
	NamespaceName      pulumi.StringOutput
	ServiceAccountName pulumi.StringOutput
	// TestPodName is the test Pod's name; empty without Workload.TestPod.
	TestPodName pulumi.StringOutput
	// VerifyJobName is the verification Job's name; empty without
	// Workload.Verify.
	VerifyJobName pulumi.StringOutput

	// Settings are the workload's settings with defaults filled in.
	Settings       Workload
	Role           *iam.Role
	Attachments    []*iam.RolePolicyAttachment
	InlinePolicies []*iam.RolePolicy
	// Association is the native association; nil when the workload sets
	// a target role or session control, which CloudControlAssociation
	// carries instead.
	Association             *eks.PodIdentityAssociation
	CloudControlAssociation *cloudcontrol.Resource
	// TargetRole and TargetAttachments are the target role and its
	// policies, when the component creates them (Workload.TargetRole).
	TargetRole        *iam.Role
	TargetAttachments []*iam.RolePolicyAttachment
	Namespace         *corev1.Namespace
	ServiceAccount    *corev1.ServiceAccount
	// ServiceAccountPatch is the IRSA annotation's patch of a migrating
	// workload's service account (Workload.Irsa), which the stack does not own.
	ServiceAccountPatch *corev1.ServiceAccountPatch
	TestPod             *corev1.Pod
	VerifyJob           *batchv1.Job

	// presetPolicies are the rendered documents of the preset's inline
	// policies, in InlinePolicies order after the workload's own: what the
	// verification proves includes them.
	presetPolicies []pulumi.StringOutput
}

// NewPodIdentity validates args and, only if they are valid, registers the
// component and its children. Pass providers in opts (pulumi.Providers);
// children inherit them through their parent.
func NewPodIdentity(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*PodIdentity, error) {
	return NewPodIdentityAs(ctx, TypeToken, name, args, opts...)
}

// NewPodIdentityAs is NewPodIdentity registering the component under
// another type token: a component provider's, whose consumers in other
// languages know the component by its schema's token
// (package componentprovider).
func NewPodIdentityAs(ctx *pulumi.Context, typeToken, name string, args Args, opts ...pulumi.ResourceOption) (*PodIdentity, error) {
	if err := args.Validate(name); err != nil {
		return nil, fmt.Errorf("podidentity %s: invalid arguments:\n%w", name, err)
	}
	c := &PodIdentity{
		Workloads:  map[string]*WorkloadResources{},
		args:       args,
		namespaces: map[string]*corev1.Namespace{},
	}
	if err := ctx.RegisterComponentResource(typeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("podidentity %s: register component: %w", name, err)
	}

	agent, err := c.installAgent(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("podidentity %s: install agent: %w", name, err)
	}
	c.Agent = agent
	c.AgentAddonName, c.AgentAddonVersion = pulumi.String("").ToStringOutput(), pulumi.String("").ToStringOutput()
	if agent != nil {
		c.AgentAddonName, c.AgentAddonVersion = agent.AddonName, agent.AddonVersion
	}

	workloads := make([]Workload, len(args.Workloads))
	for i, raw := range args.Workloads {
		workloads[i] = raw.withDefaults(args.partition())
	}
	// Namespaces first: every workload in a namespace the component creates
	// must wait for it, whichever workload asked for it.
	if err := c.createNamespaces(ctx, name, workloads); err != nil {
		return nil, fmt.Errorf("podidentity %s: %w", name, err)
	}
	for _, w := range workloads {
		res, err := c.addWorkload(ctx, name, w)
		if err != nil {
			return nil, fmt.Errorf("podidentity %s: workload %s: %w", name, w.Name, err)
		}
		c.Workloads[w.Name] = res
	}

	if err := ctx.RegisterResourceOutputs(c, c.Outputs()); err != nil {
		return nil, fmt.Errorf("podidentity %s: register outputs: %w", name, err)
	}
	return c, nil
}

// addWorkload runs the walkthrough's steps 2 to 6 for one workload, each
// step returning what the next one needs.
func (c *PodIdentity) addWorkload(ctx *pulumi.Context, name string, w Workload) (*WorkloadResources, error) {
	res := &WorkloadResources{Settings: w}
	var err error
	if res.Role, err = c.createRole(ctx, name, w); err != nil {
		return nil, fmt.Errorf("create role: %w", err)
	}
	if res.Attachments, res.InlinePolicies, err = c.attachPolicies(ctx, name, w, res.Role); err != nil {
		return nil, fmt.Errorf("attach policies: %w", err)
	}
	if err = c.attachPresetPolicies(ctx, name, w, res); err != nil {
		return nil, fmt.Errorf("attach preset policies: %w", err)
	}
	if err = c.allowTargetRole(ctx, name, w, res); err != nil {
		return nil, fmt.Errorf("allow target role: %w", err)
	}
	res.TargetTrustPolicy = c.targetTrustPolicy(w, res)
	if err = c.createTargetRole(ctx, name, w, res); err != nil {
		return nil, fmt.Errorf("create target role: %w", err)
	}
	if err = c.associate(ctx, name, w, res); err != nil {
		return nil, fmt.Errorf("create association: %w", err)
	}
	if msg := w.OpenTrustWarning(); msg != "" {
		// A warning, not a refusal: the user chose trust: open.
		if err := ctx.Log.Warn(msg, &pulumi.LogArgs{Resource: res.Role}); err != nil {
			return nil, fmt.Errorf("warn: %w", err)
		}
	}
	res.Namespace = c.namespaces[w.Namespace]
	if w.Irsa != nil {
		if res.ServiceAccountPatch, err = c.patchIrsaAnnotation(ctx, name, w); err != nil {
			return nil, fmt.Errorf("patch service account: %w", err)
		}
	} else if res.ServiceAccount, err = c.createServiceAccount(ctx, name, w, res.Namespace); err != nil {
		return nil, fmt.Errorf("create service account: %w", err)
	}
	// EKS injects credentials only when a pod is admitted: anything that runs
	// as the service account must wait until the identity is complete.
	identity := c.identityDependencies(res)
	if w.TestPod && c.args.Adopt.workload(w.Name).TestPodRunning {
		// Taken over, not admitted anew: see WorkloadAdoption.TestPodRunning.
		if res.TestPod, err = c.createTestPod(ctx, name, w, identity); err != nil {
			return nil, fmt.Errorf("create test pod: %w", err)
		}
		identity = append(identity, res.TestPod)
	}
	// In Dual no pod gets Pod Identity: there is nothing to prove yet.
	if w.Verify && w.associated() {
		if res.VerifyJob, err = c.createVerifyJob(ctx, name, w, res, identity); err != nil {
			return nil, fmt.Errorf("create verification job: %w", err)
		}
		// A new association takes seconds to take effect, and a pod admitted
		// in that window never gets credentials. The Job retries with fresh
		// pods until one is admitted with them; the long-lived test pod
		// waits for that proof instead of racing it.
		identity = append(identity, res.VerifyJob)
	}
	if w.TestPod && res.TestPod == nil {
		if res.TestPod, err = c.createTestPod(ctx, name, w, identity); err != nil {
			return nil, fmt.Errorf("create test pod: %w", err)
		}
	}
	res.fillOutputs()
	return res, nil
}

// Step 1: the agent add-on.
func (c *PodIdentity) installAgent(ctx *pulumi.Context, name string) (*eks.Addon, error) {
	agent := c.args.Agent
	if agent.Skip {
		return nil, nil
	}
	var version pulumi.StringPtrInput
	if agent.Version != "" {
		version = pulumi.String(agent.Version)
	}
	return eks.NewAddon(ctx, agentResourceName(name), &eks.AddonArgs{
		ClusterName:  c.args.ClusterName,
		AddonName:    pulumi.String(AgentAddonName),
		AddonVersion: version,
		// A self-managed agent (a DaemonSet applied by hand) is taken over
		// instead of failing the create. An existing EKS add-on is not: EKS
		// answers ResourceInUseException; Adoption imports it instead.
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Preserve:                 pulumi.Bool(agent.Preserve),
		Tags:                     pulumi.ToStringMap(mergeTags(c.args.Tags, c.args.Adopt.agentTags())),
	}, c.childOpts(append(importOpt(c.args.Adopt.agent()),
		// Add-on names are unique per cluster: a replacement must delete first.
		pulumi.DeleteBeforeReplace(true),
		c.waitForArgs(),
	)...)...)
}

// Step 2: the role and its trust policy.
func (c *PodIdentity) createRole(ctx *pulumi.Context, name string, w Workload) (*iam.Role, error) {
	trust := c.args.ClusterArn.ToStringOutput().ApplyT(func(clusterArn string) (string, error) {
		if w.Irsa != nil {
			return MigrationTrust(w, clusterArn)
		}
		return TrustPolicy(w.Trust, clusterArn, w.Namespace, w.ServiceAccount)
	}).(pulumi.StringOutput)
	args := &iam.RoleArgs{
		AssumeRolePolicy: trust,
		Tags:             pulumi.ToStringMap(mergeTags(c.args.Tags, w.Tags)),
	}
	if w.RoleName != "" {
		args.Name = pulumi.String(w.RoleName)
	}
	if w.RolePath != "" {
		args.Path = pulumi.String(w.RolePath)
	}
	if w.RoleDescription != "" {
		args.Description = pulumi.String(w.RoleDescription)
	}
	if w.PermissionsBoundary != "" {
		args.PermissionsBoundary = pulumi.String(w.PermissionsBoundary)
	}
	if w.MaxSessionDuration != 0 {
		args.MaxSessionDuration = pulumi.Int(w.MaxSessionDuration)
	}
	// A fixed role name cannot exist twice: replace it delete-first. An
	// auto-named role gets a fresh name and can be created first.
	return iam.NewRole(ctx, roleResourceName(name, w.Name), args,
		c.childOpts(append(importOpt(c.args.Adopt.workload(w.Name).Role), pulumi.DeleteBeforeReplace(w.RoleName != ""),
			// Pods still on IRSA use the role: destroy mid-migration leaves it.
			pulumi.RetainOnDelete(w.retainsIRSA()))...)...)
}

// Step 3: managed and inline permission policies.
func (c *PodIdentity) attachPolicies(ctx *pulumi.Context, name string, w Workload, role *iam.Role) ([]*iam.RolePolicyAttachment, []*iam.RolePolicy, error) {
	var attachments []*iam.RolePolicyAttachment
	for _, arn := range w.PolicyArns {
		a, err := iam.NewRolePolicyAttachment(ctx, attachmentResourceName(name, w.Name, arn), &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, c.childOpts(pulumi.RetainOnDelete(w.retainsIRSA()))...)
		if err != nil {
			return nil, nil, fmt.Errorf("attach %s: %w", arn, err)
		}
		attachments = append(attachments, a)
	}
	var inline []*iam.RolePolicy
	for _, pname := range sortedKeys(w.InlinePolicies) {
		p, err := iam.NewRolePolicy(ctx, inlinePolicyResourceName(name, w.Name, pname), &iam.RolePolicyArgs{
			Role:   role.Name,
			Name:   pulumi.String(pname),
			Policy: pulumi.String(string(w.InlinePolicies[pname])),
		}, c.childOpts(pulumi.RetainOnDelete(w.retainsIRSA()))...)
		if err != nil {
			return nil, nil, fmt.Errorf("inline policy %s: %w", pname, err)
		}
		inline = append(inline, p)
	}
	return attachments, inline, nil
}

// Step 3, preset part: the preset's own documents, rendered for this
// cluster (a document may name it, and the name may be another resource's
// output) in the cluster's partition.
func (c *PodIdentity) attachPresetPolicies(ctx *pulumi.Context, name string, w Workload, res *WorkloadResources) error {
	for _, doc := range w.presetDocuments() {
		text := c.args.ClusterName.ToStringOutput().ApplyT(func(cluster string) (string, error) {
			return doc.Render(presets.Target{Partition: c.args.partition(), ClusterName: cluster, Inputs: w.PresetInputs})
		}).(pulumi.StringOutput)
		p, err := iam.NewRolePolicy(ctx, inlinePolicyResourceName(name, w.Name, doc.Name), &iam.RolePolicyArgs{
			Role:   res.Role.Name,
			Name:   pulumi.String(doc.Name),
			Policy: text,
		}, c.childOpts(pulumi.RetainOnDelete(w.retainsIRSA()))...)
		if err != nil {
			return fmt.Errorf("inline policy %s: %w", doc.Name, err)
		}
		res.InlinePolicies = append(res.InlinePolicies, p)
		res.presetPolicies = append(res.presetPolicies, text)
	}
	return nil
}

// Step 4: the Pod Identity Association, native unless the workload needs
// a field only Cloud Control can set.
func (c *PodIdentity) associate(ctx *pulumi.Context, name string, w Workload, res *WorkloadResources) error {
	if !w.associated() {
		// Dual: the role trusts Pod Identity, but no pod uses it yet.
		res.AssociationId = pulumi.String("").ToStringOutput()
		res.AssociationArn, res.ExternalId = res.AssociationId, res.AssociationId
		return nil
	}
	if w.usesCloudControl() {
		return c.associateViaCloudControl(ctx, name, w, res)
	}
	a, err := eks.NewPodIdentityAssociation(ctx, associationResourceName(name, w.Name), &eks.PodIdentityAssociationArgs{
		ClusterName:    c.args.ClusterName,
		Namespace:      pulumi.String(w.Namespace),
		ServiceAccount: pulumi.String(w.ServiceAccount),
		RoleArn:        res.Role.Arn,
		Tags:           pulumi.ToStringMap(mergeTags(c.args.Tags, w.Tags)),
	}, c.childOpts(append(importOpt(c.args.Adopt.workload(w.Name).Association),
		// One association per cluster, namespace and service account: a
		// create-before-delete replacement would answer ResourceInUseException.
		pulumi.DeleteBeforeReplace(true),
		// Moving back from the Cloud Control association: see there.
		pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(cloudControlResourceType)}}),
		c.waitForArgs(),
	)...)...)
	if err != nil {
		return err
	}
	res.Association = a
	res.AssociationId, res.AssociationArn = a.AssociationId, a.AssociationArn
	res.ExternalId = pulumi.String("").ToStringOutput()
	return nil
}

// Step 5a: the namespaces workloads ask for, once each however many ask.
func (c *PodIdentity) createNamespaces(ctx *pulumi.Context, name string, workloads []Workload) error {
	for _, w := range workloads {
		if !w.CreateNamespace || c.namespaces[w.Namespace] != nil {
			continue
		}
		ns, err := corev1.NewNamespace(ctx, namespaceResourceName(name, w.Namespace), &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:        pulumi.String(w.Namespace),
				Labels:      labels(name, ""),
				Annotations: annotations(c.args.Annotations, nil),
			},
		}, c.childOpts(append(importOpt(c.args.Adopt.namespace(w.Namespace)), c.waitForArgs())...)...)
		if err != nil {
			return fmt.Errorf("create namespace %s: %w", w.Namespace, err)
		}
		c.namespaces[w.Namespace] = ns
	}
	return nil
}

// Step 5b: the ServiceAccount. It carries no eks.amazonaws.com/role-arn
// annotation: that is IRSA's mechanism, and Pod Identity needs none.
func (c *PodIdentity) createServiceAccount(ctx *pulumi.Context, name string, w Workload, ns *corev1.Namespace) (*corev1.ServiceAccount, error) {
	if w.ExternalServiceAccount {
		return nil, nil
	}
	return corev1.NewServiceAccount(ctx, serviceAccountResourceName(name, w.Name), &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(w.ServiceAccount),
			Namespace:   namespaceInput(w, ns),
			Labels:      labels(name, w.Name),
			Annotations: annotations(c.args.Annotations, nil),
		},
	}, c.childOpts(append(importOpt(c.args.Adopt.workload(w.Name).ServiceAccount), c.waitForArgs())...)...)
}

// Step 5c: the walkthrough's test Pod.
func (c *PodIdentity) createTestPod(ctx *pulumi.Context, name string, w Workload, identity []pulumi.Resource) (*corev1.Pod, error) {
	spec := &corev1.PodSpecArgs{
		ServiceAccountName: pulumi.String(w.ServiceAccount),
		RestartPolicy:      pulumi.String("Never"),
	}
	hardenPod(spec, &corev1.ContainerArgs{
		Name:    pulumi.String("aws-cli"),
		Image:   pulumi.String(c.args.image()),
		Command: pulumi.ToStringArray([]string{"sleep", "3600"}),
	})
	own, irsaOpts := irsaPodOptions(w)
	return corev1.NewPod(ctx, testPodResourceName(name, w.Name), &corev1.PodArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(w.TestPodName),
			Namespace:   pulumi.String(w.Namespace),
			Labels:      labels(name, w.Name),
			Annotations: annotations(c.args.Annotations, own),
		},
		Spec: spec,
	}, c.childOpts(append([]pulumi.ResourceOption{
		pulumi.DependsOn(identity),
		c.waitForArgs(),
		// The pod has a fixed name, so a replacement must delete it first.
		pulumi.DeleteBeforeReplace(true),
	}, irsaOpts...)...)...)
}

// identityDependencies is everything a pod needs to exist before admission
// for EKS to hand it the role's credentials.
func (c *PodIdentity) identityDependencies(res *WorkloadResources) []pulumi.Resource {
	var deps []pulumi.Resource
	if a := res.associationResource(); a != nil {
		deps = append(deps, a)
	}
	for _, a := range res.Attachments {
		deps = append(deps, a)
	}
	for _, p := range res.InlinePolicies {
		deps = append(deps, p)
	}
	deps = append(deps, res.targetDependencies()...)
	if res.ServiceAccount != nil {
		deps = append(deps, res.ServiceAccount)
	}
	if res.ServiceAccountPatch != nil {
		deps = append(deps, res.ServiceAccountPatch)
	}
	if res.Namespace != nil {
		deps = append(deps, res.Namespace)
	}
	if c.Agent != nil {
		deps = append(deps, c.Agent)
	}
	return deps
}

// childOpts are every child's options: the component as parent, from which
// the child inherits the providers the caller passed, and nothing pinned.
func (c *PodIdentity) childOpts(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(c)}, extra...)
}

// waitForArgs makes a child wait for Args.DependsOn. Children do not
// inherit their parent's DependsOn, so each that must wait says so.
func (c *PodIdentity) waitForArgs() pulumi.ResourceOption {
	return pulumi.DependsOn(c.args.DependsOn)
}

// namespaceInput takes the namespace from the Namespace resource when the
// component creates it, so the dependency flows through the input too.
func namespaceInput(w Workload, ns *corev1.Namespace) pulumi.StringPtrInput {
	if ns != nil {
		return ns.Metadata.Name()
	}
	return pulumi.String(w.Namespace)
}

func labels(component, workload string) pulumi.StringMap {
	l := pulumi.StringMap{
		"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		LabelKeyPartOf:                 pulumi.String(LabelPartOf),
		LabelKeyInstance:               pulumi.String(component),
	}
	if workload != "" {
		l[LabelKeyWorkload] = pulumi.String(workload)
	}
	return l
}

// annotations is the user's annotations under the component's own, which
// win: they steer the Kubernetes provider. Nil when there are none, so an
// object without any declares no annotations field.
func annotations(user, own map[string]string) pulumi.StringMapInput {
	if len(user) == 0 && len(own) == 0 {
		return nil
	}
	m := pulumi.StringMap{}
	for k, v := range user {
		m[k] = pulumi.String(v)
	}
	for k, v := range own {
		m[k] = pulumi.String(v)
	}
	return m
}

func mergeTags(base, over map[string]string) map[string]string {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	m := maps.Clone(base)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, over)
	return m
}

// associationResource is the association, whichever resource carries it.
func (r *WorkloadResources) associationResource() pulumi.Resource {
	if r.CloudControlAssociation != nil {
		return r.CloudControlAssociation
	}
	if r.Association == nil {
		return nil // Dual: no association yet
	}
	return r.Association
}

// fillOutputs sets the typed outputs from the workload's resources.
func (r *WorkloadResources) fillOutputs() {
	w := r.Settings
	r.RoleArn, r.RoleName = r.Role.Arn, r.Role.Name
	r.TargetRoleArn = pulumi.String(w.TargetRoleArn).ToStringOutput()
	r.NamespaceName = pulumi.String(w.Namespace).ToStringOutput()
	if r.Namespace != nil {
		r.NamespaceName = r.Namespace.Metadata.Name().Elem()
	}
	r.ServiceAccountName = pulumi.String(w.ServiceAccount).ToStringOutput()
	if r.ServiceAccount != nil {
		r.ServiceAccountName = r.ServiceAccount.Metadata.Name().Elem()
	}
	r.TestPodName = pulumi.String("").ToStringOutput()
	if r.TestPod != nil {
		r.TestPodName = r.TestPod.Metadata.Name().Elem()
	}
	r.VerifyJobName = pulumi.String("").ToStringOutput()
	if r.VerifyJob != nil {
		r.VerifyJobName = r.VerifyJob.Metadata.Name().Elem()
	}
}

// outputs are the typed outputs as the component registers them, so they
// show in the engine's state and `pulumi stack export`.
// Outputs are the component's registered outputs: the add-on's name and
// version, and per workload its role, association and Kubernetes names.
func (c *PodIdentity) Outputs() pulumi.Map {
	workloads := pulumi.Map{}
	for key, r := range c.Workloads {
		workloads[key] = pulumi.Map{
			"roleArn":           r.RoleArn,
			"roleName":          r.RoleName,
			"associationId":     r.AssociationId,
			"associationArn":    r.AssociationArn,
			"targetRoleArn":     r.TargetRoleArn,
			"targetTrustPolicy": r.TargetTrustPolicy,
			"externalId":        r.ExternalId,
			"namespace":         r.NamespaceName,
			"serviceAccount":    r.ServiceAccountName,
			"testPodName":       r.TestPodName,
			"verifyJobName":     r.VerifyJobName,
		}
	}
	return pulumi.Map{
		"agentAddonName":    c.AgentAddonName,
		"agentAddonVersion": c.AgentAddonVersion,
		"workloads":         workloads,
	}
}
