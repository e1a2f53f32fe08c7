// Command genembed writes the provider's embedded schema and mapping the way
// the upstream generate.go does: compact JSON, with the schema's "version"
// set to the version the binary is labelled with.
//
//	genembed <version> <schema.json> <terraform-mapping.json> <outdir>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func compact(path string, edit func(map[string]any)) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if edit != nil {
		edit(doc)
	}
	return json.Marshal(doc)
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: genembed <version> <schema.json> <terraform-mapping.json> <outdir>")
		os.Exit(2)
	}
	version, schemaPath, mappingPath, out := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	schema, err := compact(schemaPath, func(m map[string]any) { m["version"] = version })
	if err == nil {
		err = os.WriteFile(filepath.Join(out, "schema-embed.json"), schema, 0o644)
	}
	var mapping []byte
	if err == nil {
		mapping, err = compact(mappingPath, nil)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(out, "terraform-mapping-embed.json"), mapping, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genembed:", err)
		os.Exit(1)
	}
}
