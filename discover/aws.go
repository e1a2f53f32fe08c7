package discover

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// Discovery reads AWS with the AWS SDK for Go v2 rather than through the
// provider's invokes: pulumi-aws v6 has no invoke that finds a pod identity
// association (only LookupAddon's own), and getRole/getAddon fail on "not
// found" in a way a program can only tell by the error's text. The SDK is
// configured from the same aws: keys the default AWS provider reads, so
// both act as the same identity, in the same region, against the same
// endpoints; what both take from the environment (AWS_PROFILE,
// AWS_ENDPOINT_URL, proxies, AWS_CA_BUNDLE, ...) they share anyway.

// AWSIdentity is how the default AWS provider authenticates, from its aws:
// keys: static keys, a profile, shared files, a role to assume (with a web
// identity token, then a plain role, chained as the provider does) and
// custom endpoints for the services discovery calls.
type AWSIdentity struct {
	Region                         string
	AccessKey, SecretKey, Token    string
	Profile                        string
	ConfigFiles, CredentialsFiles  []string
	AssumeRoleArn, ExternalID      string
	SessionName                    string
	WebIdentityRoleArn             string
	WebIdentitySessionName         string
	WebIdentityToken, WebTokenFile string
	// Endpoints maps "eks", "iam" and "sts" to custom endpoint URLs.
	Endpoints map[string]string
}

// ReadAWSIdentity reads the aws: keys (full keys to values, as Pulumi hands
// them to programs) that decide who discovery acts as. region is the
// region Parse settled on.
func ReadAWSIdentity(raw map[string]string, region string) (AWSIdentity, error) {
	id := AWSIdentity{
		Region:    region,
		AccessKey: raw[stackconfig.KeyAwsAccessKey], SecretKey: raw[stackconfig.KeyAwsSecretKey], Token: raw[stackconfig.KeyAwsToken],
		Profile: raw[stackconfig.KeyAwsProfile],
	}
	var problems []error
	list := func(k string) []string {
		v, ok := raw[k]
		if !ok {
			return nil
		}
		var out []string
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			problems = append(problems, fmt.Errorf("%s: is not a list of strings", k))
		}
		return out
	}
	id.ConfigFiles = list(stackconfig.KeyAwsSharedConfigFiles)
	id.CredentialsFiles = list(stackconfig.KeyAwsSharedCredentialsFiles)
	if v, ok := raw[stackconfig.KeyAwsAssumeRole]; ok {
		var r struct{ RoleArn, ExternalId, SessionName string }
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			problems = append(problems, fmt.Errorf("%s: is not an object with roleArn", stackconfig.KeyAwsAssumeRole))
		}
		id.AssumeRoleArn, id.ExternalID, id.SessionName = r.RoleArn, r.ExternalId, r.SessionName
	}
	if v, ok := raw[stackconfig.KeyAwsAssumeRoleWithWebIdentity]; ok {
		var r struct{ RoleArn, SessionName, WebIdentityToken, WebIdentityTokenFile string }
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			problems = append(problems, fmt.Errorf("%s: is not an object with roleArn", stackconfig.KeyAwsAssumeRoleWithWebIdentity))
		}
		id.WebIdentityRoleArn, id.WebIdentitySessionName = r.RoleArn, r.SessionName
		id.WebIdentityToken, id.WebTokenFile = r.WebIdentityToken, r.WebIdentityTokenFile
	}
	if v, ok := raw[stackconfig.KeyAwsEndpoints]; ok {
		var eps []map[string]string
		if err := json.Unmarshal([]byte(v), &eps); err != nil {
			problems = append(problems, fmt.Errorf("%s: is not a list of service-to-URL objects", stackconfig.KeyAwsEndpoints))
		}
		for _, ep := range eps {
			for _, svc := range []string{"eks", "iam", "sts"} {
				if u := ep[svc]; u != "" {
					if id.Endpoints == nil {
						id.Endpoints = map[string]string{}
					}
					id.Endpoints[svc] = u
				}
			}
		}
	}
	return id, errors.Join(problems...)
}

// Config builds the SDK configuration for the identity: the SDK's default
// chain (environment, shared files, SSO, instance roles) with the stack's
// keys over it, then the roles to assume.
func (id AWSIdentity) Config(ctx context.Context) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(id.Region)}
	if id.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(id.Profile))
	}
	if len(id.ConfigFiles) > 0 {
		opts = append(opts, awsconfig.WithSharedConfigFiles(id.ConfigFiles))
	}
	if len(id.CredentialsFiles) > 0 {
		opts = append(opts, awsconfig.WithSharedCredentialsFiles(id.CredentialsFiles))
	}
	if id.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id.AccessKey, id.SecretKey, id.Token)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if id.WebIdentityRoleArn != "" {
		var token stscreds.IdentityTokenRetriever = stscreds.IdentityTokenFile(id.WebTokenFile)
		if id.WebIdentityToken != "" {
			token = staticToken(id.WebIdentityToken)
		}
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(
			sts.NewFromConfig(cfg, id.endpoint("sts")), id.WebIdentityRoleArn, token,
			func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = id.WebIdentitySessionName }))
	}
	if id.AssumeRoleArn != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(
			sts.NewFromConfig(cfg, id.endpoint("sts")), id.AssumeRoleArn, func(o *stscreds.AssumeRoleOptions) {
				if id.ExternalID != "" {
					o.ExternalID = aws.String(id.ExternalID)
				}
				if id.SessionName != "" {
					o.RoleSessionName = id.SessionName
				}
			}))
	}
	return cfg, nil
}

