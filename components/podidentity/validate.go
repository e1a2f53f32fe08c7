package podidentity

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/platform-eng/eks-pod-identity/components/verification"
	"github.com/platform-eng/eks-pod-identity/iampolicy"
)

// Problem is one reason the component refuses its Args: the field path (as
// in `workloads[1].serviceAccount`), the offending value and the rule.
type Problem struct {
	Field string
	Msg   string
}

func (p Problem) Error() string { return p.Field + ": " + p.Msg }

// Problems is every Problem found, so a user fixes them in one round.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

func (ps *Problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// The naming rules of AWS and Kubernetes, as their APIs enforce them.
var (
	partitionRe      = regexp.MustCompile(`^aws[a-z-]*$`)
	clusterNameRe    = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]*$`)
	dns1123LabelRe   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	iamNameRe        = regexp.MustCompile(`^[\w+=,.@-]+$`)
	iamPathRe        = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	policyArnRe      = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(aws|\d{12}):policy/([\x21-\x7E]+/)?[\w+=,.@-]{1,128}$`)
	descriptionRe    = regexp.MustCompile(`^[\t\n\r\x20-\x7E\x{A1}-\x{FF}]*$`)
	tagRe            = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	addonVersionRe   = regexp.MustCompile(`^v\d+\.\d+\.\d+-eksbuild\.\d+$`)
	awsServiceNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// IAM quotas (IAM user guide, "IAM and AWS STS quotas"): managed policies
// attached to a role (10 by default, adjustable up to 20), and the
// aggregate size of a role's inline policies, whitespace not counted.
// The trust policy's 2,048-character quota cannot be reached: the scoped
// document stays under it at the longest names (TestTrustPolicyFitsIAMQuota).
const (
	maxManagedPoliciesPerRole = 20
	maxInlinePolicyBytes      = 10240
)

// maxClusterNameLength is EKS's longest cluster name. The preset documents
// that name the cluster are sized with a name this long: the real name is
// an output, unknown when the settings are checked.
const maxClusterNameLength = 100

// presetPolicySize is what the preset's own inline documents (those the
// workload's InlinePolicies do not replace) count against the inline
// quota, at the longest cluster name. A document that does not render
// (bad inputs) counts nothing here: checkPreset reports it.
func (w Workload) presetPolicySize(partition string) int {
	if w.InlinePolicies != nil {
		return 0 // the workload's own replace the preset's
	}
	if partition == "" {
		partition = DefaultPartition
	}
	return inlinePolicySize(w.InlineDocuments(partition, strings.Repeat("c", maxClusterNameLength)))
}

// inlinePolicySize is what IAM counts against the inline quota: every
// character of the documents except whitespace.
func inlinePolicySize(docs map[string]string) int {
	n := 0
	for _, doc := range docs {
		for _, r := range doc {
			if !unicode.IsSpace(r) {
				n++
			}
		}
	}
	return n
}

// reservedNamespaces exist on every cluster; creating them would fail.
var reservedNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}

const (
	dns1123LabelRule = "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
	dns1123SubRule   = "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters"
	// autonameSuffix is what Pulumi appends to auto-named resources ("-" and 7 characters).
	autonameSuffix = 8
)

// CheckClusterName reports why name is not a valid EKS cluster name.
func CheckClusterName(name string) error {
	if len(name) < 1 || len(name) > maxClusterNameLength || !clusterNameRe.MatchString(name) {
		return fmt.Errorf("%q is not a valid EKS cluster name: 1 to 100 characters, letters, digits, '-' and '_', starting with a letter or digit", name)
	}
	return nil
}

// Validate reports every problem with the Args, before anything is created.
// name is the component's name, which prefixes its children's names.
func (a Args) Validate(name string) error {
	ps := a.settingsProblems(name)
	if a.ClusterName == nil {
		ps.add("clusterName", "is required")
	}
	if a.ClusterArn == nil {
		ps.add("clusterArn", "is required: scoped trust policies pin the cluster by ARN")
	}
	// Providers are made from the settings, so only here, not in
	// ValidateSettings.
	for i, w := range a.Workloads {
		a.Workloads[i].checkIrsaFound(&ps, func(f string) string { return fmt.Sprintf("workloads[%d].%s", i, f) })
		if w.TargetRole != nil && w.TargetRole.Provider == nil {
			ps.add(fmt.Sprintf("workloads[%d].targetRole", i), "has no provider: the role is made in account %s, which needs an AWS provider that can create roles there", w.TargetRole.Account)
		}
	}
	return ps.err()
}

