package irsa

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/platform-eng/eks-pod-identity/iampolicy"
)

// Provider is the cluster's IAM OIDC identity provider, as IRSA trust
// statements name it.
type Provider struct {
	// Arn is the provider's ARN,
	// arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE.
	Arn string
	// Issuer is the issuer URL without its scheme: the prefix of the
	// provider's condition keys ("<issuer>:sub", "<issuer>:aud").
	Issuer string
}

// ProviderFor is the IAM OIDC provider of a cluster's issuer URL
// (DescribeCluster's identity.oidc.issuer), in the cluster's partition and
// account: IAM names the provider by the issuer's host and path.
func ProviderFor(partition, account, issuerURL string) (Provider, error) {
	host := strings.TrimPrefix(issuerURL, "https://")
	if host == issuerURL || host == "" || strings.ContainsAny(host, " ?#") {
		return Provider{}, fmt.Errorf("the cluster's OIDC issuer %q is not an https URL: IRSA needs one", issuerURL)
	}
	return Provider{Arn: fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", partition, account, host), Issuer: host}, nil
}

// webIdentityAction is the action IRSA's trust statements allow.
const webIdentityAction = "sts:AssumeRoleWithWebIdentity"

// stsAudience is the audience EKS's webhook projects IRSA tokens for.
const stsAudience = "sts.amazonaws.com"

// podsPrincipal is the service principal Pod Identity assumes roles as.
const podsPrincipal = "pods.eks.amazonaws.com"

// Trust is the role's trust document in a phase, made from the document IAM
// holds now (existing) and the stack's Pod Identity trust (podIdentity, a
// whole document whose statements are taken):
//
//   - every statement of existing is kept as it is, except Pod Identity
//     statements (replaced by podIdentity's, so a rerun or an eksctl
//     migration leaves one) and, in Cleanup, this service account's `sub`
//     in the statements of the cluster's provider p;
//   - in Dual and PodIdentity, a statement trusting this service account
//     through p is added if none does (after going back from Cleanup);
//   - in Cleanup, a statement of p whose `sub` values were all this service
//     account's is dropped: left without them it would trust every service
//     account of the cluster. One that trusts this service account by a
//     wildcard, or every service account, is refused: no edit takes one
//     service account out of it.
//
// Statements of other providers (other clusters) are never touched.
func Trust(existing string, phase Phase, podIdentity string, p Provider, namespace, serviceAccount string) (string, error) {
	version, stmts, err := statements(existing)
	if err != nil {
		return "", fmt.Errorf("the role's trust policy: %w", err)
	}
	_, ours, err := statements(podIdentity)
	if err != nil {
		return "", fmt.Errorf("the Pod Identity trust: %w", err)
	}
	subject := Subject(namespace, serviceAccount)
	var mine []any
	for _, raw := range ours {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("the Pod Identity trust: %w", err)
		}
		mine = append(mine, v)
	}
	var out []json.RawMessage
	trusted := false
	for i, raw := range stmts {
		var s statement
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("the role's trust policy: statement %d: %w", i, err)
		}
		// The stack's own Pod Identity statement (last run's) and an
		// unconditioned one (eksctl's migration adds it) are replaced by
		// ours; one scoped to another cluster or service account is kept.
		if s.podIdentityOnly() && (s["Condition"] == nil || slices.ContainsFunc(mine, func(m any) bool { return reflect.DeepEqual(m, map[string]any(s)) })) {
			continue
		}
		// A Deny is never trust to edit.
		if !s.federates(p.Arn) || s["Effect"] != "Allow" {
			out = append(out, raw)
			continue
		}
		m := s.match(p.Issuer+":sub", subject)
		if phase.KeepsIRSA() {
			trusted = trusted || m != matchNone
			out = append(out, raw)
			continue
		}
		switch m {
		case matchNone:
			out = append(out, raw)
		case matchWildcard:
			return "", fmt.Errorf("the role's trust policy: statement %d trusts %s through %s by a wildcard; cleanup cannot take one service account out of it: list the service accounts that use the role in its %s:sub condition, then run `up` again", i, subject, p.Arn, p.Issuer)
		case matchAll:
			return "", fmt.Errorf("the role's trust policy: statement %d trusts every service account of %s (it has no %s:sub condition); cleanup cannot take one service account out of it: add a %s:sub condition listing the service accounts that use the role, then run `up` again", i, p.Arn, p.Issuer, p.Issuer)
		case matchExact:
			kept, ok := s.withoutSubject(p.Issuer+":sub", subject)
			if !ok {
				continue // its only subject was this service account
			}
			b, err := json.Marshal(kept)
			if err != nil {
				return "", fmt.Errorf("encode statement %d: %w", i, err)
			}
			out = append(out, b)
		}
	}
	if phase.KeepsIRSA() && !trusted {
		b, err := json.Marshal(WebIdentityStatement(p, namespace, serviceAccount))
		if err != nil {
			return "", err
		}
		out = append(out, b)
	}
	out = append(out, ours...)
	doc, err := json.Marshal(struct {
		Version   string            `json:"Version"`
		Statement []json.RawMessage `json:"Statement"`
	}{version, out})
	if err != nil {
		return "", fmt.Errorf("encode trust policy: %w", err)
	}
	return string(doc), nil
}

