// Package stackconfig is the stack file's schema: every key of the
// eks-pod-identity namespace and the aws: keys the program reads, parsed and
// checked into Settings, with each refusal naming its key, the bad value and
// the rule. Pure: it registers nothing and calls no API, so every rule has a
// table test.
package stackconfig

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/spelling"
)

// Project is the Pulumi project name, and so the namespace of its config keys.
const Project = "eks-pod-identity"

// ComponentName names the PodIdentity component every stack of this program
// creates; it prefixes every child's name and so every URN in the stack's
// state, and the component's own rules check it with the settings.
const ComponentName = "pod-identity"

// The project's configuration keys, declared with types, descriptions and
// defaults in Pulumi.yaml; config_test.go keeps the two in step.
const (
	KeyClusterName   = "clusterName"
	KeyManageAgent   = "manageAgent"
	KeyAgentVersion  = "agentVersion"
	KeyPreserveAgent = "preserveAgent"
	KeyAwsCliImage   = "awsCliImage"
	KeyKubeconfig    = "kubeconfig"
	KeyKubeContext   = "kubeContext"
	KeyTags          = "tags"
	KeyWorkloads     = "workloads"
	KeyAdopt         = "adopt"
	KeyAdoptRepoint  = "adoptRepoint"
)

// Keys lists the project's keys in the order the README documents them.
var Keys = []string{KeyClusterName, KeyCreateCluster, KeyManageAgent, KeyAgentVersion, KeyPreserveAgent,
	KeyAwsCliImage, KeyKubeconfig, KeyKubeContext, KeyTags, KeyWorkloads, KeyAdopt, KeyAdoptRepoint, KeyAllowUnknownRegion, KeyStackID, KeyTargetAccounts}

// Settings is the stack configuration, parsed and checked.
type Settings struct {
	// ClusterName is the existing cluster's name, or the created one's.
	ClusterName string
	// Create is the cluster to create (createCluster); nil when the stack
	// names an existing cluster.
	Create *ClusterSpec
	// Region is aws:region, or AWS_REGION / AWS_DEFAULT_REGION: the default
	// AWS provider's region, which the generated kubeconfig uses too.
	Region string
	// Token is the identity the generated kubeconfig's token is fetched as.
	Token TokenIdentity
	// Kubeconfig is a kubeconfig path or its content; empty means the program
	// builds one from the cluster, authenticating with `aws eks get-token`.
	Kubeconfig  string
	KubeContext string
	// Component holds everything but the cluster inputs, which come from the
	// cluster lookup.
	Component podidentity.Args
	// Adopt takes over existing objects the stack would otherwise fail to
	// create (package adoption).
	Adopt bool
	// Repoint lets adoption take over an association that names another
	// role than the workload's, repointing it (adoptRepoint).
	Repoint bool
	// StackID is stackId: empty unless the user sets the stack's ID.
	StackID string
	// TargetAccounts are targetAccounts, by name.
	TargetAccounts map[string]TargetAccount
}

