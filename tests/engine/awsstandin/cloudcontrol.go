package main

// aws:cloudcontrol/resource:Resource for the one type the program uses it
// for, AWS::EKS::PodIdentityAssociation, over the moto EKS extension. As
// the Terraform resource behind pulumi-aws's (aws_cloudcontrolapi_resource):
// the identifier is the type's primary identifier (AssociationArn); a
// change of a create-only property (ClusterName, Namespace,
// ServiceAccount, per the type's schema) replaces the resource, any other
// change of the desired state is an update; `properties` is the resource's
// model as GetResource answers it, in CloudFormation property names.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	cloudControlToken = "aws:cloudcontrol/resource:Resource"
	associationType   = "AWS::EKS::PodIdentityAssociation"
)

// createOnly are the type's createOnlyProperties.
var createOnly = []string{"ClusterName", "Namespace", "ServiceAccount"}

func init() {
	register(&resourceKind{
		token:            cloudControlToken,
		inputs:           []string{"typeName", "desiredState", "roleArn", "schema", "typeVersionId"},
		replaces:         set("typeName"),
		optionalComputed: set("schema"),
		computedOnCreate: []string{"properties"},
		check:            checkCloudControl,
		diff:             diffCloudControl,
		create:           createCloudControl,
		read:             readCloudControl,
		update:           updateCloudControl,
		delete:           deleteCloudControl,
	})
}

// ccModel is the type's model, as far as the program writes and reads it.
type ccModel struct {
	ClusterName        string  `json:"ClusterName"`
	Namespace          string  `json:"Namespace"`
	ServiceAccount     string  `json:"ServiceAccount"`
	RoleArn            string  `json:"RoleArn"`
	TargetRoleArn      string  `json:"TargetRoleArn,omitempty"`
	DisableSessionTags *bool   `json:"DisableSessionTags,omitempty"`
	Policy             string  `json:"Policy,omitempty"`
	Tags               []ccTag `json:"Tags,omitempty"`
	AssociationArn     string  `json:"AssociationArn,omitempty"`
	AssociationId      string  `json:"AssociationId,omitempty"` //nolint:revive // the type's property name
	ExternalId         string  `json:"ExternalId,omitempty"`    //nolint:revive // the type's property name
}

type ccTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (m ccModel) tags() map[string]string {
	out := map[string]string{}
	for _, t := range m.Tags {
		out[t.Key] = t.Value
	}
	return out
}

func desired(m resource.PropertyMap) (ccModel, error) {
	var d ccModel
	if err := json.Unmarshal([]byte(str(m, "desiredState")), &d); err != nil {
		return d, fmt.Errorf("desiredState is not JSON: %w", err)
	}
	return d, nil
}

func checkCloudControl(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	fails := requireKeys(c.news, "typeName", "desiredState")
	if t := str(c.news, "typeName"); t != "" && t != associationType {
		fails = append(fails, &pulumirpc.CheckFailure{Property: "typeName",
			Reason: fmt.Sprintf("this stand-in implements Cloud Control only for %s, not %s", associationType, t)})
	}
	if !unknown(c.news, "desiredState") && str(c.news, "desiredState") != "" {
		if _, err := desired(c.news); err != nil {
			fails = append(fails, &pulumirpc.CheckFailure{Property: "desiredState", Reason: err.Error()})
		}
	}
	return c.news, fails
}

// diffCloudControl is the generic diff, with a replacement when the
// desired state changes a create-only property.
func diffCloudControl(k *resourceKind, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	resp := diffResource(k, olds, news)
	d := resp.DetailedDiff["desiredState"]
	if d == nil || unknown(news, "desiredState") {
		return resp
	}
	var o, n map[string]any
	_ = json.Unmarshal([]byte(str(olds, "desiredState")), &o)
	_ = json.Unmarshal([]byte(str(news, "desiredState")), &n)
	for _, p := range createOnly {
		if fmt.Sprint(o[p]) != fmt.Sprint(n[p]) {
			d.Kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
			resp.Replaces = append(resp.Replaces, "desiredState")
			break
		}
	}
	return resp
}

// ccKey is the cluster and association ID of an AssociationArn,
// arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<id>.
func ccKey(id string) (cluster, assocID string, err error) {
	_, rest, ok := strings.Cut(id, ":podidentityassociation/")
	cluster, assocID, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || cluster == "" || assocID == "" {
		return "", "", fmt.Errorf("identifier %q is not an AssociationArn (arn:...:podidentityassociation/<cluster>/<id>)", id)
	}
	return cluster, assocID, nil
}

