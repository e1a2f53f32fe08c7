package main

// IAM resources: Role, RolePolicy, RolePolicyAttachment.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	roleToken       = "aws:iam/role:Role"
	rolePolicyToken = "aws:iam/rolePolicy:RolePolicy"
	attachmentToken = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

	roleNameMax       = 64
	roleNamePrefixMax = roleNameMax - 26 // TF: id.UniqueIDSuffixLength
)

func init() {
	register(&resourceKind{
		token: roleToken,
		inputs: []string{"name", "namePrefix", "path", "assumeRolePolicy", "description", "maxSessionDuration",
			"permissionsBoundary", "forceDetachPolicies", "inlinePolicies", "managedPolicyArns", "tags"},
		replaces:         set("name", "namePrefix", "path"),
		optionalComputed: set("name", "namePrefix", "inlinePolicies", "managedPolicyArns"),
		computedOnCreate: []string{"arn", "uniqueId", "createDate", "tagsAll", "inlinePolicies", "managedPolicyArns", "name", "namePrefix"},
		check:            checkRole,
		create:           createRole,
		read:             readRole,
		update:           updateRole,
		delete:           deleteRole,
	})
	register(&resourceKind{
		token:            rolePolicyToken,
		inputs:           []string{"role", "name", "namePrefix", "policy"},
		replaces:         set("role", "name", "namePrefix"),
		optionalComputed: set("name", "namePrefix"),
		computedOnCreate: []string{"name", "namePrefix"},
		check:            checkRolePolicy,
		create:           createRolePolicy,
		read:             readRolePolicy,
		update:           updateRolePolicy,
		delete:           deleteRolePolicy,
	})
	register(&resourceKind{
		token:    attachmentToken,
		inputs:   []string{"role", "policyArn"},
		replaces: set("role", "policyArn"),
		// pulumi-aws marks the attachment DeleteBeforeReplace: a create-then-delete
		// replacement would detach the very attachment it just made.
		deleteBeforeReplace: true,
		check: func(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
			return c.news, requireKeys(c.news, "role", "policyArn")
		},
		create: createAttachment,
		read:   readAttachment,
		update: func(_ context.Context, _ *clients, _ string, _, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
			return news, nil // every input forces replacement
		},
		delete: deleteAttachment,
	})
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func isNoSuchEntity(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse)
}