// ConfigError lists every problem found in the stack configuration, each
// naming its full config key.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid stack configuration (no AWS or Kubernetes resource was created):\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Parse reads the raw stack configuration (full keys such as
// "eks-pod-identity:clusterName" to their string values, as Pulumi hands them
// to programs) and reports every problem at once. env supplies AWS_REGION and
// AWS_DEFAULT_REGION when aws:region is unset.
func Parse(raw map[string]string, env func(string) string) (Settings, error) {
	p := parser{raw: raw}
	s := Settings{
		ClusterName: p.str(KeyClusterName, ""),
		Kubeconfig:  p.str(KeyKubeconfig, ""),
		KubeContext: p.str(KeyKubeContext, ""),
		Adopt:       p.boolean(KeyAdopt, false),
		Repoint:     p.boolean(KeyAdoptRepoint, false),
		StackID:     p.str(KeyStackID, ""),
	}
	p.unknownKeys()
	s.Region = cmp.Or(raw[KeyAwsRegion], env("AWS_REGION"), env("AWS_DEFAULT_REGION"))
	regionFrom := "" // where the region came from, when not aws:region
	switch {
	case raw[KeyAwsRegion] != "":
	case env("AWS_REGION") != "":
		regionFrom = "AWS_REGION"
	default:
		regionFrom = "AWS_DEFAULT_REGION"
	}
	allowUnknownRegion := p.boolean(KeyAllowUnknownRegion, false)
	s.Token = p.tokenIdentity(s.Kubeconfig == "")
	s.Component = podidentity.Args{
		Agent: podidentity.Agent{
			Skip:     !p.boolean(KeyManageAgent, true),
			Version:  p.str(KeyAgentVersion, ""),
			Preserve: p.boolean(KeyPreserveAgent, false),
		},
		Image: p.str(KeyAwsCliImage, podidentity.DefaultImage),
		Tags:  p.tags(),
	}
	var targetNames []string
	s.Component.Workloads, targetNames = p.workloads()
	s.TargetAccounts = p.targetAccounts()
	p.resolveTargetRoles(s.Component.Workloads, targetNames, s.TargetAccounts)

	s.Create = p.createCluster(s, time.Now())
	switch {
	case s.Create != nil:
		s.ClusterName = s.Create.Name
	case s.ClusterName == "":
		p.problem(KeyClusterName, "is required: the name of an existing EKS cluster, e.g. `pulumi config set %s my-eks-cluster`, or set %s to create one", KeyClusterName, KeyCreateCluster)
	default:
		if err := podidentity.CheckClusterName(s.ClusterName); err != nil {
			p.problem(KeyClusterName, "%v", err)
		}
	}
	if s.Region == "" {
		p.problems = append(p.problems, KeyAwsRegion+": is not set and neither is AWS_REGION: run `pulumi config set aws:region us-east-1`")
	}
	if msg := regionProblem(s.Region, regionFrom, allowUnknownRegion); msg != "" {
		p.problems = append(p.problems, msg)
	}
	if s.KubeContext != "" && s.Kubeconfig == "" {
		p.problem(KeyKubeContext, "%q is set without %s:%s: a context only selects within a given kubeconfig", s.KubeContext, Project, KeyKubeconfig)
	}
	if s.Kubeconfig != "" && !LooksLikeKubeconfigContent(s.Kubeconfig) {
		if _, err := os.Stat(expandHome(s.Kubeconfig, env)); err != nil {
			// The value is not echoed: it may be kubeconfig content with a
			// token that merely does not look like one.
			p.problem(KeyKubeconfig, "is neither kubeconfig content nor a readable file (value not shown: it may hold credentials): %v", PathErrorCause(err))
		}
	}
	if msg := stackIDProblem(s.StackID); msg != "" {
		p.problems = append(p.problems, msg)
	}
	p.problems = append(p.problems, ReservedTagProblems(s.Component)...)
	// The component's own rules, reported under the config keys they came from.
	p.problems = append(p.problems, ComponentProblems(s.Component)...)
	if len(p.problems) > 0 {
		return Settings{}, &ConfigError{Problems: p.problems}
	}
	s.Kubeconfig = expandHome(s.Kubeconfig, env)
	return s, nil
}

// ComponentProblems runs the component's validation on the settings and
// names each problem by the config key that set it.
func ComponentProblems(args podidentity.Args) []string {
	err := args.ValidateSettings(ComponentName)
	var ps podidentity.Problems
	if !errors.As(err, &ps) {
		if err != nil {
			return []string{err.Error()}
		}
		return nil
	}
	out := make([]string, len(ps))
	for i, pr := range ps {
		out[i] = Key(configKeyFor(pr.Field)) + ": " + pr.Msg
	}
	return out
}

// componentFieldKeys maps the component's field paths that differ from the
// config keys setting them; workload fields are the same in both.
var componentFieldKeys = map[string]string{
	"agent.version":  KeyAgentVersion,
	"agent.preserve": KeyPreserveAgent,
	"image":          KeyAwsCliImage,
}

func configKeyFor(field string) string {
	if k, ok := componentFieldKeys[field]; ok {
		return k
	}
	// Preset inputs are the component's Workload.PresetInputs, but plain
	// workload keys (hostedZoneArns, bucketArns) in the stack file.
	return strings.Replace(field, ".presetInputs.", ".", 1)
}

// Key is a project key in full, as Pulumi names it: eks-pod-identity:<k>.
func Key(k string) string { return Project + ":" + k }

type parser struct {
	raw      map[string]string
	problems []string
}

func (p *parser) problem(k, format string, args ...any) {
	p.problems = append(p.problems, Key(k)+": "+fmt.Sprintf(format, args...))
}

// unknownKeys names every key in the project's namespace that the program
// does not read, with the closest known one: Pulumi passes any key through,
// and a typo such as clustername would otherwise be silently ignored.
func (p *parser) unknownKeys() {
	for _, full := range slices.Sorted(maps.Keys(p.raw)) {
		k, ok := strings.CutPrefix(full, Project+":")
		if !ok || slices.Contains(Keys, k) {
			continue
		}
		if near := closestKey(k, Keys); near != "" {
			p.problems = append(p.problems, fmt.Sprintf("%s: unknown key (did you mean %s?)", full, Key(near)))
		} else {
			p.problems = append(p.problems, fmt.Sprintf("%s: unknown key (known: %s)", full, strings.Join(slices.Sorted(slices.Values(Keys)), ", ")))
		}
	}
}

