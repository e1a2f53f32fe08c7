package verification

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeAWS stands in for the aws CLI. It logs each call's arguments
// ("arg|arg|") to $FAKE_DIR/calls and is driven by:
//
//	FAKE_ARN       what `sts get-caller-identity --query Arn --output text` prints
//	FAKE_STS_FAIL  fail that many sts calls first, or "always"
//	FAKE_STS_WARN  non-empty: a successful sts call warns on stderr first
//	FAKE_S3_DENY   non-empty: `s3 ls ...` is denied
//
// Error texts mirror the real CLI, including its leading blank line.
const fakeAWS = `#!/bin/sh
printf '%s|' "$@" >>"$FAKE_DIR/calls"
echo >>"$FAKE_DIR/calls"
case "$*" in
"sts get-caller-identity --query Arn --output text")
	n=0
	[ -f "$FAKE_DIR/sts" ] && n=$(cat "$FAKE_DIR/sts")
	n=$((n + 1))
	echo "$n" >"$FAKE_DIR/sts"
	if [ "${FAKE_STS_FAIL:-0}" = always ] || [ "$n" -le "${FAKE_STS_FAIL:-0}" ]; then
		printf '\nUnable to locate credentials. You can configure credentials by running "aws configure".\n' >&2
		exit 253
	fi
	[ -n "${FAKE_STS_WARN:-}" ] && printf '\nWarning: this CLI version is deprecated.\n\n' >&2
	printf '%s\n' "$FAKE_ARN"
	;;
"s3 ls"*)
	if [ -n "${FAKE_S3_DENY:-}" ]; then
		printf '\nAn error occurred (AccessDenied) when calling the ListBuckets operation: Access Denied\n' >&2
		exit 254
	fi
	echo "2024-01-01 00:00:00 my-bucket"
	;;
*)
	echo "fake aws: unexpected arguments: $*" >&2
	exit 2
	;;
esac
`

const (
	roleArn  = "arn:aws:iam::111122223333:role/platform/EKSPodIdentityS3Role"
	goodArn  = "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/eks-demo-pod-6d1f0c2a"
	wantArn  = "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/eks-*"
	tokenVal = "SECRET-POD-IDENTITY-TOKEN"
	stsCall  = "sts|get-caller-identity|--query|Arn|--output|text|"
	s3Call   = "s3|ls|"
	noCreds  = `error (exit 253): Unable to locate credentials. You can configure credentials by running "aws configure".`
	envPass  = "PASS env: AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials, token file {TOKEN} non-empty"
	irsaPass = "PASS irsa: no AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN"
	envWant  = "AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE set with a readable, non-empty token file"
)

type scenario struct {
	name    string
	env     map[string]string // added to / overriding the passing baseline
	unset   []string          // removed from the baseline
	noToken bool              // token file exists but is empty
	code    int
	lines   []string // PASS/FAIL/SKIP/RESULT lines, in order; {TOKEN} is the token path
	retries int      // RETRY lines
	calls   []string // aws invocations, in order
}