func iamTags(m map[string]string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// decodePolicy undoes IAM's URL encoding of policy documents.
func decodePolicy(doc *string) string {
	if doc == nil {
		return ""
	}
	if d, err := url.QueryUnescape(*doc); err == nil {
		return d
	}
	return *doc
}

// keepDoc keeps the program's spelling of a policy when IAM's is equivalent,
// so a refresh does not show a change that is only formatting.
func keepDoc(prior resource.PropertyMap, key, fromAWS string) resource.PropertyValue {
	if old := str(prior, key); old != "" && jsonEquivalent(old, fromAWS) {
		return plain(prior[resource.PropertyKey(key)])
	}
	return resource.NewStringProperty(fromAWS)
}

// changed reports whether key differs between the old state and the new inputs.
func changed(olds, news resource.PropertyMap, key string) bool {
	ov, ook := olds[resource.PropertyKey(key)]
	nv, nok := news[resource.PropertyKey(key)]
	ook = ook && !isEmpty(ov)
	nok = nok && !isEmpty(nv)
	if ook != nok {
		return true
	}
	return ook && !sameValue(plain(ov), plain(nv))
}

// ---------------------------------------------------------------------------
// Role

func checkRole(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	news := c.news
	var failures []*pulumirpc.CheckFailure
	if err := jsonDoc(news, "assumeRolePolicy"); err != nil {
		failures = append(failures, failure("assumeRolePolicy", "%v", err))
	}
	failures = append(failures, requireKeys(news, "assumeRolePolicy")...)
	if present(news, "assumeRolePolicy") && !unknown(news, "assumeRolePolicy") && !validJSON(str(news, "assumeRolePolicy")) {
		failures = append(failures, failure("assumeRolePolicy", "%q contains an invalid JSON policy", "assume_role_policy"))
	}
	if !present(news, "path") {
		news["path"] = strProp("/")
	}
	if !present(news, "maxSessionDuration") {
		news["maxSessionDuration"] = resource.NewNumberProperty(3600)
	} else if d, ok := integer(news, "maxSessionDuration"); ok && (d < 3600 || d > 43200) {
		failures = append(failures, failure("maxSessionDuration", "expected max_session_duration to be in the range (3600 - 43200), got %d", d))
	}
	if !present(news, "forceDetachPolicies") {
		news["forceDetachPolicies"] = resource.NewBoolProperty(false)
	}
	if present(news, "name") && present(news, "namePrefix") {
		failures = append(failures, failure("name", "\"name\": conflicts with namePrefix"))
	}
	if !present(news, "name") && !present(news, "namePrefix") {
		name, f := autoname(c, roleNameMax)
		if f != nil {
			failures = append(failures, f)
		} else if name != "" {
			news["name"] = strProp(name)
		}
	}
	if n := str(news, "name"); len(n) > roleNameMax {
		failures = append(failures, failure("name", "expected length of name to be in the range (1 - %d), got %s", roleNameMax, n))
	}
	if n := str(news, "namePrefix"); len(n) > roleNamePrefixMax {
		failures = append(failures, failure("namePrefix", "expected length of name_prefix to be in the range (1 - %d), got %s", roleNamePrefixMax, n))
	}
	return news, failures
}

// autoname mirrors pulumi-aws's tfbridge.AutoName("name", maxlen, "-"):
// keep the previous name, else honour the engine's autonaming options, else
// "<resource name>-<7 random hex>" seeded by the engine's random seed.
func autoname(c *checkInput, maxlen int) (string, *pulumirpc.CheckFailure) {
	if old := str(c.olds, "name"); old != "" && !present(c.olds, "namePrefix") {
		return old, nil
	}
	if opts := c.autonaming; opts != nil {
		switch opts.GetMode() {
		case pulumirpc.CheckRequest_AutonamingOptions_DISABLE:
			return "", failure("name", "autonaming is disabled for this resource; set name explicitly")
		default:
			if len(opts.GetProposedName()) > maxlen {
				return "", failure("name", "proposed name %q is longer than %d characters", opts.GetProposedName(), maxlen)
			}
			return opts.GetProposedName(), nil
		}
	}
	name, err := resource.NewUniqueName(c.seed, c.name+"-", 7, maxlen, nil)
	if err != nil {
		return "", failure("name", "could not make instance of '%v': %v", c.urn.Type(), err)
	}
	return name, nil
}

func createRole(ctx context.Context, a *clients, news resource.PropertyMap, _ time.Duration) (string, resource.PropertyMap, error) {
	name := str(news, "name")
	if name == "" {
		name = prefixedUniqueID(firstNonEmpty(str(news, "namePrefix"), "terraform-"))
	}
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		Path:                     aws.String(firstNonEmpty(str(news, "path"), "/")),
		AssumeRolePolicyDocument: aws.String(str(news, "assumeRolePolicy")),
		Tags:                     iamTags(strMap(news, "tags")),
	}
	if d := str(news, "description"); d != "" {
		in.Description = aws.String(d)
	}
	if d, ok := integer(news, "maxSessionDuration"); ok {
		in.MaxSessionDuration = aws.Int32(int32(d))
	}
	if b := str(news, "permissionsBoundary"); b != "" {
		in.PermissionsBoundary = aws.String(b)
	}
	if _, err := a.iam.CreateRole(ctx, in); err != nil {
		return "", nil, fmt.Errorf("creating IAM Role (%s): %w", name, err)
	}
	outs, found, err := roleOutputs(ctx, a, name, news)
	if err != nil {
		return name, news, err
	}
	if !found {
		return name, news, fmt.Errorf("reading IAM Role (%s) after create: not found", name)
	}
	return name, outs, nil
}

