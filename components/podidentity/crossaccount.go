package podidentity

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/platform-eng/eks-pod-identity/iampolicy"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudcontrol"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CloudControlAssociationType is the CloudFormation type of a Pod Identity
// Association. pulumi-aws v6's eks.PodIdentityAssociation has no target
// role, session tags switch or session policy (they came with v7), so a
// workload that sets one is created through Cloud Control with this type;
// every other workload keeps the native resource.
const CloudControlAssociationType = "AWS::EKS::PodIdentityAssociation"

// The Pulumi types of a workload's association, native or through Cloud
// Control; each aliases the other, so a move between them is a
// replacement of one resource.
const (
	NativeAssociationType    = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
	cloudControlResourceType = "aws:cloudcontrol/resource:Resource"
)

// TargetRolePolicyName is the inline policy that lets the workload's role
// chain into its target role.
const TargetRolePolicyName = "eks-pod-identity-target-role"

// maxSessionPolicyChars is STS's limit on an inline session policy (STS API
// reference, AssumeRole, Policy: "can't exceed 2,048 characters"). EKS's
// API reference gives no number for its Policy field; the one write-up that
// states a limit for EKS (thestackobserver.com, 2026-03) gives the same
// figure, which fits EKS passing the policy to STS.
const maxSessionPolicyChars = 2048

