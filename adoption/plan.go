// Package adoption decides what a stack takes over. The stack's natural
// keys (add-on by cluster and name, role by name, association by cluster,
// namespace and service account, Kubernetes objects by namespace and name)
// are looked up before anything is registered (package discover); Decide
// says, for each object found, whether this stack already manages it,
// whether it may take it over (only with eks-pod-identity:adopt) and how.
// The component carries the decision out as import IDs
// (podidentity.Adoption). Pure: no API call, no registration.
package adoption

import (
	"fmt"
	"slices"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// The labels the component puts on every Kubernetes object it creates.
const (
	labelPartOf   = podidentity.LabelKeyPartOf
	labelInstance = podidentity.LabelKeyInstance
	labelWorkload = podidentity.LabelKeyWorkload
)

// testPodCommand is what the component's test pod runs, as the walkthrough's.
var testPodCommand = []string{"sleep", "3600"}

// Switches are the stack's say on taking over.
type Switches struct {
	// Adopt takes over what exists (eks-pod-identity:adopt).
	Adopt bool
	// Repoint also takes over an association that names another role than
	// the workload's, repointing it to the workload's role
	// (eks-pod-identity:adoptRepoint): the pods using it change identity.
	Repoint bool
}

// Stack is the stack that runs, as its objects carry it: the marker in
// AWS's stackconfig.StackTagKey tag and Kubernetes' StackAnnotationKey
// annotation.
type Stack struct {
	// Marker is stackconfig.Marker of the stack's name and ID.
	Marker string
	// Legacy says the stack has recorded no ID yet: objects marked with its
	// name alone, as this program marked them before stack IDs, are its
	// own. Once an ID is recorded, they are another state's.
	Legacy bool
}

// Owns says a marker found on an object is this stack's.
func (s Stack) Owns(m string) bool {
	name, _ := stackconfig.SplitMarker(s.Marker)
	return m == s.Marker || (s.Legacy && m == name)
}

// sameName says what to do when an object's marker names this stack but
// another ID: another state's stack of the same name (two people's DIY `dev`
// stacks), or this stack's own from an `up` that failed before it
// recorded its ID. Empty for any other marker.
func (s Stack) sameName(m string) string {
	name, _ := stackconfig.SplitMarker(s.Marker)
	otherName, otherID := stackconfig.SplitMarker(m)
	if otherName != name || s.Owns(m) {
		return ""
	}
	if otherID == "" {
		return fmt.Sprintf(". It is marked %s, with no stack ID: by this program before stack IDs, in another state than this stack's, which has recorded its ID (%s)", m, s.Marker)
	}
	return fmt.Sprintf(". Marked %s, it is not this stack's (%s): a stack of the same name in another state, such as another person's DIY backend. "+
		"If it is this stack's own (its state was lost or moved without its provider %q), run `pulumi config set %s %s` and `up` again", m, s.Marker, "stack-marker", stackconfig.Key(stackconfig.KeyStackID), otherID)
}

// StackAnnotationKey is the annotation the program puts on every Kubernetes
// object the component creates: its value is the stack's marker, as the
// AWS tag stackconfig.StackTagKey.
const StackAnnotationKey = stackconfig.Project + "/stack"

// Plan is what Decide decided.
type Plan struct {
	// Adopt holds the import IDs for the component; nil when nothing is
	// imported.
	Adopt *podidentity.Adoption
	// Taken lists every object taken over, for the log.
	Taken []string
	// AgentAdopted says the agent add-on was made outside this stack: taken
	// over now, or in an earlier run (its stackconfig.AdoptedTagKey tag).
	// Other pods on the cluster depend on it, so KeepAgent keeps it on
	// destroy.
	AgentAdopted bool
}

// Error lists every existing object the stack cannot go ahead with:
// conflicts (found, not managed by this stack, and adopt is off) and
// refusals (cannot be taken over at all, or not without a replacement).
type Error struct {
	Conflicts []string
	Refusals  []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("objects this stack would create already exist (nothing was created or changed):")
	if len(e.Conflicts) > 0 {
		b.WriteString("\n  not managed by this stack, and " + stackconfig.Key(stackconfig.KeyAdopt) + " is off:")
		for _, c := range e.Conflicts {
			b.WriteString("\n  - " + c)
		}
		b.WriteString("\n  To take them over (each is imported, then updated to this stack's configuration, and owned by the stack from then on): " +
			"`pulumi config set " + stackconfig.Key(stackconfig.KeyAdopt) + " true` (README: Migrating from the manual walkthrough). Otherwise delete them, or change the names the stack uses.")
	}
	if len(e.Refusals) > 0 {
		b.WriteString("\n  cannot be taken over:")
		for _, r := range e.Refusals {
			b.WriteString("\n  - " + r)
		}
	}
	return b.String()
}

// Decide decides, from what the stack wants and what exists, what
// the component imports. Objects this stack manages (AWS: tagged with
// stackconfig.StackTagKey = marker; Kubernetes: labelled by the component for this
// workload) are left to the engine. Others are conflicts unless adopt is
// on; with it on they are imported, except what cannot be taken over
// without a replacement (a role's path or name spelling, a pod's spec) or
// has another owner (another stack, an add-on, another workload of this
// program), which is refused in any case, naming the field.
func Decide(want discover.Want, found discover.Existing, sw Switches, st Stack) (Plan, error) {
	adopt := sw.Adopt
	var plan Plan
	var errs Error
	adoption := &podidentity.Adoption{Namespaces: map[string]string{}, Workloads: map[string]podidentity.WorkloadAdoption{}}
	// take records an object to take over, or, with adopt off, a conflict
	// with what else the user can do about it.
	take := func(what, otherwise string) bool {
		if !adopt {
			errs.Conflicts = append(errs.Conflicts, what+otherwise)
			return false
		}
		plan.Taken = append(plan.Taken, what)
		return true
	}
	refuse := func(format string, args ...any) {
		errs.Refusals = append(errs.Refusals, fmt.Sprintf(format, args...))
	}

	if a := found.Agent; want.Agent && a != nil {
		what := fmt.Sprintf("EKS add-on %s on cluster %s (%s)", podidentity.AgentAddonName, want.Cluster, stackconfig.Key(stackconfig.KeyManageAgent))
		switch owner := a.Tags[stackconfig.StackTagKey]; {
		case st.Owns(owner):
			// The stack's own now; whether it was adopted is only known
			// from the tag the adopting run put on it.
			plan.AgentAdopted = a.Tags[stackconfig.AdoptedTagKey] == "true"
		case owner != "":
			refuse("%s is managed by stack %s (tag %s): one stack owns the add-on; set %s to false in this one%s", what, owner, stackconfig.StackTagKey, stackconfig.Key(stackconfig.KeyManageAgent), st.sameName(owner))
		default:
			if take(what, ", or set "+stackconfig.Key(stackconfig.KeyManageAgent)+" to false to leave it alone") {
				adoption.Agent = want.Cluster + ":" + podidentity.AgentAddonName
				plan.AgentAdopted = true
			}
		}
	}

	// The service accounts the stack declares: their associations are its
	// own to judge; any other association naming one of its roles is not.
	declared := map[string]bool{}
	for _, w := range want.Workloads {
		declared[w.Namespace+"/"+w.ServiceAccount] = true
	}

	namespaces := map[string]bool{}
	for i, w := range want.Workloads {
		at := func(field string) string {
			return fmt.Sprintf("%s[%d].%s", stackconfig.Key(stackconfig.KeyWorkloads), i, field)
		}
		var wa podidentity.WorkloadAdoption

		if r := found.Roles[w.RoleName]; w.RoleName != "" && r != nil {
			what := fmt.Sprintf("IAM role %s (%s)", r.Name, at("roleName"))
			path := w.RolePath
			if path == "" {
				path = "/"
			}
			owner := r.Tags[stackconfig.StackTagKey]
			if others := otherUsers(found.AllAssociations, r, declared, st); len(others) > 0 && (owner == "" || st.Owns(owner)) {
				refuse("%s", sharedRoleRefusal(what, others, w, want.Cluster, st.Owns(owner), at("roleName")))
			}
			switch {
			case st.Owns(owner):
			case owner != "":
				refuse("%s is managed by stack %s (tag %s): a role has one owner; use another roleName%s", what, owner, stackconfig.StackTagKey, st.sameName(owner))
			case r.Name != w.RoleName:
				// IAM role names are unique regardless of case; Pulumi would
				// see the name change and replace the role.
				refuse("%s: the role is spelled %q in IAM; %s must match it exactly, or the role would be replaced", what, r.Name, at("roleName"))
			case r.Path != path:
				refuse("%s has path %q, but %s is %q: IAM cannot move a role to another path, so taking it over would replace it; set %s to %q",
					what, r.Path, at("rolePath"), path, at("rolePath"), r.Path)
			case w.Irsa != nil:
				// A move from IRSA starts from the role the service
				// account uses: the stack's from the first phase on.
				plan.Taken = append(plan.Taken, what+" (from: irsa)")
				wa.Role = r.Name
			default:
				if take(what, "") {
					wa.Role = r.Name
				}
			}
		}

		if as := found.Associations[w.Namespace+"/"+w.ServiceAccount]; as != nil {
			what := fmt.Sprintf("pod identity association %s for %s/%s on cluster %s (%s)", as.ID, w.Namespace, w.ServiceAccount, want.Cluster, at("serviceAccount"))
			switch owner := as.Tags[stackconfig.StackTagKey]; {
			case as.OwnerArn != "":
				refuse("%s belongs to %s, which manages it: remove it from that add-on's podIdentityAssociations first (EKS allows one association per service account)", what, as.OwnerArn)
			case st.Owns(owner):
			case owner != "":
				refuse("%s is managed by stack %s (tag %s): EKS allows one association per service account; remove the workload from one of the stacks%s", what, owner, stackconfig.StackTagKey, st.sameName(owner))
			case !namesRole(as.RoleArn, w.RoleName) && adopt && !sw.Repoint:
				// Taking it over repoints it in place: every pod using the
				// service account changes identity at once, and the old
				// role, with its trust, is left behind.
				want := "a role Pulumi names"
				if w.RoleName != "" {
					want = "role " + w.RoleName
				}
				refuse("%s names role %s, not the workload's (%s): taking it over would repoint it, so the pods of %s/%s would change identity at the next admission, and role %s would be left as it is (not deleted, its trust unchanged). "+
					"To repoint it, set %s to true; to keep it, set %s to that role's name and it is taken over as it is",
					what, as.RoleArn, want, w.Namespace, w.ServiceAccount, roleName(as.RoleArn), stackconfig.Key(stackconfig.KeyAdoptRepoint), at("roleName"))
			case w.UsesCloudControl():
				// Adopt or not: the create would meet it half-way.
				refuse("%s cannot be taken over as it is: the workload's association is made through Cloud Control (targetRoleArn, disableSessionTags or sessionPolicy), and pulumi-aws v6 cannot import one (Terraform's aws_cloudcontrolapi_resource has no importer). "+
					"Either take it over without those keys first (with %s on, the native association is imported), then add them: the next `up` replaces it, deleting it first; "+
					"or delete it (`aws eks delete-pod-identity-association --cluster-name %s --association-id %s`) and let the stack create it",
					what, stackconfig.Key(stackconfig.KeyAdopt), want.Cluster, as.ID)
			default:
				if take(what, "") {
					wa.Association = want.Cluster + "," + as.ID
				}
			}
		}

		if w.CreateNamespace && !namespaces[w.Namespace] {
			namespaces[w.Namespace] = true
			if o := found.Namespaces[w.Namespace]; o != nil {
				what := fmt.Sprintf("Namespace %s (%s)", w.Namespace, at("createNamespace"))
				switch kubeOwner(o, want.Component, "", st) {
				case ownedHere:
				case ownedByStack:
					refuse("%s", otherStackRefusal(what, o, st, "namespace "+w.Namespace))
				case ownedElsewhere:
					refuse("%s is labelled %s=%s, %s=%s: another PodIdentity component manages it", what,
						labelPartOf, o.Labels[labelPartOf], labelInstance, o.Labels[labelInstance])
				default:
					if take(what, ", or set createNamespace to false to use it as it is") {
						adoption.Namespaces[w.Namespace] = w.Namespace
					}
				}
			}
		}

		if o := found.ServiceAccounts[w.Namespace+"/"+w.ServiceAccount]; !w.ExternalServiceAccount && o != nil {
			what := fmt.Sprintf("ServiceAccount %s/%s (%s)", w.Namespace, w.ServiceAccount, at("serviceAccount"))
			switch kubeOwner(o, want.Component, w.Name, st) {
			case ownedHere:
			case ownedByStack:
				refuse("%s", otherStackRefusal(what, o, st, "serviceaccount "+w.ServiceAccount+" -n "+w.Namespace))
			case ownedElsewhere:
				refuse("%s is labelled for workload %q of component %q: another workload or stack manages it (renaming a workload re-creates its objects)",
					what, o.Labels[labelWorkload], o.Labels[labelInstance])
			default:
				if take(what, ", or set externalServiceAccount to true to use it as it is") {
					wa.ServiceAccount = w.Namespace + "/" + w.ServiceAccount
				}
			}
		}

		if o := found.Pods[w.Namespace+"/"+w.TestPodName]; w.TestPod && o != nil {
			what := fmt.Sprintf("Pod %s/%s (%s)", w.Namespace, w.TestPodName, at("testPodName"))
			switch kubeOwner(o, want.Component, w.Name, st) {
			case ownedHere:
			case ownedByStack:
				refuse("%s", otherStackRefusal(what, o, st, "pod "+w.TestPodName+" -n "+w.Namespace))
			case ownedElsewhere:
				refuse("%s is labelled for workload %q of component %q: another workload or stack manages it", what, o.Labels[labelWorkload], o.Labels[labelInstance])
			default:
				if ended(o.Phase) {
					// Kept as it is, it would stay dead with no diff, and the
					// walkthrough's `kubectl exec` into it fails.
					refuse("%s has ended (phase %s: its `sleep 3600` is over, or it failed): a pod cannot be restarted or exec'd into once it has ended, so it is not taken over. "+
						"Delete it (`kubectl delete pod %s -n %s`) and the stack creates its own, or set %s to false",
						what, o.Phase, w.TestPodName, w.Namespace, at("testPod"))
				} else if field, live, declared := podDifference(o.Pod, w.ServiceAccount, want.Image); field != "" {
					refuse("%s differs from the stack's test pod in %s (%s, the stack declares %s): a pod's spec cannot change, so it cannot be taken over. "+
						"Delete it (`kubectl delete pod %s -n %s`; it only runs sleep) and the stack creates its own, or set %s to false",
						what, field, live, declared, w.TestPodName, w.Namespace, at("testPod"))
				} else {
					// Nothing to import: its spec is already the stack's, and
					// the Kubernetes provider's upsertExistingObjects applies
					// the stack's labels to it in place of a create.
					if adopt {
						wa.TestPodRunning = true
						plan.Taken = append(plan.Taken, what+": its spec is already the stack's, so it is kept as it is and only labelled")
					} else {
						errs.Conflicts = append(errs.Conflicts, what+": its spec is the stack's, so adopt would keep it as it is; or set "+at("testPod")+" to false")
					}
				}
			}
		}

		if wa != (podidentity.WorkloadAdoption{}) {
			adoption.Workloads[w.Name] = wa
		}
	}

	if len(errs.Conflicts) > 0 || len(errs.Refusals) > 0 {
		return Plan{}, &errs
	}
	if adoption.Agent != "" || len(adoption.Namespaces) > 0 || len(adoption.Workloads) > 0 {
		if len(adoption.Namespaces) == 0 {
			adoption.Namespaces = nil
		}
		if len(adoption.Workloads) == 0 {
			adoption.Workloads = nil
		}
		plan.Adopt = adoption
	}
	return plan, nil
}

// KeepAgent is the component's arguments once Decide has said whether the
// stack adopted the agent add-on: an adopted add-on is tagged
// stackconfig.AdoptedTagKey (Adoption.AgentTags), so later runs still
// know, and kept running on
// destroy (Preserve), whatever preserveAgent says. Before adoption, every
// other pod identity on the cluster relied on that add-on; deleting it with
// the stack would take their credentials. preserveAgent: false cannot
// override it: the Pulumi CLI hands Pulumi.yaml's default to the program as
// if the stack set it (and a key declared without a default is required),
// so an explicit false cannot be told from the default. A user who wants
// the agent gone removes the add-on's adopted tag (docs/migrating.md).
// The second result says whether Preserve was set here, for the log.
func KeepAgent(args podidentity.Args, adopted bool) (podidentity.Args, bool) {
	if !adopted {
		return args, false
	}
	// A copy: the plan's Adoption stays as Decide made it.
	var a podidentity.Adoption
	if args.Adopt != nil {
		a = *args.Adopt
	}
	tags := map[string]string{}
	for k, v := range a.AgentTags {
		tags[k] = v
	}
	tags[stackconfig.AdoptedTagKey] = "true"
	a.AgentTags = tags
	args.Adopt = &a
	kept := !args.Agent.Preserve
	args.Agent.Preserve = true
	return args, kept
}

// ended says a pod's phase is past running: Succeeded, Failed, or Unknown
// (its node is gone). Empty is a pod recorded without its status.
func ended(phase string) bool {
	return phase != "" && phase != "Running" && phase != "Pending"
}

// otherUsers are the associations, other than the declared service
// accounts' and this stack's own, whose role is r. One of this stack's that
// it no longer declares is on its way out (a workload moved to another
// namespace: the engine replaces its association), not a stranger.
func otherUsers(all []*discover.FoundAssociation, r *discover.FoundRole, declared map[string]bool, st Stack) []*discover.FoundAssociation {
	var out []*discover.FoundAssociation
	for _, a := range all {
		if declared[a.Namespace+"/"+a.ServiceAccount] || st.Owns(a.Tags[stackconfig.StackTagKey]) {
			continue
		}
		if (r.Arn != "" && a.RoleArn == r.Arn) || namesRole(a.RoleArn, r.Name) {
			out = append(out, a)
		}
	}
	return out
}

// sharedRoleRefusal says why a role other associations use is not taken
// over, or, once it is the stack's, why the stack stops: its trust (when
// scoped) admits only the workload's service account, and destroy deletes
// the role those associations still name.
func sharedRoleRefusal(what string, others []*discover.FoundAssociation, w podidentity.Workload, cluster string, managed bool, key string) string {
	var names []string
	for _, a := range others {
		n := fmt.Sprintf("%s for %s/%s", a.ID, a.Namespace, a.ServiceAccount)
		if a.OwnerArn != "" {
			n += " (owned by " + a.OwnerArn + ")"
		}
		names = append(names, n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is also the role of pod identity association %s on cluster %s, which this stack does not declare: ", what, strings.Join(names, ", "), cluster)
	scoped := w.Trust != podidentity.TrustOpen
	switch {
	case managed && scoped:
		fmt.Fprintf(&b, "the stack manages the role, and its trust policy admits only %s/%s, so those pods get no credentials; ", w.Namespace, w.ServiceAccount)
	case scoped:
		fmt.Fprintf(&b, "taking it over would narrow its trust policy to %s/%s, so those pods would be refused credentials at once; ", w.Namespace, w.ServiceAccount)
	case !managed:
		b.WriteString("taking it over would make it the stack's; ")
	}
	fmt.Fprintf(&b, "and `pulumi destroy` would delete the role they name. "+
		"Point them at a role of their own (`aws eks update-pod-identity-association --cluster-name %s --association-id <id> --role-arn <arn>`) or delete them, "+
		"or set %s to another name so the stack uses a role of its own", cluster, key)
	return b.String()
}

type kubeOwnership int

const (
	unmanaged kubeOwnership = iota
	ownedHere
	ownedElsewhere
	ownedByStack
)

// kubeOwner tells, from the component's labels and the stack's annotation,
// whether a Kubernetes object is this stack's component's (for this
// workload, when workload is set), another component's, another stack's
// with the same component (ownedByStack), or nobody's. The labels name the
// component and workload only: two stacks with the same config would look
// alike without the annotation, and the Kubernetes provider's
// upsertExistingObjects would take one's objects for the other's.
func kubeOwner(o *discover.FoundObject, component, workload string, st Stack) kubeOwnership {
	if o.Labels[labelPartOf] != podidentity.LabelPartOf {
		return unmanaged
	}
	if o.Labels[labelInstance] != component || (workload != "" && o.Labels[labelWorkload] != workload) {
		return ownedElsewhere
	}
	// Unannotated: made before stack IDs, when the labels were all there was.
	if m := o.Annotations[StackAnnotationKey]; !st.Owns(m) && (m != "" || !st.Legacy) {
		return ownedByStack
	}
	return ownedHere
}

// otherStackRefusal says why an object another stack of the same component
// made is not this stack's.
func otherStackRefusal(what string, o *discover.FoundObject, st Stack, kubectl string) string {
	m := o.Annotations[StackAnnotationKey]
	if m == "" {
		return fmt.Sprintf("%s has this component's labels but no %s annotation: it was made before stack IDs, by a stack in another state than this one (%s), which has recorded its ID. "+
			"If it is this stack's, `kubectl annotate %s %s=%s`", what, StackAnnotationKey, st.Marker, kubectl, StackAnnotationKey, st.Marker)
	}
	return fmt.Sprintf("%s is annotated %s=%s: another stack with this component's names manages it%s", what, StackAnnotationKey, m, st.sameName(m))
}

// podDifference names the first field in which a live pod's spec differs
// from the test pod's, with both values, or returns "" when it matches.
func podDifference(p *discover.PodSpec, serviceAccount, image string) (field, live, declared string) {
	if p == nil {
		return "spec", "unknown", "the test pod's"
	}
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	list := func(s []string) string { return fmt.Sprintf("%q", s) }
	switch {
	case p.ServiceAccountName != serviceAccount:
		return "spec.serviceAccountName", q(p.ServiceAccountName), q(serviceAccount)
	case p.RestartPolicy != "Never":
		return "spec.restartPolicy", q(p.RestartPolicy), q("Never")
	case len(p.Containers) != 1:
		return "spec.containers", fmt.Sprintf("%d containers", len(p.Containers)), "one, aws-cli"
	}
	c := p.Containers[0]
	switch {
	case c.Name != "aws-cli":
		return "spec.containers[0].name", q(c.Name), q("aws-cli")
	case c.Image != image:
		return "spec.containers[0].image", q(c.Image), q(image)
	case !slices.Equal(c.Command, testPodCommand):
		return "spec.containers[0].command", list(c.Command), list(testPodCommand)
	case len(c.Args) > 0:
		return "spec.containers[0].args", list(c.Args), "none"
	}
	// The hardening (podidentity's hardening.go): every field the stack
	// declares, compared as set or unset; what EKS's webhook adds (its token
	// volume, mount and variables) is not the stack's and is left alone.
	boolean := func(b *bool) string {
		if b == nil {
			return "unset"
		}
		return fmt.Sprint(*b)
	}
	number := func(n *int64) string {
		if n == nil {
			return "unset"
		}
		return fmt.Sprint(*n)
	}
	str := func(s string) string {
		if s == "" {
			return "unset"
		}
		return q(s)
	}
	home, hasHome := c.Env["HOME"]
	switch {
	case boolean(p.AutomountServiceAccountToken) != "false":
		return "spec.automountServiceAccountToken", boolean(p.AutomountServiceAccountToken), "false"
	case boolean(p.RunAsNonRoot) != "true":
		return "spec.securityContext.runAsNonRoot", boolean(p.RunAsNonRoot), "true"
	case number(p.RunAsUser) != fmt.Sprint(podidentity.PodUser):
		return "spec.securityContext.runAsUser", number(p.RunAsUser), fmt.Sprint(podidentity.PodUser)
	case number(p.RunAsGroup) != fmt.Sprint(podidentity.PodGroup):
		return "spec.securityContext.runAsGroup", number(p.RunAsGroup), fmt.Sprint(podidentity.PodGroup)
	case p.SeccompProfile != podidentity.SeccompProfile:
		return "spec.securityContext.seccompProfile.type", str(p.SeccompProfile), q(podidentity.SeccompProfile)
	case !slices.Contains(p.EmptyDirs, podidentity.HomeVolume):
		return "spec.volumes", "no emptyDir " + q(podidentity.HomeVolume), "emptyDir " + q(podidentity.HomeVolume)
	case boolean(c.AllowPrivilegeEscalation) != "false":
		return "spec.containers[0].securityContext.allowPrivilegeEscalation", boolean(c.AllowPrivilegeEscalation), "false"
	case boolean(c.ReadOnlyRootFilesystem) != "true":
		return "spec.containers[0].securityContext.readOnlyRootFilesystem", boolean(c.ReadOnlyRootFilesystem), "true"
	case !slices.Equal(c.DropCapabilities, []string{podidentity.DroppedCapabilities}):
		return "spec.containers[0].securityContext.capabilities.drop", list(c.DropCapabilities), list([]string{podidentity.DroppedCapabilities})
	case c.Mounts[podidentity.HomeDir] != podidentity.HomeVolume:
		return "spec.containers[0].volumeMounts", "nothing of " + q(podidentity.HomeVolume) + " at " + q(podidentity.HomeDir),
			q(podidentity.HomeVolume) + " at " + q(podidentity.HomeDir)
	case !hasHome || home != podidentity.HomeDir:
		return "spec.containers[0].env HOME", str(home), q(podidentity.HomeDir)
	}
	return "", "", ""
}

// roleName is a role ARN's name, without its path.
func roleName(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// namesRole says whether a role ARN names the role called name (an
// auto-named role, name "", cannot be named yet).
func namesRole(arn, name string) bool {
	return name != "" && strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":role/") && roleName(arn) == name
}
