package program

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/platform-eng/eks-pod-identity/adoption"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// StackName is the running stack's fully qualified name,
// organization/project/stack. Not unique on its own: a DIY backend's
// organization is always "organization".
func StackName(ctx *pulumi.Context) string {
	return ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
}

// identify finds the stack's ID and so its marker: stackId when the user
// set it; else the ID the stack recorded as its output stackconfig.StackIDOutput,
// read back through a reference to the stack itself, which sees its own
// state in any backend; else a new random one, which this run records
// (the first `up`, or the first since stack IDs). A new ID is made per
// state, so two stacks of one name in two backends never share it.
func identify(ctx *pulumi.Context, s stackconfig.Settings) (adoption.Stack, string, error) {
	name := StackName(ctx)
	id := s.StackID
	if id == "" {
		recorded, err := recordedStackID(ctx, name)
		if err != nil {
			return adoption.Stack{}, "", err
		}
		id = recorded
	}
	// Until the stack has an ID on record, objects marked with its name
	// alone (before stack IDs) are its own, so an existing stack moves over.
	legacy := id == ""
	if id == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return adoption.Stack{}, "", fmt.Errorf("make the stack's ID: %w", err)
		}
		id = hex.EncodeToString(b)
	}
	return adoption.Stack{Marker: stackconfig.Marker(name, id), Legacy: legacy}, id, nil
}

// recordedStackID reads the stack's own output stackId: "" when the stack
// has none (a new stack, or one from before stack IDs).
func recordedStackID(ctx *pulumi.Context, name string) (string, error) {
	self, err := pulumi.NewStackReference(ctx, "stack-id", &pulumi.StackReferenceArgs{Name: pulumi.String(name)})
	if err != nil {
		return "", fmt.Errorf("read this stack's recorded ID (stack reference to %s): %w", name, err)
	}
	d, err := self.GetOutputDetails(stackconfig.StackIDOutput)
	if err != nil {
		return "", fmt.Errorf("read this stack's recorded ID (output %s of %s): %w", stackconfig.StackIDOutput, name, err)
	}
	switch v := d.Value.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("this stack's output %s is %v, not a stack ID: set %s to the ID its AWS tags %s carry", stackconfig.StackIDOutput, v, stackconfig.Key(stackconfig.KeyStackID), stackconfig.StackTagKey)
	}
}
