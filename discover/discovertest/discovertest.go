// Package discovertest holds what the manual walkthrough leaves behind and
// what its stack declares, as discovery sees them: fixtures for the tests
// of discovery and of the adoption decision.
package discovertest

import (
	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// The walkthrough's association ID, role name and test pod name.
const (
	WalkAssoc = "a-0123456789abcdef0"
	WalkRole  = "EKSPodIdentityS3Role"
	WalkPod   = "aws-cli-pod-identity"
)

// DevWant is what the dev stack (the walkthrough) declares.
func DevWant() discover.Want {
	return discover.WantFor("my-eks-cluster", stackconfig.ComponentName, podidentity.Args{Workloads: []podidentity.Workload{{
		ServiceAccount: "pod-id-sa", Namespace: "default", RoleName: WalkRole,
		TestPod: true, TestPodName: WalkPod, Verify: true,
	}}})
}

// Walkthrough is what the manual walkthrough leaves behind: nothing tagged
// or labelled, the open trust policy's role at path /, the aws-cli pod
// (amazon/aws-cli:latest, no securityContext: not the stack's test pod).
func Walkthrough() discover.Existing {
	assoc := &discover.FoundAssociation{ID: WalkAssoc, RoleArn: "arn:aws:iam::123456789012:role/" + WalkRole,
		Namespace: "default", ServiceAccount: "pod-id-sa"}
	return discover.Existing{
		Agent:        &discover.FoundAddon{},
		Roles:        map[string]*discover.FoundRole{WalkRole: {Name: WalkRole, Path: "/", Arn: "arn:aws:iam::123456789012:role/" + WalkRole}},
		Associations: map[string]*discover.FoundAssociation{"default/pod-id-sa": assoc},
		// The list of the cluster's associations holds the same one.
		AllAssociations: []*discover.FoundAssociation{assoc},
		ServiceAccounts: map[string]*discover.FoundObject{"default/pod-id-sa": {}},
		Namespaces:      map[string]*discover.FoundObject{},
		Pods: map[string]*discover.FoundObject{"default/" + WalkPod: {Pod: &discover.PodSpec{
			ServiceAccountName: "pod-id-sa", RestartPolicy: "Never",
			Containers: []discover.Container{{Name: "aws-cli", Image: "amazon/aws-cli:latest", Command: []string{"sleep", "3600"}}},
		}}},
	}
}

// StackPod is the stack's test pod as the API server returns it: what the
// component declares (podidentity's hardening.go), and what EKS's webhook
// adds (its token volume and mount, the credential variables).
func StackPod(serviceAccount, image string) *discover.PodSpec {
	no, yes := false, true
	user, group := int64(podidentity.PodUser), int64(podidentity.PodGroup)
	return &discover.PodSpec{
		ServiceAccountName: serviceAccount, RestartPolicy: "Never", AutomountServiceAccountToken: &no,
		RunAsNonRoot: &yes, RunAsUser: &user, RunAsGroup: &group, SeccompProfile: podidentity.SeccompProfile,
		EmptyDirs: []string{podidentity.HomeVolume},
		Containers: []discover.Container{{
			Name: "aws-cli", Image: image, Command: []string{"sleep", "3600"},
			Env: map[string]string{"HOME": podidentity.HomeDir,
				"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "http://169.254.170.23/v1/credentials",
				"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"},
			Mounts: map[string]string{podidentity.HomeDir: podidentity.HomeVolume,
				"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount": "eks-pod-identity-token"},
			AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
			DropCapabilities: []string{podidentity.DroppedCapabilities},
		}},
	}
}
