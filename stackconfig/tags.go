package stackconfig

import (
	"fmt"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

// StackTagKey is the AWS tag this program puts on the add-on, roles and
// associations it manages, with the stack's fully qualified name as value
// (as CloudFormation tags with aws:cloudformation:stack-name). It is how a
// later run tells "created or adopted by this stack" from "made by hand":
// the program cannot read its own stack's state, and importing an object
// that is already in it plans an import-replacement (an association's
// import ID differs from the ID Pulumi records), which deletes it.
const StackTagKey = Project + ":stack"

// AdoptedTagKey, "true" on the agent add-on, records that the stack took
// it over rather than created it: the add-on then belongs to the stack
// (StackTagKey), and only this tag still tells a later run that other pods
// on the cluster relied on it before, so destroy keeps it running
// (adoption.KeepAgent).
const AdoptedTagKey = Project + ":adopted"

// ReservedTagProblems refuses tags that would overwrite StackTagKey, which
// the program sets itself.
func ReservedTagProblems(args podidentity.Args) []string {
	var out []string
	for _, k := range []string{StackTagKey, AdoptedTagKey} {
		if _, ok := args.Tags[k]; ok {
			out = append(out, fmt.Sprintf("%s: %q is reserved: the program tags what this stack manages with it", Key(KeyTags), k))
		}
	}
	for i, w := range args.Workloads {
		for _, k := range []string{StackTagKey, AdoptedTagKey} {
			if _, ok := w.Tags[k]; ok {
				out = append(out, fmt.Sprintf("%s[%d].tags: %q is reserved: the program tags what this stack manages with it", Key(KeyWorkloads), i, k))
			}
		}
	}
	return out
}
