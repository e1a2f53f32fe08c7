package iampolicy

import (
	"slices"
	"strings"
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
		if d := editDistance(strings.ToLower(base), strings.ToLower(mBase), bestDist); d < bestDist {
			best, bestDist = m, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return min(prev[len(b)], limit)
}
