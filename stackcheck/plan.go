package stackcheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/platform-eng/eks-pod-identity/stackconfig"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Plan is what `pulumi up` would create, read from the registrations.
type Plan struct {
	// Providers are the explicit providers; resources without one use the
	// stack's default provider for their package.
	Providers []Step
	// Components group resources; they create nothing in the cloud.
	Components []Step
	// Resources are the cloud and cluster resources, ordered by Wave and
	// then by registration.
	Resources []Step
}

// Step is one resource in the plan.
type Step struct {
	// Wave is 1 for a resource that waits for no other, else one more than
	// the latest wave it waits for: the engine creates a wave's resources
	// in parallel, once the waves before them are done.
	Wave       int
	Type, Name string
	// Details are its key inputs, one per line.
	Details []string
	// WaitsFor names the resources it depends on (inputs or DependsOn).
	WaitsFor []string
	// DeleteBeforeReplace says a replacement deletes it first.
	DeleteBeforeReplace bool
	// Remote says it is a remote component (pulumi-eks's cluster and node
	// group): its provider creates its children, which the mocks never see.
	Remote bool
	// ImportID is set when `up` would import the object (adopt), then
	// update it in place to the stack's configuration, instead of creating it.
	ImportID string
}

// Imported counts the resources `up` would import rather than create.
func (p *Plan) Imported() int {
	n := 0
	for _, s := range p.Resources {
		if s.ImportID != "" {
			n++
		}
	}
	return n
}

