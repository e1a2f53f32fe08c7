package program

import (
	"reflect"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

func TestVerifyCommands(t *testing.T) {
	got := VerifyCommands("apps", "aws-cli-api", "s3 ls s3://b")
	want := []string{
		"kubectl exec -n apps aws-cli-api -- aws sts get-caller-identity",
		"kubectl exec -n apps aws-cli-api -- aws s3 ls s3://b",
		"kubectl exec -n apps aws-cli-api -- env | grep AWS_CONTAINER_AUTHORIZATION_TOKEN",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if off := VerifyCommands("apps", "p", podidentity.AccessCheckOff); len(off) != 2 {
		t.Errorf("access check off still lists %d commands: %q", len(off), off)
	}
}

// Every key of a workload in the stack file reaches the component's field
// of the same meaning: the two shapes are mapped by hand, so a field added
// to one and forgotten in the other fails here.