// closestKey is the known key a typo most likely meant: the same key in
// another case, or one at most two edits away.
func closestKey(k string, known []string) string {
	return spelling.Closest(k, known, 2, nil)
}

func (p *parser) str(k, def string) string {
	if v, ok := p.raw[Key(k)]; ok {
		return v
	}
	return def
}

func (p *parser) boolean(k string, def bool) bool {
	v, ok := p.raw[Key(k)]
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.problem(k, "%q is not a boolean: use true or false", v)
		return def
	}
	return b
}

func (p *parser) tags() map[string]string {
	v, ok := p.raw[Key(KeyTags)]
	if !ok {
		return nil
	}
	var tags map[string]string
	if err := json.Unmarshal([]byte(v), &tags); err != nil {
		p.problem(KeyTags, "%q is not a map of tag names to string values: %v", v, err)
		return nil
	}
	return tags
}

// workloads decodes each workload on its own so a problem names its index,
// and refuses unknown keys, each once with the closest field name: a typo
// such as `serviceAcount` must not be silently ignored.
// The second result is each workload's targetRole.account, "" for none.
func (p *parser) workloads() ([]podidentity.Workload, []string) {
	v, ok := p.raw[Key(KeyWorkloads)]
	if !ok {
		return nil, nil // reported by the component's "is empty" rule
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(v), &items); err != nil {
		p.problem(KeyWorkloads, "is not a list of workload objects: %v", err)
		return nil, nil
	}
	workloads := make([]podidentity.Workload, 0, len(items))
	targetNames := make([]string, 0, len(items))
	targetAllowed := jsonKeys[targetRoleConfig]()
	allowed := jsonKeys[workloadConfig]()
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", KeyWorkloads, i)
		// encoding/json matches keys case-insensitively, so "RoleName" would
		// slip through DisallowUnknownFields: every key not spelt exactly as
		// a field is reported here, once, and the decoder only checks types.
		for _, k := range unknownKeys(item, allowed) {
			if near := closestKey(k, allowed); near != "" {
				p.problems = append(p.problems, Key(at)+fmt.Sprintf(": unknown key %q (did you mean %s?)", k, near))
			} else {
				p.problems = append(p.problems, Key(at)+fmt.Sprintf(": unknown key %q (allowed: %s)", k, strings.Join(allowed, ", ")))
			}
		}
		var w workloadConfig
		if err := json.Unmarshal(item, &w); err != nil {
			p.problems = append(p.problems, Key(at)+describeDecodeError(err))
		}
		if err := w.readSessionPolicy(os.ReadFile); err != nil {
			p.problems = append(p.problems, Key(at+".sessionPolicy")+": "+err.Error())
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(item, &fields) == nil && fields["targetRole"] != nil {
			for _, k := range unknownKeys(fields["targetRole"], targetAllowed) {
				p.problems = append(p.problems, Key(at+".targetRole")+fmt.Sprintf(": unknown key %q (allowed: %s)", k, strings.Join(targetAllowed, ", ")))
			}
		}
		name := ""
		if w.TargetRole != nil {
			name = w.TargetRole.Account
		}
		workloads = append(workloads, w.toComponent())
		targetNames = append(targetNames, name)
	}
	return workloads, targetNames
}

// unknownKeys returns the keys of a workload object that are not exactly
// one of the allowed field names, sorted (none when item is no object: the
// decoder says so).
func unknownKeys(item json.RawMessage, allowed []string) []string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(item, &fields) != nil {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(allowed, k) {
			out = append(out, k)
		}
	}
	return out
}

func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Sprintf(": is a %s, expected an object with serviceAccount and optional settings", typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf(".%s: is a %s, expected %s", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type.Kind().String()))
	default:
		return ": " + err.Error()
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "bool":
		return "a boolean"
	case "int", "int64":
		return "an integer"
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "map":
		return "a map"
	}
	return goKind
}

// LooksLikeKubeconfigContent tells a kubeconfig's text from a path to one,
// as the Kubernetes provider does for its own kubeconfig input.
func LooksLikeKubeconfigContent(s string) bool {
	return strings.Contains(s, "\n") || strings.HasPrefix(strings.TrimSpace(s), "{") || strings.Contains(s, "apiVersion:")
}

// PathErrorCause drops the path from an os error, keeping why it failed.
func PathErrorCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func expandHome(path string, env func(string) string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok && env("HOME") != "" {
		return env("HOME") + "/" + rest
	}
	return path
}
