package main

// How the stand-in retries, imitating pulumi-aws v6.83 (a bridge over
// terraform-provider-aws v5), so the engine tier's fault scenarios see what a
// real run would:
//
//   - Every AWS call goes through the AWS SDK's standard retryer with 25
//     attempts. terraform-provider-aws sets MaxRetries to 25 when the
//     provider config sets none (internal/provider/provider.go: "MaxRetries:
//     25, // Set default here, not in schema"), and aws-sdk-go-base hands it
//     to the SDK as config.WithRetryMaxAttempts (aws_config.go). The standard
//     retryer (aws-sdk-go-v2 aws/retry/standard.go) retries throttling codes
//     (Throttling, ThrottlingException, TooManyRequestsException, ...),
//     HTTP 500/502/503/504 and connection errors, with exponential jittered
//     backoff capped at 20 s. aws:maxRetries and aws:retryMode override it,
//     as they do there.
//   - Creating or updating a pod identity association retries
//     InvalidParameterException "Role provided in the request does not
//     exist" for propagationTimeout (2 minutes), as
//     internal/service/eks/pod_identity_association.go does with
//     tfresource.RetryWhenIsAErrorMessageContains(..., propagationTimeout,
//     ...) (propagationTimeout = 2 * time.Minute in internal/service/eks/
//     consts.go), with the Plugin SDK v2 retry delays of internal/backoff:
//     0.5 s, 1 s, 2 s, 4 s, 8 s, then 10 s.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// defaultMaxAttempts is terraform-provider-aws's MaxRetries default.
const defaultMaxAttempts = 25

// propagationTimeoutEnv shortens propagationTimeout for a scenario that must
// see the retry give up (TEST EQUIPMENT knob; the real provider has none).
const propagationTimeoutEnv = "PULUMI_AWS_STANDIN_PROPAGATION_TIMEOUT"

// propagationTimeout is how long terraform-provider-aws retries an
// association whose role IAM does not show yet.
var propagationTimeout = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(propagationTimeoutEnv)); err == nil && d > 0 {
		return d
	}
	return 2 * time.Minute
}()

// retrySettings applies aws:maxRetries and aws:retryMode from the provider
// config to cfg, defaulting to 25 standard attempts.
func retrySettings(cfg *aws.Config, args resource.PropertyMap) error {
	cfg.RetryMaxAttempts = defaultMaxAttempts
	if n, ok := integer(args, "maxRetries"); ok && n > 0 {
		cfg.RetryMaxAttempts = n
	}
	if m := str(args, "retryMode"); m != "" {
		mode, err := aws.ParseRetryMode(m)
		if err != nil {
			return fmt.Errorf("pulumi-aws stand-in: aws:retryMode: %w", err)
		}
		cfg.RetryMode = mode
	}
	return nil
}

// sdkv2RetryDelay is the wait before retry n (n >= 1) in terraform-provider-
// aws's RetryWhen helpers: starting from 100 ms, each wait doubles the last
// one and is kept between 500 ms and 10 s (internal/backoff/backoff.go,
// sdkv2HelperRetryCompatibleDelay with the 500 ms MinTimeout of
// DefaultSDKv2HelperRetryCompatibleDelay; the Plugin SDK v2's
// StateChangeConf did the same): 0.5, 1, 2, 4, 8, 10, 10, ... s.
func sdkv2RetryDelay(n int) time.Duration {
	d := 100 * time.Millisecond
	for range n {
		d = min(max(2*d, 500*time.Millisecond), 10*time.Second)
	}
	return d
}

// retryRolePropagation retries fn while EKS says the role does not exist
// yet, for propagationTimeout.
func retryRolePropagation(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(propagationTimeout)
	for attempt := 1; ; attempt++ {
		err := fn()
		var ipe *ekstypes.InvalidParameterException
		if err == nil || !errors.As(err, &ipe) || !strings.Contains(err.Error(), roleNotYetVisible) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(sdkv2RetryDelay(attempt)):
		}
	}
}
