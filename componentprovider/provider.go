// Package componentprovider serves the PodIdentity component to Pulumi
// programs in any language: the Construct of an executable component
// provider (cmd/pulumi-resource-eks-pod-identity) and its schema, from
// which `pulumi package gen-sdk` generates each language's SDK. Construct
// calls the component's own constructor; there is no second implementation.
package componentprovider

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

//go:generate go run gen_schema.go

// Name is the package's name: the plugin is pulumi-resource-<Name>.
const Name = "eks-pod-identity"

// TypeToken is the component's type in the schema and in other languages'
// programs. Go programs calling podidentity.NewPodIdentity directly keep
// podidentity.TypeToken, so their URNs do not change.
const TypeToken = Name + ":index:PodIdentity"

// Version is the plugin's version: the one place it is set (VERSION, next
// to this file). A release tags the repository v<Version>.
//
//go:embed VERSION
var version string

// Version is the plugin's version, from VERSION.
func Version() string { return strings.TrimSpace(version) }

//go:embed schema.json
var schema []byte

// Schema is the package schema. It carries the plugin's version: the
// generator writes Version() into schema.json, and the drift test fails
// when VERSION changed without `go generate`.
func Schema() ([]byte, error) { return schema, nil }

// Inputs are the component's inputs as the schema names them. Only the
// cluster's name and ARN may be outputs of other resources; the rest must
// be known when the component is constructed, because the component
// validates them before it registers anything.
type Inputs struct {
	ClusterName pulumi.StringInput `pulumi:"clusterName"`
	ClusterArn  pulumi.StringInput `pulumi:"clusterArn"`
	Partition   string             `pulumi:"partition,optional"`
	Agent       *AgentInputs       `pulumi:"agent,optional"`
	Image       string             `pulumi:"image,optional"`
	Tags        map[string]string  `pulumi:"tags,optional"`
	Annotations map[string]string  `pulumi:"annotations,optional"`
	Workloads   []WorkloadInputs   `pulumi:"workloads"`
}

// AgentInputs is podidentity.Agent as the schema names it.
type AgentInputs struct {
	Skip     bool   `pulumi:"skip,optional"`
	Version  string `pulumi:"version,optional"`
	Preserve bool   `pulumi:"preserve,optional"`
}

// PresetInputs is presets.Inputs as the schema names it.
type PresetInputs struct {
	HostedZoneArns []string `pulumi:"hostedZoneArns,optional"`
	BucketArns     []string `pulumi:"bucketArns,optional"`
}

// WorkloadInputs is podidentity.Workload as the schema names it.
type WorkloadInputs struct {
	Preset                 string            `pulumi:"preset,optional"`
	PresetInputs           *PresetInputs     `pulumi:"presetInputs,optional"`
	Name                   string            `pulumi:"name,optional"`
	Namespace              string            `pulumi:"namespace,optional"`
	ServiceAccount         string            `pulumi:"serviceAccount,optional"`
	CreateNamespace        bool              `pulumi:"createNamespace,optional"`
	ExternalServiceAccount bool              `pulumi:"externalServiceAccount,optional"`
	RoleName               string            `pulumi:"roleName,optional"`
	RolePath               string            `pulumi:"rolePath,optional"`
	RoleDescription        string            `pulumi:"roleDescription,optional"`
	PermissionsBoundary    string            `pulumi:"permissionsBoundary,optional"`
	MaxSessionDuration     int               `pulumi:"maxSessionDuration,optional"`
	Trust                  string            `pulumi:"trust,optional"`
	PolicyArns             []string          `pulumi:"policyArns,optional"`
	InlinePolicies         map[string]string `pulumi:"inlinePolicies,optional"`
	Tags                   map[string]string `pulumi:"tags,optional"`
	TestPod                bool              `pulumi:"testPod,optional"`
	TestPodName            string            `pulumi:"testPodName,optional"`
	Verify                 bool              `pulumi:"verify,optional"`
	AccessCheck            string            `pulumi:"accessCheck,optional"`
	VerifyDeadlineSeconds  int               `pulumi:"verifyDeadlineSeconds,optional"`
	TargetRoleArn          string            `pulumi:"targetRoleArn,optional"`
	DisableSessionTags     bool              `pulumi:"disableSessionTags,optional"`
	SessionPolicy          string            `pulumi:"sessionPolicy,optional"`
}

