package main

// EKS resources (Addon, PodIdentityAssociation) and the invokes.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	addonToken       = "aws:eks/addon:Addon"
	associationToken = "aws:eks/podIdentityAssociation:PodIdentityAssociation"

	roleNotYetVisible = "Role provided in the request does not exist"
)

func init() {
	register(&resourceKind{
		token: addonToken,
		inputs: []string{"clusterName", "addonName", "addonVersion", "configurationValues", "serviceAccountRoleArn",
			"podIdentityAssociations", "preserve", "resolveConflicts", "resolveConflictsOnCreate",
			"resolveConflictsOnUpdate", "tags"},
		replaces:         set("clusterName", "addonName"),
		optionalComputed: set("addonVersion", "configurationValues"),
		computedOnCreate: []string{"arn", "createdAt", "modifiedAt", "tagsAll", "addonVersion", "configurationValues"},
		check:            checkAddon,
		create:           createAddon,
		read:             readAddon,
		update:           updateAddon,
		delete:           deleteAddon,
	})
	register(&resourceKind{
		token:            associationToken,
		inputs:           []string{"clusterName", "namespace", "serviceAccount", "roleArn", "tags"},
		replaces:         set("clusterName", "namespace", "serviceAccount"),
		computedOnCreate: []string{"associationArn", "associationId", "tagsAll"},
		check: func(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
			return c.news, requireKeys(c.news, "clusterName", "namespace", "serviceAccount", "roleArn")
		},
		create: createAssociation,
		read:   readAssociation,
		update: updateAssociation,
		delete: deleteAssociation,
	})
	invokes["aws:eks/getCluster:getCluster"] = getCluster
	invokes["aws:index/getCallerIdentity:getCallerIdentity"] = getCallerIdentity
	invokes["aws:index/getRegion:getRegion"] = getRegion
	invokes["aws:index/getPartition:getPartition"] = getPartition
}

func isNotFound(err error) bool {
	var nf *ekstypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

func rfc3339(t *time.Time) resource.PropertyValue {
	if t == nil {
		return resource.NewNullProperty()
	}
	return strProp(t.UTC().Format(time.RFC3339))
}

// poll calls probe until it reports done, with a short, growing interval.
func poll(ctx context.Context, timeout time.Duration, what string, probe func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := 200 * time.Millisecond
	for {
		done, err := probe()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timeout while waiting for %s", what)
		case <-time.After(interval):
		}
		if interval < 5*time.Second {
			interval *= 2
		}
	}
}

// ---------------------------------------------------------------------------
// Addon; ID "cluster:addon"

func checkAddon(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	news := c.news
	failures := requireKeys(news, "clusterName", "addonName")
	failures = append(failures, oneOf(news, "resolveConflicts", "NONE", "OVERWRITE", "PRESERVE")...)
	failures = append(failures, oneOf(news, "resolveConflictsOnCreate", "NONE", "OVERWRITE")...)
	failures = append(failures, oneOf(news, "resolveConflictsOnUpdate", "NONE", "OVERWRITE", "PRESERVE")...)
	if present(news, "resolveConflicts") && (present(news, "resolveConflictsOnCreate") || present(news, "resolveConflictsOnUpdate")) {
		failures = append(failures, failure("resolveConflicts",
			"\"resolveConflicts\": conflicts with resolveConflictsOnCreate/resolveConflictsOnUpdate"))
	}
	return news, failures
}

func addonID(cluster, addon string) string { return cluster + ":" + addon }

func splitAddonID(id string) (string, string, error) {
	c, a, ok := strings.Cut(id, ":")
	if !ok || c == "" || a == "" {
		return "", "", fmt.Errorf("unexpected format for EKS Add-On ID (%s), expected cluster-name:addon-name", id)
	}
	return c, a, nil
}

