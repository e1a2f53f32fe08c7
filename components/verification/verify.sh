# verify.sh - in-cluster proof that EKS Pod Identity works for this pod.
#
# Runs in the amazon/aws-cli image as the workload's ServiceAccount, via
#   command: ["/bin/sh", "-c", <this text>]
# (command replaces the image's ENTRYPOINT, which is /usr/local/bin/aws), so
# it never uses $0 and never assumes it is a file.
#
# Shell: that image is built FROM amazonlinux:2 (aws/aws-cli docker/Dockerfile),
# whose /bin/sh is bash 4.2 running in POSIX mode; it adds only less, groff and
# jq. The script is plain POSIX sh (tested under dash, bash --posix and
# busybox sh) and needs nothing but sh builtins, `sleep` (coreutils, in the
# base image) and `aws`. It writes no files, not even here-documents, so a
# read-only root filesystem is fine.
#
# Inputs (environment):
#   EXPECTED_ROLE_ARN       required; arn:<partition>:iam::<account>:role/[path/]<name>
#   ACCESS_CHECK            aws CLI arguments run as `aws $ACCESS_CHECK`; split on
#                           whitespace, no quoting or globbing. Empty: check skipped.
#   VERIFY_RETRY_SECONDS    total sleep budget for identity retries (default 60)
#   VERIFY_BACKOFF_SECONDS  first retry delay, doubled each try (default 2)
#
# Output: one line per check, stable and greppable:
#   PASS <check>: <seen>
#   FAIL <check>: expected <x>, saw <y>
#   SKIP <check>: <why>
#   RETRY identity: saw <y> (attempt N, next in Ns)
#   RESULT: <p> pass, <f> fail, <s> skip   (not "N passed, N failed": CI log readers take that for a test runner's summary)
# Exit: 0 when nothing failed, 1 when a check failed, 2 when the inputs are
# unusable (only then is a FAIL config line printed; nothing else runs).
#
# If the env check fails, identity and access are skipped: without the
# Pod Identity variables the CLI falls back to other providers (e.g. the node's
# instance role), so a "success" there would be misleading, and retrying
# would only burn the budget.
#
# The token is never printed; only its path and whether it is non-empty.

# No globbing: ACCESS_CHECK may carry patterns like s3://bucket/* verbatim.
set -f
# The CLI must never wait on a pager inside a Job.
export AWS_PAGER=""

passed=0
failed=0
skipped=0

pass() { passed=$((passed + 1)); printf 'PASS %s: %s\n' "$1" "$2"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s: expected %s, saw %s\n' "$1" "$2" "$3"; }
skip() { skipped=$((skipped + 1)); printf 'SKIP %s: %s\n' "$1" "$2"; }
finish() {
	printf 'RESULT: %s pass, %s fail, %s skip\n' "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ] && exit 0
	exit "${1:-1}"
}

# AWS CLI errors start with a blank line; the first non-empty one is the message.
first_line() {
	printf '%s\n' "$1" | while IFS= read -r fl_line; do
		if [ -n "$fl_line" ]; then
			printf '%s' "$fl_line"
			break
		fi
	done
}

# The last line (command substitution already dropped trailing blank ones):
# what `--output text` printed after any warnings on stderr. A pipe, not a
# here-document: bash 4.2 backs those with files in /tmp.
last_line() {
	printf '%s\n' "$1" | {
		while IFS= read -r ll_line; do
			ll_out=$ll_line
		done
		printf '%s' "$ll_out"
	}
}

# --- inputs ------------------------------------------------------------------

role_arn=${EXPECTED_ROLE_ARN:-}
access_check=${ACCESS_CHECK:-}
budget=${VERIFY_RETRY_SECONDS:-60}
delay=${VERIFY_BACKOFF_SECONDS:-2}

# arn:<partition>:iam::<account>:role/<path/><name>; assumed-role ARNs carry
# only the name, never the path.
rest=${role_arn#arn:}
partition=${rest%%:*}
rest=${rest#*:}
service=${rest%%:*}
rest=${rest#*:}
region=${rest%%:*}
rest=${rest#*:}
account=${rest%%:*}
resource=${rest#*:}
role_name=${resource##*/}

config_ok=yes
case $role_arn in arn:*:*:*:*:*) ;; *) config_ok=no ;; esac
case $partition in '' | *[!a-z0-9-]*) config_ok=no ;; esac
[ "$service" = iam ] && [ -z "$region" ] || config_ok=no
case $account in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) config_ok=no ;; esac
case $resource in role/?*) ;; *) config_ok=no ;; esac
[ -n "$role_name" ] || config_ok=no
if [ "$config_ok" = no ]; then
	fail config "EXPECTED_ROLE_ARN like arn:<partition>:iam::<account>:role/[path/]<name>" "'$role_arn'"
	finish 2
fi
case $budget in '' | *[!0-9]*)
	fail config "VERIFY_RETRY_SECONDS a whole number of seconds" "'$budget'"
	finish 2
	;;
