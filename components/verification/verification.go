// Package verification holds the in-cluster check that EKS Pod Identity
// really works, so a broken setup fails `pulumi up` instead of surfacing later
// in a workload.
//
// It automates step 5 of the manual walkthrough (`kubectl exec` into an
// amazon/aws-cli pod, then `aws sts get-caller-identity`, `aws s3 ls` and a
// look at the AWS_CONTAINER_* environment): [Script] is meant to run as a
// Kubernetes Job under the workload's ServiceAccount, with
// command ["/bin/sh", "-c", Script] and the Env* variables below set. It prints
// one PASS/FAIL/SKIP line per check and a RESULT line, and exits non-zero on
// any failure, which fails the Job.
package verification

import _ "embed" // for go:embed

// Script is the POSIX sh verification script (verify.sh).
//
//go:embed verify.sh
var Script string

// Environment variables read by [Script].
const (
	// EnvExpectedRoleArn is the IAM role ARN (path allowed) the pod must assume.
	EnvExpectedRoleArn = "EXPECTED_ROLE_ARN"
	// EnvAccessCheck holds aws CLI arguments, split on whitespace without
	// quoting; empty skips the access check.
	EnvAccessCheck = "ACCESS_CHECK"
	// EnvRetrySeconds is the total sleep budget for identity retries (default 60).
	EnvRetrySeconds = "VERIFY_RETRY_SECONDS"
	// EnvBackoffSeconds is the first retry delay, doubled each try (default 2).
	EnvBackoffSeconds = "VERIFY_BACKOFF_SECONDS"
)

// DefaultAccessCheck matches the walkthrough's `aws s3 ls`, which the
// AmazonS3ReadOnlyAccess policy it attaches allows.
const DefaultAccessCheck = "s3 ls"
