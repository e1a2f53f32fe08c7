package stackcheck

import (
	"encoding/json"
	"io"
)

// JSONVersion is the version of the --json report's schema; it changes
// only when a field is removed or changes meaning.
const JSONVersion = 1

// jsonRun is what `check-stack --json` prints: one document for the run.
type jsonRun struct {
	Version int `json:"version"`
	// Accepted is true when every stack is accepted.
	Accepted bool         `json:"accepted"`
	Stacks   []jsonReport `json:"stacks"`
}

// jsonReport is one stack's report. Lists are never null. Nothing in it is
// a raw input value: resources are described as in the text report, so a
// secret stays out of it as it does there.
type jsonReport struct {
	Stack    string   `json:"stack"`
	Accepted bool     `json:"accepted"`
	Refusals []string `json:"refusals"`
	Warnings []string `json:"warnings"`
	Notes    []string `json:"notes"`
	// Cluster, Plan and Outputs are null when the stack is refused.
	Cluster *jsonCluster   `json:"cluster"`
	Plan    *jsonPlan      `json:"plan"`
	Outputs map[string]any `json:"outputs"`
}

type jsonCluster struct {
	Name      string `json:"name"`
	Arn       string `json:"arn"`
	Region    string `json:"region"`
	Partition string `json:"partition"`
	Account   string `json:"account"`
	// PlaceholderAccount says Account is the mocks' placeholder.
	PlaceholderAccount bool `json:"placeholderAccount"`
	// Created says the stack creates the cluster (createCluster).
	Created bool `json:"created"`
}

type jsonPlan struct {
	Providers  []jsonStep `json:"providers"`
	Components []jsonStep `json:"components"`
	// Resources are in creation order: by wave, then by name.
	Resources []jsonStep `json:"resources"`
}

type jsonStep struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Wave is 0 for providers and components.
	Wave int `json:"wave"`
	// Inputs are the key inputs, described one per line as in the text
	// report (never the raw values).
	Inputs   []string `json:"inputs"`
	WaitsFor []string `json:"waitsFor"`
	// DeleteBeforeReplace: a later replacement would delete it first.
	DeleteBeforeReplace bool `json:"deleteBeforeReplace"`
	// RemoteComponent: pulumi-eks's; the resources it creates are not seen.
	RemoteComponent bool `json:"remoteComponent"`
	// ImportID: `up` imports the existing object (adopt) instead of
	// creating it; "" creates it.
	ImportID string `json:"importId"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func jsonSteps(steps []Step) []jsonStep {
	out := make([]jsonStep, len(steps))
	for i, s := range steps {
		out[i] = jsonStep{Type: s.Type, Name: s.Name, Wave: s.Wave, Inputs: nonNil(s.Details), WaitsFor: nonNil(s.WaitsFor),
			DeleteBeforeReplace: s.DeleteBeforeReplace, RemoteComponent: s.Remote, ImportID: s.ImportID}
	}
	return out
}

func (r *Report) jsonReport() jsonReport {
	j := jsonReport{Stack: r.Stack, Accepted: r.OK(), Refusals: nonNil(r.Refusals), Warnings: nonNil(r.Warnings), Notes: nonNil(r.Notes)}
	if r.Plan == nil {
		return j
	}
	c := r.Cluster
	j.Cluster = &jsonCluster{Name: c.Name, Arn: c.Arn(), Region: c.Region, Partition: c.Partition, Account: c.Account,
		PlaceholderAccount: r.PlaceholderAccount, Created: c.Created}
	j.Plan = &jsonPlan{Providers: jsonSteps(r.Plan.Providers), Components: jsonSteps(r.Plan.Components), Resources: jsonSteps(r.Plan.Resources)}
	j.Outputs = r.Exports
	if j.Outputs == nil {
		j.Outputs = map[string]any{}
	}
	return j
}

// WriteJSON prints the reports of one run as one JSON document (see
// jsonRun), indented.
func WriteJSON(w io.Writer, reports []*Report) error {
	run := jsonRun{Version: JSONVersion, Accepted: true, Stacks: []jsonReport{}}
	for _, r := range reports {
		run.Stacks = append(run.Stacks, r.jsonReport())
		run.Accepted = run.Accepted && r.OK()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(run)
}
