package podidentity

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Adoption names existing objects the component takes over instead of
// creating them: each child listed gets pulumi.Import with the import ID its
// provider expects, so the engine reads the object into the stack's state
// and then updates it to the component's inputs (Pulumi CLI 3.174 and
// later import and update in one deployment).
//
// Give an import ID only while the object is NOT yet in the stack's state.
// Once it is, the engine compares the ID with the one it recorded: the same
// ID is ignored, but a different one (an association's import ID is
// "cluster,a-..." while Pulumi records "a-...") plans an import-replacement,
// which deletes the live object. Finding out which objects are not yet
// managed is the caller's job (the program's discovery does it).
//
// Only children whose import ID is the ID Pulumi records, or whose record
// the caller can tell apart, are adoptable here. Policy attachments and
// inline policies are not: creating them over existing ones is idempotent in
// IAM (AttachRolePolicy, PutRolePolicy). The test Pod is not: importing it
// fills its inputs with every live spec field, and the diff to the
// component's spec is a replacement, which the engine refuses for imports.
type Adoption struct {
	// Agent is the eks-pod-identity-agent add-on's import ID,
	// "<cluster>:eks-pod-identity-agent". Empty creates it.
	Agent string
	// AgentTags are added to the add-on's tags only, over Args.Tags: the
	// caller marks an add-on it took over, on the run that imports it and
	// on every later one (when Agent is empty). Optional.
	AgentTags map[string]string
	// Namespaces maps a namespace the component creates (CreateNamespace)
	// to its import ID, which is its name.
	Namespaces map[string]string
	// Workloads maps a workload's name to its children's import IDs.
	Workloads map[string]WorkloadAdoption
}

// WorkloadAdoption holds one workload's import IDs; an empty one creates
// the child.
type WorkloadAdoption struct {
	// Role is the IAM role's import ID: its name, which must be the
	// workload's RoleName (an auto-named role cannot be adopted).
	Role string
	// Association is the Pod Identity Association's import ID,
	// "<cluster>,<association ID>".
	Association string
	// ServiceAccount is the ServiceAccount's import ID, "<namespace>/<name>".
	ServiceAccount string
	// TestPodRunning says the test pod already runs with the component's
	// spec and is being taken over (the Kubernetes provider's upsert labels
	// it; a pod cannot be imported). It then waits for no proof, and the
	// verification Job waits for it instead: pulumi-kubernetes' await of a
	// pod reads the namespace's pod informer, which the Job's await would
	// already have filled with the pod as it was before it was labelled,
	// and the state would record it unlabelled, a change at the next
	// preview.
	TestPodRunning bool
}

// The labels the component puts on every Kubernetes object it creates
// (LabelKeyInstance carries the component's name, LabelKeyWorkload the
// workload's), by which a caller tells the component's objects apart.
const (
	LabelKeyPartOf   = "app.kubernetes.io/part-of"
	LabelPartOf      = "eks-pod-identity"
	LabelKeyInstance = "app.kubernetes.io/instance"
	LabelKeyWorkload = "eks-pod-identity/workload"
)

// Resolved returns the workload with its defaults filled in (name,
// namespace, trust, policies, test pod name, access check), as the
// component creates it: callers use it to know the natural keys of what
// the component will create.
func (w Workload) Resolved(partition string) Workload {
	return w.withDefaults(partition)
}

// importOpt is the option that adopts an object, or none.
func importOpt(id string) []pulumi.ResourceOption {
	if id == "" {
		return nil
	}
	return []pulumi.ResourceOption{pulumi.Import(pulumi.ID(id))}
}

func (a *Adoption) agent() string {
	if a == nil {
		return ""
	}
	return a.Agent
}

func (a *Adoption) agentTags() map[string]string {
	if a == nil {
		return nil
	}
	return a.AgentTags
}

func (a *Adoption) namespace(ns string) string {
	if a == nil {
		return ""
	}
	return a.Namespaces[ns]
}

func (a *Adoption) workload(name string) WorkloadAdoption {
	if a == nil {
		return WorkloadAdoption{}
	}
	return a.Workloads[name]
}

