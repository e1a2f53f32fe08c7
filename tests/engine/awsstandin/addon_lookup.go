package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The program looks up the EKS add-on a preset serves before creating
// anything, to refuse a second association for a service account the
// add-on already associates itself.
func init() {
	invokes["aws:eks/getAddon:getAddon"] = getAddon
}

// getAddon answers aws:eks/getAddon with the fields of the SDK's
// eks.LookupAddonResult. Like terraform-provider-aws's data source, a
// missing add-on is an error, "couldn't find resource" (its not-found error
// for EKS's ResourceNotFoundException), and the add-on's own pod identity
// associations are read one by one for their role and service account.
func getAddon(ctx context.Context, a *clients, args resource.PropertyMap) (resource.PropertyMap, error) {
	cluster, name := str(args, "clusterName"), str(args, "addonName")
	if cluster == "" || name == "" {
		return nil, errors.New("invoking aws:eks/getAddon:getAddon: missing required argument 'clusterName' or 'addonName'")
	}
	id := addonID(cluster, name)
	ad, err := describeAddon(ctx, a, cluster, name)
	if isNotFound(err) {
		return nil, fmt.Errorf("reading EKS Add-On (%s): couldn't find resource", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading EKS Add-On (%s): %w", id, err)
	}
	var assocs []resource.PropertyMap
	for _, arn := range ad.PodIdentityAssociations {
		parts := strings.Split(arn, "/")
		if len(parts) != 3 {
			return nil, fmt.Errorf("unable to extract association ID from ARN %q", arn)
		}
		out, err := a.eks.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String(cluster), AssociationId: aws.String(parts[2]),
		})
		if err != nil {
			return nil, fmt.Errorf("reading EKS Pod Identity Association (%s, %s): %w", cluster, parts[2], err)
		}
		assocs = append(assocs, resource.PropertyMap{
			"roleArn":        optStrProp(out.Association.RoleArn),
			"serviceAccount": optStrProp(out.Association.ServiceAccount),
		})
	}
	return resource.PropertyMap{
		"id":                      strProp(id),
		"addonName":               optStrProp(ad.AddonName),
		"clusterName":             optStrProp(ad.ClusterName),
		"addonVersion":            optStrProp(ad.AddonVersion),
		"arn":                     optStrProp(ad.AddonArn),
		"configurationValues":     strProp(aws.ToString(ad.ConfigurationValues)),
		"createdAt":               rfc3339(ad.CreatedAt),
		"modifiedAt":              rfc3339(ad.ModifiedAt),
		"serviceAccountRoleArn":   strProp(aws.ToString(ad.ServiceAccountRoleArn)),
		"podIdentityAssociations": objList(assocs...),
		"tags":                    mapProp(ad.Tags),
	}, nil
}
