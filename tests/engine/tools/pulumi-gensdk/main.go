// Command pulumi-gensdk writes a Pulumi package's SDK for TypeScript or
// Python from its schema, with the code generators of the pinned
// github.com/pulumi/pulumi/pkg/v3 that `pulumi package gen-sdk` reaches
// through the Node.js and Python language hosts. Those hosts cannot be had
// here (the module proxy refuses them), so the engine tier calls the
// generators directly; the output is the same package source.
//
//	pulumi-gensdk -language nodejs|python -schema schema.json -out DIR
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	language := flag.String("language", "", "nodejs or python")
	schemaPath := flag.String("schema", "", "the package's schema.json")
	out := flag.String("out", "", "directory to write the SDK to")
	flag.Parse()
	if err := run(*language, *schemaPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-gensdk:", err)
		os.Exit(1)
	}
}

func run(language, schemaPath, out string) error {
	if schemaPath == "" || out == "" {
		return errors.New("-schema and -out are required")
	}
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("bind %s: %w", schemaPath, err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("bind %s: %s", schemaPath, diags.Error())
	}
	var files map[string][]byte
	switch language {
	case "nodejs":
		files, err = nodejs.GeneratePackage("pulumi-gensdk", pkg, nil, nil, false, noPackages{})
	case "python":
		files, err = python.GeneratePackage("pulumi-gensdk", pkg, nil, noPackages{})
	default:
		return fmt.Errorf("-language %q: nodejs or python (C#'s generator lives in pulumi-dotnet, not in pkg/v3)", language)
	}
	if err != nil {
		return fmt.Errorf("generate %s: %w", language, err)
	}
	for name, content := range files {
		p := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// noPackages is the loader for a schema that references no other package:
// asked for one, it says so instead of downloading plugins.
type noPackages struct{}

func (noPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema references package %q; pulumi-gensdk loads none", pkg)
}

func (noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema references package %q; pulumi-gensdk loads none", d.Name)
}

func (noPackages) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema references package %q; pulumi-gensdk loads none", pkg)
}

func (noPackages) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema references package %q; pulumi-gensdk loads none", d.Name)
}