func roleOutputs(ctx context.Context, a *clients, name string, prior resource.PropertyMap) (resource.PropertyMap, bool, error) {
	got, err := a.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if isNoSuchEntity(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading IAM Role (%s): %w", name, err)
	}
	r := got.Role
	outs := resource.PropertyMap{
		"arn":                 optStrProp(r.Arn),
		"name":                optStrProp(r.RoleName),
		"namePrefix":          strProp(str(prior, "namePrefix")),
		"path":                optStrProp(r.Path),
		"uniqueId":            optStrProp(r.RoleId),
		"assumeRolePolicy":    keepDoc(prior, "assumeRolePolicy", decodePolicy(r.AssumeRolePolicyDocument)),
		"forceDetachPolicies": resource.NewBoolProperty(boolean(prior, "forceDetachPolicies")),
	}
	if r.CreateDate != nil {
		outs["createDate"] = strProp(r.CreateDate.UTC().Format(time.RFC3339))
	}
	if r.MaxSessionDuration != nil {
		outs["maxSessionDuration"] = resource.NewNumberProperty(float64(*r.MaxSessionDuration))
	}
	if r.Description != nil && *r.Description != "" {
		outs["description"] = strProp(*r.Description)
	}
	if r.PermissionsBoundary != nil && r.PermissionsBoundary.PermissionsBoundaryArn != nil {
		outs["permissionsBoundary"] = strProp(*r.PermissionsBoundary.PermissionsBoundaryArn)
	}
	tags := map[string]string{}
	for _, t := range r.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if len(tags) > 0 || present(prior, "tags") {
		outs["tags"] = mapProp(tags)
	}
	outs["tagsAll"] = mapProp(tags)

	var inline []resource.PropertyMap
	pages := iam.NewListRolePoliciesPaginator(a.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("reading inline policies for IAM Role (%s): %w", name, err)
		}
		for _, pn := range page.PolicyNames {
			pol, err := a.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				return nil, false, fmt.Errorf("reading IAM Role Policy (%s:%s): %w", name, pn, err)
			}
			inline = append(inline, resource.PropertyMap{
				"name":   strProp(pn),
				"policy": strProp(decodePolicy(pol.PolicyDocument)),
			})
		}
	}
	outs["inlinePolicies"] = objList(inline...)
	managed, err := attachedPolicies(ctx, a, name)
	if err != nil {
		return nil, false, err
	}
	outs["managedPolicyArns"] = listProp(managed)
	return outs, true, nil
}

func attachedPolicies(ctx context.Context, a *clients, role string) ([]string, error) {
	var out []string
	pages := iam.NewListAttachedRolePoliciesPaginator(a.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading attached policies for IAM Role (%s): %w", role, err)
		}
		for _, p := range page.AttachedPolicies {
			out = append(out, aws.ToString(p.PolicyArn))
		}
	}
	return out, nil
}

func readRole(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	outs, found, err := roleOutputs(ctx, a, id, state)
	if err != nil || !found {
		return "", nil, err
	}
	return id, outs, nil
}