func addonPodIdentity(news resource.PropertyMap) []ekstypes.AddonPodIdentityAssociations {
	v, ok := news["podIdentityAssociations"]
	if !ok {
		return nil
	}
	v = plain(v)
	if !v.IsArray() {
		return nil
	}
	var out []ekstypes.AddonPodIdentityAssociations
	for _, e := range v.ArrayValue() {
		if !e.IsObject() {
			continue
		}
		o := e.ObjectValue()
		out = append(out, ekstypes.AddonPodIdentityAssociations{
			RoleArn: aws.String(str(o, "roleArn")), ServiceAccount: aws.String(str(o, "serviceAccount")),
		})
	}
	return out
}

func createAddon(ctx context.Context, a *clients, news resource.PropertyMap, timeout time.Duration) (string, resource.PropertyMap, error) {
	cluster, name := str(news, "clusterName"), str(news, "addonName")
	id := addonID(cluster, name)
	in := &eks.CreateAddonInput{
		ClusterName:             aws.String(cluster),
		AddonName:               aws.String(name),
		ClientRequestToken:      aws.String(prefixedUniqueID("terraform-")),
		Tags:                    strMap(news, "tags"),
		PodIdentityAssociations: addonPodIdentity(news),
	}
	if v := str(news, "addonVersion"); v != "" {
		in.AddonVersion = aws.String(v)
	}
	if v := str(news, "configurationValues"); v != "" {
		in.ConfigurationValues = aws.String(v)
	}
	if v := str(news, "serviceAccountRoleArn"); v != "" {
		in.ServiceAccountRoleArn = aws.String(v)
	}
	if v := firstNonEmpty(str(news, "resolveConflictsOnCreate"), str(news, "resolveConflicts")); v != "" {
		in.ResolveConflicts = ekstypes.ResolveConflicts(v)
	}
	if _, err := a.eks.CreateAddon(ctx, in); err != nil {
		return "", nil, fmt.Errorf("creating EKS Add-On (%s): %w", id, err)
	}
	var last *ekstypes.Addon
	err := poll(ctx, timeout, fmt.Sprintf("EKS Add-On (%s) create", id), func() (bool, error) {
		out, err := a.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cluster), AddonName: aws.String(name)})
		if err != nil {
			return false, fmt.Errorf("waiting for EKS Add-On (%s) create: %w", id, err)
		}
		last = out.Addon
		switch last.Status {
		case ekstypes.AddonStatusActive:
			return true, nil
		case ekstypes.AddonStatusCreating:
			return false, nil
		}
		return false, fmt.Errorf("waiting for EKS Add-On (%s) create: unexpected state '%s'%s", id, last.Status, addonIssues(last))
	})
	if last == nil {
		return "", nil, err
	}
	outs := addonOutputs(last, news)
	return id, outs, err
}

func addonIssues(a *ekstypes.Addon) string {
	if a == nil || a.Health == nil || len(a.Health.Issues) == 0 {
		return ""
	}
	var parts []string
	for _, i := range a.Health.Issues {
		parts = append(parts, fmt.Sprintf("%s: %s", i.Code, aws.ToString(i.Message)))
	}
	return ", last error: " + strings.Join(parts, "; ")
}

func addonOutputs(ad *ekstypes.Addon, prior resource.PropertyMap) resource.PropertyMap {
	outs := resource.PropertyMap{
		"clusterName":  optStrProp(ad.ClusterName),
		"addonName":    optStrProp(ad.AddonName),
		"addonVersion": optStrProp(ad.AddonVersion),
		"arn":          optStrProp(ad.AddonArn),
		"createdAt":    rfc3339(ad.CreatedAt),
		"modifiedAt":   rfc3339(ad.ModifiedAt),
		"tagsAll":      mapProp(ad.Tags),
	}
	outs["configurationValues"] = strProp(aws.ToString(ad.ConfigurationValues))
	setOpt(outs, "serviceAccountRoleArn", optStrProp(ad.ServiceAccountRoleArn))
	if len(ad.Tags) > 0 || present(prior, "tags") {
		outs["tags"] = mapProp(ad.Tags)
	}
	// State-only settings (no AWS counterpart) carry over from the inputs.
	for _, k := range []string{"preserve", "resolveConflicts", "resolveConflictsOnCreate", "resolveConflictsOnUpdate", "podIdentityAssociations"} {
		if v, ok := prior[resource.PropertyKey(k)]; ok {
			outs[resource.PropertyKey(k)] = v
		}
	}
	return outs
}

