package stackcheck

import (
	"flag"
	"fmt"
	"io"
)

// Main is cmd/check-stack: it checks the named stacks (every stack file
// when none is named) and returns the exit status: 0 when every stack is
// accepted, 1 when one is refused or has a mistake, 2 on bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("C", ".", "project directory (the one with Pulumi.yaml)")
	account := fs.String("account", "", "AWS account ID for the mocked ARNs (default: the stack's only aws:allowedAccountIds entry, else "+PlaceholderAccount+")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: check-stack [-C dir] [-account id] [stack ...]\n\nChecks Pulumi.<stack>.yaml offline (every stack file when none is named).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	stacks := fs.Args()
	if len(stacks) == 0 {
		var err error
		if stacks, err = Stacks(*dir); err != nil {
			fmt.Fprintln(stderr, "check-stack:", err)
			return 2
		}
		if len(stacks) == 0 {
			fmt.Fprintf(stderr, "check-stack: no Pulumi.<stack>.yaml in %s\n", *dir)
			return 2
		}
	}
	status := 0
	for i, stack := range stacks {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		r := Check(*dir, stack, *account)
		if err := r.Write(stdout); err != nil {
			fmt.Fprintln(stderr, "check-stack:", err)
			return 2
		}
		if !r.OK() {
			status = 1
		}
	}
	return status
}