func updateRole(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
	name := aws.String(id)
	if changed(olds, news, "assumeRolePolicy") {
		if _, err := a.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: name, PolicyDocument: aws.String(str(news, "assumeRolePolicy")),
		}); err != nil {
			return nil, fmt.Errorf("updating IAM Role (%s) assume role policy: %w", id, err)
		}
	}
	if changed(olds, news, "description") || changed(olds, news, "maxSessionDuration") {
		in := &iam.UpdateRoleInput{RoleName: name, Description: aws.String(str(news, "description"))}
		if d, ok := integer(news, "maxSessionDuration"); ok {
			in.MaxSessionDuration = aws.Int32(int32(d))
		}
		if _, err := a.iam.UpdateRole(ctx, in); err != nil {
			return nil, fmt.Errorf("updating IAM Role (%s): %w", id, err)
		}
	}
	if changed(olds, news, "permissionsBoundary") {
		if b := str(news, "permissionsBoundary"); b != "" {
			if _, err := a.iam.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{
				RoleName: name, PermissionsBoundary: aws.String(b),
			}); err != nil {
				return nil, fmt.Errorf("updating IAM Role (%s) permissions boundary: %w", id, err)
			}
		} else if _, err := a.iam.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: name}); err != nil {
			return nil, fmt.Errorf("deleting IAM Role (%s) permissions boundary: %w", id, err)
		}
	}
	if changed(olds, news, "tags") {
		add, remove := tagDelta(strMap(olds, "tags"), strMap(news, "tags"))
		if len(remove) > 0 {
			if _, err := a.iam.UntagRole(ctx, &iam.UntagRoleInput{RoleName: name, TagKeys: remove}); err != nil {
				return nil, fmt.Errorf("untagging IAM Role (%s): %w", id, err)
			}
		}
		if len(add) > 0 {
			if _, err := a.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: iamTags(add)}); err != nil {
				return nil, fmt.Errorf("tagging IAM Role (%s): %w", id, err)
			}
		}
	}
	outs, found, err := roleOutputs(ctx, a, id, news)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("reading IAM Role (%s) after update: not found", id)
	}
	return outs, nil
}

func deleteRole(ctx context.Context, a *clients, id string, state resource.PropertyMap, _ time.Duration) error {
	name := aws.String(id)
	if boolean(state, "forceDetachPolicies") {
		managed, err := attachedPolicies(ctx, a, id)
		if isNoSuchEntity(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, arn := range managed {
			if _, err := a.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(arn)}); err != nil && !isNoSuchEntity(err) {
				return fmt.Errorf("deleting IAM Role (%s): detaching policy %s: %w", id, arn, err)
			}
		}
		list, err := a.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
		if err != nil && !isNoSuchEntity(err) {
			return fmt.Errorf("deleting IAM Role (%s): listing inline policies: %w", id, err)
		}
		if list != nil {
			for _, pn := range list.PolicyNames {
				if _, err := a.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(pn)}); err != nil && !isNoSuchEntity(err) {
					return fmt.Errorf("deleting IAM Role (%s): deleting inline policy %s: %w", id, pn, err)
				}
			}
		}
	}
	if _, err := a.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil && !isNoSuchEntity(err) {
		return fmt.Errorf("deleting IAM Role (%s): %w", id, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// RolePolicy (inline policy); ID "role:name"

func checkRolePolicy(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	news := c.news
	var failures []*pulumirpc.CheckFailure
	if err := jsonDoc(news, "policy"); err != nil {
		failures = append(failures, failure("policy", "%v", err))
	}
	failures = append(failures, requireKeys(news, "role", "policy")...)
	if present(news, "policy") && !unknown(news, "policy") && !validJSON(str(news, "policy")) {
		failures = append(failures, failure("policy", "%q contains an invalid JSON policy", "policy"))
	}
	if present(news, "name") && present(news, "namePrefix") {
		failures = append(failures, failure("name", "\"name\": conflicts with namePrefix"))
	}
	// Not autonamed by pulumi-aws: without name/namePrefix the name is
	// chosen at create (Terraform's "terraform-<unique>"); keep an earlier one.
	if !present(news, "name") && !present(news, "namePrefix") {
		if old := str(c.olds, "name"); old != "" {
			news["name"] = strProp(old)
		}
	}
	return news, failures
}

func splitRolePolicyID(id string) (role, name string, err error) {
	role, name, ok := strings.Cut(id, ":")
	if !ok || role == "" || name == "" {
		return "", "", fmt.Errorf("unexpected format for IAM Role Policy ID (%s), expected ROLE-NAME:POLICY-NAME", id)
	}
	return role, name, nil
}

func createRolePolicy(ctx context.Context, a *clients, news resource.PropertyMap, _ time.Duration) (string, resource.PropertyMap, error) {
	role := str(news, "role")
	name := str(news, "name")
	if name == "" {
		name = prefixedUniqueID(firstNonEmpty(str(news, "namePrefix"), "terraform-"))
	}
	if _, err := a.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(str(news, "policy")),
	}); err != nil {
		return "", nil, fmt.Errorf("putting IAM Role (%s) Policy (%s): %w", role, name, err)
	}
	id := role + ":" + name
	outs := news.Copy()
	outs["name"] = strProp(name)
	outs["namePrefix"] = strProp(str(news, "namePrefix"))
	return id, outs, nil
}

