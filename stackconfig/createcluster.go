package stackconfig

// The stack file's createCluster block: a new EKS cluster (pulumi-eks) made
// in the same stack, instead of looking an existing one up. Everything here
// is plain parsing and checking; the Pulumi wiring is in package ekscluster.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

// KeyCreateCluster is the block asking for a new cluster; clusterName names
// an existing one, and a stack sets exactly one of the two.
const KeyCreateCluster = "createCluster"

// Node modes of a created cluster.
const (
	// NodesManaged is an EKS managed node group the program creates, with
	// its own node role.
	NodesManaged = "managed"
	// NodesAuto is EKS Auto Mode: AWS runs the nodes and the Pod Identity
	// Agent, so the program creates neither.
	NodesAuto = "auto"
)

// DefaultClusterVersion is the Kubernetes version of a created cluster when
// createCluster.version is unset. Its EKS standard support ends on
// 2027-03-27 (EKS Kubernetes release calendar); after that the control plane
// costs the extended-support rate, so move this to a newer version before.
const DefaultClusterVersion = "1.35"

// Defaults of the managed node group: the walkthrough's size, on AL2023
// (AWS publishes no AL2 AMI for Kubernetes 1.33 and later).
var (
	DefaultInstanceTypes     = []string{"t3.medium"}
	DefaultPublicAccessCidrs = []string{"0.0.0.0/0"}
)

const (
	DefaultDesiredSize = 2
	DefaultMinSize     = 1
	DefaultMaxSize     = 3
)

// eksSupport is when EKS's standard and extended support of a Kubernetes
// minor version end, from the EKS Kubernetes release calendar
// (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html).
// A version older than every entry is no longer offered; a newer one is
// taken as offered (EKS adds versions faster than this table is edited).
var eksSupport = map[string]struct{ standardEnds, extendedEnds string }{
	"1.29": {"2025-03-23", "2026-03-23"},
	"1.30": {"2025-07-23", "2026-07-23"},
	"1.31": {"2025-11-26", "2026-11-26"},
	"1.32": {"2026-03-23", "2027-03-23"},
	"1.33": {"2026-07-29", "2027-07-29"},
	"1.34": {"2026-12-02", "2027-12-02"},
	"1.35": {"2027-03-27", "2028-03-27"},
}

// ClusterSpec is a parsed, checked createCluster block with defaults filled in.
type ClusterSpec struct {
	Name    string
	Version string
	// Nodes is NodesManaged or NodesAuto.
	Nodes string
	// The managed node group's; empty with NodesAuto.
	InstanceTypes                 []string
	DesiredSize, MinSize, MaxSize int
	VpcID                         string
	SubnetIDs                     []string
	PublicAccessCidrs             []string
	// Tags are the block's own tags; the cluster and node group also get
	// the stack's tags (ClusterTags merges them).
	Tags map[string]string
}

// clusterConfig is the createCluster block as the stack file spells it.
// Pointers tell "unset" from zero, so a 0 is refused rather than defaulted.
type clusterConfig struct {
	Name              string            `json:"name"`
	Version           string            `json:"version"`
	Nodes             string            `json:"nodes"`
	InstanceTypes     []string          `json:"instanceTypes"`
	DesiredSize       *int              `json:"desiredSize"`
	MinSize           *int              `json:"minSize"`
	MaxSize           *int              `json:"maxSize"`
	VpcID             string            `json:"vpcId"`
	SubnetIDs         []string          `json:"subnetIds"`
	PublicAccessCidrs []string          `json:"publicAccessCidrs"`
	Tags              map[string]string `json:"tags"`
}

var (
	versionRe      = regexp.MustCompile(`^1\.(0|[1-9][0-9]*)$`)
	instanceTypeRe = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	vpcIDRe        = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDRe     = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// gravitonFamilyRe matches the Arm (Graviton) instance families: a "g"
	// right after the generation (t4g, m7gd, c6gn, im4gn, g5g) and a1.
	gravitonFamilyRe = regexp.MustCompile(`^([a-z]+[0-9]+g[a-z0-9-]*|a1)$`)
)

