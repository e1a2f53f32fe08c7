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

// checkAction is the IAM action (and, when the command names it, the
// resource) an access check's call is authorized as, for the commands
// whose action the arguments tell: `s3 ls` (with a bucket or without),
// `s3api list-objects-v2 --bucket`, and the services whose CLI operations
// are their API operations (logs describe-log-groups is
// logs:DescribeLogGroups). ok is false for any other command.
func checkAction(check, partition string) (action, resource string, ok bool) {
	words := strings.Fields(check)
	if len(words) < 2 {
		return "", "", false
	}
	service, known := cliServices[words[0]]
	if !known {
		return "", "", false
	}
	bucketArn := func(b string) string { return "arn:" + partition + ":s3:::" + b }
	switch words[0] {
	case "s3":
		if words[1] != "ls" {
			return "", "", false
		}
		if len(words) == 2 || strings.HasPrefix(words[2], "-") {
			return "s3:ListAllMyBuckets", "*", true
		}
		bucket, _, _ := strings.Cut(strings.TrimPrefix(words[2], "s3://"), "/")
		return "s3:ListBucket", bucketArn(bucket), true
	case "s3api":
		if words[1] != "list-objects-v2" && words[1] != "list-objects" {
			return "", "", false
		}
		for k := 2; k+1 < len(words); k++ {
			if words[k] == "--bucket" {
				return "s3:ListBucket", bucketArn(words[k+1]), true
			}
		}
		return "", "", false
	}
	var op strings.Builder
	for _, part := range strings.Split(words[1], "-") {
		if part == "" {
			return "", "", false
		}
		op.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return service + ":" + op.String(), "", true
}

// AccessCheckWarning tells when a workload's verification access check is
// not allowed by the role's policies: for an inline document (the
// workload's own or its preset's, given in docs), the check's very action
// (checkAction) must be allowed; for an AWS managed policy the program
// knows, some action of the check's service. The check's call then fails
// with AccessDenied at `pulumi up`, unless a resource-based policy (a bucket
// or queue policy naming the role) grants it, which is why this warns
// rather than refuses. It says nothing when a policy is unknown (a customer
// managed one) or the command's service is. w has the component's
// defaults applied; docs maps inline policy names to their documents.
func AccessCheckWarning(w podidentity.Workload, docs map[string]string, partition string) string {
	// With a target role the check runs as that role, whose policies live
	// in another account's IAM, out of this check's sight.
	if !w.Verify || w.AccessCheck == podidentity.AccessCheckOff || w.TargetRoleArn != "" {
		return ""
	}
	command, _, _ := strings.Cut(strings.TrimSpace(w.AccessCheck), " ")
	service, known := cliServices[command]
	if !known {
		return ""
	}
	action, resource, actionKnown := checkAction(w.AccessCheck, partition)
	var granted, names []string
	allowed := false
	for _, arn := range w.PolicyArns {
		name, managed := awsManagedPolicyName(arn)
		services, listed := managedPolicyServices[name]
		if !managed || !listed {
			return ""
		}
		granted = append(granted, services...)
		names = append(names, name)
		allowed = allowed || slices.Contains(services, iampolicy.AllServices) || slices.Contains(services, service)
	}
	for _, pname := range slices.Sorted(maps.Keys(docs)) {
		doc, err := iampolicy.Parse(docs[pname])
		if err != nil {
			return ""
		}
		names = append(names, "inline "+pname)
		switch {
		case !actionKnown:
			granted = append(granted, doc.Services()...)
			allowed = allowed || slices.Contains(doc.Services(), iampolicy.AllServices) || slices.Contains(doc.Services(), service)
		case resource != "":
			allowed = allowed || doc.Allows(action, resource)
		default:
			allowed = allowed || doc.AllowsSomewhere(action)
		}
	}
	if allowed {
		return ""
	}
	const consequence = "the verification Job would fail with AccessDenied unless a resource policy grants the role access; pick a check the role may run"
	switch {
	case len(names) == 0:
		return fmt.Sprintf("%q calls %s, but the role has no policy: %s", w.AccessCheck, service, consequence)
	case actionKnown && len(docs) > 0:
		on := ""
		if resource != "" {
			on = " on " + resource
		}
		return fmt.Sprintf("%q needs %s%s, which none of the role's policies (%s) allows: %s",
			w.AccessCheck, action, on, strings.Join(names, ", "), consequence)
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
