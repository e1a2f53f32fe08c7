package stackcheck

import (
	"context"
	"fmt"

	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/program"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// Run runs the program as `pulumi up` would, program.Deploy and all, with
// mocks in place of the engine and providers, and returns what Deploy
// returned and its stack outputs, resolved (a secret one as "[secret]").
func Run(stack string, cfg Config, mocks pulumi.MockResourceMonitor) (*program.Deployment, map[string]any, error) {
	return RunIn(stack, cfg, mocks, nil)
}

// RunIn is Run in a world of existing objects (nil: nothing exists).
func RunIn(stack string, cfg Config, mocks pulumi.MockResourceMonitor, existing *discover.Lookups) (*program.Deployment, map[string]any, error) {
	var deployment *program.Deployment
	exports := map[string]any{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		if rec, ok := mocks.(*Recorder); ok && rec.Cluster.Created {
			if err := rec.registerStandIns(ctx); err != nil {
				return fmt.Errorf("stand-ins for pulumi-eks's children: %w", err)
			}
		}
		d, err := program.DeployWith(ctx, existing)
		if err != nil {
			return err
		}
		deployment = d
		for k, v := range d.Exports {
			res, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
			if err != nil {
				return fmt.Errorf("stack output %s: %w", k, err)
			}
			exports[k] = res.Value
			if res.Secret {
				// As `pulumi stack output` shows a secret.
				exports[k] = "[secret]"
			}
		}
		return nil
	}, pulumi.WithMocks(stackconfig.Project, stack, mocks), withConfig(cfg))
	return deployment, exports, err
}

// withConfig hands the program its configuration as the engine does,
// instead of through the PULUMI_CONFIG environment variable, so checks of
// several stacks never share process state.
func withConfig(cfg Config) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		info.Config = cfg.Values
		info.ConfigSecretKeys = cfg.SecretKeys
	}
}