// ValidateSettings reports the problems Validate would find in the plain
// settings (everything but the cluster inputs), so a program
// can refuse bad configuration before it creates providers or looks anything
// up.
func (a Args) ValidateSettings(name string) error {
	return a.settingsProblems(name).err()
}

func (a Args) settingsProblems(name string) Problems {
	var ps Problems
	if !dns1123LabelRe.MatchString(name) || len(name) > 63 {
		ps.add("name", "%q %s", name, dns1123LabelRule)
	}
	if a.Partition != "" && !partitionRe.MatchString(a.Partition) {
		ps.add("partition", "%q is not an AWS partition (aws, aws-cn, aws-us-gov, ...)", a.Partition)
	}
	if v := a.Agent.Version; v != "" && !addonVersionRe.MatchString(v) {
		ps.add("agent.version", "%q is not an EKS add-on version: expected the form v1.3.4-eksbuild.1", v)
	}
	if a.Agent.Skip && a.Agent.Version != "" {
		ps.add("agent.version", "%q has nothing to apply to: this stack does not manage the agent add-on", a.Agent.Version)
	}
	if a.Agent.Skip && a.Agent.Preserve {
		ps.add("agent.preserve", "is true but has nothing to apply to: this stack does not manage the agent add-on")
	}
	if a.Image != "" && strings.ContainsAny(a.Image, " \t\n") {
		ps.add("image", "%q is not an image reference: it contains whitespace", a.Image)
	}
	checkTags(&ps, "tags", a.Tags)
	ps = append(ps, a.adoptionProblems()...)
	if len(a.Workloads) == 0 {
		ps.add("workloads", "is empty: declare at least one workload with a serviceAccount")
	}

	seenName := map[string]int{}
	seenSA := map[string]int{}
	seenPod := map[string]int{}
	seenRole := map[string]int{}
	for i, raw := range a.Workloads {
		w := raw.withDefaults(a.partition())
		at := func(field string) string { return fmt.Sprintf("workloads[%d].%s", i, field) }
		w.check(&ps, at, name, a.Partition)
		checkPreset(&ps, at, raw, a.Partition)
		w.checkSessionControls(&ps, at, raw, a.Partition)
		w.checkIrsa(&ps, at, raw)
		// A target role's permissions are out of sight: its users know
		// what the default check needs there.
		if w.Verify && raw.AccessCheck == "" && raw.Preset == "" && w.TargetRoleArn == "" && !grantsS3List(w, a.Partition) {
			ps.add(at("accessCheck"), "is not set, and the default %q needs s3:ListAllMyBuckets, which none of the workload's policies grants (AWS managed ones that include it, or an inline statement allowing it on \"*\"; customer managed policies are not read): set accessCheck to a command the role may run, such as \"s3 ls s3://<bucket>\", or %q", verification.DefaultAccessCheck, AccessCheckOff)
		}

		if j, dup := seenName[w.Name]; dup && w.Name != "" {
			ps.add(at("name"), "%q is already the name of workloads[%d]: names must be unique (set name on one of them)", w.Name, j)
		}
		seenName[w.Name] = i
		sa := w.Namespace + "/" + w.ServiceAccount
		if j, dup := seenSA[sa]; dup && w.ServiceAccount != "" {
			ps.add(at("serviceAccount"), "%q in namespace %q is already workloads[%d]: EKS allows one association per cluster, namespace and service account", w.ServiceAccount, w.Namespace, j)
		}
		seenSA[sa] = i
		if w.TestPod {
			pod := w.Namespace + "/" + w.TestPodName
			if j, dup := seenPod[pod]; dup {
				ps.add(at("testPodName"), "%q in namespace %q is already the test pod of workloads[%d]", w.TestPodName, w.Namespace, j)
			}
			seenPod[pod] = i
		}
		// IAM role names are unique per account and compared without case
		// (IAM user guide, "IAM identifiers"): the second create would fail
		// with EntityAlreadyExists after the first role was made.
		if w.RoleName != "" {
			lower := strings.ToLower(w.RoleName)
			if j, dup := seenRole[lower]; dup {
				if other := a.Workloads[j].Irsa; w.Irsa != nil && other != nil && w.Irsa.Phase != other.Phase {
					ps.add(at("phase"), "is %q, but role %s is shared with workloads[%d] in phase %q: a role has one trust policy, so the service accounts sharing it cannot be in different phases", w.Irsa.Phase, w.RoleName, j, other.Phase)
				}
				ps.add(at("roleName"), "%q is already the role of workloads[%d]: IAM role names are unique per account, ignoring case; a role on IRSA that several service accounts use is migrated one service account at a time (the others keep their IRSA trust untouched)", w.RoleName, j)
			}
			seenRole[lower] = i
		}
	}
	return ps
}