func describeAddon(ctx context.Context, a *clients, cluster, name string) (*ekstypes.Addon, error) {
	out, err := a.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cluster), AddonName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return out.Addon, nil
}

func readAddon(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	cluster, name := str(state, "clusterName"), str(state, "addonName")
	if cluster == "" || name == "" {
		var err error
		if cluster, name, err = splitAddonID(id); err != nil {
			return "", nil, err
		}
	}
	ad, err := describeAddon(ctx, a, cluster, name)
	if isNotFound(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading EKS Add-On (%s): %w", id, err)
	}
	return addonID(cluster, name), addonOutputs(ad, state), nil
}

func updateAddon(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, timeout time.Duration) (resource.PropertyMap, error) {
	cluster, name, err := splitAddonID(id)
	if err != nil {
		return nil, err
	}
	if changed(olds, news, "addonVersion") && present(news, "addonVersion") ||
		changed(olds, news, "serviceAccountRoleArn") ||
		changed(olds, news, "configurationValues") && present(news, "configurationValues") ||
		changed(olds, news, "podIdentityAssociations") {
		in := &eks.UpdateAddonInput{
			ClusterName:        aws.String(cluster),
			AddonName:          aws.String(name),
			ClientRequestToken: aws.String(prefixedUniqueID("terraform-")),
		}
		if changed(olds, news, "addonVersion") {
			in.AddonVersion = aws.String(str(news, "addonVersion"))
		}
		if changed(olds, news, "serviceAccountRoleArn") {
			in.ServiceAccountRoleArn = aws.String(str(news, "serviceAccountRoleArn"))
		}
		if changed(olds, news, "configurationValues") {
			in.ConfigurationValues = aws.String(str(news, "configurationValues"))
		}
		if changed(olds, news, "podIdentityAssociations") {
			in.PodIdentityAssociations = addonPodIdentity(news)
			if in.PodIdentityAssociations == nil {
				in.PodIdentityAssociations = []ekstypes.AddonPodIdentityAssociations{}
			}
		}
		if v := firstNonEmpty(str(news, "resolveConflictsOnUpdate"), str(news, "resolveConflicts")); v != "" {
			in.ResolveConflicts = ekstypes.ResolveConflicts(v)
		}
		out, err := a.eks.UpdateAddon(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("updating EKS Add-On (%s): %w", id, err)
		}
		updateID := aws.ToString(out.Update.Id)
		err = poll(ctx, timeout, fmt.Sprintf("EKS Add-On (%s) update (%s)", id, updateID), func() (bool, error) {
			u, err := a.eks.DescribeUpdate(ctx, &eks.DescribeUpdateInput{
				Name: aws.String(cluster), UpdateId: aws.String(updateID), AddonName: aws.String(name),
			})
			if err != nil {
				return false, fmt.Errorf("waiting for EKS Add-On (%s) update (%s): %w", id, updateID, err)
			}
			switch u.Update.Status {
			case ekstypes.UpdateStatusSuccessful:
				return true, nil
			case ekstypes.UpdateStatusInProgress:
				return false, nil
			}
			var msgs []string
			for _, e := range u.Update.Errors {
				msgs = append(msgs, fmt.Sprintf("%s: %s", e.ErrorCode, aws.ToString(e.ErrorMessage)))
			}
			return false, fmt.Errorf("waiting for EKS Add-On (%s) update (%s): unexpected state '%s': %s",
				id, updateID, u.Update.Status, strings.Join(msgs, "; "))
		})
		if err != nil {
			return nil, err
		}
	}
	ad, err := describeAddon(ctx, a, cluster, name)
	if err != nil {
		return nil, fmt.Errorf("reading EKS Add-On (%s): %w", id, err)
	}
	if changed(olds, news, "tags") {
		if err := eksRetag(ctx, a, aws.ToString(ad.AddonArn), strMap(olds, "tags"), strMap(news, "tags")); err != nil {
			return nil, fmt.Errorf("updating tags for EKS Add-On (%s): %w", id, err)
		}
		if ad, err = describeAddon(ctx, a, cluster, name); err != nil {
			return nil, fmt.Errorf("reading EKS Add-On (%s): %w", id, err)
		}
	}
	return addonOutputs(ad, news), nil
}

