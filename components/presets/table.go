package presets

import (
	"fmt"
	"strings"
)

// Table renders the catalogue as the README's presets table (Markdown),
// followed by each preset's notes. The README's copy is checked against it
// by a test, so the two cannot drift.
func Table() string {
	var b strings.Builder
	b.WriteString("| preset | runs as (namespace/service account) | policies (source) | inputs | access check (`aws ...`) |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, p := range catalogue {
		name := "`" + p.Name + "`"
		if p.Addon != "" {
			name += "<br>add-on `" + p.Addon + "`"
		}
		var policies []string
		for _, m := range p.ManagedPolicies {
			policies = append(policies, fmt.Sprintf("AWS managed `%s` (%s)", m.Name, m.Source))
		}
		for _, d := range p.Documents {
			policies = append(policies, fmt.Sprintf("inline `%s`, written from %s", d.Name, d.Source))
		}
		inputs := "–"
		if len(p.Requires) > 0 {
			var names []string
			for _, r := range p.Requires {
				names = append(names, "`"+string(r)+"` (required)")
			}
			inputs = strings.Join(names, ", ")
		}
		fmt.Fprintf(&b, "| %s<br>%s | `%s/%s` | %s | %s | `%s` |\n",
			name, p.For, p.Namespace, p.ServiceAccount, strings.Join(policies, "<br>"), inputs, p.checkText)
	}
	b.WriteString("\n")
	for _, p := range catalogue {
		if p.Notes != "" {
			fmt.Fprintf(&b, "- `%s`: %s\n", p.Name, p.Notes)
		}
	}
	return b.String()
}