func (w Workload) check(ps *Problems, at func(string) string, component, partition string) {
	saValid := dns1123SubRe.MatchString(w.ServiceAccount) && len(w.ServiceAccount) <= 253
	_, knownPreset := presets.Lookup(w.Preset)
	if w.ServiceAccount == "" && (w.Preset == "" || knownPreset) {
		// An unknown preset is the one problem: it would have given the name.
		ps.add(at("serviceAccount"), "is required (or name a preset that gives it)")
	} else if w.ServiceAccount != "" && !saValid {
		ps.add(at("serviceAccount"), "%q %s", w.ServiceAccount, dns1123SubRule)
	}
	// A name taken from an invalid service account is that one problem, not two.
	nameFromBadSA := w.Name == w.ServiceAccount && !saValid
	if w.Name != "" && !nameFromBadSA && (!dns1123LabelRe.MatchString(w.Name) || len(w.Name) > 63) {
		ps.add(at("name"), "%q %s (it names the workload's resources; set name when the service account is not one)", w.Name, dns1123LabelRule)
	}
	if !dns1123LabelRe.MatchString(w.Namespace) || len(w.Namespace) > 63 {
		ps.add(at("namespace"), "%q %s", w.Namespace, dns1123LabelRule)
	}
	if w.CreateNamespace && reservedNamespaces[w.Namespace] {
		ps.add(at("createNamespace"), "is true but namespace %q always exists; set it to false", w.Namespace)
	}

	switch {
	case w.RoleName != "":
		if len(w.RoleName) > 64 || !iamNameRe.MatchString(w.RoleName) {
			ps.add(at("roleName"), "%q is not a valid IAM role name: 1 to 64 characters, letters, digits and +=,.@_-", w.RoleName)
		}
	case len(roleResourceName(component, w.Name))+autonameSuffix > 64:
		ps.add(at("roleName"), "is empty, and the auto-generated name %q plus Pulumi's random suffix exceeds IAM's 64 characters: set roleName or a shorter name", roleResourceName(component, w.Name))
	}
	if w.RolePath != "" && (len(w.RolePath) > 512 || !iamPathRe.MatchString(w.RolePath)) {
		ps.add(at("rolePath"), "%q is not a valid IAM path: \"/\" or a path that starts and ends with \"/\", printable ASCII, at most 512 characters", w.RolePath)
	}
	if len(w.RoleDescription) > 1000 || !descriptionRe.MatchString(w.RoleDescription) {
		ps.add(at("roleDescription"), "%q is not a valid IAM role description: at most 1000 characters, printable Latin-1", w.RoleDescription)
	}
	if w.PermissionsBoundary != "" {
		checkPolicyArn(ps, at("permissionsBoundary"), w.PermissionsBoundary, partition)
	}
	if d := w.MaxSessionDuration; d != 0 && (d < 3600 || d > 43200) {
		ps.add(at("maxSessionDuration"), "%d is out of range: IAM allows 3600 to 43200 seconds", d)
	}
	if w.Trust != TrustScoped && w.Trust != TrustOpen {
		ps.add(at("trust"), "%q is not a trust mode: use %q (default: only this cluster, namespace and service account) or %q (the walkthrough's unconditioned policy)", w.Trust, TrustScoped, TrustOpen)
	}

	seenArn := map[string]bool{}
	for k, arn := range w.PolicyArns {
		field := fmt.Sprintf("%s[%d]", at("policyArns"), k)
		checkPolicyArn(ps, field, arn, partition)
		if seenArn[arn] {
			ps.add(field, "%q is listed twice", arn)
		}
		seenArn[arn] = true
	}
	if n := len(w.PolicyArns); n > maxManagedPoliciesPerRole {
		ps.add(at("policyArns"), "lists %d policies; IAM attaches at most %d managed policies to a role (the default quota is 10, raised on request up to %d)", n, maxManagedPoliciesPerRole, maxManagedPoliciesPerRole)
	}
	// The chaining policy the component adds for a target role is inline too.
	if size, presetSize := inlinePolicySize(w.InlinePolicies)+w.targetPolicySize(), w.presetPolicySize(partition); size+presetSize > maxInlinePolicyBytes {
		field, counted := at("inlinePolicies"), ""
		if presetSize > 0 {
			field = at("preset")
			counted = fmt.Sprintf(" (preset %q's own documents: %d, counted with a cluster name of EKS's longest, %d characters)", w.Preset, presetSize, maxClusterNameLength)
		}
		if n := w.targetPolicySize(); n > 0 {
			counted += fmt.Sprintf(" (with the %s policy targetRoleArn adds: %d)", TargetRolePolicyName, n)
		}
		ps.add(field, "add up to %d characters without whitespace%s; IAM allows %d for all of a role's inline policies together: move some into a managed policy", size+presetSize, counted, maxInlinePolicyBytes)
	}
	for _, pname := range sortedKeys(w.InlinePolicies) {
		field := fmt.Sprintf("%s.%s", at("inlinePolicies"), pname)
		if len(pname) > 128 || !iamNameRe.MatchString(pname) {
			ps.add(field, "%q is not a valid inline policy name: 1 to 128 characters, letters, digits and +=,.@_-", pname)
		}
		if err := checkPolicyDocument(w.InlinePolicies[pname]); err != nil {
			ps.add(field, "policy document %s", err)
		}
	}
	checkTags(ps, at("tags"), w.Tags)

	if w.TestPod && (!dns1123SubRe.MatchString(w.TestPodName) || len(w.TestPodName) > 253) {
		ps.add(at("testPodName"), "%q %s", w.TestPodName, dns1123SubRule)
	}
	if !w.TestPod && w.TestPodName != "" {
		ps.add(at("testPodName"), "is set but testPod is false; set testPod: true or remove testPodName")
	}
	checkAccessCheck(ps, at("accessCheck"), w.AccessCheck)
	if d := w.VerifyDeadlineSeconds; d != 0 {
		switch {
		case !w.Verify:
			ps.add(at("verifyDeadlineSeconds"), "is set but verify is false: there is no verification Job to bound; set verify: true or remove it")
		case d < minVerifyDeadlineSeconds || d > maxVerifyDeadlineSeconds:
			ps.add(at("verifyDeadlineSeconds"), "%d is out of range: %d to %d seconds (the script alone retries the identity check for about a minute)", d, minVerifyDeadlineSeconds, maxVerifyDeadlineSeconds)
		}
	}
}

