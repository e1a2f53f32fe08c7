package main

// Construct inputs arrive as outputs (provider.ConstructInputs.Map makes
// every input an output carrying its value, secrecy and dependencies).
// These helpers pass them on as typed inputs of the children, keeping
// dependencies, secrecy and unknowns; plainString and plainBool read the
// few inputs whose value decides what is registered.

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// plain is v's value; ok is false when v is absent or unknown.
func plain(v pulumi.Input) (any, bool) {
	if v == nil {
		return nil, false
	}
	res, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
	if err != nil || !res.Known {
		return nil, false
	}
	return res.Value, true
}

func plainString(v pulumi.Input) (string, bool) {
	x, _ := plain(v)
	s, ok := x.(string)
	return s, ok
}

func plainBool(v pulumi.Input) (bool, bool) {
	x, _ := plain(v)
	b, ok := x.(bool)
	return b, ok
}

func stringPtr(v pulumi.Input) pulumi.StringPtrInput {
	if v == nil {
		return nil
	}
	return pulumi.ToOutput(v).ApplyT(func(x any) *string {
		if s, ok := x.(string); ok {
			return &s
		}
		return nil
	}).(pulumi.StringPtrOutput)
}

func boolPtr(v pulumi.Input) pulumi.BoolPtrInput {
	if v == nil {
		return nil
	}
	return pulumi.ToOutput(v).ApplyT(func(x any) *bool {
		if b, ok := x.(bool); ok {
			return &b
		}
		return nil
	}).(pulumi.BoolPtrOutput)
}

func stringArray(v pulumi.Input) pulumi.StringArrayInput {
	if v == nil {
		return nil
	}
	return pulumi.ToOutput(v).ApplyT(func(x any) []string {
		var out []string
		items, _ := x.([]any)
		for _, i := range items {
			if s, ok := i.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}).(pulumi.StringArrayOutput)
}

// stringMap is v as a map of strings, empty when v is absent.
func stringMap(v pulumi.Input) pulumi.StringMapInput {
	if v == nil {
		return pulumi.StringMap{}
	}
	return optStringMap(v)
}

func optStringMap(v pulumi.Input) pulumi.StringMapInput {
	if v == nil {
		return nil
	}
	return pulumi.ToOutput(v).ApplyT(func(x any) map[string]string {
		out := map[string]string{}
		m, _ := x.(map[string]any)
		for k, e := range m {
			if s, ok := e.(string); ok {
				out[k] = s
			}
		}
		return out
	}).(pulumi.StringMapOutput)
}

func intOr(v any, def int) int {
	if f, ok := v.(float64); ok {
		return int(f)
	}
	return def
}
