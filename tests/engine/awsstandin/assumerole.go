package main

// The provider's assumeRole and allowedAccountIds, as pulumi-aws applies
// them at configure time: the provider's calls run as a session of
// assumeRole.roleArn, and a provider whose account is not allowed fails
// before any resource is touched.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/platform-eng/eks-pod-identity/tests/engine/agent"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// configObject reads a provider config value that is an object: the
// engine hands nested provider config over as a JSON string.
func configObject(args resource.PropertyMap, key string) (map[string]any, error) {
	v, ok := args[resource.PropertyKey(key)]
	if !ok {
		return nil, nil
	}
	v = plain(v)
	switch {
	case v.IsNull():
		return nil, nil
	case v.IsObject():
		return v.ObjectValue().Mappable(), nil
	case v.IsString():
		if v.StringValue() == "" {
			return nil, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(v.StringValue()), &m); err != nil {
			return nil, fmt.Errorf("provider config %s is not an object: %w", key, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("provider config %s is %v, not an object", key, v)
}

// configList reads a provider config list (a JSON string or a list).
func configList(args resource.PropertyMap, key string) ([]string, error) {
	v, ok := args[resource.PropertyKey(key)]
	if !ok {
		return nil, nil
	}
	v = plain(v)
	var out []string
	switch {
	case v.IsNull():
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			out = append(out, plain(e).StringValue())
		}
	case v.IsString() && v.StringValue() != "":
		if err := json.Unmarshal([]byte(v.StringValue()), &out); err != nil {
			return nil, fmt.Errorf("provider config %s is not a list: %w", key, err)
		}
	}
	return out, nil
}

// assumeRole makes cfg a session of the provider's assumeRole.roleArn. moto
// keys an assumed role's calls to the default account, so the session's
// requests carry the role's account in moto's x-moto-account-id header.
func assumeRole(ctx context.Context, cfg *aws.Config, args resource.PropertyMap) error {
	ar, err := configObject(args, "assumeRole")
	if err != nil || ar == nil {
		return err
	}
	roleArn, _ := ar["roleArn"].(string)
	if roleArn == "" {
		return nil
	}
	parts := strings.Split(roleArn, ":")
	if len(parts) < 6 {
		return fmt.Errorf("assumeRole.roleArn %q is not a role ARN", roleArn)
	}
	session, _ := ar["sessionName"].(string)
	if session == "" {
		session = "pulumi"
	}
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String(session)}
	if ext, _ := ar["externalId"].(string); ext != "" {
		in.ExternalId = aws.String(ext)
	}
	out, err := sts.NewFromConfig(*cfg).AssumeRole(ctx, in)
	if err != nil {
		return fmt.Errorf("assuming role %s: %w", roleArn, err)
	}
	c := out.Credentials
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	*cfg = agent.InAccount(*cfg, parts[4])
	return nil
}

// checkAllowedAccount is pulumi-aws's allowedAccountIds check.
func checkAllowedAccount(ctx context.Context, c *clients, args resource.PropertyMap) error {
	allowed, err := configList(args, "allowedAccountIds")
	if err != nil || len(allowed) == 0 {
		return err
	}
	id, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("checking allowedAccountIds: %w", err)
	}
	if account := aws.ToString(id.Account); !slices.Contains(allowed, account) {
		return fmt.Errorf("AWS account ID not allowed: %s", account)
	}
	return nil
}
