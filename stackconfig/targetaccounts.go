package stackconfig

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

// KeyTargetAccounts names the accounts the stack may create target roles
// in (a workload's targetRole), each reached through an AWS provider that
// assumes a role there.
const KeyTargetAccounts = "targetAccounts"

// TargetAccount is one entry of targetAccounts.
type TargetAccount struct {
	// AccountID is the account's 12-digit ID; the provider refuses to act
	// in any other (allowedAccountIds).
	AccountID string `json:"accountId"`
	// RoleArn is the role in that account the provider assumes: it must be
	// able to create IAM roles and attach policies there.
	RoleArn string `json:"roleArn"`
	// ExternalID is the sts:ExternalId that role's trust asks for, if any.
	ExternalID string `json:"externalId"`
}

// targetRoleConfig is a workload's targetRole block.
type targetRoleConfig struct {
	Account    string   `json:"account"`
	RoleName   string   `json:"roleName"`
	PolicyArns []string `json:"policyArns"`
}

var (
	targetAccountNameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)
	accountIDRe         = regexp.MustCompile(`^\d{12}$`)
	assumeRoleArnRe     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/([\x21-\x7E]+/)?[\w+=,.@-]{1,64}$`)
)

// targetAccounts parses targetAccounts, each problem under its entry's key.
func (p *parser) targetAccounts() map[string]TargetAccount {
	v, ok := p.raw[Key(KeyTargetAccounts)]
	if !ok || v == "" || v == "{}" {
		return nil
	}
	var items map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &items); err != nil {
		p.problem(KeyTargetAccounts, "is not a map of account names to {accountId, roleArn}: %v", err)
		return nil
	}
	allowed := jsonKeys[TargetAccount]()
	out := map[string]TargetAccount{}
	byID := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(items)) {
		at := KeyTargetAccounts + "." + name
		if !targetAccountNameRe.MatchString(name) {
			p.problem(at, "%q is not an account name: 1 to 40 lowercase letters, digits and '-' (it names the account's provider)", name)
		}
		for _, k := range unknownKeys(items[name], allowed) {
			p.problem(at, "unknown key %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
		var a TargetAccount
		if err := json.Unmarshal(items[name], &a); err != nil {
			p.problems = append(p.problems, Key(at)+describeDecodeError(err))
			continue
		}
		if !accountIDRe.MatchString(a.AccountID) {
			p.problem(at+".accountId", "%q is not an AWS account ID: 12 digits, quoted in YAML so it stays a string", a.AccountID)
		}
		if m := assumeRoleArnRe.FindStringSubmatch(a.RoleArn); m == nil {
			p.problem(at+".roleArn", "%q is not an IAM role ARN: expected arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the role the stack's provider assumes in that account", a.RoleArn)
		} else if accountIDRe.MatchString(a.AccountID) && m[1] != a.AccountID {
			p.problem(at+".roleArn", "%q is in account %s, not %s: the provider assumes a role in the account it deploys to", a.RoleArn, m[1], a.AccountID)
		}
		if other, dup := byID[a.AccountID]; dup && a.AccountID != "" {
			p.problem(at+".accountId", "%s is also the account of %s.%s: one entry per account", a.AccountID, KeyTargetAccounts, other)
		}
		byID[a.AccountID] = name
		out[name] = a
	}
	return out
}

// resolveTargetRoles turns each workload's targetRole.account (a name in
// targetAccounts) into the account ID the component takes.
func (p *parser) resolveTargetRoles(workloads []podidentity.Workload, names []string, accounts map[string]TargetAccount) {
	for i := range workloads {
		t := workloads[i].TargetRole
		if t == nil {
			continue
		}
		at := fmt.Sprintf("%s[%d].targetRole.account", KeyWorkloads, i)
		a, ok := accounts[names[i]]
		switch {
		case names[i] == "":
			p.problem(at, "is required: the name of an entry of %s", KeyTargetAccounts)
		case !ok:
			p.problem(at, "%q is not an entry of %s (defined: %s): the stack creates target roles only in accounts it names there, with a provider for each", names[i], KeyTargetAccounts, strings.Join(slices.Sorted(maps.Keys(accounts)), ", "))
		default:
			t.Account = a.AccountID
		}
	}
}
