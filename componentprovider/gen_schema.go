//go:build ignore

// gen_schema writes schema.json from the component's Go API and its doc
// comments: go generate ./componentprovider/
package main

import (
	"log"
	"os"

	"github.com/platform-eng/eks-pod-identity/componentprovider"
)

func main() {
	b, err := componentprovider.GenerateSchema(componentprovider.SourcesIn(".."))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("schema.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
