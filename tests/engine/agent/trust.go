package agent

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Request is what EKS Auth asks of STS when it assumes a role for a pod:
// pods.eks.amazonaws.com calls sts:AssumeRole, and sts:TagSession when it
// sets session tags; the request context holds aws:RequestTag/<key> per tag
// and aws:TagKeys with all keys.
//
// For role chaining (an association's target role) the caller is the
// first role's session instead: PrincipalArn is that role's ARN (IAM's
// aws:PrincipalARN), and ExternalID the association's sts:ExternalId when
// session tags are off.
type Request struct {
	Service      string
	PrincipalArn string
	ExternalID   string
	Actions      []string
	Tags         map[string]string
}

// who names the caller in reasons.
func (r Request) who() string {
	if r.PrincipalArn != "" {
		return r.PrincipalArn
	}
	return r.Service
}

// context returns the request's condition keys (lower-case, as IAM matches
// keys case-insensitively) with their values.
func (r Request) context() map[string][]string {
	ctx := map[string][]string{}
	keys := make([]string, 0, len(r.Tags))
	for k, v := range r.Tags {
		ctx[strings.ToLower("aws:RequestTag/"+k)] = []string{v}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		ctx["aws:tagkeys"] = keys
	}
	if r.PrincipalArn != "" {
		ctx["aws:principalarn"] = []string{r.PrincipalArn}
	}
	if r.ExternalID != "" {
		ctx["sts:externalid"] = []string{r.ExternalID}
	}
	return ctx
}

// multiValued are the context keys that hold sets; they need ForAnyValue or
// ForAllValues in a condition.
var multiValued = map[string]bool{"aws:tagkeys": true}

// Decision is the outcome of evaluating a trust policy for a Request.
type Decision struct {
	Allowed bool
	// Reason says why not (or which statements allowed it), for the
	// agent's error answer and log.
	Reason string
}

type statement struct {
	Sid          string                                `json:"Sid"`
	Effect       string                                `json:"Effect"`
	Principal    json.RawMessage                       `json:"Principal"`
	NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
	Action       stringList                            `json:"Action"`
	NotAction    stringList                            `json:"NotAction"`
	Condition    map[string]map[string]json.RawMessage `json:"Condition"`
}

type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*l = many
	return nil
}

// EvaluateTrust decides whether a role's trust policy lets req.Service
// perform every action in req.Actions with req.Tags, as IAM would for the
// subset of the policy language it supports: Allow and Deny statements
// (an explicit Deny wins; each action needs an Allow), Principal "*" or
// {"Service": ...}, Action with * and ? wildcards, and Conditions with
// StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike,
// StringNotLike (each optionally ...IfExists, and ForAnyValue:/ForAllValues:
// for aws:TagKeys). A policy using anything else (NotPrincipal, NotAction,
// other operators) is refused with an error rather than guessed at.
//
// The document may be URL-encoded, as IAM's GetRole returns it.
func EvaluateTrust(doc string, req Request) (Decision, error) {
	if strings.HasPrefix(doc, "%7B") || strings.HasPrefix(doc, "%7b") {
		unescaped, err := url.QueryUnescape(doc)
		if err != nil {
			return Decision{}, fmt.Errorf("trust policy is URL-encoded but does not decode: %w", err)
		}
		doc = unescaped
	}
	var policy struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		return Decision{}, fmt.Errorf("trust policy is not JSON: %w", err)
	}
	var stmts []statement
	if len(policy.Statement) > 0 && policy.Statement[0] == '{' {
		var one statement
		if err := json.Unmarshal(policy.Statement, &one); err != nil {
			return Decision{}, fmt.Errorf("trust policy statement: %w", err)
		}
		stmts = []statement{one}
	} else if err := json.Unmarshal(policy.Statement, &stmts); err != nil {
		return Decision{}, fmt.Errorf("trust policy statements: %w", err)
	}
	ctx := req.context()

	// Each action needs an Allow; the first one refused is reported, as
	// IAM names the one action a caller was not authorized to perform.
	for _, action := range req.Actions {
		allowed := false
		var why []string
		for i, s := range stmts {
			name := s.Sid
			if name == "" {
				name = fmt.Sprintf("statement %d", i)
			}
			applies, reason, err := s.applies(req, action, ctx)
			if err != nil {
				return Decision{}, fmt.Errorf("%s: %w", name, err)
			}
			switch {
			case applies && s.Effect == "Deny":
				return Decision{Allowed: false, Reason: fmt.Sprintf("%s denies %s to %s", name, action, req.who())}, nil
			case applies && s.Effect == "Allow":
				allowed = true
			case !applies && reason != "":
				why = append(why, name+": "+reason)
			}
		}
		if !allowed {
			msg := fmt.Sprintf("no statement allows %s to %s", req.who(), action)
			if len(why) > 0 {
				msg += " (" + strings.Join(why, "; ") + ")"
			}
			return Decision{Allowed: false, Reason: msg}, nil
		}
	}
	return Decision{Allowed: true, Reason: "allowed: " + strings.Join(req.Actions, ", ")}, nil
}