func eksRetag(ctx context.Context, a *clients, arn string, oldTags, newTags map[string]string) error {
	add, remove := tagDelta(oldTags, newTags)
	if len(remove) > 0 {
		if _, err := a.eks.UntagResource(ctx, &eks.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: remove}); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		if _, err := a.eks.TagResource(ctx, &eks.TagResourceInput{ResourceArn: aws.String(arn), Tags: add}); err != nil {
			return err
		}
	}
	return nil
}

func deleteAddon(ctx context.Context, a *clients, id string, state resource.PropertyMap, timeout time.Duration) error {
	cluster, name := str(state, "clusterName"), str(state, "addonName")
	if cluster == "" || name == "" {
		var err error
		if cluster, name, err = splitAddonID(id); err != nil {
			return err
		}
	}
	_, err := a.eks.DeleteAddon(ctx, &eks.DeleteAddonInput{
		ClusterName: aws.String(cluster), AddonName: aws.String(name), Preserve: boolean(state, "preserve"),
	})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting EKS Add-On (%s): %w", id, err)
	}
	return poll(ctx, timeout, fmt.Sprintf("EKS Add-On (%s) delete", id), func() (bool, error) {
		ad, err := describeAddon(ctx, a, cluster, name)
		if isNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("waiting for EKS Add-On (%s) delete: %w", id, err)
		}
		if ad.Status == ekstypes.AddonStatusDeleteFailed {
			return false, fmt.Errorf("waiting for EKS Add-On (%s) delete: unexpected state '%s'%s", id, ad.Status, addonIssues(ad))
		}
		return false, nil
	})
}

// ---------------------------------------------------------------------------
// PodIdentityAssociation; ID = association ID (import form "cluster,associationId")

func associationOutputs(as *ekstypes.PodIdentityAssociation, prior resource.PropertyMap) resource.PropertyMap {
	outs := resource.PropertyMap{
		"associationArn": optStrProp(as.AssociationArn),
		"associationId":  optStrProp(as.AssociationId),
		"clusterName":    optStrProp(as.ClusterName),
		"namespace":      optStrProp(as.Namespace),
		"serviceAccount": optStrProp(as.ServiceAccount),
		"roleArn":        optStrProp(as.RoleArn),
		"tagsAll":        mapProp(as.Tags),
	}
	if len(as.Tags) > 0 || present(prior, "tags") {
		outs["tags"] = mapProp(as.Tags)
	}
	return outs
}

func createAssociation(ctx context.Context, a *clients, news resource.PropertyMap, _ time.Duration) (string, resource.PropertyMap, error) {
	in := &eks.CreatePodIdentityAssociationInput{
		ClusterName:        aws.String(str(news, "clusterName")),
		Namespace:          aws.String(str(news, "namespace")),
		ServiceAccount:     aws.String(str(news, "serviceAccount")),
		RoleArn:            aws.String(str(news, "roleArn")),
		ClientRequestToken: aws.String(prefixedUniqueID("terraform-")),
		Tags:               strMap(news, "tags"),
	}
	var out *eks.CreatePodIdentityAssociationOutput
	err := retryRolePropagation(ctx, func() error {
		var err error
		out, err = a.eks.CreatePodIdentityAssociation(ctx, in)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating EKS Pod Identity Association (%s/%s/%s): %w",
			str(news, "clusterName"), str(news, "namespace"), str(news, "serviceAccount"), err)
	}
	return aws.ToString(out.Association.AssociationId), associationOutputs(out.Association, news), nil
}

