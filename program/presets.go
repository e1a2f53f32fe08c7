package program

import (
	"fmt"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CheckPresetsOnCluster refuses presets the looked-up cluster cannot serve,
// each under the key of the workload naming it: vpc-cni's managed policy
// covers IPv4 only.
func CheckPresetsOnCluster(c *eks.LookupClusterResult, workloads []podidentity.Workload) []string {
	ipv6 := false
	for _, nc := range c.KubernetesNetworkConfigs {
		ipv6 = ipv6 || nc.IpFamily == "ipv6"
	}
	var problems []string
	for i, w := range workloads {
		if ipv6 && w.Preset == "vpc-cni" && w.PolicyArns == nil {
			problems = append(problems, stackconfig.Key(fmt.Sprintf("%s[%d].preset", stackconfig.KeyWorkloads, i))+fmt.Sprintf(
				": %q attaches AmazonEKS_CNI_Policy, which has IPv4 permissions only, and cluster %q uses IPv6: give the role the IPv6 policy of the EKS User Guide (cni-iam-role) in inlinePolicies, and set policyArns: []",
				w.Preset, c.Name))
		}
	}
	return problems
}

// AddonLookup answers whether an EKS add-on is installed and which
// service accounts it associates itself. Deploy uses the AWS provider's
// getAddon; tests may pass their own.
type AddonLookup func(addon string) (installed bool, associations []eks.GetAddonPodIdentityAssociation, err error)

// CheckAddonAssociations refuses a preset workload whose service account
// the preset's EKS add-on already associates through its own
// podIdentityAssociations: EKS allows one association per cluster,
// namespace and service account, so the second would fail with
// ResourceInUseException after its role was created. Presets always use a
// standalone association; the add-on's are the other way, and one of the
// two must go. An add-on's associations carry no namespace: the add-on's
// own, the preset's default, applies.
func CheckAddonAssociations(workloads []podidentity.Workload, partition string, lookup AddonLookup) ([]string, error) {
	var problems []string
	for i, raw := range workloads {
		p, ok := presets.Lookup(raw.Preset)
		if !ok || p.Addon == "" {
			continue
		}
		w := raw.Effective(partition)
		if w.Namespace != p.Namespace {
			continue
		}
		installed, assocs, err := lookup(p.Addon)
		if err != nil {
			return nil, fmt.Errorf("look up EKS add-on %s for %s[%d] (preset %s): %w", p.Addon, stackconfig.KeyWorkloads, i, p.Name, err)
		}
		if !installed {
			continue
		}
		for _, a := range assocs {
			if a.ServiceAccount == w.ServiceAccount {
				problems = append(problems, stackconfig.Key(fmt.Sprintf("%s[%d].preset", stackconfig.KeyWorkloads, i))+fmt.Sprintf(
					": %q would associate %s/%s, which the EKS add-on %s already associates itself (role %s); EKS allows one association per service account. Keep one: remove this workload, or remove the association from the add-on's podIdentityAssociations",
					p.Name, w.Namespace, w.ServiceAccount, p.Addon, a.RoleArn))
			}
		}
	}
	return problems, nil
}

// addonLookup asks the AWS provider (aws:eks/getAddon). A missing add-on
// is an error there: pulumi-aws answers "couldn't find resource" (the
// Terraform provider's not-found error for EKS's ResourceNotFoundException).
func addonLookup(ctx *pulumi.Context, cluster string) AddonLookup {
	return func(addon string) (bool, []eks.GetAddonPodIdentityAssociation, error) {
		res, err := eks.LookupAddon(ctx, &eks.LookupAddonArgs{ClusterName: cluster, AddonName: addon})
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "couldn't find resource") || strings.Contains(msg, "ResourceNotFoundException") {
				return false, nil, nil
			}
			return false, nil, err
		}
		return true, res.PodIdentityAssociations, nil
	}
}

// checkPresets runs the preset checks that need the looked-up cluster.
func checkPresets(ctx *pulumi.Context, c *eks.LookupClusterResult, args podidentity.Args) error {
	problems := CheckPresetsOnCluster(c, args.Workloads)
	addonProblems, err := CheckAddonAssociations(args.Workloads, args.Partition, addonLookup(ctx, c.Name))
	if err != nil {
		return err
	}
	if problems = append(problems, addonProblems...); len(problems) > 0 {
		return &stackconfig.ConfigError{Problems: problems}
	}
	return nil
}
