// Package spelling finds what a misspelt name most likely meant, for the
// refusals that say "did you mean ...": config keys, regions, AWS managed
// policy names. A leaf: it imports nothing of the project.
package spelling

import "strings"

// Distance is the Levenshtein distance between a and b: the fewest
// insertions, deletions and substitutions that turn one into the other.
func Distance(a, b string) int {
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
	return prev[len(b)]
}

// Closest is the candidate a misspelt word most likely meant: one equal
// to it ignoring case, else the one fewest edits away (case ignored) if
// that is at most within edits (within < 0: any distance); "" when none is
// that close. key, when not nil, maps each candidate (and the word) to the
// part compared, e.g. a policy name without its path.
func Closest(word string, candidates []string, within int, key func(string) string) string {
	if key == nil {
		key = func(s string) string { return s }
	}
	w := strings.ToLower(key(word))
	best, bestDist := "", -1
	for _, c := range candidates {
		k := strings.ToLower(key(c))
		if k == w {
			return c
		}
		if d := Distance(w, k); (within < 0 || d <= within) && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}
