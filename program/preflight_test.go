package program

import (
	"reflect"
	"testing"

	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

func TestWithStackTagAddsTheMarker(t *testing.T) {
	const marker = "organization/eks-pod-identity/dev"
	got := withStackTag(map[string]string{"team": "a"}, marker)
	if want := map[string]string{"team": "a", stackconfig.StackTagKey: marker}; !reflect.DeepEqual(got, want) {
		t.Errorf("withStackTag = %v, want %v", got, want)
	}
}