var (
	targetRoleArnRe = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/([\x21-\x7E]+/)?[\w+=,.@-]{1,64}$`)
	accountIDRe     = regexp.MustCompile(`^\d{12}$`)
)

// usesCloudControl says whether the workload's association needs a field
// the native resource lacks.
func (w Workload) usesCloudControl() bool {
	return w.TargetRoleArn != "" || w.DisableSessionTags || w.SessionPolicy != ""
}

// UsesCloudControl says the workload's association is an
// aws.cloudcontrol.Resource (a target role or a session control), which
// pulumi-aws v6 cannot import: Terraform's aws_cloudcontrolapi_resource,
// which it bridges, has no importer. w has its defaults filled in.
func (w Workload) UsesCloudControl() bool { return w.usesCloudControl() }

// checkSessionControls refuses the target role and session settings EKS
// or IAM would refuse later, or that would leave the pod without
// credentials. w has its defaults filled in; raw is as given.
func (w Workload) checkSessionControls(ps *Problems, at func(string) string, raw Workload, partition string) {
	if w.SessionPolicy != "" {
		if !w.DisableSessionTags {
			ps.add(at("sessionPolicy"), "is set but disableSessionTags is not true: EKS accepts a session policy only with session tags disabled (EKS API reference, CreatePodIdentityAssociation, policy); set disableSessionTags: true")
		}
		if err := checkPolicyDocument(w.SessionPolicy); err != nil {
			ps.add(at("sessionPolicy"), "policy document %s", err)
		} else if n := utf8.RuneCountInString(compactJSON(w.SessionPolicy)); n > maxSessionPolicyChars {
			ps.add(at("sessionPolicy"), "is %d characters as compact JSON; a session policy may have at most %d (STS API reference, AssumeRole, Policy; EKS's own reference states no limit): shorten it, or move permissions into the role", n, maxSessionPolicyChars)
		}
	}
	if w.DisableSessionTags && w.Trust == TrustScoped {
		how := "trust is \"scoped\" (the default)"
		if raw.Trust != "" {
			how = "trust is \"scoped\""
		}
		ps.add(at("disableSessionTags"), "is true and %s: scoped trust matches the session tags EKS would stop sending, so EKS could not assume the role. Set trust: open (AWS documents no tag-free condition for pods.eks.amazonaws.com on a pod role; with targetRoleArn the target role's trust still pins this cluster, namespace and service account by sts:ExternalId). See docs/cross-account.md", how)
	}
	if w.TargetRoleArn != "" {
		if m := targetRoleArnRe.FindStringSubmatch(w.TargetRoleArn); m == nil {
			ps.add(at("targetRoleArn"), "%q is not an IAM role ARN: expected arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>", w.TargetRoleArn)
		} else if partition != "" && m[1] != partition {
			ps.add(at("targetRoleArn"), "%q is in partition %q but the cluster is in %q: a role can only be assumed within its partition", w.TargetRoleArn, m[1], partition)
		}
	}
	if t := raw.TargetRole; t != nil {
		if raw.TargetRoleArn != "" {
			ps.add(at("targetRole"), "is set together with targetRoleArn %q: targetRole creates the role and names it; set one", raw.TargetRoleArn)
		}
		if !accountIDRe.MatchString(t.Account) {
			ps.add(at("targetRole.account"), "%q is not an AWS account ID: 12 digits", t.Account)
		}
		if len(t.RoleName) > 64 || !iamNameRe.MatchString(t.RoleName) {
			ps.add(at("targetRole.roleName"), "%q is not an IAM role name: 1 to 64 characters of letters, digits and +=,.@_-", t.RoleName)
		}
		for j, arn := range t.PolicyArns {
			if m := policyArnRe.FindStringSubmatch(arn); m == nil {
				ps.add(at(fmt.Sprintf("targetRole.policyArns[%d]", j)), "%q is not an IAM policy ARN: expected arn:<partition>:iam::<account or aws>:policy/[<path>/]<name>", arn)
			} else if partition != "" && m[1] != partition {
				ps.add(at(fmt.Sprintf("targetRole.policyArns[%d]", j)), "%q is in partition %q but the cluster is in %q", arn, m[1], partition)
			}
		}
	}
	if _, clash := w.InlinePolicies[TargetRolePolicyName]; clash && w.TargetRoleArn != "" {
		ps.add(at("inlinePolicies."+TargetRolePolicyName), "uses the name of the policy the component writes for targetRoleArn: choose another name")
	}
	if p, ok := presets.Lookup(raw.Preset); ok && p.Addon != "" {
		for _, k := range []struct {
			key string
			set bool
		}{{"targetRoleArn", raw.TargetRoleArn != ""}, {"targetRole", raw.TargetRole != nil}, {"disableSessionTags", raw.DisableSessionTags}, {"sessionPolicy", raw.SessionPolicy != ""}} {
			if k.set {
				ps.add(at(k.key), "is set on preset %q, whose EKS add-on %s can own the service account's association: an add-on's associations carry only a role ARN and a service account (CloudFormation AWS::EKS::Addon PodIdentityAssociation), so the add-on would drop it. Remove %s, or declare the workload without a preset", p.Name, p.Addon, k.key)
			}
		}
	}
}

// OpenTrustWarning is what `up` warns for a workload whose session tags
// are off: its role's trust must be open, so any association in the
// account that may pass the role can use it. Empty when it does not apply.
func (w Workload) OpenTrustWarning() string {
	if !w.DisableSessionTags || w.Trust != TrustOpen {
		return ""
	}
	guard := "nothing in its trust policy pins it to this cluster, namespace and service account; who may create associations with it is up to iam:PassRole"
	if w.TargetRoleArn != "" {
		guard = "the target role's trust still pins this cluster, namespace and service account through sts:ExternalId, but the first role's own permissions are open to any association that may pass it (iam:PassRole)"
	}
	return fmt.Sprintf("workload %s: disableSessionTags is true, so its role trusts pods.eks.amazonaws.com without conditions (trust: open): %s", w.Name, guard)
}

// ExternalID is the sts:ExternalId EKS sends when it assumes the target role
// with session tags disabled (EKS User Guide, pod-id-assign-target-role):
// region/account/cluster/namespace/service account.
func ExternalID(clusterArn, namespace, serviceAccount string) (string, error) {
	region, account, cluster, err := clusterArnParts(clusterArn)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{region, account, cluster, namespace, serviceAccount}, "/"), nil
}

// clusterArnParts splits arn:<partition>:eks:<region>:<account>:cluster/<name>.
func clusterArnParts(arn string) (region, account, cluster string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "eks" || !strings.HasPrefix(parts[5], "cluster/") {
		return "", "", "", fmt.Errorf("cluster ARN %q is not arn:<partition>:eks:<region>:<account>:cluster/<name>", arn)
	}
	return parts[3], parts[4], strings.TrimPrefix(parts[5], "cluster/"), nil
}

// TargetTrustPolicy is the trust policy the workload's target role must
// carry, for the workload's role firstRoleArn on cluster clusterArn.
func TargetTrustPolicy(w Workload, partition, clusterArn, firstRoleArn string) (string, error) {
	_, account, _, err := clusterArnParts(clusterArn)
	if err != nil {
		return "", err
	}
	externalID, err := ExternalID(clusterArn, w.Namespace, w.ServiceAccount)
	if err != nil {
		return "", err
	}
	return iampolicy.TargetTrustPolicy(iampolicy.TargetTrust{
		Partition: partition, ClusterAccount: account, FirstRoleArn: firstRoleArn,
		ClusterArn: clusterArn, Namespace: w.Namespace, ServiceAccount: w.ServiceAccount,
		SessionTags: !w.DisableSessionTags, ExternalID: externalID,
	})
}

// cfnTag is a tag as CloudFormation schemas write them.
type cfnTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// associationState is the Cloud Control DesiredState, in the type's
// CloudFormation property names.
type associationState struct {
	ClusterName        string   `json:"ClusterName"`
	Namespace          string   `json:"Namespace"`
	ServiceAccount     string   `json:"ServiceAccount"`
	RoleArn            string   `json:"RoleArn"`
	TargetRoleArn      string   `json:"TargetRoleArn,omitempty"`
	DisableSessionTags bool     `json:"DisableSessionTags"`
	Policy             string   `json:"Policy,omitempty"`
	Tags               []cfnTag `json:"Tags,omitempty"`
}

// DesiredState is the Cloud Control document of a workload's association.
// DisableSessionTags is always written, so turning it off is a change
// Cloud Control sends, not a property it leaves as it was.
func DesiredState(w Workload, clusterName, roleArn string, tags map[string]string) (string, error) {
	s := associationState{
		ClusterName: clusterName, Namespace: w.Namespace, ServiceAccount: w.ServiceAccount,
		RoleArn: roleArn, TargetRoleArn: w.TargetRoleArn, DisableSessionTags: w.DisableSessionTags,
	}
	if w.SessionPolicy != "" {
		s.Policy = compactJSON(w.SessionPolicy)
	}
	for _, k := range sortedKeys(tags) {
		s.Tags = append(s.Tags, cfnTag{Key: k, Value: tags[k]})
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode desired state: %w", err)
	}
	return string(b), nil
}

// cloudControlProperty reads one property of what Cloud Control reports
// (Properties, the resource's current state as JSON); a property it does
// not report, such as ExternalId without a target role, is "".
func cloudControlProperty(r *cloudcontrol.Resource, key string) pulumi.StringOutput {
	return r.Properties.ApplyT(func(p string) (string, error) {
		var props map[string]any
		if err := json.Unmarshal([]byte(p), &props); err != nil {
			return "", fmt.Errorf("read Cloud Control properties of %s: %w", CloudControlAssociationType, err)
		}
		s, _ := props[key].(string)
		return s, nil
	}).(pulumi.StringOutput)
}

// associateViaCloudControl is step 4 for a workload whose association needs
// a field the native resource lacks.
func (c *PodIdentity) associateViaCloudControl(ctx *pulumi.Context, name string, w Workload, res *WorkloadResources) error {
	tags := mergeTags(c.args.Tags, w.Tags)
	state := pulumi.All(c.args.ClusterName, res.Role.Arn).ApplyT(func(v []any) (string, error) {
		return DesiredState(w, v[0].(string), v[1].(string), tags)
	}).(pulumi.StringOutput)
	r, err := cloudcontrol.NewResource(ctx, associationResourceName(name, w.Name), &cloudcontrol.ResourceArgs{
		TypeName:     pulumi.String(CloudControlAssociationType),
		DesiredState: state,
	}, c.childOpts(
		// Same reason as the native association: one per service account.
		pulumi.DeleteBeforeReplace(true),
		// EKS may look the target up: it exists, trusting the first role,
		// before the association names it.
		pulumi.DependsOn(res.targetDependencies()),
		// A workload moving from the native association keeps its URN but
		// for the type: the alias makes the engine replace that one,
		// delete first, instead of creating this one beside it (which EKS
		// refuses: one association per service account).
		pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(NativeAssociationType)}}),
		c.waitForArgs(),
	)...)
	if err != nil {
		return err
	}
	res.CloudControlAssociation = r
	res.AssociationId = cloudControlProperty(r, "AssociationId")
	res.AssociationArn = cloudControlProperty(r, "AssociationArn")
	res.ExternalId = cloudControlProperty(r, "ExternalId")
	return nil
}

// targetPolicySize is what the chaining policy counts against IAM's inline
// quota; nothing without a target role.
func (w Workload) targetPolicySize() int {
	if w.TargetRoleArn == "" {
		return 0
	}
	return inlinePolicySize(map[string]string{TargetRolePolicyName: iampolicy.AssumeTargetRole(w.TargetRoleArn)})
}

// allowTargetRole is step 3 for a workload with a target role: the first
// role's permission to chain into it.
func (c *PodIdentity) allowTargetRole(ctx *pulumi.Context, name string, w Workload, res *WorkloadResources) error {
	if w.TargetRoleArn == "" {
		return nil
	}
	p, err := iam.NewRolePolicy(ctx, inlinePolicyResourceName(name, w.Name, TargetRolePolicyName), &iam.RolePolicyArgs{
		Role:   res.Role.Name,
		Name:   pulumi.String(TargetRolePolicyName),
		Policy: pulumi.String(iampolicy.AssumeTargetRole(w.TargetRoleArn)),
	}, c.childOpts()...)
	if err != nil {
		return err
	}
	res.InlinePolicies = append(res.InlinePolicies, p)
	return nil
}

// targetTrustPolicy fills WorkloadResources.TargetTrustPolicy.
func (c *PodIdentity) targetTrustPolicy(w Workload, res *WorkloadResources) pulumi.StringOutput {
	if w.TargetRoleArn == "" {
		return pulumi.String("").ToStringOutput()
	}
	partition := c.args.partition()
	return pulumi.All(c.args.ClusterArn, res.Role.Arn).ApplyT(func(v []any) (string, error) {
		return TargetTrustPolicy(w, partition, v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
}

// createTargetRole is step 2 again, in the target account, for a workload
// whose target role the component makes (Workload.TargetRole): the role,
// trusting exactly the first role for this cluster, namespace and service
// account (TargetTrustPolicy), and its policies, each through the target
// account's provider.
func (c *PodIdentity) createTargetRole(ctx *pulumi.Context, name string, w Workload, res *WorkloadResources) error {
	t := w.TargetRole
	if t == nil {
		return nil
	}
	in := pulumi.Provider(t.Provider)
	role, err := iam.NewRole(ctx, targetRoleResourceName(name, w.Name), &iam.RoleArgs{
		Name:             pulumi.String(t.RoleName),
		Description:      pulumi.String(fmt.Sprintf("EKS Pod Identity target role for %s/%s (component %s)", w.Namespace, w.ServiceAccount, name)),
		AssumeRolePolicy: res.TargetTrustPolicy,
		Tags:             pulumi.ToStringMap(mergeTags(c.args.Tags, w.Tags)),
	}, c.childOpts(in)...)
	if err != nil {
		return err
	}
	res.TargetRole = role
	for _, arn := range t.PolicyArns {
		a, err := iam.NewRolePolicyAttachment(ctx, attachmentResourceName(name, w.Name+"-target", arn), &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, c.childOpts(in)...)
		if err != nil {
			return err
		}
		res.TargetAttachments = append(res.TargetAttachments, a)
	}
	return nil
}

// targetDependencies are the target role and its policies, when the
// component makes them: the association and everything that runs as the
// service account wait for them.
func (res *WorkloadResources) targetDependencies() []pulumi.Resource {
	if res.TargetRole == nil {
		return nil
	}
	deps := []pulumi.Resource{res.TargetRole}
	for _, a := range res.TargetAttachments {
		deps = append(deps, a)
	}
	return deps
}
