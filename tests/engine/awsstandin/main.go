// Command pulumi-resource-aws is TEST EQUIPMENT for the engine test tier.
//
// It is NOT used by the program and is never shipped. It stands in for the
// pulumi-aws resource provider plugin at the version in ../versions.env
// (which cannot be built or downloaded here) and implements, against a moto
// server, only what the program calls:
//
//   - invoke aws:eks/getCluster:getCluster and aws:eks/getAddon:getAddon
//     (plus getCallerIdentity, getRegion and getPartition, which are cheap
//     to serve);
//   - resources aws:iam/role:Role, aws:iam/rolePolicy:RolePolicy,
//     aws:iam/rolePolicyAttachment:RolePolicyAttachment,
//     aws:eks/addon:Addon and aws:eks/podIdentityAssociation:PodIdentityAssociation.
//
// Property names, resource IDs, defaults, autonaming and replacement rules
// follow that pulumi-aws version (a bridge over terraform-provider-aws v5): the Go
// SDK's `pulumi:"..."` tags name the properties; IDs are Role = name,
// RolePolicy = "role:name", RolePolicyAttachment = "<role>-<unique suffix>",
// Addon = "cluster:addon", PodIdentityAssociation = association ID.
//
// Safety: it refuses to start work unless AWS_ENDPOINT_URL is set, so it can
// only ever talk to the moto endpoint it is pointed at, never to real AWS.
//
// Environment:
//
//	AWS_ENDPOINT_URL       moto base URL, e.g. http://127.0.0.1:5000 (required)
//	AWS_ACCESS_KEY_ID      defaults to "testing"
//	AWS_SECRET_ACCESS_KEY  defaults to "testing"
//	AWS_SESSION_TOKEN      optional
//	AWS_REGION             used when the provider config sets no region
//	PULUMI_AWS_STANDIN_LOG non-empty: log every AWS request/response/retry to stderr
//
// Provider config: region (required, as aws:region); accessKey, secretKey,
// token and skipCredentialsValidation are honoured; everything else is
// accepted and ignored. Configure calls sts:GetCallerIdentity, which also
// proves the moto endpoint answers.
//
// Build (in tests/engine; run.sh does it with the version from versions.env):
//
//	go build -ldflags "-X main.providerVersion=6.83.4" -o <dir>/pulumi-resource-aws ./awsstandin
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	if providerVersion == "" {
		fmt.Fprintln(os.Stderr, "pulumi-resource-aws stand-in: built without -ldflags \"-X main.providerVersion=<pulumi-aws version>\" (see tests/engine/versions.env)")
		os.Exit(2)
	}
	err := provider.Main(providerName, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newStandin(host), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