// adoptionProblems checks that every import ID names an object the
// component will declare, in the form its provider expects. The cluster
// name is an input (maybe unknown yet), so only the shape of the IDs that
// carry it is checked.
func (a Args) adoptionProblems() Problems {
	var ps Problems
	adopt := a.Adopt
	if adopt == nil {
		return nil
	}
	if len(adopt.AgentTags) > 0 && a.Agent.Skip {
		ps.add("adopt.agentTags", "is set, but this component does not manage the agent add-on (agent.skip)")
	}
	if adopt.Agent != "" {
		cluster, addon, ok := strings.Cut(adopt.Agent, ":")
		switch {
		case a.Agent.Skip:
			ps.add("adopt.agent", "%q is set, but this component does not manage the agent add-on (agent.skip)", adopt.Agent)
		case !ok || cluster == "" || addon != AgentAddonName:
			ps.add("adopt.agent", "%q is not an add-on import ID: expected \"<cluster>:%s\"", adopt.Agent, AgentAddonName)
		}
	}
	created := map[string]bool{}
	byName := map[string]Workload{}
	for _, raw := range a.Workloads {
		w := raw.withDefaults(a.partition())
		byName[w.Name] = w
		if w.CreateNamespace {
			created[w.Namespace] = true
		}
	}
	for _, ns := range sortedKeys(adopt.Namespaces) {
		at := fmt.Sprintf("adopt.namespaces[%s]", ns)
		switch id := adopt.Namespaces[ns]; {
		case !created[ns]:
			ps.add(at, "namespace %q is not created by any workload (createNamespace), so there is nothing to adopt it into", ns)
		case id != ns:
			ps.add(at, "%q is not the namespace's import ID: expected its name, %q", id, ns)
		}
	}
	for _, name := range sortedKeys(adopt.Workloads) {
		wa := adopt.Workloads[name]
		at := func(field string) string { return fmt.Sprintf("adopt.workloads[%s].%s", name, field) }
		w, ok := byName[name]
		if !ok {
			ps.add(fmt.Sprintf("adopt.workloads[%s]", name), "there is no workload named %q (workloads: %s)", name, strings.Join(sortedKeys(byName), ", "))
			continue
		}
		if wa.Role != "" && wa.Role != w.RoleName {
			if w.RoleName == "" {
				ps.add(at("role"), "%q cannot be adopted: the workload's role is auto-named; set roleName to %q to take it over", wa.Role, wa.Role)
			} else {
				ps.add(at("role"), "%q is not the workload's role: its import ID is its name, %q", wa.Role, w.RoleName)
			}
		}
		if wa.Association != "" && w.usesCloudControl() {
			// pulumi-aws v6 cannot import a Cloud Control resource: the
			// Terraform aws_cloudcontrolapi_resource it bridges declares no
			// importer. (The program's pre-flight refuses this earlier,
			// adoption.Decide, with both ways out.)
			ps.add(at("association"), "%q cannot be adopted: the workload sets targetRoleArn, disableSessionTags or sessionPolicy, so its association is a Cloud Control resource, which pulumi-aws v6 cannot import; adopt it without those keys first and add them after (the next update replaces it), or delete it (aws eks delete-pod-identity-association) and let the component create it", wa.Association)
		} else if wa.Association != "" {
			cluster, id, ok := strings.Cut(wa.Association, ",")
			if !ok || cluster == "" || !strings.HasPrefix(id, "a-") {
				ps.add(at("association"), "%q is not an association import ID: expected \"<cluster>,<association ID>\" (the ID starts with a-)", wa.Association)
			}
		}
		if wa.TestPodRunning && !w.TestPod {
			ps.add(at("testPodRunning"), "is true, but the workload has no test pod (testPod is false)")
		}
		if wa.ServiceAccount != "" {
			want := w.Namespace + "/" + w.ServiceAccount
			switch {
			case w.ExternalServiceAccount:
				ps.add(at("serviceAccount"), "%q is set, but the workload's service account is external: the component creates none", wa.ServiceAccount)
			case wa.ServiceAccount != want:
				ps.add(at("serviceAccount"), "%q is not the workload's service account: its import ID is %q", wa.ServiceAccount, want)
			}
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	return ps
}
