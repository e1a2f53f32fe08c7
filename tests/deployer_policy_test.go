package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/iampolicy"
)

// deployerActions are the AWS actions a deployer of an existing cluster's
// stack is asked for, each with who calls it. The README's deployer policy
// must grant every one.
var deployerActions = map[string]string{
	"eks:DescribeCluster":                "the cluster lookup (aws:eks/getCluster)",
	"eks:CreateAddon":                    "the agent add-on",
	"eks:DescribeAddon":                  "the add-on's reads, getAddon for presets, discovery",
	"eks:UpdateAddon":                    "the add-on's version and configuration",
	"eks:DeleteAddon":                    "destroy",
	"eks:CreatePodIdentityAssociation":   "the association",
	"eks:DescribePodIdentityAssociation": "its reads, discovery",
	"eks:UpdatePodIdentityAssociation":   "a role change in place",
	"eks:DeletePodIdentityAssociation":   "destroy",
	"eks:ListPodIdentityAssociations":    "discovery by namespace and service account",
	"eks:TagResource":                    "the stack marker tag on add-on and association",
	"eks:UntagResource":                  "tag changes",
	"iam:CreateRole":                     "the workload role",
	"iam:GetRole":                        "its reads, discovery",
	"iam:UpdateRole":                     "description, maximum session",
	"iam:UpdateAssumeRolePolicy":         "the trust policy",
	"iam:DeleteRole":                     "destroy",
	"iam:TagRole":                        "the stack marker tag",
	"iam:UntagRole":                      "tag changes",
	"iam:ListRoleTags":                   "discovery",
	"iam:PutRolePermissionsBoundary":     "permissionsBoundary",
	"iam:DeleteRolePermissionsBoundary":  "unsetting it",
	"iam:AttachRolePolicy":               "policyArns",
	"iam:DetachRolePolicy":               "removing one",
	"iam:ListAttachedRolePolicies":       "the role's and attachments' reads",
	"iam:PutRolePolicy":                  "inlinePolicies and presets' documents",
	"iam:GetRolePolicy":                  "their reads",
	"iam:DeleteRolePolicy":               "removing one",
	"iam:ListRolePolicies":               "the role's reads",
	"iam:ListInstanceProfilesForRole":    "the role's delete",
	"iam:PassRole":                       "CreatePodIdentityAssociation (EKS User Guide: the creator needs iam:PassRole)",
	"sts:GetCallerIdentity":              "the AWS provider's account check",
	// Workloads with targetRoleArn, disableSessionTags or sessionPolicy:
	// their association is an aws.cloudcontrol.Resource, whose handlers run
	// with the deployer's credentials (the EKS and IAM actions above).
	"cloudcontrol:CreateResource":           "a Cloud Control association",
	"cloudcontrol:GetResource":              "its reads",
	"cloudcontrol:UpdateResource":           "a change in place (role, target role, session policy)",
	"cloudcontrol:DeleteResource":           "destroy",
	"cloudcontrol:GetResourceRequestStatus": "waiting for each of those requests",
	"cloudformation:DescribeType":           "the provider fetches the type's schema when none is given (pulumi-aws cloudcontrol.Resource, schema)",
}

func TestReadmeDeployerPolicyGrantsWhatTheProgramCalls(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- deployer-policy -->")
	if !ok {
		t.Fatal("README.md has no <!-- deployer-policy --> marker")
	}
	_, rest, _ = strings.Cut(rest, "```json\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md: no json block after the deployer-policy marker")
	}
	doc, err := iampolicy.Parse(block)
	if err != nil {
		t.Fatalf("README's deployer policy: %v", err)
	}
	for action, why := range deployerActions {
		if !doc.Allows(action, "*") {
			t.Errorf("README's deployer policy does not grant %s, needed for %s", action, why)
		}
	}
}