// checkPreset refuses an unknown preset, the preset's inputs by its own
// rules, inputs without a preset, and a preset's access check kept after
// the policies it was written for were replaced.
func checkPreset(ps *Problems, at func(string) string, raw Workload, partition string) {
	if raw.Preset == "" {
		for _, pr := range presets.CheckInputsWithoutPreset(raw.PresetInputs) {
			ps.add(at("presetInputs."+pr.Field), "%s", pr.Msg)
		}
		return
	}
	p, ok := presets.Lookup(raw.Preset)
	if !ok {
		ps.add(at("preset"), "%q is not a preset (known: %s)", raw.Preset, strings.Join(presets.Names(), ", "))
		return
	}
	for _, pr := range p.CheckInputs(partition, raw.PresetInputs) {
		ps.add(at("presetInputs."+pr.Field), "%s", pr.Msg)
	}
	if raw.Verify && raw.AccessCheck == "" && (raw.PolicyArns != nil || raw.InlinePolicies != nil) {
		ps.add(at("accessCheck"), "is not set, and preset %q's check %q was written for the preset's policies, which policyArns/inlinePolicies replace here: set accessCheck to a command the role may run, or %q",
			p.Name, p.AccessCheckText(), AccessCheckOff)
	}
}

// s3ListPolicies are the AWS managed policies that allow the default access
// check, `aws s3 ls` (s3:ListAllMyBuckets).
var s3ListPolicies = regexp.MustCompile(`^arn:[a-z-]+:iam::aws:policy/(AmazonS3ReadOnlyAccess|AmazonS3FullAccess|ReadOnlyAccess|ViewOnlyAccess|PowerUserAccess|AdministratorAccess)$`)