func readRolePolicy(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	role, name := str(state, "role"), str(state, "name")
	if role == "" || name == "" {
		var err error
		if role, name, err = splitRolePolicyID(id); err != nil {
			return "", nil, err
		}
	}
	got, err := a.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if isNoSuchEntity(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading IAM Role Policy (%s): %w", id, err)
	}
	outs := resource.PropertyMap{
		"role":       strProp(role),
		"name":       strProp(name),
		"namePrefix": strProp(str(state, "namePrefix")),
		"policy":     keepDoc(state, "policy", decodePolicy(got.PolicyDocument)),
	}
	return role + ":" + name, outs, nil
}

func updateRolePolicy(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
	role, name, err := splitRolePolicyID(id)
	if err != nil {
		return nil, err
	}
	if _, err := a.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(str(news, "policy")),
	}); err != nil {
		return nil, fmt.Errorf("putting IAM Role (%s) Policy (%s): %w", role, name, err)
	}
	outs := news.Copy()
	outs["name"] = strProp(name)
	outs["namePrefix"] = strProp(firstNonEmpty(str(news, "namePrefix"), str(olds, "namePrefix")))
	return outs, nil
}

func deleteRolePolicy(ctx context.Context, a *clients, id string, state resource.PropertyMap, _ time.Duration) error {
	role, name := str(state, "role"), str(state, "name")
	if role == "" || name == "" {
		var err error
		if role, name, err = splitRolePolicyID(id); err != nil {
			return err
		}
	}
	if _, err := a.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(name),
	}); err != nil && !isNoSuchEntity(err) {
		return fmt.Errorf("deleting IAM Role Policy (%s): %w", id, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// RolePolicyAttachment; ID "<role>-<unique suffix>", import form "role/policyArn"
// (recorded after import as "role-policyArn")

func createAttachment(ctx context.Context, a *clients, news resource.PropertyMap, _ time.Duration) (string, resource.PropertyMap, error) {
	role, arn := str(news, "role"), str(news, "policyArn")
	if _, err := a.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(role), PolicyArn: aws.String(arn),
	}); err != nil {
		return "", nil, fmt.Errorf("attaching IAM Policy (%s) to IAM Role (%s): %w", arn, role, err)
	}
	return prefixedUniqueID(role + "-"), news.Copy(), nil
}

func readAttachment(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	role, arn := str(state, "role"), str(state, "policyArn")
	if role == "" || arn == "" {
		// Import: terraform-provider-aws's importer reads "<role>/<arn>" and
		// records the ID "<role>-<arn>", unlike a created one's suffix.
		r, p, ok := strings.Cut(id, "/")
		if !ok || r == "" || !strings.HasPrefix(p, "arn:") {
			return "", nil, fmt.Errorf("unexpected format of ID (%q), expected <role-name>/<policy_arn>", id)
		}
		role, arn, id = r, p, r+"-"+p
	}
	attached, err := attachedPolicies(ctx, a, role)
	if isNoSuchEntity(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading IAM Role Policy Attachment (%s): %w", id, err)
	}
	for _, p := range attached {
		if p == arn {
			return id, resource.PropertyMap{"role": strProp(role), "policyArn": strProp(arn)}, nil
		}
	}
	return "", nil, nil
}

func deleteAttachment(ctx context.Context, a *clients, id string, state resource.PropertyMap, _ time.Duration) error {
	role, arn := str(state, "role"), str(state, "policyArn")
	if _, err := a.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{
		RoleName: aws.String(role), PolicyArn: aws.String(arn),
	}); err != nil && !isNoSuchEntity(err) {
		return fmt.Errorf("detaching IAM Policy (%s) from IAM Role (%s): %w", arn, role, err)
	}
	return nil
}
