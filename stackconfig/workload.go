package stackconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/platform-eng/eks-pod-identity/irsa"
)

// workloadConfig is one entry of eks-pod-identity:workloads as the stack file
// writes it. The YAML shape is the program's, the component's Workload its Go
// API: toComponent maps one onto the other, so either can change alone.
type workloadConfig struct {
	Preset                 string                    `json:"preset"`
	HostedZoneArns         []string                  `json:"hostedZoneArns"`
	BucketArns             []string                  `json:"bucketArns"`
	Name                   string                    `json:"name"`
	Namespace              string                    `json:"namespace"`
	ServiceAccount         string                    `json:"serviceAccount"`
	CreateNamespace        bool                      `json:"createNamespace"`
	ExternalServiceAccount bool                      `json:"externalServiceAccount"`
	RoleName               string                    `json:"roleName"`
	RolePath               string                    `json:"rolePath"`
	RoleDescription        string                    `json:"roleDescription"`
	PermissionsBoundary    string                    `json:"permissionsBoundary"`
	MaxSessionDuration     int                       `json:"maxSessionDuration"`
	Trust                  string                    `json:"trust"`
	PolicyArns             []string                  `json:"policyArns"`
	InlinePolicies         map[string]policyDocument `json:"inlinePolicies"`
	Tags                   map[string]string         `json:"tags"`
	TestPod                bool                      `json:"testPod"`
	TestPodName            string                    `json:"testPodName"`
	Verify                 bool                      `json:"verify"`
	AccessCheck            string                    `json:"accessCheck"`
	VerifyDeadlineSeconds  int                       `json:"verifyDeadlineSeconds"`
	TargetRoleArn          string                    `json:"targetRoleArn"`
	DisableSessionTags     bool                      `json:"disableSessionTags"`
	SessionPolicy          policyDocument            `json:"sessionPolicy"`
	TargetRole             *targetRoleConfig         `json:"targetRole"`
	From                   string                    `json:"from"`
	Phase                  string                    `json:"phase"`
	TrustPolicyQuota       int                       `json:"trustPolicyQuota"`
}

func (w workloadConfig) toComponent() podidentity.Workload {
	var inline map[string]string
	if w.InlinePolicies != nil {
		inline = make(map[string]string, len(w.InlinePolicies))
		for name, doc := range w.InlinePolicies {
			inline[name] = string(doc)
		}
	}
	return podidentity.Workload{
		Preset: w.Preset,
		// A preset's inputs are plain workload keys in the stack file.
		PresetInputs:           presets.Inputs{HostedZoneArns: w.HostedZoneArns, BucketArns: w.BucketArns},
		Name:                   w.Name,
		Namespace:              w.Namespace,
		ServiceAccount:         w.ServiceAccount,
		CreateNamespace:        w.CreateNamespace,
		ExternalServiceAccount: w.ExternalServiceAccount,
		RoleName:               w.RoleName,
		RolePath:               w.RolePath,
		RoleDescription:        w.RoleDescription,
		PermissionsBoundary:    w.PermissionsBoundary,
		MaxSessionDuration:     w.MaxSessionDuration,
		Trust:                  podidentity.TrustMode(w.Trust),
		PolicyArns:             w.PolicyArns,
		InlinePolicies:         inline,
		Tags:                   w.Tags,
		TestPod:                w.TestPod,
		TestPodName:            w.TestPodName,
		Verify:                 w.Verify,
		AccessCheck:            w.AccessCheck,
		VerifyDeadlineSeconds:  w.VerifyDeadlineSeconds,
		TargetRoleArn:          w.TargetRoleArn,
		DisableSessionTags:     w.DisableSessionTags,
		SessionPolicy:          string(w.SessionPolicy),
		TargetRole:             w.targetRole(),
		Irsa:                   w.irsa(),
	}
}

// irsa is the migration the workload asks for; nil when it sets none of
// its keys. The program adds what it finds (the role's trust, the OIDC
// provider, the pods).
func (w workloadConfig) irsa() *podidentity.IrsaMigration {
	if w.From == "" && w.Phase == "" && w.TrustPolicyQuota == 0 {
		return nil
	}
	return &podidentity.IrsaMigration{From: w.From, Phase: irsa.Phase(w.Phase), TrustQuota: w.TrustPolicyQuota}
}

// targetRole is the component's TargetRole with Account still the name in
// targetAccounts (resolveTargetRoles puts the ID in).
func (w workloadConfig) targetRole() *podidentity.TargetRole {
	if w.TargetRole == nil {
		return nil
	}
	return &podidentity.TargetRole{RoleName: w.TargetRole.RoleName, PolicyArns: w.TargetRole.PolicyArns}
}

// readSessionPolicy replaces a sessionPolicy that is a path (anything not
// starting with "{") by the file's content, compacted as an inline object
// would be. A relative path is read from the program's directory, where
// Pulumi runs it: the project root.
func (w *workloadConfig) readSessionPolicy(readFile func(string) ([]byte, error)) error {
	path := strings.TrimSpace(string(w.SessionPolicy))
	if path == "" || strings.HasPrefix(path, "{") {
		return nil
	}
	b, err := readFile(path)
	if err != nil {
		// This is the one problem: the path is no document to check.
		w.SessionPolicy = ""
		return fmt.Errorf("%q is neither a JSON policy document (it does not start with \"{\") nor a readable file: %w", path, PathErrorCause(err))
	}
	var compact bytes.Buffer
	if json.Compact(&compact, b) != nil {
		// Not JSON: the component's policy check names what is wrong.
		w.SessionPolicy = policyDocument(b)
		return nil
	}
	w.SessionPolicy = policyDocument(compact.String())
	return nil
}

// policyDocument is an IAM policy document in JSON. The stack file may give
// it as a JSON string or as a YAML/JSON object; both decode to JSON text.
type policyDocument string

// UnmarshalJSON accepts a JSON string holding the document or the document
// itself as an object.
func (d *policyDocument) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = policyDocument(s)
		return nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return err
	}
	*d = policyDocument(compact.String())
	return nil
}