type staticToken string

func (t staticToken) GetIdentityToken() ([]byte, error) { return []byte(t), nil }

// endpoint returns a client option that points a service at its custom
// endpoint, if the stack sets one.
func (id AWSIdentity) endpoint(service string) func(*sts.Options) {
	return func(o *sts.Options) {
		if u := id.Endpoints[service]; u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	}
}

// SDKLookup is the AWSLookup over the AWS SDK.
type SDKLookup struct {
	IAM *iam.Client
	EKS *eks.Client
}

// NewSDKLookup builds the AWS lookup for an identity.
func NewSDKLookup(ctx context.Context, id AWSIdentity) (*SDKLookup, error) {
	cfg, err := id.Config(ctx)
	if err != nil {
		return nil, err
	}
	return &SDKLookup{
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) {
			if u := id.Endpoints["iam"]; u != "" {
				o.BaseEndpoint = aws.String(u)
			}
		}),
		EKS: eks.NewFromConfig(cfg, func(o *eks.Options) {
			if u := id.Endpoints["eks"]; u != "" {
				o.BaseEndpoint = aws.String(u)
			}
		}),
	}, nil
}

// Role reads a role and its tags (iam:GetRole, iam:ListRoleTags).
func (l *SDKLookup) Role(ctx context.Context, name string) (*FoundRole, error) {
	out, err := l.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := &FoundRole{Name: aws.ToString(out.Role.RoleName), Path: aws.ToString(out.Role.Path), Arn: aws.ToString(out.Role.Arn), Tags: map[string]string{}}
	if b := out.Role.PermissionsBoundary; b != nil {
		r.PermissionsBoundary = aws.ToString(b.PermissionsBoundaryArn)
	}
	r.MaxSessionDuration = int(aws.ToInt32(out.Role.MaxSessionDuration))
	r.Description = aws.ToString(out.Role.Description)
	// IAM returns policy documents URL-encoded (RFC 3986).
	if r.Trust, err = url.PathUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil {
		return nil, fmt.Errorf("decode its trust policy: %w", err)
	}
	pages := iam.NewListRoleTagsPaginator(l.IAM, &iam.ListRoleTagsInput{RoleName: out.Role.RoleName})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list its tags: %w", err)
		}
		for _, t := range page.Tags {
			r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return r, nil
}

// Addon reads an add-on (eks:DescribeAddon).
func (l *SDKLookup) Addon(ctx context.Context, cluster, name string) (*FoundAddon, error) {
	out, err := l.EKS.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cluster), AddonName: aws.String(name)})
	var nf *ekstypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &FoundAddon{Tags: out.Addon.Tags}, nil
}

// Association finds the association of a service account
// (eks:ListPodIdentityAssociations filtered by namespace and service
// account, then eks:DescribePodIdentityAssociation for its role and tags).
// EKS allows one per cluster, namespace and service account.
func (l *SDKLookup) Association(ctx context.Context, cluster, namespace, serviceAccount string) (*FoundAssociation, error) {
	var found []ekstypes.PodIdentityAssociationSummary
	pages := eks.NewListPodIdentityAssociationsPaginator(l.EKS, &eks.ListPodIdentityAssociationsInput{
		ClusterName: aws.String(cluster), Namespace: aws.String(namespace), ServiceAccount: aws.String(serviceAccount),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		found = append(found, page.Associations...)
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("EKS lists %d associations for %s/%s, but allows one", len(found), namespace, serviceAccount)
	}
	out, err := l.EKS.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: found[0].AssociationId,
	})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", aws.ToString(found[0].AssociationId), err)
	}
	a := out.Association
	return &FoundAssociation{
		ID: aws.ToString(a.AssociationId), RoleArn: aws.ToString(a.RoleArn),
		OwnerArn: cmp.Or(aws.ToString(a.OwnerArn), aws.ToString(found[0].OwnerArn)), Tags: a.Tags,
	}, nil
}

// ClusterAssociations lists every association of a cluster with its role
// (eks:ListPodIdentityAssociations, whose summaries carry no role, then
// eks:DescribePodIdentityAssociation for each).
func (l *SDKLookup) ClusterAssociations(ctx context.Context, cluster string) ([]*FoundAssociation, error) {
	var out []*FoundAssociation
	pages := eks.NewListPodIdentityAssociationsPaginator(l.EKS, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cluster)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Associations {
			d, err := l.EKS.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
				ClusterName: aws.String(cluster), AssociationId: s.AssociationId,
			})
			if err != nil {
				return nil, fmt.Errorf("describe %s: %w", aws.ToString(s.AssociationId), err)
			}
			a := d.Association
			out = append(out, &FoundAssociation{
				ID: aws.ToString(a.AssociationId), RoleArn: aws.ToString(a.RoleArn),
				Namespace: aws.ToString(s.Namespace), ServiceAccount: aws.ToString(s.ServiceAccount),
				OwnerArn: cmp.Or(aws.ToString(a.OwnerArn), aws.ToString(s.OwnerArn)), Tags: a.Tags,
			})
		}
	}
	return out, nil
}
