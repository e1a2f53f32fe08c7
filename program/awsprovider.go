package program

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The program creates its AWS provider explicitly, and an explicit provider
// reads no stack config by itself: the aws: keys that the default provider
// would read are read here and handed over, so a stack means the same with
// this program as with any other. Keys with no plain form are refused rather
// than silently dropped.

// AssumeRole is aws:assumeRole, the part the program passes on.
type AssumeRole struct {
	RoleArn     string `json:"roleArn"`
	SessionName string `json:"sessionName"`
	ExternalID  string `json:"externalId"`
	Duration    string `json:"duration"`
}

type awsFieldKind int

const (
	kindString awsFieldKind = iota
	kindBool
	kindInt
	kindList
	kindAssumeRole
	kindDefaultTags
	kindUnsupported
)

type awsField struct {
	key, name string
	kind      awsFieldKind
}

// awsFields lists every setting of the pinned AWS provider, from the SDK's
// own ProviderArgs, so the list cannot drift from the provider.
var awsFields = func() []awsField {
	var fields []awsField
	t := reflect.TypeFor[aws.ProviderArgs]()
	for i := range t.NumField() {
		f := t.Field(i)
		k := "aws:" + strings.ToLower(f.Name[:1]) + f.Name[1:]
		if k == KeyAwsRegion || k == KeyAwsProfile {
			continue // read by the program itself, see config.go
		}
		kind := kindUnsupported
		switch {
		case f.Name == "AssumeRole":
			kind = kindAssumeRole
		case f.Name == "DefaultTags":
			kind = kindDefaultTags
		case f.Type == reflect.TypeFor[pulumi.StringPtrInput]():
			kind = kindString
		case f.Type == reflect.TypeFor[pulumi.BoolPtrInput]():
			kind = kindBool
		case f.Type == reflect.TypeFor[pulumi.IntPtrInput]():
			kind = kindInt
		case f.Type == reflect.TypeFor[pulumi.StringArrayInput]():
			kind = kindList
		}
		fields = append(fields, awsField{key: k, name: f.Name, kind: kind})
	}
	return fields
}()

// awsSettings reads the aws: keys. Values are never echoed in problems: some
// (aws:secretKey, aws:assumeRole's externalId) are secrets.
func (p *parser) awsSettings(s *Settings) {
	s.AWSOptions = map[string]any{}
	for _, f := range awsFields {
		v, ok := p.raw[f.key]
		if !ok {
			continue
		}
		bad := func(want string) { p.problems = append(p.problems, fmt.Sprintf("%s: is not %s", f.key, want)) }
		switch f.kind {
		case kindString:
			s.AWSOptions[f.name] = v
		case kindBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad("a boolean: use true or false")
				continue
			}
			s.AWSOptions[f.name] = b
		case kindInt:
			n, err := strconv.Atoi(v)
			if err != nil {
				bad("an integer")
				continue
			}
			s.AWSOptions[f.name] = n
		case kindList:
			var list []string
			if json.Unmarshal([]byte(v), &list) != nil {
				bad("a list of strings (quote account IDs: their leading zeros matter)")
				continue
			}
			s.AWSOptions[f.name] = list
		case kindAssumeRole:
			dec := json.NewDecoder(strings.NewReader(v))
			dec.DisallowUnknownFields()
			if dec.Decode(&s.AssumeRole) != nil {
				bad("an object with roleArn and optional sessionName, externalId, duration")
			} else if s.AssumeRole.RoleArn == "" {
				p.problems = append(p.problems, f.key+": has no roleArn")
			}
		case kindDefaultTags:
			var dt struct {
				Tags map[string]string `json:"tags"`
			}
			if json.Unmarshal([]byte(v), &dt) != nil {
				bad(`an object {"tags": {"<key>": "<value>"}}`)
				continue
			}
			s.DefaultTags = dt.Tags
		default:
			p.problems = append(p.problems, fmt.Sprintf("%s: is set, but the program cannot pass this structured setting to its explicit AWS provider; "+
				"use the AWS SDK's environment variables or shared config for it, or remove it", f.key))
		}
	}
}

// awsProviderArgs is the explicit AWS provider's configuration.
func awsProviderArgs(s Settings) *aws.ProviderArgs {
	args := &aws.ProviderArgs{
		Region:  pulumi.String(s.Region),
		Profile: optional(s.Profile),
	}
	fields := reflect.ValueOf(args).Elem()
	for name, v := range s.AWSOptions {
		var in any
		switch v := v.(type) {
		case string:
			in = pulumi.String(v)
		case bool:
			in = pulumi.Bool(v)
		case int:
			in = pulumi.Int(v)
		case []string:
			in = pulumi.ToStringArray(v)
		}
		fields.FieldByName(name).Set(reflect.ValueOf(in))
	}
	if r := s.AssumeRole; r != nil {
		role := &aws.ProviderAssumeRoleArgs{
			RoleArn:     pulumi.String(r.RoleArn),
			SessionName: optional(r.SessionName),
			Duration:    optional(r.Duration),
		}
		if r.ExternalID != "" {
			// The external ID is a shared secret with the role's owner.
			role.ExternalId = pulumi.ToSecret(pulumi.String(r.ExternalID)).(pulumi.StringOutput)
		}
		args.AssumeRole = role
	}
	if len(s.DefaultTags) > 0 {
		args.DefaultTags = &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(s.DefaultTags)}
	}
	return args
}
