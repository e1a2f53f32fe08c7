// Package iampolicy answers the two questions the program asks of IAM policy
// documents before anything exists: does a document allow an action on a
// resource, and in which services does it allow anything at all.
//
// It reads the document's text only. Conditions, resource-based policies,
// permissions boundaries and organization policies are out of its sight, so
// every answer leans towards "allowed": a caller that refuses on "not
// allowed" refuses only what no reading of the text could allow.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Document is an IAM policy document, reduced to what the questions need.
type Document struct {
	Statement statements `json:"Statement"`
}

type statement struct {
	Effect      string          `json:"Effect"`
	Action      stringList      `json:"Action"`
	NotAction   stringList      `json:"NotAction"`
	Resource    stringList      `json:"Resource"`
	NotResource stringList      `json:"NotResource"`
	Condition   json.RawMessage `json:"Condition"`
}

// statements accepts IAM's two spellings: one statement object or a list.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	if trimmed := strings.TrimSpace(string(b)); strings.HasPrefix(trimmed, "{") {
		var one statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	var many []statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// stringList accepts IAM's two spellings of Action and Resource: one string
// or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

// Parse reads a policy document's JSON text.
func Parse(text string) (Document, error) {
	var d Document
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		return Document{}, fmt.Errorf("parse policy document: %w", err)
	}
	return d, nil
}

// Allows reports whether some Allow statement covers action on resource and
// no unconditional Deny statement takes it away. Conditions on Allow
// statements are taken as met, and a conditional Deny as not applying.
// Actions match case-insensitively and resources case-sensitively, both with
// IAM's * and ? wildcards.
func (d Document) Allows(action, resource string) bool {
	allowed := false
	for _, s := range d.Statement {
		if !s.covers(action, resource) {
			continue
		}
		switch {
		case strings.EqualFold(s.Effect, "Deny") && len(s.Condition) == 0:
			return false
		case strings.EqualFold(s.Effect, "Allow"):
			allowed = true
		}
	}
	return allowed
}

func (s statement) covers(action, resource string) bool {
	actionOK := s.NotAction == nil && slices.ContainsFunc(s.Action, func(p string) bool { return MatchAction(p, action) }) ||
		s.NotAction != nil && !slices.ContainsFunc(s.NotAction, func(p string) bool { return MatchAction(p, action) })
	if !actionOK {
		return false
	}
	switch {
	case s.NotResource != nil:
		return !slices.ContainsFunc(s.NotResource, func(p string) bool { return glob(p, resource, false) })
	case s.Resource != nil:
		return slices.ContainsFunc(s.Resource, func(p string) bool { return glob(p, resource, false) })
	default:
		// IAM requires Resource in identity policies; without it the
		// statement is read as covering everything rather than nothing.
		return true
	}
}

// AllServices is what Services reports for a statement that allows actions
// in every service: Action "*", or any NotAction.
const AllServices = "*"

// Services lists, sorted, the service prefixes (as in "s3", "logs") in which
// some Allow statement allows an action, whatever its resources and
// conditions; AllServices stands for every service.
func (d Document) Services() []string {
	seen := map[string]bool{}
	for _, s := range d.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		if s.NotAction != nil {
			seen[AllServices] = true
			continue
		}
		for _, a := range s.Action {
			service, _, found := strings.Cut(a, ":")
			if !found || strings.ContainsAny(service, "*?") {
				// "*" or a wildcard in the service part can reach any service.
				seen[AllServices] = true
				continue
			}
			seen[strings.ToLower(service)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// MatchAction reports whether an Action pattern such as "s3:List*" covers
// action: case-insensitive, with * and ? wildcards.
func MatchAction(pattern, action string) bool {
	return glob(pattern, action, true)
}

// MatchLike reports whether value matches pattern as IAM's StringLike
// condition operator matches: case-sensitive, with * and ? wildcards.
func MatchLike(pattern, value string) bool {
	return glob(pattern, value, false)
}

// glob matches s against pattern, where * matches any run of characters
// (including none) and ? exactly one.
func glob(pattern, s string, foldCase bool) bool {
	if foldCase {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative matching with backtracking to the last *: linear in
	// practice, and no recursion on hostile patterns.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// AllowsSomewhere reports whether some Allow statement covers action on
// some resource (resources and conditions not judged) and no unconditional
// Deny on every resource takes it away: what an access check whose
// resource is not known can be held to.
func (d Document) AllowsSomewhere(action string) bool {
	allowed := false
	for _, s := range d.Statement {
		actionOK := s.NotAction == nil && slices.ContainsFunc(s.Action, func(p string) bool { return MatchAction(p, action) }) ||
			s.NotAction != nil && !slices.ContainsFunc(s.NotAction, func(p string) bool { return MatchAction(p, action) })
		if !actionOK {
			continue
		}
		switch {
		case strings.EqualFold(s.Effect, "Deny") && len(s.Condition) == 0 && s.NotResource == nil && slices.Contains(s.Resource, "*"):
			return false
		case strings.EqualFold(s.Effect, "Allow"):
			allowed = true
		}
	}
	return allowed
}
