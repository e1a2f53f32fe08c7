package stackcheck

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// Write prints the report for a person: every refusal, or the warnings and
// the plan, then notes.
func (r *Report) Write(w io.Writer) error {
	p := &printer{w: w}
	switch {
	case len(r.Refusals) > 0:
		p.f("stack %s: REFUSED. `pulumi up` would stop before creating anything:\n", r.Stack)
		for _, s := range r.Refusals {
			p.f("  - %s\n", s)
		}
	default:
		if imported := r.Plan.Imported(); imported > 0 {
			p.f("stack %s: accepted. `pulumi up` would import %d existing objects (each then updated in place to the stack's configuration) and create %d resources (and the providers and component below).\n",
				r.Stack, imported, len(r.Plan.Resources)-imported)
		} else {
			p.f("stack %s: accepted. `pulumi up` would create %d resources (and the providers and component below).\n", r.Stack, len(r.Plan.Resources))
		}
		if remote := r.Plan.RemoteComponents(); len(remote) > 0 {
			p.f("%d of them are pulumi-eks components (%s), each counted as one: the resources inside them (the EKS cluster, its IAM roles and security groups, the node group, ...) are created by pulumi-eks and are not counted or shown, as the mocks cannot see them.\n", len(remote), stepNames(remote))
		}
	}
	// Warnings come before the plan, which runs to a hundred lines.
	if len(r.Warnings) > 0 {
		p.f("\nWarnings (accepted, but likely to fail or surprise at `pulumi up`):\n")
		for _, s := range r.Warnings {
			p.f("  - %s\n", s)
		}
	}
	if r.Plan != nil {
		r.writePlan(p)
	}
	if len(r.Notes) > 0 {
		p.f("\nNot checked:\n")
		for _, s := range r.Notes {
			p.f("  - %s\n", s)
		}
	}
	return p.err
}

func (r *Report) writePlan(p *printer) {
	c := r.Cluster
	p.f("\nChecked offline: program.Deploy ran under Pulumi's mocks; no AWS, Kubernetes or Pulumi CLI call.\n")
	if c.Created {
		p.f("Cluster created by this stack (pulumi-eks; the mocks answer for its components): %s, %s, Kubernetes %s.\n", c.Name, c.Arn(), c.Version)
	} else {
		p.f("Mocked cluster (the real lookup decides): %s, %s, Kubernetes %s, ACTIVE, EC2 nodes, not EKS Auto Mode.\n", c.Name, c.Arn(), MockKubernetesVersion)
	}
	if r.PlaceholderAccount {
		p.f("Account %s is a placeholder (aws:allowedAccountIds or -account sets yours). ", c.Account)
	}
	p.f("ARNs, IDs, auto-names and the Job's name hash are the mocks'.\n")

	p.f("\nProviders:\n")
	for _, s := range r.Plan.Providers {
		p.f("  %s %s: %s\n", s.Type, s.Name, strings.Join(s.Details, "; "))
	}
	p.f("  AWS resources and the cluster lookup: the stack's default aws provider (every aws: key, region %s)\n", c.Region)
	for _, s := range r.Plan.Components {
		p.f("Component: %s %s, the parent of every resource below\n", s.Type, s.Name)
	}

	p.f("\nCreation order: each wave starts when the one before it is done; within a wave, in parallel.\n")
	wave := 0
	for _, s := range r.Plan.Resources {
		if s.Wave != wave {
			wave = s.Wave
			p.f("wave %d\n", wave)
		}
		var notes []string
		if s.Remote {
			notes = append(notes, "pulumi-eks component: its own resources are not shown")
		}
		if s.ImportID != "" {
			notes = append(notes, "IMPORTED as "+s.ImportID+", then updated in place to the stack's configuration")
		}
		if s.DeleteBeforeReplace {
			// A first `up` replaces nothing; this says what a later
			// replacement would do.
			notes = append(notes, "on replacement: delete first")
		}
		suffix := ""
		if len(notes) > 0 {
			suffix = "  (" + strings.Join(notes, "; ") + ")"
		}
		p.f("  %s %s%s\n", s.Type, s.Name, suffix)
		for _, d := range s.Details {
			p.f("      %s\n", d)
		}
		if len(s.WaitsFor) > 0 {
			p.f("      waits for: %s\n", strings.Join(s.WaitsFor, ", "))
		}
	}

	if len(r.Exports) > 0 {
		p.f("\nStack outputs (values the mocks computed):\n")
		for _, line := range flatten("", r.Exports) {
			p.f("  %s\n", line)
		}
	}
}

func stepNames(steps []Step) string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Type + " " + s.Name
	}
	return strings.Join(names, ", ")
}

// flatten renders nested outputs as sorted "a.b = value" lines.
func flatten(prefix string, v any) []string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			out = append(out, flatten(name, t[k])...)
		}
		return out
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		var out []string
		for i := range rv.Len() {
			out = append(out, flatten(fmt.Sprintf("%s[%d]", prefix, i), rv.Index(i).Interface())...)
		}
		return out
	}
	return []string{fmt.Sprintf("%s = %v", prefix, v)}
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
