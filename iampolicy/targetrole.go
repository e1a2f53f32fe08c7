package iampolicy

import (
	"encoding/json"
	"fmt"
)

// TargetTrust is what the target role's trust policy names: the role EKS
// assumes first (the association's role, in the cluster's account), the
// cluster, and the service account; with session tags off, the external ID
// EKS sends instead of the tags.
type TargetTrust struct {
	// Partition and ClusterAccount place the first role's account root.
	Partition, ClusterAccount string
	// FirstRoleArn is the association's role, which EKS assumes first.
	FirstRoleArn string
	// ClusterArn, Namespace and ServiceAccount are matched on EKS's session
	// tags when SessionTags is true.
	ClusterArn, Namespace, ServiceAccount string
	// SessionTags is false when the association disables them; ExternalID
	// is then matched on sts:ExternalId.
	SessionTags bool
	ExternalID  string
}

// Field order follows the user guide's documents, so the output reads like
// them; IAM ignores the order.
type trustDocument struct {
	Version   string           `json:"Version"`
	Statement []trustStatement `json:"Statement"`
}

type trustStatement struct {
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal"`
	// Action is a string or a list, as the user guide writes each.
	Action    any             `json:"Action"`
	Condition *trustCondition `json:"Condition,omitempty"`
}

type trustCondition struct {
	StringEquals orderedStrings    `json:"StringEquals"`
	ArnEquals    map[string]string `json:"ArnEquals"`
}

// orderedStrings is a JSON object whose keys keep the order given.
type orderedStrings [][2]string

func (o orderedStrings) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, kv := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(kv[0])
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv[1])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// TargetTrustPolicy is the trust policy the target role must carry, exactly
// the document of the EKS User Guide (pod-id-assign-target-role, "Update the
// Target IAM Role trust policy") filled in: the cluster account's root as
// principal, narrowed by aws:PrincipalARN to the first role, and by the
// session tags, or, with tags off, by sts:ExternalId on sts:AssumeRole
// with sts:TagSession in a statement of its own.
func TargetTrustPolicy(t TargetTrust) (string, error) {
	for _, f := range [][2]string{{"partition", t.Partition}, {"cluster account", t.ClusterAccount}, {"first role ARN", t.FirstRoleArn}} {
		if f[1] == "" {
			return "", fmt.Errorf("target trust policy: the %s is empty", f[0])
		}
	}
	principal := map[string]string{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", t.Partition, t.ClusterAccount)}
	firstRole := map[string]string{"aws:PrincipalARN": t.FirstRoleArn}
	var doc trustDocument
	if t.SessionTags {
		if t.ClusterArn == "" || t.Namespace == "" || t.ServiceAccount == "" {
			return "", fmt.Errorf("target trust policy with session tags needs the cluster ARN, namespace and service account, got %q, %q, %q", t.ClusterArn, t.Namespace, t.ServiceAccount)
		}
		doc = trustDocument{Version: "2012-10-17", Statement: []trustStatement{{
			Effect: "Allow", Principal: principal, Action: []string{"sts:AssumeRole", "sts:TagSession"},
			Condition: &trustCondition{
				StringEquals: orderedStrings{
					{"aws:RequestTag/eks-cluster-arn", t.ClusterArn},
					{"aws:RequestTag/kubernetes-namespace", t.Namespace},
					{"aws:RequestTag/kubernetes-service-account", t.ServiceAccount},
				},
				ArnEquals: firstRole,
			},
		}}}
	} else {
		if t.ExternalID == "" {
			return "", fmt.Errorf("target trust policy without session tags needs the external ID")
		}
		doc = trustDocument{Version: "2012-10-17", Statement: []trustStatement{
			{Effect: "Allow", Principal: principal, Action: "sts:AssumeRole", Condition: &trustCondition{
				StringEquals: orderedStrings{{"sts:ExternalId", t.ExternalID}},
				ArnEquals:    firstRole,
			}},
			{Effect: "Allow", Principal: principal, Action: "sts:TagSession"},
		}}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encode target trust policy: %w", err)
	}
	return string(b), nil
}

// AssumeTargetRole is the permission the first role needs to chain into the
// target role: sts:AssumeRole and sts:TagSession on its ARN (EKS User
// Guide, pod-id-assign-target-role, "Update the permission policy for EKS
// Pod Identity role").
func AssumeTargetRole(targetRoleArn string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Allow",
			"Action":   []string{"sts:AssumeRole", "sts:TagSession"},
			"Resource": targetRoleArn,
		}},
	})
	return string(b)
}