var scenarios = []scenario{
	{
		name: "all good",
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + goodArn + " (attempt 1)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 4 pass, 0 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	},
	{
		// Retried as a possibly stale association, then reported as last seen.
		// The node's instance role differs in name and session alike; the
		// near misses below differ in one part each.
		name: "wrong role",
		env:  map[string]string{"FAKE_ARN": "arn:aws:sts::111122223333:assumed-role/NodeInstanceRole/i-0abc"},
		code: 1,
		lines: []string{
			envPass,
			irsaPass,
			"FAIL identity: expected " + wantArn + ", saw arn:aws:sts::111122223333:assumed-role/NodeInstanceRole/i-0abc (attempts: 3, retried for 2s)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 3 pass, 1 fail, 0 skip",
		},
		retries: 2,
		calls:   []string{stsCall, stsCall, stsCall, s3Call},
	},
	{
		name: "cli warning before arn",
		env:  map[string]string{"FAKE_STS_WARN": "1"},
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + goodArn + " (attempt 1)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 4 pass, 0 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	},
	{
		name: "s3 access denied",
		env:  map[string]string{"FAKE_S3_DENY": "1"},
		code: 1,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + goodArn + " (attempt 1)",
			"FAIL access: expected aws s3 ls to exit 0, saw exit 254: An error occurred (AccessDenied) when calling the ListBuckets operation: Access Denied",
			"RESULT: 3 pass, 1 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	},
	{
		name:  "pod identity env missing",
		unset: []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"},
		code:  1,
		lines: []string{
			"FAIL env: expected " + envWant + ", saw neither set (pods admitted before the association existed get no credentials until recreated)",
			irsaPass,
			"SKIP identity: not run because the env check failed",
			"SKIP access: not run because the env check failed",
			"RESULT: 1 pass, 1 fail, 2 skip",
		},
	},
	{
		name:    "empty token file",
		noToken: true,
		code:    1,
		lines: []string{
			"FAIL env: expected " + envWant + ", saw token file {TOKEN} empty",
			irsaPass,
			"SKIP identity: not run because the env check failed",
			"SKIP access: not run because the env check failed",
			"RESULT: 1 pass, 1 fail, 2 skip",
		},
	},
	{
		// The CLI prefers web identity, so the session is not an eks-* one.
		name: "irsa env present",
		env: map[string]string{
			"AWS_ROLE_ARN":                roleArn,
			"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
			"FAKE_ARN":                    "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/botocore-session-1700000000",
			"VERIFY_RETRY_SECONDS":        "0",
		},
		code: 1,
		lines: []string{
			envPass,
			"FAIL irsa: expected no AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN, saw AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN=" + roleArn +
				" (pod is on IRSA: remove the eks.amazonaws.com/role-arn annotation from the ServiceAccount and recreate the pod)",
			"FAIL identity: expected " + wantArn + ", saw arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/botocore-session-1700000000 (attempts: 1, retried for 0s)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 2 pass, 2 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	},
	{
		name: "sts fails then succeeds",
		env:  map[string]string{"FAKE_STS_FAIL": "2"},
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + goodArn + " (attempt 3)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 4 pass, 0 fail, 0 skip",
		},
		retries: 2,
		calls:   []string{stsCall, stsCall, stsCall, s3Call},
	},
	{
		// Delays 1s, then 2s capped to 1s, use up the 2s budget: three attempts.
		name: "sts fails throughout",
		env:  map[string]string{"FAKE_STS_FAIL": "always"},
		code: 1,
		lines: []string{
			envPass,
			irsaPass,
			"FAIL identity: expected " + wantArn + ", saw " + noCreds + " (attempts: 3, retried for 2s)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 3 pass, 1 fail, 0 skip",
		},
		retries: 2,
		calls:   []string{stsCall, stsCall, stsCall, s3Call},
	},
	{
		name: "access check off",
		env:  map[string]string{"ACCESS_CHECK": ""},
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + goodArn + " (attempt 1)",
			"SKIP access: ACCESS_CHECK is empty",
			"RESULT: 3 pass, 0 fail, 1 skip",
		},
		calls: []string{stsCall},
	},
	{
		// Split on whitespace only: no quote handling, and no globbing even
		// though the working directory holds a match for the pattern.
		name: "access check words",
		env:  map[string]string{"ACCESS_CHECK": " s3  ls\ts3://my-bucket/* "},
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + goodArn + " (attempt 1)",
			"PASS access: aws s3 ls s3://my-bucket/* exited 0",
			"RESULT: 4 pass, 0 fail, 0 skip",
		},
		calls: []string{stsCall, "s3|ls|s3://my-bucket/*|"},
	},
	{
		name: "role name instead of arn",
		env:  map[string]string{"EXPECTED_ROLE_ARN": "EKSPodIdentityS3Role"},
		code: 2,
		lines: []string{
			"FAIL config: expected EXPECTED_ROLE_ARN like arn:<partition>:iam::<account>:role/[path/]<name>, saw 'EKSPodIdentityS3Role'",
			"RESULT: 0 pass, 1 fail, 0 skip",
		},
	},
	{
		// A session ARN is what the pod sees, not what it should be given.
		name: "assumed-role arn instead of role arn",
		env:  map[string]string{"EXPECTED_ROLE_ARN": goodArn},
		code: 2,
		lines: []string{
			"FAIL config: expected EXPECTED_ROLE_ARN like arn:<partition>:iam::<account>:role/[path/]<name>, saw '" + goodArn + "'",
			"RESULT: 0 pass, 1 fail, 0 skip",
		},
	},
	{
		name: "other partition",
		env: map[string]string{
			"EXPECTED_ROLE_ARN": "arn:aws-cn:iam::111122223333:role/EKSPodIdentityS3Role",
			"FAKE_ARN":          "arn:aws-cn:sts::111122223333:assumed-role/EKSPodIdentityS3Role/eks-demo-pod-6d1f0c2a",
		},
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: arn:aws-cn:sts::111122223333:assumed-role/EKSPodIdentityS3Role/eks-demo-pod-6d1f0c2a (attempt 1)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 4 pass, 0 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	},

	// Near misses: each seen ARN differs from a good one in one part only.
	identityMiss("another pod identity role", "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityDynamoDBRole/eks-demo-pod-6d1f0c2a"),
	identityMiss("same role name in another account", "arn:aws:sts::444455556666:assumed-role/EKSPodIdentityS3Role/eks-demo-pod-6d1f0c2a"),
	identityMiss("same role in another partition", "arn:aws-cn:sts::111122223333:assumed-role/EKSPodIdentityS3Role/eks-demo-pod-6d1f0c2a"),
	identityMiss("role name with the expected one as prefix", "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3RoleX/eks-demo-pod-6d1f0c2a"),
	identityMiss("role name with the expected one as suffix", "arn:aws:sts::111122223333:assumed-role/XEKSPodIdentityS3Role/eks-demo-pod-6d1f0c2a"),
	// The right role assumed by someone other than the Pod Identity agent,
	// whose sessions are eks-<cluster>-<pod>-<uuid>.
	identityMiss("session not from eks", "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/botocore-session-1700000000"),
	identityMiss("session with eks- inside", "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/debug-eks-demo"),
	identityMiss("session eks- and nothing more", "arn:aws:sts::111122223333:assumed-role/EKSPodIdentityS3Role/eks-"),

	// The assumed-role ARN carries the role's name, never its path, so any
	// path must pass. Role names are unique in an account whatever the path
	// (IAM CreateRole), so name and account identify the role; but a role
	// deleted and re-created with the same name under another path passes
	// too: only its unique ID (AROA..., unknown to the script) differs.
	identityHit("role under a nested path", "arn:aws:iam::111122223333:role/division_abc/subdivision_xyz/EKSPodIdentityS3Role", goodArn),
	identityHit("role without a path", "arn:aws:iam::111122223333:role/EKSPodIdentityS3Role", goodArn),
}

// identityMiss is a pod that sees a role ARN other than the expected one
// ([roleArn]). A zero budget keeps it to one attempt; retrying a mismatch is
// covered by "wrong role".
func identityMiss(name, seen string) scenario {
	return scenario{
		name: name,
		env:  map[string]string{"FAKE_ARN": seen, EnvRetrySeconds: "0"},
		code: 1,
		lines: []string{
			envPass,
			irsaPass,
			"FAIL identity: expected " + wantArn + ", saw " + seen + " (attempts: 1, retried for 0s)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 3 pass, 1 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	}
}

// identityHit is a pod that sees a session of the expected role.
func identityHit(name, expected, seen string) scenario {
	return scenario{
		name: name,
		env:  map[string]string{EnvExpectedRoleArn: expected, "FAKE_ARN": seen},
		code: 0,
		lines: []string{
			envPass,
			irsaPass,
			"PASS identity: " + seen + " (attempt 1)",
			"PASS access: aws s3 ls exited 0",
			"RESULT: 4 pass, 0 fail, 0 skip",
		},
		calls: []string{stsCall, s3Call},
	}
}

// shells run the script the way the Job does (sh -c). The image's /bin/sh is
// bash in POSIX mode; Debian's sh is dash; busybox is stricter still.
var shells = [][]string{
	{"sh", "-c"},
	{"bash", "--posix", "-c"},
	{"busybox", "sh", "-c"},
}

func TestScript(t *testing.T) {
	if strings.TrimSpace(Script) == "" {
		t.Fatal("embedded Script is empty")
	}
	for _, shell := range shells {
		t.Run(strings.Join(shell[:len(shell)-1], " "), func(t *testing.T) {
			// The README promises every shell here. A developer without one
			// gets a named SKIP (go test -v shows it); CI, where nobody reads
			// skips, fails instead (.ci/run installs busybox or stops).
			if _, err := exec.LookPath(shell[0]); err != nil {
				if onCI() {
					t.Fatalf("%s not installed and CI=%q: the script must be tested under it (.ci/run installs it with apt-get)", shell[0], os.Getenv("CI"))
				}
				t.Skipf("%s not installed, so the script is not tested under it here (set CI=true to make this a failure)", shell[0])
			}
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					runScenario(t, shell, sc)
				})
			}
		})
	}
}

// onCI reports whether CI is set the way CI services set it (GitHub Actions,
// GitLab and most others: "true"; some their own name), not "false" or "0".
func onCI() bool {
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "false", "0":
		return false
	}
	return true
}

