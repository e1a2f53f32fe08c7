package stackcheck

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/platform-eng/eks-pod-identity/discover"
)

// Exit statuses of Main (and cmd/check-stack).
const (
	ExitAccepted = 0
	// ExitRefused: a stack is refused (or its file cannot be read).
	ExitRefused = 1
	// ExitUsage is bad usage; with -strict also a warning on a run with no
	// refusal.
	ExitUsage = 2
)

const usage = `usage: check-stack [-C dir] [-account id] [-existing file] [-strict] [-json] [stack ...]

Checks Pulumi.<stack>.yaml offline (every stack file when none is named).
With -existing, in the world a file recorded with read-only aws and kubectl
commands (docs/check-stack.md, "Rehearsing adopt"), with adopt on: the plan
marks what would be IMPORTED, and a refusal names what adopt would refuse.

Exit status: 0 when every stack is accepted; 1 when a stack is refused;
2 on bad usage, and with -strict when a stack has a warning and none is
refused (a refusal's 1 wins over a warning's 2).

-json prints one JSON document instead of text:
  {"version": 1, "accepted": bool, "stacks": [{"stack", "accepted",
   "refusals": [..], "warnings": [..], "notes": [..],
   "cluster": {"name", "arn", "region", "partition", "account",
               "placeholderAccount", "created"} | null,
   "plan": {"providers", "components", "resources": [{"type", "name",
            "wave", "inputs": [..], "waitsFor": [..],
            "deleteBeforeReplace", "remoteComponent", "importId"}]} | null,
   "outputs": {..} | null}]}
Lists are never null; cluster, plan and outputs are null for a refused
stack; inputs are the text report's described lines, never raw values.

`

// Main is cmd/check-stack: it checks the named stacks (every stack file
// when none is named) and returns the exit status (ExitAccepted,
// ExitRefused, ExitUsage; see usage for -strict).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("C", ".", "project directory (the one with Pulumi.yaml)")
	account := fs.String("account", "", "AWS account ID for the mocked ARNs (default: the stack's only aws:allowedAccountIds entry, else "+PlaceholderAccount+")")
	strict := fs.Bool("strict", false, "fail with exit status 2 when a stack has a warning (unless a refusal already gives 1)")
	asJSON := fs.Bool("json", false, "print a machine-readable JSON report instead of text")
	existingFile := fs.String("existing", "", "a recorded world (JSON: addon, roles, associations, kubernetes) to check adopt against")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	var existing *discover.Recorded
	if *existingFile != "" {
		data, err := os.ReadFile(*existingFile)
		if err == nil {
			existing, err = discover.ParseRecorded(data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "check-stack: -existing %s: %v\n", *existingFile, err)
			return ExitUsage
		}
	}
	stacks := fs.Args()
	if len(stacks) == 0 {
		var err error
		if stacks, err = Stacks(*dir); err != nil {
			fmt.Fprintln(stderr, "check-stack:", err)
			return ExitUsage
		}
		if len(stacks) == 0 {
			fmt.Fprintf(stderr, "check-stack: no Pulumi.<stack>.yaml in %s\n", *dir)
			return ExitUsage
		}
	}
	var reports []*Report
	for i, stack := range stacks {
		r := CheckExisting(*dir, stack, *account, existing)
		reports = append(reports, r)
		if *asJSON {
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := r.Write(stdout); err != nil {
			fmt.Fprintln(stderr, "check-stack:", err)
			return ExitUsage
		}
	}
	if *asJSON {
		if err := WriteJSON(stdout, reports); err != nil {
			fmt.Fprintln(stderr, "check-stack:", err)
			return ExitUsage
		}
	}
	return ExitStatus(reports, *strict)
}

// ExitStatus is the run's exit status: ExitRefused when a stack is
// refused; else, with strict, ExitUsage when a stack has a warning; else
// ExitAccepted.
func ExitStatus(reports []*Report, strict bool) int {
	warned := false
	for _, r := range reports {
		if !r.OK() {
			return ExitRefused
		}
		warned = warned || len(r.Warnings) > 0
	}
	if strict && warned {
		return ExitUsage
	}
	return ExitAccepted
}
