package stackcheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/iampolicy"
)

// cliServices maps aws CLI commands to the IAM service prefix their calls
// are authorized under, where the two differ or are common in access
// checks. A command not listed is left alone: no guess, no warning.
var cliServices = map[string]string{
	"s3": "s3", "s3api": "s3",
	"logs": "logs", "cloudwatch": "cloudwatch",
	"dynamodb": "dynamodb", "sqs": "sqs", "sns": "sns", "kinesis": "kinesis",
	"secretsmanager": "secretsmanager", "ssm": "ssm", "kms": "kms",
	"ec2": "ec2", "ecr": "ecr", "lambda": "lambda", "xray": "xray",
	"events": "events", "stepfunctions": "states", "elbv2": "elasticloadbalancing",
	"rds": "rds", "iam": "iam",
}

// managedPolicyServices lists, for AWS managed policies often attached to
// workloads, the services in which the policy allows any action, read from
// the policy documents (AWS managed policy reference; copies in
// zoph-io/MAMIP: AmazonS3ReadOnlyAccess v3, AmazonS3FullAccess v2,
// CloudWatchAgentServerPolicy v3, CloudWatchLogsReadOnlyAccess v6,
// AmazonSQSReadOnlyAccess v3, AmazonDynamoDBReadOnlyAccess v14).
// iampolicy.AllServices marks the broad policies that reach nearly every
// service. A policy not listed is unknown: no warning is given for it.
var managedPolicyServices = map[string][]string{
	"AdministratorAccess":          {iampolicy.AllServices},
	"PowerUserAccess":              {iampolicy.AllServices},
	"ReadOnlyAccess":               {iampolicy.AllServices},
	"ViewOnlyAccess":               {iampolicy.AllServices},
	"AmazonS3ReadOnlyAccess":       {"s3", "s3-object-lambda"},
	"AmazonS3FullAccess":           {"s3", "s3-object-lambda"},
	"CloudWatchAgentServerPolicy":  {"cloudwatch", "ec2", "logs", "ssm", "xray"},
	"CloudWatchLogsReadOnlyAccess": {"cloudwatch", "logs"},
	"AmazonSQSReadOnlyAccess":      {"sqs"},
	"AmazonDynamoDBReadOnlyAccess": {"application-autoscaling", "cloudwatch", "datapipeline", "dax", "dynamodb", "ec2", "iam", "kinesis", "kms", "lambda", "resource-groups", "sns", "tag"},
}

// AccessCheckWarning tells when a workload's verification access check calls
// a service in which none of the role's policies allows anything: the
// check's call then fails with AccessDenied at `pulumi up`, unless a
// resource-based policy (a bucket or queue policy naming the role) grants
// it, which is why this warns rather than refuses. It says nothing when a
// policy is unknown (a customer managed one) or the command's service is.
// w has the component's defaults applied.
func AccessCheckWarning(w podidentity.Workload) string {
	if !w.Verify || w.AccessCheck == podidentity.AccessCheckOff {
		return ""
	}
	command, _, _ := strings.Cut(strings.TrimSpace(w.AccessCheck), " ")
	service, known := cliServices[command]
	if !known {
		return ""
	}
	var granted []string
	var names []string
	for _, arn := range w.PolicyArns {
		name, managed := awsManagedPolicyName(arn)
		services, listed := managedPolicyServices[name]
		if !managed || !listed {
			return ""
		}
		granted = append(granted, services...)
		names = append(names, name)
	}
	for _, pname := range slices.Sorted(maps.Keys(w.InlinePolicies)) {
		doc, err := iampolicy.Parse(w.InlinePolicies[pname])
		if err != nil {
			return ""
		}
		granted = append(granted, doc.Services()...)
		names = append(names, "inline "+pname)
	}
	if slices.Contains(granted, iampolicy.AllServices) || slices.Contains(granted, service) {
		return ""
	}
	const consequence = "the verification Job would fail with AccessDenied unless a resource policy grants the role access; pick a check in a service the role uses"
	if len(names) == 0 {
		return fmt.Sprintf("%q calls %s, but the role has no policy: %s", w.AccessCheck, service, consequence)
	}
	slices.Sort(granted)
	return fmt.Sprintf("%q calls %s, but the role's policies (%s) allow actions in %s only: %s",
		w.AccessCheck, service, strings.Join(names, ", "), strings.Join(slices.Compact(granted), ", "), consequence)
}

// awsManagedPolicyName returns the name of an AWS managed policy ARN
// (arn:<partition>:iam::aws:policy/[path/]<name>).
func awsManagedPolicyName(arn string) (string, bool) {
	_, rest, ok := strings.Cut(arn, ":iam::aws:policy/")
	if !ok {
		return "", false
	}
	return rest[strings.LastIndex(rest, "/")+1:], true
}
