package presets

import "strings"

// Sources of the managed-policy recommendations. The authoritative answer
// for a given add-on version is `aws eks describe-addon-configuration
// --addon-name <addon> --addon-version <v> --query podIdentityConfiguration`
// (recommendedManagedPolicies, serviceAccount).
const (
	ugAddonsIAM = "EKS User Guide, add-ons-iam: add-ons that support Pod Identity (table of 2024-10-28)"
	cwAddonDoc  = "CloudWatch User Guide, Container-Insights-setup-EKS-addon (Pod Identity from add-on v3.1.0)"
)

// catalogue is every preset, in the order the README lists them: the
// AWS-managed ones first, then those whose documents need inputs.
var catalogue = []Preset{
	{
		Name:           "ebs-csi",
		For:            "Amazon EBS CSI driver, controller",
		Addon:          "aws-ebs-csi-driver",
		Namespace:      "kube-system",
		ServiceAccount: "ebs-csi-controller-sa",
		ManagedPolicies: []ManagedPolicy{
			{Name: "service-role/AmazonEBSCSIDriverPolicy", Source: ugAddonsIAM},
		},
		Notes:     "Pod Identity from add-on v1.26.0-eksbuild.1.",
		check:     fixed("ec2 describe-volumes --max-items 1"),
		checkText: "ec2 describe-volumes --max-items 1",
	},
	{
		Name:           "efs-csi",
		For:            "Amazon EFS CSI driver, controller",
		Addon:          "aws-efs-csi-driver",
		Namespace:      "kube-system",
		ServiceAccount: "efs-csi-controller-sa",
		ManagedPolicies: []ManagedPolicy{
			{Name: "service-role/AmazonEFSCSIDriverPolicy", Source: ugAddonsIAM},
		},
		Notes:     "Pod Identity from add-on v2.0.5-eksbuild.1. From v3.0.0-eksbuild.1 the node's efs-csi-node-sa takes a role too: add a second `efs-csi` workload with `name: efs-csi-node` and `serviceAccount: efs-csi-node-sa`.",
		check:     fixed("efs describe-file-systems --max-items 1"),
		checkText: "efs describe-file-systems --max-items 1",
	},
	{
		Name:           "vpc-cni",
		For:            "Amazon VPC CNI plugin (aws-node), IPv4",
		Addon:          "vpc-cni",
		Namespace:      "kube-system",
		ServiceAccount: "aws-node",
		ManagedPolicies: []ManagedPolicy{
			{Name: "AmazonEKS_CNI_Policy", Source: ugAddonsIAM + "; IPv4 clusters only (EKS User Guide, cni-iam-role)"},
		},
		Notes:     "IPv4 clusters only: AmazonEKS_CNI_Policy has no IPv6 permissions, and the program refuses the preset on an IPv6 cluster. Pod Identity from add-on v1.15.5-eksbuild.1.",
		check:     fixed("ec2 describe-network-interfaces --max-items 1"),
		checkText: "ec2 describe-network-interfaces --max-items 1",
	},
	{
		Name:           "cloudwatch-observability",
		For:            "Amazon CloudWatch Observability (CloudWatch agent)",
		Addon:          "amazon-cloudwatch-observability",
		Namespace:      "amazon-cloudwatch",
		ServiceAccount: "cloudwatch-agent",
		ManagedPolicies: []ManagedPolicy{
			{Name: "CloudWatchAgentServerPolicy", Source: ugAddonsIAM + "; " + cwAddonDoc},
			{Name: "AWSXrayWriteOnlyAccess", Source: ugAddonsIAM + "; " + cwAddonDoc},
		},
		Notes:     "Pod Identity from add-on v3.1.0.",
		check:     fixed("logs describe-log-groups --limit 1"),
		checkText: "logs describe-log-groups --limit 1",
	},
	{
		Name:           "external-dns",
		For:            "ExternalDNS, Route 53 provider",
		Namespace:      "external-dns",
		ServiceAccount: "external-dns",
		Documents: []Document{{
			Name: "external-dns",
			// kubernetes-sigs/external-dns docs/tutorials/aws.md, "IAM Policy",
			// as of 2026-08-20 (commit 9d4616c), with its hostedzone/*
			// narrowed to the zones the user lists, as that page advises.
			Source: "kubernetes-sigs/external-dns docs/tutorials/aws.md#iam-policy (2026-08-20), zones narrowed to hostedZoneArns",
			render: func(t Target) policy {
				return document(
					allow("ChangeRecordsInListedZones",
						[]string{"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResources"},
						t.Inputs.HostedZoneArns),
					allow("ListZones", []string{"route53:ListHostedZones"}, []string{"*"}),
				)
			},
		}},
		Requires:  []Input{InputHostedZoneArns},
		Notes:     "Every zone (`arn:aws:route53:::hostedzone/*`) only when listed by that exact ARN.",
		check:     fixed("route53 list-hosted-zones --max-items 1"),
		checkText: "route53 list-hosted-zones --max-items 1",
	},
	{
		Name:           "cert-manager",
		For:            "cert-manager, ACME DNS-01 with Route 53",
		Namespace:      "cert-manager",
		ServiceAccount: "cert-manager",
		Documents: []Document{{
			Name: "cert-manager",
			// cert-manager.io docs/configuration/acme/dns01/route53.md, "Set up
			// an IAM Policy", as of 2025-04-16 (cert-manager/website abdbb72),
			// with hostedzone/* narrowed to the listed zones, as that page
			// suggests; the TXT-only condition is the page's own.
			Source: "cert-manager.io/docs/configuration/acme/dns01/route53/ (2025-04-16), zones narrowed to hostedZoneArns",
			render: func(t Target) policy {
				return document(
					allow("GetChange", []string{"route53:GetChange"}, []string{"arn:" + t.Partition + ":route53:::change/*"}),
					allow("ChangeTXTRecordsInListedZones",
						[]string{"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"},
						t.Inputs.HostedZoneArns).
						when("ForAllValues:StringEquals", "route53:ChangeResourceRecordSetsRecordTypes", "TXT"),
					allow("FindZones", []string{"route53:ListHostedZonesByName"}, []string{"*"}),
				)
			},
		}},
		Requires:  []Input{InputHostedZoneArns},
		Notes:     "Record changes limited to TXT (DNS-01 challenges). Every zone only when `hostedzone/*` is listed by that exact ARN.",
		check:     fixed("route53 list-hosted-zones-by-name --max-items 1"),
		checkText: "route53 list-hosted-zones-by-name --max-items 1",
	},
	{
		Name:           "mountpoint-s3",
		For:            "Mountpoint for Amazon S3 CSI driver v2",
		Addon:          "aws-mountpoint-s3-csi-driver",
		Namespace:      "kube-system",
		ServiceAccount: "s3-csi-driver-sa",
		Documents: []Document{{
			Name: "mountpoint-s3",
			// awslabs/mountpoint-s3 doc/CONFIGURATION.md "IAM permissions",
			// general purpose buckets, as of 2026-08-22 (commit 58817ca); the
			// EKS User Guide's s3-csi page (2024-12-18) gives the same
			// statements.
			Source: "awslabs/mountpoint-s3 doc/CONFIGURATION.md#iam-permissions (2026-08-22); EKS User Guide s3-csi (2024-12-18)",
			render: func(t Target) policy {
				return document(
					allow("MountpointFullBucketAccess", []string{"s3:ListBucket"}, t.Inputs.BucketArns),
					allow("MountpointFullObjectAccess",
						[]string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"},
						objectsIn(t.Inputs.BucketArns)),
				)
			},
		}},
		Requires: []Input{InputBucketArns},
		Notes:    "General purpose buckets (directory buckets need `s3express:CreateSession`). Pod Identity from driver v2 (driver-level credentials).",
		check: func(in Inputs) string {
			return "s3api list-objects-v2 --bucket " + bucketName(in.BucketArns[0]) + " --max-items 1"
		},
		checkText: "s3api list-objects-v2 --bucket <first bucket> --max-items 1",
	},
	{
		Name:           "cluster-autoscaler",
		For:            "Kubernetes Cluster Autoscaler, ASG auto-discovery",
		Namespace:      "kube-system",
		ServiceAccount: "cluster-autoscaler",
		Documents: []Document{{
			Name: "cluster-autoscaler",
			// kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md,
			// "Full Cluster Autoscaler Features Policy (Recommended)", as of
			// 2025-12-11 (commit 96b8554). The page asks to restrict the second
			// block with a tag condition; the tag is the cluster's
			// auto-discovery tag k8s.io/cluster-autoscaler/<cluster-name>,
			// which EKS managed node groups carry and which the autoscaler
			// matches by key alone, so the condition requires the key.
			Source:           "kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md#iam-policy (2025-12-11), scaling limited to the cluster's tag",
			NeedsClusterName: true,
			render: func(t Target) policy {
				return document(
					allow("Describe", []string{
						"autoscaling:DescribeAutoScalingGroups",
						"autoscaling:DescribeAutoScalingInstances",
						"autoscaling:DescribeLaunchConfigurations",
						"autoscaling:DescribeScalingActivities",
						"ec2:DescribeImages",
						"ec2:DescribeInstanceTypes",
						"ec2:DescribeLaunchTemplateVersions",
						"ec2:GetInstanceTypesFromInstanceRequirements",
						"eks:DescribeNodegroup",
					}, []string{"*"}),
					allow("ScaleThisClustersGroups", []string{
						"autoscaling:SetDesiredCapacity",
						"autoscaling:TerminateInstanceInAutoScalingGroup",
					}, []string{"*"}).
						when("Null", AutoscalerTagConditionKey(t.ClusterName), "false"),
				)
			},
		}},
		Notes:     "Scales only Auto Scaling groups tagged `k8s.io/cluster-autoscaler/<cluster>` (any value), the tag EKS managed node groups carry; run the autoscaler with `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>`.",
		check:     fixed("autoscaling describe-auto-scaling-groups --max-items 1"),
		checkText: "autoscaling describe-auto-scaling-groups --max-items 1",
	},
}

// AutoscalerTagConditionKey is the condition key the cluster-autoscaler
// preset scopes scaling with: the cluster's auto-discovery tag.
func AutoscalerTagConditionKey(clusterName string) string {
	return "autoscaling:ResourceTag/k8s.io/cluster-autoscaler/" + clusterName
}

func fixed(check string) func(Inputs) string { return func(Inputs) string { return check } }

// bucketName is the bucket of an S3 bucket ARN (arn:<partition>:s3:::<bucket>).
func bucketName(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}