// createCluster reads the createCluster block; nil when the stack does not
// ask for a cluster. Problems go to p under createCluster.<field>, and the
// rules joining the block to the rest of the configuration are checked too.
func (p *parser) createCluster(s Settings, today time.Time) *ClusterSpec {
	raw, ok := p.raw[Key(KeyCreateCluster)]
	if !ok || isEmptyObject(raw) {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		p.problem(KeyCreateCluster, "is not an object with name and optional settings: %v", err)
		return nil
	}
	allowed := jsonKeys[clusterConfig]()
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		// Exact spelling: encoding/json would also take "MinSize".
		if !slices.Contains(allowed, k) {
			p.problem(KeyCreateCluster, "unknown key %q (allowed: %s)", k, strings.Join(allowed, ", "))
			return nil
		}
	}
	var c clusterConfig
	if err := json.NewDecoder(bytes.NewReader([]byte(raw))).Decode(&c); err != nil {
		p.problems = append(p.problems, Key(KeyCreateCluster)+describeDecodeError(err))
		return nil
	}
	spec := c.withDefaults()
	at := func(field string) string { return KeyCreateCluster + "." + field }

	if c.Name == "" {
		p.problem(at("name"), "is required: the name of the EKS cluster to create")
	} else if err := podidentity.CheckClusterName(c.Name); err != nil {
		p.problem(at("name"), "%v", err)
	}
	if msg := versionProblem(spec.Version, today); msg != "" {
		p.problem(at("version"), "%q %s", spec.Version, msg)
	}
	switch spec.Nodes {
	case NodesManaged:
		p.nodeGroupProblems(c, spec, at)
	case NodesAuto:
		// Auto Mode chooses instances itself: a size or type would be
		// silently ignored, so it is refused.
		if c.InstanceTypes != nil {
			p.problem(at("instanceTypes"), "is set, but nodes is %q: EKS Auto Mode picks instance types itself", NodesAuto)
		}
		for _, f := range []struct {
			name string
			v    *int
		}{{"desiredSize", c.DesiredSize}, {"minSize", c.MinSize}, {"maxSize", c.MaxSize}} {
			if f.v != nil {
				p.problem(at(f.name), "is set, but nodes is %q: EKS Auto Mode sizes the cluster itself", NodesAuto)
			}
		}
		if !s.Component.Agent.Skip {
			p.problem(KeyManageAgent, "is true, but %s is %q: EKS Auto Mode has the Pod Identity Agent built in and the %s add-on would conflict: set %s to false",
				Key(at("nodes")), NodesAuto, podidentity.AgentAddonName, KeyManageAgent)
		}
	default:
		p.problem(at("nodes"), "%q is not a node mode: use %q (a managed node group) or %q (EKS Auto Mode)", spec.Nodes, NodesManaged, NodesAuto)
	}

	if c.VpcID != "" && !vpcIDRe.MatchString(c.VpcID) {
		p.problem(at("vpcId"), "%q is not a VPC ID: expected vpc- and 8 or 17 hexadecimal digits", c.VpcID)
	}
	if c.VpcID != "" && len(c.SubnetIDs) == 0 {
		p.problem(at("vpcId"), "%q is set without subnetIds: EKS needs subnets of that VPC in at least two Availability Zones: list them in subnetIds", c.VpcID)
	}
	p.listProblems(at, "subnetIds", c.SubnetIDs, subnetIDRe, "a subnet ID: expected subnet- and 8 or 17 hexadecimal digits")
	if c.SubnetIDs != nil && len(c.SubnetIDs) < 2 {
		p.problem(at("subnetIds"), "lists %d subnet(s): EKS needs subnets in at least two Availability Zones", len(c.SubnetIDs))
	}
	if c.PublicAccessCidrs != nil && len(c.PublicAccessCidrs) == 0 {
		p.problem(at("publicAccessCidrs"), "is empty: list the CIDR blocks that may reach the public endpoint, e.g. [\"203.0.113.0/24\"]")
	}
	for i, cidr := range c.PublicAccessCidrs {
		if msg := cidrProblem(cidr); msg != "" {
			p.problem(fmt.Sprintf("%s[%d]", at("publicAccessCidrs"), i), "%q %s", cidr, msg)
		}
	}
	var tagProblems podidentity.Problems
	if errors.As(podidentity.CheckTags(at("tags"), c.Tags), &tagProblems) {
		for _, pr := range tagProblems {
			p.problem(pr.Field, "%s", pr.Msg)
		}
	}

	// How the block joins the rest of the stack.
	if s.ClusterName != "" {
		p.problem(KeyClusterName, "%q names an existing cluster, and %s asks for a new one: set one of them", s.ClusterName, Key(KeyCreateCluster))
	}
	if s.Kubeconfig != "" {
		p.problem(KeyKubeconfig, "is set (value not shown), but %s makes a new cluster, whose kubeconfig the program generates from it: unset %s", Key(KeyCreateCluster), KeyKubeconfig)
	}
	if s.Adopt {
		p.problem(KeyAdopt, "is true, but %s makes a new cluster, which holds nothing to take over: unset %s", Key(KeyCreateCluster), KeyAdopt)
	}
	return &spec
}

