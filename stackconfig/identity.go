package stackconfig

import "encoding/json"

// The AWS resources use the stack's default AWS provider, which reads every
// aws: key itself (endpoints, ignoreTags, assumeRoleWithWebIdentity, ...).
// The program reads aws: keys only for the kubeconfig it generates, whose
// `aws eks get-token` must act as the same identity as that provider: what
// it can hand on (profile, role, config files) it does, and what it cannot
// it refuses, so the AWS and Kubernetes sides never silently differ.

// The aws: keys the program reads.
const (
	KeyAwsRegion                    = "aws:region"
	KeyAwsProfile                   = "aws:profile"
	KeyAwsAssumeRole                = "aws:assumeRole"
	KeyAwsAccessKey                 = "aws:accessKey"
	KeyAwsSecretKey                 = "aws:secretKey"
	KeyAwsToken                     = "aws:token"
	KeyAwsAssumeRoleWithWebIdentity = "aws:assumeRoleWithWebIdentity"
	KeyAwsSharedConfigFiles         = "aws:sharedConfigFiles"
	KeyAwsSharedCredentialsFiles    = "aws:sharedCredentialsFiles"
	// KeyAwsEndpoints is read by discovery only, whose AWS SDK clients
	// must call the same endpoints as the provider.
	KeyAwsEndpoints = "aws:endpoints"
)

// AWSKeys are the aws: keys the program reads (the provider reads them all).
var AWSKeys = []string{KeyAwsRegion, KeyAwsProfile, KeyAwsAssumeRole, KeyAwsAccessKey, KeyAwsSecretKey, KeyAwsToken,
	KeyAwsAssumeRoleWithWebIdentity, KeyAwsSharedConfigFiles, KeyAwsSharedCredentialsFiles, KeyAwsEndpoints}

// TokenIdentity is how the generated kubeconfig's `aws eks get-token` finds
// the identity the default AWS provider uses.
type TokenIdentity struct {
	// Profile is aws:profile, passed as AWS_PROFILE.
	Profile string
	// RoleArn is aws:assumeRole's roleArn, passed as --role-arn.
	RoleArn string
	// ConfigFile and CredentialsFile are aws:sharedConfigFiles and
	// aws:sharedCredentialsFiles (one each at most), passed as
	// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
	ConfigFile, CredentialsFile string
}

// tokenIdentity reads the aws: keys that decide the provider's identity.
// generated says whether the program builds the kubeconfig; with the user's
// own kubeconfig the two sides are the user's to align. Values are never
// echoed: several of these keys hold credentials.
func (p *parser) tokenIdentity(generated bool) TokenIdentity {
	id := TokenIdentity{Profile: p.raw[KeyAwsProfile]}
	if v, ok := p.raw[KeyAwsAssumeRole]; ok {
		var role struct {
			RoleArn    string `json:"roleArn"`
			ExternalID string `json:"externalId"`
		}
		switch {
		case json.Unmarshal([]byte(v), &role) != nil:
			p.problems = append(p.problems, KeyAwsAssumeRole+": is not an object with roleArn and optional sessionName, externalId, duration")
		case role.RoleArn == "":
			p.problems = append(p.problems, KeyAwsAssumeRole+": has no roleArn")
		case role.ExternalID != "" && generated:
			p.problems = append(p.problems, KeyAwsAssumeRole+": has an externalId, which the generated kubeconfig's `aws eks get-token --role-arn` cannot pass: "+
				"put role_arn and external_id in a shared-config profile and set aws:profile instead, or set "+Key(KeyKubeconfig))
		default:
			id.RoleArn = role.RoleArn
		}
	}
	if !generated {
		return id
	}
	for _, k := range []string{KeyAwsAccessKey, KeyAwsSecretKey, KeyAwsToken} {
		if _, ok := p.raw[k]; ok {
			p.problems = append(p.problems, k+": is set (value not shown), but only the AWS provider reads it: the generated kubeconfig's `aws eks get-token` "+
				"would authenticate as whoever the environment says. Put the keys in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) "+
				"or in a profile (aws:profile), which both read, or set "+Key(KeyKubeconfig))
		}
	}
	if _, ok := p.raw[KeyAwsAssumeRoleWithWebIdentity]; ok {
		p.problems = append(p.problems, KeyAwsAssumeRoleWithWebIdentity+": is set, but the generated kubeconfig's `aws eks get-token` cannot assume a role with a web identity token file from the stack: "+
			"use AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in the environment (both read them), or set "+Key(KeyKubeconfig))
	}
	id.ConfigFile = p.oneFile(KeyAwsSharedConfigFiles, "AWS_CONFIG_FILE")
	id.CredentialsFile = p.oneFile(KeyAwsSharedCredentialsFiles, "AWS_SHARED_CREDENTIALS_FILE")
	return id
}

// oneFile reads a list-of-files key the aws CLI can follow with one file.
func (p *parser) oneFile(k, envName string) string {
	v, ok := p.raw[k]
	if !ok {
		return ""
	}
	var files []string
	if json.Unmarshal([]byte(v), &files) != nil {
		p.problems = append(p.problems, k+": is not a list of file paths")
		return ""
	}
	if len(files) > 1 {
		p.problems = append(p.problems, k+": lists several files, but the aws CLI behind the generated kubeconfig reads one ("+envName+"): "+
			"merge them into one, or set "+Key(KeyKubeconfig))
		return ""
	}
	if len(files) == 1 {
		return files[0]
	}
	return ""
}