// applies tells whether the statement covers service doing action in ctx;
// when it does not because of a principal or condition, reason says why
// (an action it does not name needs no explanation).
func (s statement) applies(req Request, action string, ctx map[string][]string) (bool, string, error) {
	if s.Effect != "Allow" && s.Effect != "Deny" {
		return false, "", fmt.Errorf("effect %q is neither Allow nor Deny", s.Effect)
	}
	if len(s.NotPrincipal) > 0 || len(s.NotAction) > 0 {
		return false, "", fmt.Errorf("NotPrincipal and NotAction are not supported by this stand-in")
	}
	if !slices.ContainsFunc(s.Action, func(p string) bool { return wildcardMatch(strings.ToLower(p), strings.ToLower(action)) }) {
		return false, "", nil
	}
	ok, err := principalMatches(s.Principal, req)
	if err != nil {
		return false, "", err
	}
	if !ok {
		return false, fmt.Sprintf("principal %s is not %s", s.Principal, req.who()), nil
	}
	for _, op := range sortedKeys(s.Condition) {
		for _, key := range sortedKeys(s.Condition[op]) {
			var want stringList
			if err := json.Unmarshal(s.Condition[op][key], &want); err != nil {
				return false, "", fmt.Errorf("condition %s %s: %w", op, key, err)
			}
			ok, why, err := conditionHolds(op, key, want, ctx)
			if err != nil {
				return false, "", err
			}
			if !ok {
				return false, why, nil
			}
		}
	}
	return true, "", nil
}

func principalMatches(raw json.RawMessage, req Request) (bool, error) {
	if len(raw) == 0 {
		return false, fmt.Errorf("a trust policy statement needs a Principal")
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*", nil
	}
	var byType map[string]stringList
	if err := json.Unmarshal(raw, &byType); err != nil {
		return false, fmt.Errorf("principal %s: %w", raw, err)
	}
	if req.PrincipalArn == "" {
		return slices.Contains(byType["Service"], req.Service), nil
	}
	// An AWS principal: the account (its root ARN, or the bare ID) stands
	// for every identity in it that its own policies let through; a role
	// ARN for that role.
	account := strings.Split(req.PrincipalArn, ":")[4]
	return slices.ContainsFunc(byType["AWS"], func(p string) bool {
		return p == req.PrincipalArn || p == account || (strings.HasSuffix(p, ":root") && strings.Split(p, ":")[4] == account)
	}), nil
}

// conditionHolds evaluates one operator/key pair; values of a key are ORed.
func conditionHolds(op, key string, want []string, ctx map[string][]string) (bool, string, error) {
	set := ""
	base := op
	if prefix, rest, found := strings.Cut(op, ":"); found {
		if prefix != "ForAnyValue" && prefix != "ForAllValues" {
			return false, "", fmt.Errorf("condition operator %q is not supported by this stand-in", op)
		}
		set, base = prefix, rest
	}
	ifExists := strings.HasSuffix(base, "IfExists")
	base = strings.TrimSuffix(base, "IfExists")
	var match func(pattern, value string) bool
	negated := false
	switch base {
	case "StringEquals":
		match = func(p, v string) bool { return p == v }
	case "StringNotEquals":
		match, negated = func(p, v string) bool { return p == v }, true
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnEquals", "ArnLike":
		match = wildcardMatch
	case "StringNotLike":
		match, negated = wildcardMatch, true
	default:
		return false, "", fmt.Errorf("condition operator %q is not supported by this stand-in", op)
	}
	lk := strings.ToLower(key)
	have, present := ctx[lk]
	if multiValued[lk] && set == "" {
		return false, "", fmt.Errorf("condition %s on the multivalued key %s needs a ForAnyValue or ForAllValues prefix", op, key)
	}
	if !multiValued[lk] && set != "" {
		return false, "", fmt.Errorf("condition %s on the single-valued key %s", op, key)
	}
	describe := func() string {
		seen := "nothing (the key is not in the request)"
		if present {
			seen = fmt.Sprintf("%q", have)
			if len(have) == 1 {
				seen = fmt.Sprintf("%q", have[0])
			}
		}
		return fmt.Sprintf("condition %s %s wants %q, the request has %s", op, key, want, seen)
	}
	if !present {
		// IAM: a missing key makes a positive operator false and a
		// negated one true; ...IfExists makes both true; ForAllValues
		// over an empty set is true.
		if ifExists || negated || set == "ForAllValues" {
			return true, "", nil
		}
		return false, describe(), nil
	}
	anyOf := func(v string) bool {
		return slices.ContainsFunc(want, func(p string) bool { return match(p, v) })
	}
	var ok bool
	switch set {
	case "ForAllValues":
		ok = !slices.ContainsFunc(have, func(v string) bool { return anyOf(v) == negated })
	default: // ForAnyValue, or a single value
		ok = slices.ContainsFunc(have, func(v string) bool { return anyOf(v) != negated })
	}
	if !ok {
		return false, describe(), nil
	}
	return true, "", nil
}

// wildcardMatch matches IAM patterns: * any run, ? one character.
func wildcardMatch(pattern, value string) bool {
	// Not path.Match: it treats / and [ specially, IAM does not.
	return globMatch([]rune(pattern), []rune(value))
}

func globMatch(p, v []rune) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := 0; i <= len(v); i++ {
				if globMatch(p[1:], v[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(v) == 0 {
				return false
			}
		default:
			if len(v) == 0 || v[0] != p[0] {
				return false
			}
		}
		p, v = p[1:], v[1:]
	}
	return len(v) == 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
