package podidentity

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// PodsPrincipal is the service principal EKS Pod Identity assumes roles as.
const PodsPrincipal = "pods.eks.amazonaws.com"

// Session tags EKS Pod Identity sets on every AssumeRole; scoped trust
// policies match on them (AWS EKS user guide, pod-id-abac).
const (
	tagClusterArn     = "aws:RequestTag/eks-cluster-arn"
	tagNamespace      = "aws:RequestTag/kubernetes-namespace"
	tagServiceAccount = "aws:RequestTag/kubernetes-service-account"
)

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect    string                         `json:"Effect"`
	Principal map[string]string              `json:"Principal"`
	Action    []string                       `json:"Action"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// TrustPolicy returns the role's trust policy document. Both modes trust
// pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession (EKS needs
// TagSession to attach its session tags); TrustScoped also requires the
// session tags to name this cluster, namespace and service account, so no
// other cluster or service account can borrow the role.
func TrustPolicy(mode TrustMode, clusterArn, namespace, serviceAccount string) (string, error) {
	stmt := policyStatement{
		Effect:    "Allow",
		Principal: map[string]string{"Service": PodsPrincipal},
		Action:    []string{"sts:AssumeRole", "sts:TagSession"},
	}
	switch mode {
	case TrustOpen:
	case TrustScoped, "":
		if clusterArn == "" || namespace == "" || serviceAccount == "" {
			return "", fmt.Errorf("scoped trust policy needs the cluster ARN, namespace and service account, got %q, %q, %q",
				clusterArn, namespace, serviceAccount)
		}
		stmt.Condition = map[string]map[string][]string{"StringEquals": {
			tagClusterArn:     {clusterArn},
			tagNamespace:      {namespace},
			tagServiceAccount: {serviceAccount},
		}}
	default:
		return "", fmt.Errorf("unknown trust mode %q (allowed: %q, %q)", mode, TrustScoped, TrustOpen)
	}
	doc, err := json.Marshal(policyDocument{Version: "2012-10-17", Statement: []policyStatement{stmt}})
	if err != nil {
		return "", fmt.Errorf("encode trust policy: %w", err)
	}
	return string(doc), nil
}

// ManagedPolicyArn is the ARN of an AWS managed policy in a partition.
func ManagedPolicyArn(partition, name string) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, name)
}

// checkPolicyDocument reports why text is not a usable IAM policy document:
// it must be a JSON object with a known Version and a non-empty Statement.
func checkPolicyDocument(text string) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return fmt.Errorf("is not a JSON object: %w", err)
	}
	var version string
	if err := json.Unmarshal(doc["Version"], &version); err != nil || (version != "2012-10-17" && version != "2008-10-17") {
		return fmt.Errorf(`needs "Version": "2012-10-17"`)
	}
	stmt := bytes.TrimSpace(doc["Statement"])
	var list []json.RawMessage
	var one map[string]json.RawMessage
	switch {
	case len(stmt) == 0:
		return fmt.Errorf(`needs a "Statement"`)
	case json.Unmarshal(stmt, &list) == nil:
		if len(list) == 0 {
			return fmt.Errorf(`has an empty "Statement" list`)
		}
	case json.Unmarshal(stmt, &one) == nil:
	default:
		return fmt.Errorf(`"Statement" must be an object or a list of objects`)
	}
	return nil
}
