package iampolicy

import (
	"slices"
	"strings"

	"github.com/platform-eng/eks-pod-identity/spelling"
)

//go:generate go run gen_managed.go

// IsManaged reports whether name (<path><name>, as after
// arn:<partition>:iam::aws:policy/) is one of AWS's managed policies in
// ManagedPolicies.
func IsManaged(name string) bool {
	_, found := slices.BinarySearch(ManagedPolicies, name)
	return found
}

// NearestManaged is the managed policy a name most likely misspells: the
// same name in another case or under another path, or one at most three
// edits away; "" when none is that close. A name that is not managed and
// has no near one may be newer than the list, so callers accept it.
func NearestManaged(name string) string {
	base := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	return spelling.Closest(name, ManagedPolicies, 3, base)
}