// NewPlan orders registrations into creation waves and describes each.
// userKubeconfig says the stack gives its own kubeconfig
// (eks-pod-identity:kubeconfig), whose exec arguments may hold credentials
// and so are never shown.
func NewPlan(regs []*Registration, userKubeconfig bool) *Plan {
	byURN := map[string]*Registration{}
	for _, r := range regs {
		byURN[r.URN] = r
	}
	p := &Plan{}
	waves := map[string]int{}
	var wave func(r *Registration) int
	wave = func(r *Registration) int {
		if w, ok := waves[r.URN]; ok {
			return w
		}
		waves[r.URN] = 1 // a cycle cannot occur; this only bounds a broken one
		w := 1
		for _, d := range cloudDependencies(r, byURN) {
			w = max(w, wave(d)+1)
		}
		waves[r.URN] = w
		return w
	}
	for _, r := range regs {
		step := Step{Type: r.Type, Name: r.Name, Details: describe(r, userKubeconfig), DeleteBeforeReplace: r.DeleteBeforeReplace, Remote: r.Remote, ImportID: r.ImportID}
		switch {
		case r.Type == "pulumi:providers:kubernetes" && r.Name == "stack-marker":
			step.Details = []string{"manages nothing: its ID, which the engine keeps in the state, is the stack's ID in the tag " + stackconfig.StackTagKey}
			p.Providers = append(p.Providers, step)
		case strings.HasPrefix(r.Type, "pulumi:providers:"):
			p.Providers = append(p.Providers, step)
		case !r.Custom && !r.Remote:
			p.Components = append(p.Components, step)
		default:
			step.Wave = wave(r)
			for _, d := range cloudDependencies(r, byURN) {
				step.WaitsFor = append(step.WaitsFor, d.Name)
			}
			slices.Sort(step.WaitsFor)
			p.Resources = append(p.Resources, step)
		}
	}
	// Registration order varies from run to run (the program registers from
	// goroutines), so within a wave resources are listed by name: the same
	// stack always prints the same plan.
	sort.SliceStable(p.Resources, func(i, j int) bool {
		a, b := p.Resources[i], p.Resources[j]
		if a.Wave != b.Wave {
			return a.Wave < b.Wave
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Type < b.Type
	})
	return p
}

// RemoteComponents are the resources whose own children their provider
// creates out of the mocks' sight (pulumi-eks's components).
func (p *Plan) RemoteComponents() []Step {
	var out []Step
	for _, s := range p.Resources {
		if s.Remote {
			out = append(out, s)
		}
	}
	return out
}

// cloudDependencies are r's dependencies that are resources of their own,
// not components or providers, without repeats.
func cloudDependencies(r *Registration, byURN map[string]*Registration) []*Registration {
	var out []*Registration
	for _, urn := range r.Dependencies {
		d := byURN[urn]
		if d == nil || (!d.Custom && !d.Remote) || strings.HasPrefix(d.Type, "pulumi:providers:") || slices.Contains(out, d) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// describe says what a resource is, from its inputs, in the walkthrough's
// terms. Types the program does not create get their input names.
func describe(r *Registration, userKubeconfig bool) []string {
	if lines, ok := describeCreated(r); ok {
		return lines
	}
	in := r.Inputs
	switch r.Type {
	case "pulumi:providers:kubernetes":
		return describeKubernetesProvider(in, userKubeconfig)
	case "aws:eks/addon:Addon":
		version := "EKS default"
		if v := str(in, "addonVersion"); v != "" {
			version = v
		}
		return []string{
			fmt.Sprintf("add-on %s on cluster %s, version %s", str(in, "addonName"), str(in, "clusterName"), version),
			fmt.Sprintf("conflicts: %s on create, %s on update; preserve on delete: %v", str(in, "resolveConflictsOnCreate"), str(in, "resolveConflictsOnUpdate"), in["preserve"].V),
		}
	case "aws:iam/role:Role":
		return describeRole(r)
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		return []string{fmt.Sprintf("attach %s to role %s", str(in, "policyArn"), str(in, "role"))}
	case "aws:iam/rolePolicy:RolePolicy":
		return append([]string{fmt.Sprintf("inline policy %s on role %s:", str(in, "name"), str(in, "role"))}, describePolicy(str(in, "policy"))...)
	case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		return []string{fmt.Sprintf("cluster %s: service account %s/%s gets role %s", str(in, "clusterName"), str(in, "namespace"), str(in, "serviceAccount"), str(in, "roleArn"))}
	case "aws:cloudcontrol/resource:Resource":
		return append([]string{"Cloud Control resource " + str(in, "typeName") + ", desired state:"}, describeJSON(str(in, "desiredState"))...)
	case "kubernetes:core/v1:Namespace":
		return []string{"namespace " + str(obj(in, "metadata"), "name")}
	case "kubernetes:core/v1:ServiceAccount":
		meta := obj(in, "metadata")
		line := fmt.Sprintf("service account %s/%s", str(meta, "namespace"), str(meta, "name"))
		if _, irsa := obj(meta, "annotations")["eks.amazonaws.com/role-arn"]; irsa {
			return []string{line + ", with the IRSA annotation eks.amazonaws.com/role-arn"}
		}
		return []string{line + ", no eks.amazonaws.com/role-arn annotation (Pod Identity needs none)"}
	case "kubernetes:core/v1:Pod":
		meta, spec := obj(in, "metadata"), obj(in, "spec")
		c := firstContainer(spec)
		return []string{
			fmt.Sprintf("pod %s/%s as service account %s", str(meta, "namespace"), str(meta, "name"), str(spec, "serviceAccountName")),
			fmt.Sprintf("image %s, command %s, restartPolicy %s", str(c, "image"), strings.Join(strs(c, "command"), " "), str(spec, "restartPolicy")),
			describeHardening(spec, c),
		}
	case "kubernetes:batch/v1:Job":
		return describeJob(in)
	case "pulumi:providers:aws":
		return describeAWSProvider(in)
	}
	if len(in) == 0 {
		return nil
	}
	return []string{"inputs: " + strings.Join(sortedKeys(in), ", ")}
}

// describeKubernetesProvider says where the provider's kubeconfig comes
// from. The kubeconfig the program generates shows its whole token command
// (its arguments come from the cluster and non-secret aws: keys); of the
// stack's own kubeconfig only the exec command's name is shown, never its
// arguments or anything else in it, which may hold credentials
// (--client-secret, tokens).
func describeKubernetesProvider(in resource.PropertyMap, userKubeconfig bool) []string {
	kc := in["kubeconfig"]
	secret := ""
	if kc.IsSecret() {
		secret, kc = " (a secret in state)", kc.SecretValue().Element
	}
	if !kc.IsString() {
		return []string{"kubeconfig: none"}
	}
	var doc struct {
		Users []struct {
			User struct {
				Exec struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	var exec []string // each user's exec command
	if json.Unmarshal([]byte(kc.StringValue()), &doc) == nil {
		for _, u := range doc.Users {
			if u.User.Exec.Command != "" {
				exec = append(exec, u.User.Exec.Command)
			}
		}
	}
	var lines []string
	switch {
	case !userKubeconfig && len(doc.Users) == 1 && len(exec) == 1:
		e := doc.Users[0].User.Exec
		lines = []string{fmt.Sprintf("kubeconfig: generated for the cluster, token from `%s %s`%s", e.Command, strings.Join(e.Args, " "), secret)}
	case len(exec) > 0:
		lines = []string{fmt.Sprintf("kubeconfig: from %s:%s%s, token from an exec of %s (arguments not shown: they may hold credentials)",
			stackconfig.Project, stackconfig.KeyKubeconfig, secret, strings.Join(exec, ", "))}
	default:
		lines = []string{"kubeconfig: from " + stackconfig.Project + ":" + stackconfig.KeyKubeconfig + secret}
	}
	if ctx := str(in, "context"); ctx != "" {
		lines = append(lines, "context: "+ctx)
	}
	return lines
}

func describeRole(r *Registration) []string {
	in := r.Inputs
	name := str(in, "name")
	if name == "" {
		name = "auto-named by Pulumi: " + r.Name + "-<7 random characters>"
	}
	path := str(in, "path")
	if path == "" {
		path = "/"
	}
	lines := []string{fmt.Sprintf("role %s, path %s", name, path)}
	if v := str(in, "description"); v != "" {
		lines = append(lines, "description: "+v)
	}
	if v := str(in, "permissionsBoundary"); v != "" {
		lines = append(lines, "permissions boundary: "+v)
	}
	if v := in["maxSessionDuration"]; v.IsNumber() {
		lines = append(lines, fmt.Sprintf("max session: %.0f s", v.NumberValue()))
	}
	lines = append(lines, describeTrust(str(in, "assumeRolePolicy"))...)
	if tags := obj(in, "tags"); len(tags) > 0 {
		lines = append(lines, "tags: "+keyValues(tags))
	}
	return lines
}

// describeTrust renders a trust policy as "who may do what, when".
func describeTrust(doc string) []string {
	var d struct {
		Statement []struct {
			Effect    string
			Principal map[string]any
			Action    []string
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return []string{"trust policy: " + doc}
	}
	var lines []string
	for _, s := range d.Statement {
		who := fmt.Sprint(s.Principal["Service"])
		may := "may"
		if s.Effect != "Allow" {
			may = "may not (" + s.Effect + ")"
		}
		line := fmt.Sprintf("trust: %s %s %s", who, may, strings.Join(s.Action, ", "))
		if len(s.Condition) == 0 {
			lines = append(lines, line+", with no condition (any association in the account can use the role)")
			continue
		}
		lines = append(lines, line+" only when:")
		for _, op := range sortedKeys(s.Condition) {
			for _, k := range sortedKeys(s.Condition[op]) {
				lines = append(lines, fmt.Sprintf("  %s %s %s", k, op, strings.Join(s.Condition[op][k], " | ")))
			}
		}
	}
	return lines
}

// describePolicy renders a permission policy, one statement per line.
func describePolicy(doc string) []string {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return []string{"  " + doc}
	}
	type stmt struct {
		Effect                string
		Action, NotAction     any
		Resource, NotResource any
		Condition             map[string]any
	}
	var list []stmt
	if json.Unmarshal(d.Statement, &list) != nil {
		var one stmt
		if json.Unmarshal(d.Statement, &one) != nil {
			return []string{"  " + doc}
		}
		list = []stmt{one}
	}
	var lines []string
	for _, s := range list {
		action, resource := "", ""
		if s.Action != nil {
			action = joinAny(s.Action)
		} else {
			action = "everything but " + joinAny(s.NotAction)
		}
		if s.Resource != nil {
			resource = joinAny(s.Resource)
		} else {
			resource = "everything but " + joinAny(s.NotResource)
		}
		line := fmt.Sprintf("  %s %s on %s", s.Effect, action, resource)
		if len(s.Condition) > 0 {
			line += " (with conditions)"
		}
		lines = append(lines, line)
	}
	return lines
}

func describeJob(in resource.PropertyMap) []string {
	meta, spec := obj(in, "metadata"), obj(in, "spec")
	podSpec := obj(obj(spec, "template"), "spec")
	c := firstContainer(podSpec)
	env := map[string]string{}
	for _, e := range c["env"].ArrayValue() {
		o := e.ObjectValue()
		env[str(o, "name")] = str(o, "value")
	}
	access := "access check off"
	if v := env["ACCESS_CHECK"]; v != "" {
		access = "`aws " + v + "` succeeds"
	}
	lines := []string{
		fmt.Sprintf("job %s/%s as service account %s, image %s", str(meta, "namespace"), str(meta, "name"), str(podSpec, "serviceAccountName"), str(c, "image")),
		fmt.Sprintf("proves: EKS injected the Pod Identity variables, no IRSA, the caller is role %s, %s", env["EXPECTED_ROLE_ARN"], access),
		describeHardening(podSpec, c),
	}
	if region := env["AWS_REGION"]; region != "" {
		lines = append(lines, "the aws CLI's region: "+region)
	}
	if spec["backoffLimit"].IsNumber() && spec["activeDeadlineSeconds"].IsNumber() {
		lines = append(lines, fmt.Sprintf("up to %.0f retries with fresh pods, %.0f s deadline; a failure fails `pulumi up`",
			spec["backoffLimit"].NumberValue(), spec["activeDeadlineSeconds"].NumberValue()))
	}
	return lines
}

// describeHardening says, from a pod spec's inputs, what its API token,
// user, privileges and filesystem are.
func describeHardening(spec, c resource.PropertyMap) string {
	flag := func(m resource.PropertyMap, k string) string {
		if v := m[resource.PropertyKey(k)]; v.IsBool() {
			return fmt.Sprint(v.BoolValue())
		}
		return "unset"
	}
	num := func(m resource.PropertyMap, k string) string {
		if v := m[resource.PropertyKey(k)]; v.IsNumber() {
			return fmt.Sprintf("%.0f", v.NumberValue())
		}
		return "unset"
	}
	psc, csc := obj(spec, "securityContext"), obj(c, "securityContext")
	home := "unset"
	if env := c["env"]; env.IsArray() {
		for _, e := range env.ArrayValue() {
			if e.IsObject() && str(e.ObjectValue(), "name") == "HOME" {
				home = str(e.ObjectValue(), "value")
			}
		}
	}
	return fmt.Sprintf("automountServiceAccountToken %s; user %s, group %s, runAsNonRoot %s, seccomp %s; allowPrivilegeEscalation %s, drop capabilities %s, readOnlyRootFilesystem %s, HOME %s",
		flag(spec, "automountServiceAccountToken"), num(psc, "runAsUser"), num(psc, "runAsGroup"), flag(psc, "runAsNonRoot"),
		str(obj(psc, "seccompProfile"), "type"), flag(csc, "allowPrivilegeEscalation"), strings.Join(strs(obj(csc, "capabilities"), "drop"), ","),
		flag(csc, "readOnlyRootFilesystem"), home)
}

func str(m resource.PropertyMap, k string) string {
	v := m[resource.PropertyKey(k)]
	if v.IsSecret() {
		return "[secret]"
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func obj(m resource.PropertyMap, k string) resource.PropertyMap {
	if v := m[resource.PropertyKey(k)]; v.IsObject() {
		return v.ObjectValue()
	}
	return resource.PropertyMap{}
}

func strs(m resource.PropertyMap, k string) []string {
	v := m[resource.PropertyKey(k)]
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func firstContainer(spec resource.PropertyMap) resource.PropertyMap {
	if v := spec["containers"]; v.IsArray() && len(v.ArrayValue()) > 0 && v.ArrayValue()[0].IsObject() {
		return v.ArrayValue()[0].ObjectValue()
	}
	return resource.PropertyMap{}
}

func keyValues(m resource.PropertyMap) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		v := str(m, k)
		if k == stackconfig.StackTagKey {
			// Offline there is no state to read the stack's ID from; `up`
			// reads it, or makes one on a new stack.
			name, _ := stackconfig.SplitMarker(v)
			v = stackconfig.Marker(name, "<stack ID>")
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ", ")
}

func joinAny(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	return keys
}

// describeJSON shows a JSON object one top-level key a line, sorted.
func describeJSON(doc string) []string {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(doc), &fields) != nil {
		return []string{"  " + doc}
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		out = append(out, fmt.Sprintf("  %s: %s", k, fields[k]))
	}
	return out
}

// describeAWSProvider says where an explicit AWS provider acts: the role it
// assumes and the accounts it allows (a target account's provider).
func describeAWSProvider(in resource.PropertyMap) []string {
	var assume map[string]any
	if v := in["assumeRole"]; v.IsString() {
		_ = json.Unmarshal([]byte(v.StringValue()), &assume)
	} else if v.IsObject() {
		assume = v.ObjectValue().Mappable()
	}
	var allowed []string
	if v := in["allowedAccountIds"]; v.IsString() {
		_ = json.Unmarshal([]byte(v.StringValue()), &allowed)
	} else if v.IsArray() {
		for _, e := range v.ArrayValue() {
			allowed = append(allowed, e.StringValue())
		}
	}
	line := "region " + str(in, "region")
	if r, _ := assume["roleArn"].(string); r != "" {
		line += ", assumes " + r
		if _, ext := assume["externalId"].(string); ext {
			line += " (with an external ID)"
		}
	}
	if len(allowed) > 0 {
		line += ", acts only in account " + strings.Join(allowed, ", ")
	}
	return []string{line}
}