esac
# A zero delay would retry in a tight loop without ever using up the budget.
case $delay in '' | *[!0-9]* | 0)
	fail config "VERIFY_BACKOFF_SECONDS a whole number of seconds >= 1" "'$delay'"
	finish 2
	;;
esac

# --- a. env: what EKS injects at pod admission ------------------------------

uri=${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}
token_file=${AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE:-}
recreate="pods admitted before the association existed get no credentials until recreated"
env_want="AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE set with a readable, non-empty token file"
env_ok=no
if [ -z "$uri" ] && [ -z "$token_file" ]; then
	fail env "$env_want" "neither set ($recreate)"
elif [ -z "$uri" ]; then
	fail env "$env_want" "AWS_CONTAINER_CREDENTIALS_FULL_URI unset ($recreate)"
elif [ -z "$token_file" ]; then
	fail env "$env_want" "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE unset ($recreate)"
elif [ ! -f "$token_file" ] || [ ! -r "$token_file" ]; then
	fail env "$env_want" "token file $token_file missing or unreadable"
elif [ ! -s "$token_file" ]; then
	fail env "$env_want" "token file $token_file empty"
else
	env_ok=yes
	pass env "AWS_CONTAINER_CREDENTIALS_FULL_URI=$uri, token file $token_file non-empty"
fi

# --- irsa: leftovers of the older mechanism ---------------------------------

# The CLI tries web identity before container credentials, so IRSA wins.
irsa_seen=
[ -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] && irsa_seen="AWS_WEB_IDENTITY_TOKEN_FILE"
[ -n "${AWS_ROLE_ARN:-}" ] && irsa_seen="${irsa_seen:+$irsa_seen and }AWS_ROLE_ARN=$AWS_ROLE_ARN"
if [ -n "$irsa_seen" ]; then
	fail irsa "no AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN" "$irsa_seen (pod is on IRSA: remove the eks.amazonaws.com/role-arn annotation from the ServiceAccount and recreate the pod)"
else
	pass irsa "no AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN"
fi

if [ "$env_ok" = no ]; then
	skip identity "not run because the env check failed"
	skip access "not run because the env check failed"
	finish
fi

# --- b. identity: the role the agent vends ----------------------------------

# A new association takes seconds to apply, and until then the pod may see
# an error or a stale role, so both are retried with doubling delays whose
# sum stays within the budget (time spent inside aws calls is not counted;
# the Job's activeDeadlineSeconds is the hard wall-clock limit).
# Partition, account and whole role name must match exactly (the slashes
# around the name keep EKSPodIdentityS3RoleX out), and the session must be one
# the agent opened: eks-<cluster>-<pod>-<uuid>. The path cannot be checked: the
# assumed-role ARN lacks it, and a role's name is unique in its account
# whatever the path.
want="arn:$partition:sts::$account:assumed-role/$role_name/eks-*"
attempt=0
slept=0
while :; do
	attempt=$((attempt + 1))
	out=$(aws sts get-caller-identity --query Arn --output text 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		seen=$(last_line "$out")
		case $seen in
		"arn:$partition:sts::$account:assumed-role/$role_name/eks-"?*)
			pass identity "$seen (attempt $attempt)"
			break
			;;
		esac
	else
		seen="error (exit $rc): $(first_line "$out")"
	fi
	left=$((budget - slept))
	if [ "$left" -le 0 ]; then
		fail identity "$want" "$seen (attempts: $attempt, retried for ${slept}s)"
		break
	fi
	[ "$delay" -gt "$left" ] && delay=$left
	printf 'RETRY identity: saw %s (attempt %s, next in %ss)\n' "$seen" "$attempt" "$delay"
	sleep "$delay"
	slept=$((slept + delay))
	delay=$((delay * 2))
done

# --- c. access: the role's permissions actually work ------------------------

if [ -z "$access_check" ]; then
	skip access "ACCESS_CHECK is empty"
else
	# Split into the positional parameters so the report shows exactly the
	# words aws received.
	# shellcheck disable=SC2086 # splitting is the point; globbing is off (set -f)
	set -- $access_check
	# stdout (e.g. bucket listings) is not needed; keep only stderr.
	err=$(aws "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass access "aws $* exited 0"
	else
		msg=$(first_line "$err")
		fail access "aws $* to exit 0" "exit $rc: ${msg:-no error output}"
	fi
fi

finish