// Args maps the inputs onto the component's Go API.
func (in Inputs) Args() podidentity.Args {
	a := podidentity.Args{
		ClusterName: in.ClusterName,
		ClusterArn:  in.ClusterArn,
		Partition:   in.Partition,
		Image:       in.Image,
		Tags:        in.Tags,
		Annotations: in.Annotations,
	}
	if in.Agent != nil {
		a.Agent = podidentity.Agent{Skip: in.Agent.Skip, Version: in.Agent.Version, Preserve: in.Agent.Preserve}
	}
	for _, w := range in.Workloads {
		var pi presets.Inputs
		if w.PresetInputs != nil {
			pi = presets.Inputs{HostedZoneArns: w.PresetInputs.HostedZoneArns, BucketArns: w.PresetInputs.BucketArns}
		}
		a.Workloads = append(a.Workloads, podidentity.Workload{
			Preset: w.Preset, PresetInputs: pi,
			Name: w.Name, Namespace: w.Namespace, ServiceAccount: w.ServiceAccount,
			CreateNamespace: w.CreateNamespace, ExternalServiceAccount: w.ExternalServiceAccount,
			RoleName: w.RoleName, RolePath: w.RolePath, RoleDescription: w.RoleDescription,
			PermissionsBoundary: w.PermissionsBoundary, MaxSessionDuration: w.MaxSessionDuration,
			Trust: podidentity.TrustMode(w.Trust), PolicyArns: w.PolicyArns, InlinePolicies: w.InlinePolicies,
			Tags: w.Tags, TestPod: w.TestPod, TestPodName: w.TestPodName, Verify: w.Verify,
			AccessCheck: w.AccessCheck, VerifyDeadlineSeconds: w.VerifyDeadlineSeconds,
			TargetRoleArn: w.TargetRoleArn, DisableSessionTags: w.DisableSessionTags, SessionPolicy: w.SessionPolicy,
		})
	}
	return a
}

// Construct builds the component for the engine: the consumer's inputs
// become podidentity.Args, and podidentity.NewPodIdentityAs, the
// constructor Go programs use under another type token, does the rest.
// Its refusals come back to the consumer as they read in Go.
func Construct(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs, options pulumi.ResourceOption) (*provider.ConstructResult, error) {
	if typ != TypeToken {
		return nil, fmt.Errorf("unknown resource type %q: this provider serves %s", typ, TypeToken)
	}
	var in Inputs
	if err := inputs.CopyTo(&in); err != nil {
		return nil, fmt.Errorf("%s %s: inputs (every input but clusterName and clusterArn must be known when the component is constructed): %w", TypeToken, name, err)
	}
	args, err := constructArgs(in, options)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", TypeToken, name, err)
	}
	pi, err := podidentity.NewPodIdentityAs(ctx, TypeToken, name, args, options)
	if err != nil {
		return nil, err
	}
	return &provider.ConstructResult{URN: pi.URN(), State: pi.Outputs()}, nil
}

// constructArgs is the inputs as Args, with the consumer's dependsOn on the
// component as Args.DependsOn: a resource option reaches only the component,
// and the children must wait too (a cluster's node group before the
// add-on, as in Go).
func constructArgs(in Inputs, options pulumi.ResourceOption) (podidentity.Args, error) {
	a := in.Args()
	opts, err := pulumi.NewResourceOptions(options)
	if err != nil {
		return a, fmt.Errorf("resource options: %w", err)
	}
	a.DependsOn = opts.DependsOn
	return a, nil
}