// listProblems refuses each item of the list field that does not match
// format (it "is not <what>") and each one listed twice.
func (p *parser) listProblems(at func(string) string, field string, items []string, format *regexp.Regexp, what string) {
	seen := map[string]int{}
	for i, v := range items {
		item := fmt.Sprintf("%s[%d]", at(field), i)
		if !format.MatchString(v) {
			p.problem(item, "%q is not %s", v, what)
		} else if j, dup := seen[v]; dup {
			p.problem(item, "%q is listed twice (%s[%d])", v, field, j)
		}
		seen[v] = i
	}
}

// nodeGroupProblems checks the managed node group's settings.
func (p *parser) nodeGroupProblems(c clusterConfig, spec ClusterSpec, at func(string) string) {
	if c.InstanceTypes != nil && len(c.InstanceTypes) == 0 {
		p.problem(at("instanceTypes"), "is empty: name at least one EC2 instance type, e.g. [\"t3.medium\"]")
	}
	p.listProblems(at, "instanceTypes", c.InstanceTypes, instanceTypeRe, "an EC2 instance type: expected <family>.<size>, e.g. t3.medium")
	if _, err := AmiType(spec.InstanceTypes); err != nil {
		p.problem(at("instanceTypes"), "%v", err)
	}
	lo, desired, hi := spec.MinSize, spec.DesiredSize, spec.MaxSize
	if lo < 1 {
		p.problem(at("minSize"), "%d is out of range: at least 1 node, so the agent and the test pods have somewhere to run", lo)
	}
	if desired < lo {
		p.problem(at("desiredSize"), "%d is below minSize %d: the rule is 1 <= minSize <= desiredSize <= maxSize", desired, lo)
	}
	if hi < desired {
		p.problem(at("maxSize"), "%d is below desiredSize %d: the rule is 1 <= minSize <= desiredSize <= maxSize", hi, desired)
	}
}

func (c clusterConfig) withDefaults() ClusterSpec {
	s := ClusterSpec{
		Name:              c.Name,
		Version:           c.Version,
		Nodes:             c.Nodes,
		VpcID:             c.VpcID,
		SubnetIDs:         c.SubnetIDs,
		PublicAccessCidrs: c.PublicAccessCidrs,
		Tags:              c.Tags,
	}
	if s.Version == "" {
		s.Version = DefaultClusterVersion
	}
	if s.Nodes == "" {
		s.Nodes = NodesManaged
	}
	if s.PublicAccessCidrs == nil {
		s.PublicAccessCidrs = slices.Clone(DefaultPublicAccessCidrs)
	}
	if s.Nodes != NodesManaged {
		return s
	}
	s.InstanceTypes = c.InstanceTypes
	if s.InstanceTypes == nil {
		s.InstanceTypes = slices.Clone(DefaultInstanceTypes)
	}
	s.DesiredSize, s.MinSize, s.MaxSize = intOr(c.DesiredSize, DefaultDesiredSize), intOr(c.MinSize, DefaultMinSize), intOr(c.MaxSize, DefaultMaxSize)
	return s
}

