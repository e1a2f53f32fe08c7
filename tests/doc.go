// Package tests runs the whole program, as main.go does, under Pulumi's mocks
// (pulumi.WithMocks) with the real stack files, and asserts what it registers:
// inputs, parents, providers, dependency edges and replacement options.
package tests