func ccOutputs(as *ekstypes.PodIdentityAssociation, ins resource.PropertyMap) resource.PropertyMap {
	m := ccModel{
		ClusterName: aws.ToString(as.ClusterName), Namespace: aws.ToString(as.Namespace),
		ServiceAccount: aws.ToString(as.ServiceAccount), RoleArn: aws.ToString(as.RoleArn),
		TargetRoleArn: aws.ToString(as.TargetRoleArn), DisableSessionTags: as.DisableSessionTags,
		Policy: aws.ToString(as.Policy), AssociationArn: aws.ToString(as.AssociationArn),
		AssociationId: aws.ToString(as.AssociationId), ExternalId: aws.ToString(as.ExternalId),
	}
	for _, k := range sortedKeys(as.Tags) {
		m.Tags = append(m.Tags, ccTag{Key: k, Value: as.Tags[k]})
	}
	b, _ := json.Marshal(m)
	outs := ins.Copy()
	outs["properties"] = resource.NewStringProperty(string(b))
	return outs
}

func createCloudControl(ctx context.Context, a *clients, news resource.PropertyMap, _ time.Duration) (string, resource.PropertyMap, error) {
	d, err := desired(news)
	if err != nil {
		return "", nil, err
	}
	in := &eks.CreatePodIdentityAssociationInput{
		ClusterName: aws.String(d.ClusterName), Namespace: aws.String(d.Namespace),
		ServiceAccount: aws.String(d.ServiceAccount), RoleArn: aws.String(d.RoleArn),
		DisableSessionTags: d.DisableSessionTags, Tags: d.tags(),
	}
	if d.TargetRoleArn != "" {
		in.TargetRoleArn = aws.String(d.TargetRoleArn)
	}
	if d.Policy != "" {
		in.Policy = aws.String(d.Policy)
	}
	var out *eks.CreatePodIdentityAssociationOutput
	err = retryRolePropagation(ctx, func() error {
		var err error
		out, err = a.eks.CreatePodIdentityAssociation(ctx, in)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating Cloud Control API (%s) resource: %w", associationType, err)
	}
	return aws.ToString(out.Association.AssociationArn), ccOutputs(out.Association, news), nil
}

func describeCC(ctx context.Context, a *clients, id string) (*ekstypes.PodIdentityAssociation, error) {
	cluster, assocID, err := ccKey(id)
	if err != nil {
		return nil, err
	}
	out, err := a.eks.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(assocID)})
	if err != nil {
		return nil, err
	}
	return out.Association, nil
}

func readCloudControl(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error) {
	as, err := describeCC(ctx, a, id)
	if isNotFound(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading Cloud Control API (%s) resource (%s): %w", associationType, id, err)
	}
	return id, ccOutputs(as, state), nil
}

func updateCloudControl(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, _ time.Duration) (resource.PropertyMap, error) {
	cluster, assocID, err := ccKey(id)
	if err != nil {
		return nil, err
	}
	o, err := desired(olds)
	if err != nil {
		return nil, err
	}
	d, err := desired(news)
	if err != nil {
		return nil, err
	}
	in := &eks.UpdatePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(assocID),
		RoleArn: aws.String(d.RoleArn), TargetRoleArn: aws.String(d.TargetRoleArn),
		DisableSessionTags: d.DisableSessionTags, Policy: aws.String(d.Policy),
	}
	if err := retryRolePropagation(ctx, func() error {
		_, err := a.eks.UpdatePodIdentityAssociation(ctx, in)
		return err
	}); err != nil {
		return nil, fmt.Errorf("updating Cloud Control API (%s) resource (%s): %w", associationType, id, err)
	}
	if err := eksRetag(ctx, a, id, o.tags(), d.tags()); err != nil {
		return nil, fmt.Errorf("updating tags of Cloud Control API (%s) resource (%s): %w", associationType, id, err)
	}
	as, err := describeCC(ctx, a, id)
	if err != nil {
		return nil, fmt.Errorf("reading Cloud Control API (%s) resource (%s): %w", associationType, id, err)
	}
	return ccOutputs(as, news), nil
}

func deleteCloudControl(ctx context.Context, a *clients, id string, _ resource.PropertyMap, _ time.Duration) error {
	cluster, assocID, err := ccKey(id)
	if err != nil {
		return err
	}
	_, err = a.eks.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{
		ClusterName: aws.String(cluster), AssociationId: aws.String(assocID)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting Cloud Control API (%s) resource (%s): %w", associationType, id, err)
	}
	return nil
}
