// Command pulumi-resource-kubernetes is the upstream provider's
// cmd/pulumi-resource-kubernetes main, rebuilt here because the module zip
// lacks the two generated files it embeds. tests/engine/tools/build.sh
// copies this module to a cache dir, writes schema-embed.json and
// terraform-mapping-embed.json there with ./genembed, and builds.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
