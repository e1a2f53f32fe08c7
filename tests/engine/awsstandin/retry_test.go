package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The delays terraform-provider-aws waits between "Role provided in the
// request does not exist" retries (internal/backoff/backoff.go).
func TestSDKv2RetryDelay(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := sdkv2RetryDelay(i + 1); got != w {
			t.Errorf("delay before retry %d = %v, want %v", i+1, got, w)
		}
	}
}

func TestRetrySettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     resource.PropertyMap
		attempts int
		mode     aws.RetryMode
		err      string
	}{
		{name: "terraform-provider-aws default", args: resource.PropertyMap{}, attempts: 25},
		{name: "aws:maxRetries", args: resource.PropertyMap{"maxRetries": resource.NewNumberProperty(3)}, attempts: 3},
		{name: "aws:retryMode", args: resource.PropertyMap{"retryMode": resource.NewStringProperty("adaptive")},
			attempts: 25, mode: aws.RetryModeAdaptive},
		{name: "bad aws:retryMode", args: resource.PropertyMap{"retryMode": resource.NewStringProperty("eager")},
			err: "aws:retryMode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg aws.Config
			err := retrySettings(&cfg, tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.RetryMaxAttempts != tc.attempts || cfg.RetryMode != tc.mode {
				t.Errorf("attempts, mode = %d, %q; want %d, %q", cfg.RetryMaxAttempts, cfg.RetryMode, tc.attempts, tc.mode)
			}
		})
	}
}