// WebIdentityStatement is the statement the EKS User Guide gives for a
// role one service account assumes through IRSA (associate-service-account-role).
func WebIdentityStatement(p Provider, namespace, serviceAccount string) map[string]any {
	return map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": p.Arn},
		"Action":    webIdentityAction,
		"Condition": map[string]any{"StringEquals": map[string]any{
			p.Issuer + ":sub": Subject(namespace, serviceAccount),
			p.Issuer + ":aud": stsAudience,
		}},
	}
}

// Size is a policy document's length as IAM counts it against its quotas:
// characters, white space not counted.
func Size(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// DefaultTrustQuota is IAM's default "role trust policy length" quota
// (ACLSizePerRole), in characters; Service Quotas can raise it (L-C07B4B0D).
const DefaultTrustQuota = 2048

// CheckSize refuses a trust document over the account's quota: IAM would
// answer LimitExceeded half-way through `up`.
func CheckSize(doc string, quota int) error {
	if n := Size(doc); n > quota {
		return fmt.Errorf("the role's trust policy would be %d characters, over the quota of %d (IAM's ACLSizePerRole; default %d, raised in Service Quotas as L-C07B4B0D): remove statements no cluster uses any more, or raise the quota and set trustPolicyQuota", n, quota, DefaultTrustQuota)
	}
	return nil
}

// statements splits a policy document into its version and statements;
// "Statement" may be one object or a list.
func statements(doc string) (string, []json.RawMessage, error) {
	var d struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return "", nil, fmt.Errorf("is not a JSON policy document: %w", err)
	}
	if d.Version == "" {
		d.Version = "2012-10-17"
	}
	var list []json.RawMessage
	if err := json.Unmarshal(d.Statement, &list); err == nil {
		return d.Version, list, nil
	}
	var one map[string]json.RawMessage
	if err := json.Unmarshal(d.Statement, &one); err != nil {
		return "", nil, fmt.Errorf(`"Statement" is neither an object nor a list`)
	}
	return d.Version, []json.RawMessage{d.Statement}, nil
}

// statement is one trust statement, decoded loosely: IAM lets each of
// these be a string or a list.
type statement map[string]any

// strs reads a string-or-list value.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (s statement) principal(kind string) []string {
	p, ok := s["Principal"].(map[string]any)
	if !ok {
		return nil
	}
	return strs(p[kind])
}

// podIdentityOnly says the statement trusts pods.eks.amazonaws.com and
// nothing else: the stack's (or eksctl's) Pod Identity statement.
func (s statement) podIdentityOnly() bool {
	p, ok := s["Principal"].(map[string]any)
	if !ok || len(p) != 1 {
		return false
	}
	svc := strs(p["Service"])
	return len(svc) == 1 && svc[0] == podsPrincipal
}

func (s statement) federates(providerArn string) bool {
	for _, f := range s.principal("Federated") {
		if f == providerArn {
			return true
		}
	}
	return false
}

type match int

const (
	matchNone     match = iota
	matchExact          // a sub value is the subject
	matchWildcard       // a StringLike pattern matches it
	matchAll            // no sub condition: every service account
)

// subOperators are the condition operators IRSA statements put `sub` under.
var subOperators = []string{"StringEquals", "StringLike"}

// match says how the statement's `sub` condition (key) admits subject.
func (s statement) match(key, subject string) match {
	cond, _ := s["Condition"].(map[string]any)
	found, best := false, matchNone
	for _, op := range subOperators {
		block, _ := cond[op].(map[string]any)
		k, ok := findKey(block, key)
		if !ok {
			continue
		}
		vals := block[k]
		found = true
		for _, v := range strs(vals) {
			switch {
			case v == subject:
				best = max(best, matchExact)
			case op == "StringLike" && strings.ContainsAny(v, "*?"):
				if iampolicy.MatchLike(v, subject) {
					best = max(best, matchWildcard)
				}
			}
		}
	}
	if !found {
		return matchAll
	}
	return best
}

// withoutSubject is the statement with subject taken out of its `sub`
// values; false when no value is left, so the statement must go.
func (s statement) withoutSubject(key, subject string) (statement, bool) {
	out := maps.Clone(s)
	cond := maps.Clone(s["Condition"].(map[string]any))
	left := false
	for _, op := range subOperators {
		block, ok := cond[op].(map[string]any)
		if !ok {
			continue
		}
		k, ok := findKey(block, key)
		if !ok {
			continue
		}
		var keep []any
		for _, v := range strs(block[k]) {
			if v != subject {
				keep = append(keep, v)
			}
		}
		nb := maps.Clone(block)
		switch len(keep) {
		case 0:
			delete(nb, k)
		case 1:
			nb[k], left = keep[0], true
		default:
			nb[k], left = keep, true
		}
		if len(nb) == 0 {
			delete(cond, op)
		} else {
			cond[op] = nb
		}
	}
	out["Condition"] = cond
	return out, left
}

// findKey is the key of block that is key, compared as IAM compares
// condition keys: without case.
func findKey(block map[string]any, key string) (string, bool) {
	for k := range block {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// Federated says the document still trusts some OIDC or SAML provider: a
// role others may still assume through IRSA.
func Federated(doc string) bool {
	_, stmts, err := statements(doc)
	if err != nil {
		return true // unreadable: assume it does
	}
	for _, raw := range stmts {
		var s statement
		if json.Unmarshal(raw, &s) == nil && len(s.principal("Federated")) > 0 {
			return true
		}
	}
	return false
}
