// Package stackcheck checks a stack file offline: it runs the whole program
// (program.Deploy) under Pulumi's mocks, with the mocked EKS cluster named
// and placed as the stack says, and reports either every refusal or what
// `pulumi up` would create, in what order. No AWS, no Kubernetes, no Pulumi
// CLI: tests/ runs it for every Pulumi.*.yaml in `go test ./...`, and
// cmd/check-stack for one stack.
package stackcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// Report is the outcome of checking one stack.
type Report struct {
	Stack string
	// Cluster is the cluster the mocks stood in for.
	Cluster Cluster
	// PlaceholderAccount says the account in Cluster is PlaceholderAccount,
	// not one the stack pins.
	PlaceholderAccount bool
	// Refusals are the program's (or, for a file it cannot read, the Pulumi
	// CLI's): `pulumi up` would stop on them before creating anything.
	Refusals []string
	// Warnings are what the program accepts but that would likely fail or
	// surprise at `pulumi up`, such as an access check in a service none of
	// the role's policies allows.
	Warnings []string
	// Notes say what the check could not see, such as undecrypted secrets.
	Notes []string
	// Plan is every resource `pulumi up` would create, in creation waves.
	Plan *Plan
	// Exports are the stack outputs, with the mocks' computed values.
	Exports map[string]any
}

// OK tells whether the stack would get past the program's checks.
func (r *Report) OK() bool { return len(r.Refusals) == 0 }

// Check checks the stack whose Pulumi.<stack>.yaml lies beside root's
// Pulumi.yaml. Like the program, it reads AWS_REGION and AWS_DEFAULT_REGION
// when aws:region is unset, and the secrets passphrase, from the process
// environment. account, when not empty, replaces the stack's or the
// placeholder account in the mocked ARNs.
func Check(root, stack, account string) *Report {
	return CheckExisting(root, stack, account, nil)
}

// CheckExisting is Check in a recorded world (check-stack -existing): the
// program's pre-flight finds what the recording holds, and the stack is
// checked with eks-pod-identity:adopt on, so the report says what
// `adopt: true` would import (marked in the plan), or refuse. nil is
// Check: nothing exists.
func CheckExisting(root, stack, account string, existing *discover.Recorded) *Report {
	r := &Report{Stack: stack}
	cfg, err := LoadConfig(root, stack, os.Getenv)
	if err != nil {
		r.Refusals = []string{err.Error()}
		return r
	}
	var lookups *discover.Lookups
	if existing != nil {
		lookups = &discover.Lookups{AWS: existing, Kube: existing}
		adopt := stackconfig.Key(stackconfig.KeyAdopt)
		if cfg.Values[adopt] != "true" {
			cfg.Values[adopt] = "true"
			r.Notes = append(r.Notes, adopt+" is off in the stack file: checked as if it were true, to show what adopt would take over (-existing)")
		}
	}
	for _, k := range cfg.Undecrypted {
		r.Notes = append(r.Notes, "secret "+k+": a placeholder stood in for its value")
	}
	// Under the engine the program sees every key of its namespace (from
	// PULUMI_CONFIG) and refuses an unknown one; under mocks it sees only
	// the keys it asks for, so Parse is run here on the whole file.
	if _, err := stackconfig.Parse(cfg.Values, os.Getenv); err != nil {
		r.Refusals = refusals(err)
		return r
	}

	r.Cluster, r.PlaceholderAccount = clusterFor(cfg.Values, account)

	rec := &Recorder{Project: stackconfig.Project, Stack: stack, Cluster: r.Cluster}
	d, exports, err := RunIn(stack, cfg, rec, lookups)
	if err != nil {
		r.Refusals = refusals(err)
		return r
	}
	r.Exports = exports
	r.Plan = NewPlan(rec.Registrations(), cfg.Values[stackconfig.Key(stackconfig.KeyKubeconfig)] != "")
	r.Warnings = accessWarnings(d, cfg, r.Cluster)
	return r
}

// accessWarnings runs AccessCheckWarning on every workload, presets
// included, naming each by its config key. A preset's own inline documents
// are rendered for the mocked cluster (Workload.InlineDocuments).
func accessWarnings(d *program.Deployment, cfg Config, c Cluster) []string {
	// Deploy accepted the configuration, so Parse does too; it gives the
	// workloads in the stack file's order, which their keys need.
	s, err := stackconfig.Parse(cfg.Values, os.Getenv)
	if err != nil {
		return []string{"the configuration Deploy accepted no longer parses: " + err.Error()}
	}
	var out []string
	for i, w := range s.Component.Workloads {
		res, ok := d.Component.Workloads[w.Resolved(c.Partition).Name]
		if !ok {
			continue
		}
		docs := res.Settings.InlineDocuments(c.Partition, c.Name)
		if msg := AccessCheckWarning(res.Settings, docs, c.Partition); msg != "" {
			out = append(out, fmt.Sprintf("%s:%s[%d].accessCheck: %s", stackconfig.Project, stackconfig.KeyWorkloads, i, msg))
		}
	}
	return out
}

// clusterFor places the mocked cluster where the stack says: its name, its
// region (or the environment's, as the AWS provider would take it) and that
// region's partition. The account is the one given, the stack's only
// allowed account, or the placeholder.
func clusterFor(cfg map[string]string, account string) (Cluster, bool) {
	region := cfg[stackconfig.KeyAwsRegion]
	for _, env := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = os.Getenv(env)
		}
	}
	c := Cluster{
		Name:      cfg[stackconfig.Project+":"+stackconfig.KeyClusterName],
		Region:    region,
		Partition: stackconfig.PartitionOf(region),
		Account:   account,
	}
	if c.Partition == "" {
		c.Partition = "aws"
	}
	if name, version, ok := CreatedCluster(cfg); ok {
		c.Name, c.Version, c.Created = name, version, true
	}
	if c.Account != "" {
		return c, false
	}
	var allowed []string
	if json.Unmarshal([]byte(cfg["aws:allowedAccountIds"]), &allowed) == nil && len(allowed) == 1 {
		c.Account = allowed[0]
		return c, false
	}
	c.Account = PlaceholderAccount
	return c, true
}

// refusals splits the program's error into its problems, one per line of
// the report.
func refusals(err error) []string {
	var ce *stackconfig.ConfigError
	if errors.As(err, &ce) {
		return ce.Problems
	}
	// pulumi.RunErr gathers the program's errors in a multierror, whose
	// text adds a count and bullets around each.
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		var out []string
		for _, e := range multi.WrappedErrors() {
			out = append(out, strings.TrimSpace(e.Error()))
		}
		return out
	}
	return []string{strings.TrimSpace(err.Error())}
}