func associationKey(id string, state resource.PropertyMap) (cluster, assocID string, err error) {
	cluster, assocID = str(state, "clusterName"), str(state, "associationId")
	if c, i, ok := strings.Cut(id, ","); ok {
		cluster, assocID = c, i
	} else if assocID == "" {
		assocID = id
	}
	if cluster == "" || assocID == "" {
		return "", "", fmt.Errorf("wrong format of import ID (%s), use: 'cluster-name,association-id'", id)
	}
	return cluster, assocID, nil
}

func readAssociation(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	cluster, assocID, err := associationKey(id, state)
	if err != nil {
		return "", nil, err
	}
	out, err := a.eks.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(assocID),
	})
	if isNotFound(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading EKS Pod Identity Association (%s): %w", id, err)
	}
	return assocID, associationOutputs(out.Association, state), nil
}

func updateAssociation(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
	cluster, assocID, err := associationKey(id, olds)
	if err != nil {
		return nil, err
	}
	if changed(olds, news, "roleArn") {
		err := retryRolePropagation(ctx, func() error {
			_, err := a.eks.UpdatePodIdentityAssociation(ctx, &eks.UpdatePodIdentityAssociationInput{
				ClusterName:        aws.String(cluster),
				AssociationId:      aws.String(assocID),
				RoleArn:            aws.String(str(news, "roleArn")),
				ClientRequestToken: aws.String(prefixedUniqueID("terraform-")),
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("updating EKS Pod Identity Association (%s): %w", id, err)
		}
	}
	if changed(olds, news, "tags") {
		if err := eksRetag(ctx, a, str(olds, "associationArn"), strMap(olds, "tags"), strMap(news, "tags")); err != nil {
			return nil, fmt.Errorf("updating tags for EKS Pod Identity Association (%s): %w", id, err)
		}
	}
	out, err := a.eks.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(assocID),
	})
	if err != nil {
		return nil, fmt.Errorf("reading EKS Pod Identity Association (%s): %w", id, err)
	}
	return associationOutputs(out.Association, news), nil
}

func deleteAssociation(ctx context.Context, a *clients, id string, state resource.PropertyMap, _ time.Duration) error {
	cluster, assocID, err := associationKey(id, state)
	if err != nil {
		return err
	}
	_, err = a.eks.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(assocID),
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting EKS Pod Identity Association (%s): %w", id, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// invokes

// getCluster returns every field of the SDK's eks.LookupClusterResult, with
// empty lists where moto has nothing to say.
func getCluster(ctx context.Context, a *clients, args resource.PropertyMap) (resource.PropertyMap, error) {
	name := str(args, "name")
	if name == "" {
		return nil, errors.New("invoking aws:eks/getCluster:getCluster: missing required argument 'name'")
	}
	out, err := a.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading EKS Cluster (%s): %w", name, err)
	}
	c := out.Cluster
	empty := func() resource.PropertyValue { return resource.NewArrayProperty([]resource.PropertyValue{}) }
	res := resource.PropertyMap{
		"id":                       strProp(name),
		"name":                     strProp(aws.ToString(c.Name)),
		"arn":                      strProp(aws.ToString(c.Arn)),
		"endpoint":                 strProp(aws.ToString(c.Endpoint)),
		"version":                  strProp(aws.ToString(c.Version)),
		"status":                   strProp(string(c.Status)),
		"platformVersion":          strProp(aws.ToString(c.PlatformVersion)),
		"roleArn":                  strProp(aws.ToString(c.RoleArn)),
		"clusterId":                strProp(aws.ToString(c.Id)),
		"createdAt":                strProp(""),
		"tags":                     mapProp(c.Tags),
		"accessConfigs":            empty(),
		"certificateAuthorities":   empty(),
		"computeConfigs":           empty(),
		"enabledClusterLogTypes":   empty(),
		"identities":               empty(),
		"kubernetesNetworkConfigs": empty(),
		"outpostConfigs":           empty(),
		"remoteNetworkConfigs":     empty(),
		"storageConfigs":           empty(),
		"upgradePolicies":          empty(),
		"zonalShiftConfigs":        empty(),
	}
	if c.CreatedAt != nil {
		res["createdAt"] = rfc3339(c.CreatedAt)
	}
	if c.CertificateAuthority != nil {
		res["certificateAuthorities"] = objList(resource.PropertyMap{"data": strProp(aws.ToString(c.CertificateAuthority.Data))})
	}
	if ac := c.AccessConfig; ac != nil {
		res["accessConfigs"] = objList(resource.PropertyMap{
			"authenticationMode":                      strProp(string(ac.AuthenticationMode)),
			"bootstrapClusterCreatorAdminPermissions": resource.NewBoolProperty(aws.ToBool(ac.BootstrapClusterCreatorAdminPermissions)),
		})
	}
	if cc := c.ComputeConfig; cc != nil {
		res["computeConfigs"] = objList(resource.PropertyMap{
			"enabled":     resource.NewBoolProperty(aws.ToBool(cc.Enabled)),
			"nodePools":   listProp(cc.NodePools),
			"nodeRoleArn": strProp(aws.ToString(cc.NodeRoleArn)),
		})
	}
	if c.Logging != nil {
		var types []string
		for _, ls := range c.Logging.ClusterLogging {
			if aws.ToBool(ls.Enabled) {
				for _, t := range ls.Types {
					types = append(types, string(t))
				}
			}
		}
		res["enabledClusterLogTypes"] = listProp(types)
	}
	if c.Identity != nil && c.Identity.Oidc != nil {
		res["identities"] = objList(resource.PropertyMap{
			"oidcs": objList(resource.PropertyMap{"issuer": strProp(aws.ToString(c.Identity.Oidc.Issuer))}),
		})
	}
	if kn := c.KubernetesNetworkConfig; kn != nil {
		elb := empty()
		if kn.ElasticLoadBalancing != nil {
			elb = objList(resource.PropertyMap{"enabled": resource.NewBoolProperty(aws.ToBool(kn.ElasticLoadBalancing.Enabled))})
		}
		ipFamily := string(kn.IpFamily)
		if ipFamily == "" {
			ipFamily = "ipv4"
		}
		res["kubernetesNetworkConfigs"] = objList(resource.PropertyMap{
			"elasticLoadBalancings": elb,
			"ipFamily":              strProp(ipFamily),
			"serviceIpv4Cidr":       strProp(aws.ToString(kn.ServiceIpv4Cidr)),
			"serviceIpv6Cidr":       strProp(aws.ToString(kn.ServiceIpv6Cidr)),
		})
	}
	if oc := c.OutpostConfig; oc != nil {
		placements := empty()
		if oc.ControlPlanePlacement != nil {
			placements = objList(resource.PropertyMap{"groupName": strProp(aws.ToString(oc.ControlPlanePlacement.GroupName))})
		}
		res["outpostConfigs"] = objList(resource.PropertyMap{
			"controlPlaneInstanceType": strProp(aws.ToString(oc.ControlPlaneInstanceType)),
			"controlPlanePlacements":   placements,
			"outpostArns":              listProp(oc.OutpostArns),
		})
	}
	if rn := c.RemoteNetworkConfig; rn != nil {
		var nodes, pods []resource.PropertyMap
		for _, n := range rn.RemoteNodeNetworks {
			nodes = append(nodes, resource.PropertyMap{"cidrs": listProp(n.Cidrs)})
		}
		for _, p := range rn.RemotePodNetworks {
			pods = append(pods, resource.PropertyMap{"cidrs": listProp(p.Cidrs)})
		}
		res["remoteNetworkConfigs"] = objList(resource.PropertyMap{
			"remoteNodeNetworks": objList(nodes...), "remotePodNetworks": objList(pods...),
		})
	}
	if sc := c.StorageConfig; sc != nil {
		bs := empty()
		if sc.BlockStorage != nil {
			bs = objList(resource.PropertyMap{"enabled": resource.NewBoolProperty(aws.ToBool(sc.BlockStorage.Enabled))})
		}
		res["storageConfigs"] = objList(resource.PropertyMap{"blockStorages": bs})
	}
	if up := c.UpgradePolicy; up != nil {
		res["upgradePolicies"] = objList(resource.PropertyMap{"supportType": strProp(string(up.SupportType))})
	}
	if zs := c.ZonalShiftConfig; zs != nil {
		res["zonalShiftConfigs"] = objList(resource.PropertyMap{"enabled": resource.NewBoolProperty(aws.ToBool(zs.Enabled))})
	}
	vpc := resource.PropertyMap{
		"clusterSecurityGroupId": strProp(""),
		"endpointPrivateAccess":  resource.NewBoolProperty(false),
		"endpointPublicAccess":   resource.NewBoolProperty(false),
		"publicAccessCidrs":      empty(),
		"securityGroupIds":       empty(),
		"subnetIds":              empty(),
		"vpcId":                  strProp(""),
	}
	if v := c.ResourcesVpcConfig; v != nil {
		vpc["clusterSecurityGroupId"] = strProp(aws.ToString(v.ClusterSecurityGroupId))
		vpc["endpointPrivateAccess"] = resource.NewBoolProperty(v.EndpointPrivateAccess)
		vpc["endpointPublicAccess"] = resource.NewBoolProperty(v.EndpointPublicAccess)
		vpc["publicAccessCidrs"] = listProp(v.PublicAccessCidrs)
		vpc["securityGroupIds"] = listProp(v.SecurityGroupIds)
		vpc["subnetIds"] = listProp(v.SubnetIds)
		vpc["vpcId"] = strProp(aws.ToString(v.VpcId))
	}
	res["vpcConfig"] = resource.NewObjectProperty(vpc)
	return res, nil
}

func getCallerIdentity(ctx context.Context, a *clients, _ resource.PropertyMap) (resource.PropertyMap, error) {
	out, err := a.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("getting STS Caller Identity: %w", err)
	}
	return resource.PropertyMap{
		"accountId": strProp(aws.ToString(out.Account)),
		"arn":       strProp(aws.ToString(out.Arn)),
		"id":        strProp(aws.ToString(out.Account)),
		"userId":    strProp(aws.ToString(out.UserId)),
	}, nil
}

func getRegion(_ context.Context, a *clients, args resource.PropertyMap) (resource.PropertyMap, error) {
	name := firstNonEmpty(str(args, "name"), a.region)
	return resource.PropertyMap{
		"name":        strProp(name),
		"id":          strProp(name),
		"description": strProp(name),
		"endpoint":    strProp(fmt.Sprintf("ec2.%s.amazonaws.com", name)),
	}, nil
}

func getPartition(_ context.Context, a *clients, _ resource.PropertyMap) (resource.PropertyMap, error) {
	partition, dns, rdns := "aws", "amazonaws.com", "com.amazonaws"
	switch {
	case strings.HasPrefix(a.region, "cn-"):
		partition, dns, rdns = "aws-cn", "amazonaws.com.cn", "cn.com.amazonaws"
	case strings.HasPrefix(a.region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return resource.PropertyMap{
		"partition": strProp(partition), "id": strProp(partition),
		"dnsSuffix": strProp(dns), "reverseDnsPrefix": strProp(rdns),
	}, nil
}