func runScenario(t *testing.T, shell []string, sc scenario) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	// Something for ACCESS_CHECK's s3://my-bucket/* to match if globbing were on.
	if err := os.MkdirAll(filepath.Join(dir, "s3:", "my-bucket", "glob-bait"), 0o755); err != nil {
		t.Fatal(err)
	}
	tokenPath := filepath.Join(dir, "eks-pod-identity-token")
	token := tokenVal
	if sc.noToken {
		token = ""
	}
	if err := os.WriteFile(tokenPath, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{
		"PATH":                                   bin + string(os.PathListSeparator) + "/usr/bin:/bin",
		"HOME":                                   dir,
		"FAKE_DIR":                               dir,
		"FAKE_ARN":                               goodArn,
		EnvExpectedRoleArn:                       roleArn,
		EnvAccessCheck:                           DefaultAccessCheck,
		EnvRetrySeconds:                          "2",
		EnvBackoffSeconds:                        "1",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "http://169.254.170.23/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenPath,
	}
	for k, v := range sc.env {
		env[k] = v
	}
	for _, k := range sc.unset {
		delete(env, k)
	}

	// Generous: only a hung script should ever hit this.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell[0], append(shell[1:], Script)...)
	cmd.Dir = dir
	cmd.Env = []string{} // nothing from the host, e.g. a real AWS_ROLE_ARN
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("script did not finish: %v\nstdout:\n%s", ctx.Err(), stdout.String())
	}
	code := 0
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	t.Logf("output:\n%s", out)

	if code != sc.code {
		t.Errorf("exit code = %d, want %d", code, sc.code)
	}
	if stderr.Len() > 0 {
		t.Errorf("unexpected stderr:\n%s", stderr.String())
	}
	if strings.Contains(out, tokenVal) {
		t.Errorf("output leaks the token")
	}

	var got []string
	retries := 0
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "RETRY identity: "):
			retries++
		case strings.HasPrefix(line, "PASS "), strings.HasPrefix(line, "FAIL "),
			strings.HasPrefix(line, "SKIP "), strings.HasPrefix(line, "RESULT: "):
			got = append(got, line)
		default:
			t.Errorf("unexpected output line %q", line)
		}
	}
	var want []string
	for _, l := range sc.lines {
		want = append(want, strings.ReplaceAll(l, "{TOKEN}", tokenPath))
	}
	if !slices.Equal(got, want) {
		t.Errorf("result lines:\n got: %q\nwant: %q", got, want)
	}
	if retries != sc.retries {
		t.Errorf("RETRY lines = %d, want %d", retries, sc.retries)
	}

	var calls []string
	if b, err := os.ReadFile(filepath.Join(dir, "calls")); err == nil {
		calls = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if !slices.Equal(calls, sc.calls) {
		t.Errorf("aws calls:\n got: %q\nwant: %q", calls, sc.calls)
	}
}
