// Package presets is a catalogue of the cluster add-ons and controllers that
// most often need a pod identity: for each, the namespace and service account
// it runs as, the IAM permissions it needs, and a read-only aws CLI command
// that proves those permissions work.
//
// It is data and pure functions, with no Pulumi in it: the PodIdentity
// component applies a preset to a workload (the workload may override each
// field), and the README's presets table is generated from [Table].
//
// Where AWS publishes a managed policy for an add-on (its recommended
// policy, as `aws eks describe-addon-configuration` reports it), the preset
// attaches that policy, with the ARN built in the cluster's partition. Where
// it does not, the preset writes the document the controller's own
// documentation gives, scoped to the resources the user names; each such
// document says in [Document.Source] where it comes from and when that
// source was last changed.
package presets

import (
	"fmt"
	"slices"
	"strings"
)

// Input names one of a preset's inputs, as the stack file writes it.
type Input string

// The inputs a preset may require.
const (
	// InputHostedZoneArns is a list of Route 53 hosted zone ARNs.
	InputHostedZoneArns Input = "hostedZoneArns"
	// InputBucketArns is a list of S3 general purpose bucket ARNs.
	InputBucketArns Input = "bucketArns"
)

// Inputs are what only the user knows about a preset's targets.
type Inputs struct {
	// HostedZoneArns are the Route 53 hosted zones external-dns or
	// cert-manager may change: arn:<partition>:route53:::hostedzone/<id>.
	// Every zone (hostedzone/*) is granted only when it is listed by that
	// exact ARN.
	HostedZoneArns []string
	// BucketArns are the S3 general purpose buckets the Mountpoint CSI
	// driver may mount: arn:<partition>:s3:::<bucket>.
	BucketArns []string
}

func (in Inputs) get(i Input) []string {
	switch i {
	case InputHostedZoneArns:
		return in.HostedZoneArns
	case InputBucketArns:
		return in.BucketArns
	}
	return nil
}

// allInputs is every input any preset takes, in the order they are reported.
var allInputs = []Input{InputHostedZoneArns, InputBucketArns}

// ManagedPolicy is an AWS managed policy a preset attaches.
type ManagedPolicy struct {
	// Name is the policy's path and name under arn:<partition>:iam::aws:policy/,
	// e.g. "service-role/AmazonEBSCSIDriverPolicy".
	Name string
	// Source is where AWS recommends it for this add-on.
	Source string
}

// Arn is the policy's ARN in a partition.
func (m ManagedPolicy) Arn(partition string) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, m.Name)
}

// BaseName is the policy's name without its path.
func (m ManagedPolicy) BaseName() string {
	return m.Name[strings.LastIndex(m.Name, "/")+1:]
}

// Document is an inline policy a preset writes itself.
type Document struct {
	// Name is the inline policy's name on the role.
	Name string
	// Source is the documentation the statements follow, with the date that
	// documentation last changed.
	Source string
	// NeedsClusterName says the document names the cluster (a tag
	// condition), so it can only be rendered once the cluster name is known.
	NeedsClusterName bool
	render           func(Target) policy
}

// Target is what a preset's documents are rendered for.
type Target struct {
	// Partition is the cluster's AWS partition, e.g. "aws".
	Partition string
	// ClusterName is the EKS cluster's name.
	ClusterName string
	// Inputs are the workload's preset inputs.
	Inputs Inputs
}

// Render returns the document's JSON for a target. Inputs are not checked
// here: CheckInputs does that before anything is created.
func (d Document) Render(t Target) (string, error) {
	if d.NeedsClusterName && t.ClusterName == "" {
		return "", fmt.Errorf("policy %s names the cluster, but no cluster name was given", d.Name)
	}
	return d.render(t).json()
}

// Preset is one catalogue entry.
type Preset struct {
	// Name is how a workload names the preset, e.g. "ebs-csi".
	Name string
	// For says what runs with this identity.
	For string
	// Addon is the EKS add-on that runs it, or "" when it is installed some
	// other way (a Helm chart). An add-on can carry its own pod identity
	// association for the same service account; see the README.
	Addon string
	// Namespace and ServiceAccount are where it runs by default, as the
	// add-on (or upstream chart) installs it.
	Namespace      string
	ServiceAccount string
	// ManagedPolicies are AWS managed policies to attach.
	ManagedPolicies []ManagedPolicy
	// Documents are inline policies the preset writes.
	Documents []Document
	// Requires lists the inputs the preset cannot do without.
	Requires []Input
	// Notes are limits a user must know, for the README.
	Notes string

	// check returns the aws CLI arguments of the read-only access check.
	check func(Inputs) string
	// checkText is the check as the README shows it, with placeholders.
	checkText string
}

// PolicyArns returns the managed policies' ARNs in a partition.
func (p Preset) PolicyArns(partition string) []string {
	arns := make([]string, len(p.ManagedPolicies))
	for i, m := range p.ManagedPolicies {
		arns[i] = m.Arn(partition)
	}
	return arns
}

// AccessCheck returns the read-only aws CLI arguments the verification runs
// as the role (without "aws"). Only call it with inputs CheckInputs accepts.
func (p Preset) AccessCheck(in Inputs) string { return p.check(in) }

// AccessCheckText is the access check with placeholders for inputs, as the
// README shows it.
func (p Preset) AccessCheckText() string { return p.checkText }

// Takes reports whether the preset takes an input.
func (p Preset) Takes(i Input) bool { return slices.Contains(p.Requires, i) }

// Lookup returns the preset with a name.
func Lookup(name string) (Preset, bool) {
	for _, p := range catalogue {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// All returns the catalogue in the order the README lists it.
func All() []Preset { return slices.Clone(catalogue) }

// Names lists every preset's name, in catalogue order.
func Names() []string {
	names := make([]string, len(catalogue))
	for i, p := range catalogue {
		names[i] = p.Name
	}
	return names
}