// versionProblem says why EKS cannot create a cluster at version on today,
// or "" when it can.
func versionProblem(version string, today time.Time) string {
	if !versionRe.MatchString(version) {
		return "is not a Kubernetes minor version: expected the form 1.35"
	}
	if !VersionAtLeast(version, MinKubernetesVersion) {
		return fmt.Sprintf("is too old: EKS Pod Identity needs Kubernetes %s or later", MinKubernetesVersion)
	}
	oldest := slices.SortedFunc(maps.Keys(eksSupport), compareVersions)[0]
	if !VersionAtLeast(version, oldest) {
		return fmt.Sprintf("is no longer offered by EKS (its extended support ended before %s's): use %s or later", oldest, offeredFrom(today))
	}
	if s, ok := eksSupport[version]; ok && !today.Before(mustDate(s.extendedEnds)) {
		return fmt.Sprintf("is no longer offered by EKS: its extended support ended on %s: use %s or later", s.extendedEnds, offeredFrom(today))
	}
	return ""
}

// offeredFrom is the oldest version EKS still offers on today.
func offeredFrom(today time.Time) string {
	for _, v := range slices.SortedFunc(maps.Keys(eksSupport), compareVersions) {
		if today.Before(mustDate(eksSupport[v].extendedEnds)) {
			return v
		}
	}
	return DefaultClusterVersion
}

// ExtendedSupportNote warns, for a version whose EKS standard support has
// ended by today, that the control plane costs the extended-support rate;
// "" otherwise.
func ExtendedSupportNote(version string, today time.Time) string {
	s, ok := eksSupport[version]
	if !ok || today.Before(mustDate(s.standardEnds)) {
		return ""
	}
	return fmt.Sprintf("Kubernetes %s left EKS standard support on %s: the control plane costs the extended-support rate ($0.60 an hour instead of $0.10) until %s, when EKS upgrades it; %s is in standard support",
		version, s.standardEnds, s.extendedEnds, DefaultClusterVersion)
}

func compareVersions(a, b string) int {
	switch {
	case a == b:
		return 0
	case VersionAtLeast(a, b):
		return 1
	}
	return -1
}

func mustDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(fmt.Sprintf("eksSupport date %q: %v", s, err))
	}
	return t
}

// cidrProblem says why s is not an IPv4 CIDR block EKS takes for its
// public endpoint, or "".
func cidrProblem(s string) string {
	pfx, err := netip.ParsePrefix(s)
	switch {
	case err != nil || !pfx.Addr().Is4():
		return "is not an IPv4 CIDR block: expected the form 203.0.113.0/24"
	case pfx.Masked() != pfx:
		return fmt.Sprintf("has bits set past its /%d prefix: did you mean %s?", pfx.Bits(), pfx.Masked())
	}
	return ""
}

// AmiType is the managed node group's AMI type for its instance types:
// Amazon Linux 2023 for x86_64 or for Arm (Graviton). One node group runs
// one AMI, so mixing the two is refused.
func AmiType(instanceTypes []string) (string, error) {
	var arm, x86 []string
	for _, t := range instanceTypes {
		family, _, _ := strings.Cut(t, ".")
		if gravitonFamilyRe.MatchString(family) {
			arm = append(arm, t)
		} else {
			x86 = append(x86, t)
		}
	}
	switch {
	case len(arm) > 0 && len(x86) > 0:
		return "", fmt.Errorf("mixes Arm (%s) and x86_64 (%s) instance types: one node group runs one AMI type, so pick one architecture",
			strings.Join(arm, ", "), strings.Join(x86, ", "))
	case len(arm) > 0:
		return "AL2023_ARM_64_STANDARD", nil
	}
	return "AL2023_x86_64_STANDARD", nil
}

// ClusterTags are the created cluster's and node group's tags: the stack's
// tags, then the block's own over them.
func (s ClusterSpec) ClusterTags(stackTags map[string]string) map[string]string {
	out := maps.Clone(stackTags)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, s.Tags)
	return out
}

func intOr(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

func isEmptyObject(raw string) bool {
	var m map[string]any
	t := strings.TrimSpace(raw)
	return t == "" || t == "null" || (json.Unmarshal([]byte(t), &m) == nil && len(m) == 0)
}

// jsonKeys lists a struct's JSON field names, sorted: the keys a config
// object accepts, from the code, so the list cannot drift from it.
func jsonKeys[T any]() []string {
	t := reflect.TypeFor[T]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	slices.Sort(keys)
	return keys
}
