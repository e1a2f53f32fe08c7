package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
)

// Cluster is an EKS cluster record in moto that points at the local
// apiserver.
type Cluster struct {
	Name      string `json:"name"`
	Arn       string `json:"arn"`
	Region    string `json:"region"`
	AccountID string `json:"accountId"`
}

// Association is the pod identity association of a namespace and service
// account, with the cluster it belongs to.
type Association struct {
	Cluster            Cluster
	ID                 string
	RoleArn            string
	DisableSessionTags bool
	TargetRoleArn      string
	// ExternalID is EKS's for the target role; Policy the session policy.
	ExternalID string
	Policy     string
}

// Directory answers "which association applies to this service account",
// as EKS does for its own cluster. One loopback apiserver stands for every
// EKS cluster record registered with its endpoint (the tests register a few,
// one after the other), so it asks moto which those are and looks in each;
// two clusters with an association for the same namespace and service
// account at once would be ambiguous and are refused.
type Directory struct {
	// Moto is moto's base URL; Endpoint the apiserver URL the cluster
	// records point at.
	Moto     string
	Endpoint string
	// AWS builds the config for a region (credentials of the engine's
	// administrator, endpoint moto).
	AWS func(region string) aws.Config

	http *http.Client
}

// NewDirectory returns a Directory that signs with the static engine key.
func NewDirectory(moto, endpoint, accessKey, secretKey string) *Directory {
	return &Directory{
		Moto:     strings.TrimRight(moto, "/"),
		Endpoint: endpoint,
		AWS: func(region string) aws.Config {
			return aws.Config{
				Region:       region,
				Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
				BaseEndpoint: aws.String(moto),
			}
		},
		http: &http.Client{Timeout: 10 * time.Second},
	}
}

// Clusters lists the cluster records pointing at the apiserver.
func (d *Directory) Clusters(ctx context.Context) ([]Cluster, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		d.Moto+"/moto-ext/clusters?endpoint="+url.QueryEscape(d.Endpoint), nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list clusters at %s in moto: %w", d.Endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list clusters at %s in moto: HTTP %d", d.Endpoint, resp.StatusCode)
	}
	var cs []Cluster
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		return nil, fmt.Errorf("list clusters in moto: %w", err)
	}
	return cs, nil
}

// Find returns the association for namespace/serviceAccount, or nil when no
// cluster has one.
func (d *Directory) Find(ctx context.Context, namespace, serviceAccount string) (*Association, error) {
	clusters, err := d.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	var found []*Association
	for _, c := range clusters {
		client := eks.NewFromConfig(d.AWS(c.Region))
		list, err := client.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{
			ClusterName:    aws.String(c.Name),
			Namespace:      aws.String(namespace),
			ServiceAccount: aws.String(serviceAccount),
		})
		if err != nil {
			return nil, fmt.Errorf("list pod identity associations of cluster %s: %w", c.Name, err)
		}
		for _, s := range list.Associations {
			desc, err := client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
				ClusterName: aws.String(c.Name), AssociationId: s.AssociationId,
			})
			if err != nil {
				return nil, fmt.Errorf("describe pod identity association %s: %w", aws.ToString(s.AssociationId), err)
			}
			a := desc.Association
			found = append(found, &Association{
				Cluster:            c,
				ID:                 aws.ToString(a.AssociationId),
				RoleArn:            aws.ToString(a.RoleArn),
				DisableSessionTags: aws.ToBool(a.DisableSessionTags),
				TargetRoleArn:      aws.ToString(a.TargetRoleArn),
				ExternalID:         aws.ToString(a.ExternalId),
				Policy:             aws.ToString(a.Policy),
			})
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	var ids []string
	for _, a := range found {
		ids = append(ids, a.Cluster.Name+"/"+a.ID)
	}
	return nil, fmt.Errorf("%d associations for %s/%s across the clusters this apiserver stands for (%s): ambiguous",
		len(found), namespace, serviceAccount, strings.Join(ids, ", "))
}
