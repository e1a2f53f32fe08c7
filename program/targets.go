package program

import (
	"fmt"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// withTargetProviders gives each workload's targetRole the AWS provider of
// its account (targetAccounts), one per account: it assumes the entry's
// role there and refuses to act in any other account, so a wrong roleArn
// fails before anything is created in the wrong place. The providers share
// the stack's region; IAM is global.
func withTargetProviders(ctx *pulumi.Context, s stackconfig.Settings, args podidentity.Args) (podidentity.Args, error) {
	byID := map[string]string{}
	for name, a := range s.TargetAccounts {
		byID[a.AccountID] = name
	}
	made := map[string]*aws.Provider{}
	workloads := make([]podidentity.Workload, len(args.Workloads))
	copy(workloads, args.Workloads)
	for i, w := range workloads {
		if w.TargetRole == nil {
			continue
		}
		name, ok := byID[w.TargetRole.Account]
		if !ok {
			return args, fmt.Errorf("workload %s: target account %s is not in %s", w.Name, w.TargetRole.Account, stackconfig.Key(stackconfig.KeyTargetAccounts))
		}
		p := made[name]
		if p == nil {
			a := s.TargetAccounts[name]
			assume := &aws.ProviderAssumeRoleArgs{RoleArn: pulumi.String(a.RoleArn), SessionName: pulumi.String(sessionName(ctx.Stack()))}
			if a.ExternalID != "" {
				assume.ExternalId = pulumi.String(a.ExternalID)
			}
			var err error
			p, err = aws.NewProvider(ctx, "target-"+name, &aws.ProviderArgs{
				Region:            pulumi.String(s.Region),
				AssumeRole:        assume,
				AllowedAccountIds: pulumi.StringArray{pulumi.String(a.AccountID)},
			})
			if err != nil {
				return args, fmt.Errorf("create the AWS provider of target account %s: %w", name, err)
			}
			made[name] = p
		}
		t := *w.TargetRole
		t.Provider = p
		workloads[i].TargetRole = &t
	}
	args.Workloads = workloads
	return args, nil
}

// sessionName is the provider's STS session name, which CloudTrail shows
// in the target account: at most 64 characters.
func sessionName(stack string) string {
	n := "eks-pod-identity-" + stack
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}
