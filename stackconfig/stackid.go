package stackconfig

import (
	"regexp"
	"strconv"
	"strings"
)

// KeyStackID overrides the stack's ID, the random part of its marker
// (StackTagKey). Normally unset: the ID is that of a provider the stack
// owns for this (program/stackid.go), kept in its state, and the stack
// output "stackId" shows it. Set it only when a refusal says so.
const KeyStackID = "stackId"

// StackIDOutput is the stack output that records the stack's ID.
const StackIDOutput = "stackId"

var stackIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{7,63}$`)

// stackIDProblem checks a stackId value: lowercase letters and digits, so it
// is valid in an AWS tag value and a Kubernetes annotation alike.
func stackIDProblem(v string) string {
	if v == "" || stackIDPattern.MatchString(v) {
		return ""
	}
	return Key(KeyStackID) + ": " + strconv.Quote(v) + " is not a stack ID: 8 to 64 lowercase letters, digits and '-', as a refusal or `pulumi stack output " + StackIDOutput + "` gives it"
}

// Marker is the value of StackTagKey for a stack: its fully qualified name
// (organization/project/stack) and its ID. The name alone is not unique:
// every DIY backend's organization is "organization", so two people's `dev`
// stacks have one name; the ID is per stack state.
func Marker(name, id string) string {
	if id == "" {
		return name
	}
	return name + "@" + id
}

// SplitMarker is Marker's inverse; a marker written before stack IDs has
// none.
func SplitMarker(m string) (name, id string) {
	if i := strings.LastIndex(m, "@"); i >= 0 {
		return m[:i], m[i+1:]
	}
	return m, ""
}
