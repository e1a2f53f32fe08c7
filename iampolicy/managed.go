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
	base := name[strings.LastIndex(name, "/")+1:]
	best, bestDist := "", 4
	for _, m := range ManagedPolicies {
		mBase := m[strings.LastIndex(m, "/")+1:]
		if strings.EqualFold(m, name) || mBase == base {
			return m
		}
		if d := spelling.Distance(strings.ToLower(base), strings.ToLower(mBase)); d < bestDist {
			best, bestDist = m, d
		}
	}
	return best
}