// grantsS3List tells whether the default access check, `aws s3 ls`
// (s3:ListAllMyBuckets, which takes no resource but "*"), can pass: an AWS
// managed policy known to include it, or an inline document allowing it.
// Customer managed policies cannot be read offline, so they do not count:
// their users name the check they know to work. Before the cluster's
// partition is known (partition ""), an inline statement for any partition
// counts.
func grantsS3List(w Workload, partition string) bool {
	for _, arn := range w.PolicyArns {
		if s3ListPolicies.MatchString(arn) {
			return true
		}
	}
	partitions := []string{partition}
	if partition == "" {
		partitions = knownPartitions
	}
	for _, name := range sortedKeys(w.InlinePolicies) {
		doc, err := iampolicy.Parse(w.InlinePolicies[name])
		if err != nil {
			continue // reported by checkPolicyDocument
		}
		for _, p := range partitions {
			if doc.Allows("s3:ListAllMyBuckets", "arn:"+p+":s3:::*") {
				return true
			}
		}
	}
	return false
}

// knownPartitions are the AWS partitions (the AWS SDK's partitions.json).
var knownPartitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

func checkPolicyArn(ps *Problems, field, arn, partition string) {
	m := policyArnRe.FindStringSubmatch(arn)
	if m == nil {
		ps.add(field, "%q is not an IAM policy ARN: expected arn:<partition>:iam::aws:policy/<name> or arn:<partition>:iam::<12-digit account>:policy/<path><name>", arn)
		return
	}
	if partition != "" && m[1] != partition {
		ps.add(field, "%q is in partition %q but the cluster is in %q", arn, m[1], partition)
	}
	// A misspelt AWS managed policy would only fail at AttachRolePolicy,
	// after the role exists. A name close to a known one is refused; one
	// with none near may be newer than the list, and is left to IAM.
	if _, name, _ := strings.Cut(arn, ":policy/"); m[2] == "aws" && !iampolicy.IsManaged(name) {
		if near := iampolicy.NearestManaged(name); near != "" {
			ps.add(field, "%q is not an AWS managed policy: did you mean arn:%s:iam::aws:policy/%s? (checked against %s)", arn, m[1], near, iampolicy.ManagedSource)
		}
	}
}

func checkTags(ps *Problems, field string, tags map[string]string) {
	for _, k := range sortedKeys(tags) {
		v := tags[k]
		switch {
		case k == "" || len(k) > 128 || !tagRe.MatchString(k):
			ps.add(field, "key %q is not a valid AWS tag key: 1 to 128 letters, digits, spaces and _.:/=+-@", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			ps.add(field, "key %q uses the reserved prefix \"aws:\"", k)
		case len(v) > 256 || !tagRe.MatchString(v):
			ps.add(field+"."+k, "%q is not a valid AWS tag value: at most 256 letters, digits, spaces and _.:/=+-@", v)
		}
	}
	if len(tags) > 50 {
		ps.add(field, "has %d tags; AWS allows at most 50 per resource", len(tags))
	}
}

// checkAccessCheck keeps the verification's access check to what the Job
// really runs: plain arguments to the aws CLI, with no shell in between.
func checkAccessCheck(ps *Problems, field, check string) {
	if check == AccessCheckOff {
		return
	}
	words := strings.Fields(check)
	switch {
	case len(words) == 0:
		ps.add(field, "is blank: give aws CLI arguments such as \"s3 ls\", or \"off\"")
	case words[0] == "aws":
		// The suggestion must itself be accepted: without "aws", and cut
		// before any shell syntax, which would be refused next.
		fix := strings.Join(words[1:], " ")
		if i := strings.IndexAny(fix, shellSyntax); i >= 0 {
			ps.add(field, "%q starts with \"aws\" and contains shell syntax, which the Job does not run: give only the arguments, e.g. %q", check, strings.TrimSpace(fix[:i]))
		} else {
			ps.add(field, "%q starts with \"aws\": give only the arguments, e.g. %q", check, fix)
		}
	case !awsServiceNameRe.MatchString(words[0]):
		ps.add(field, "%q does not start with an aws CLI service name such as s3, sts or dynamodb", check)
	case strings.ContainsAny(check, shellSyntax):
		ps.add(field, "%q contains shell syntax; it is passed to aws as plain arguments, so quotes, pipes and variables would not work", check)
	}
}

// shellSyntax are the characters a shell would interpret in an access
// check; the Job passes the check to aws as plain arguments.
const shellSyntax = ";|&$`<>'\"\\"

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
