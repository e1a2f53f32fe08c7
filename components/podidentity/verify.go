package podidentity

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/platform-eng/eks-pod-identity/components/verification"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Bounds of the verification Job: the script retries the identity check for
// about a minute; fresh pods retry the whole script, because a pod admitted
// before the association took effect never gets credentials and only a new
// admission does; the deadline stops it all (and a stuck pod, say an image
// that cannot be pulled) well before the provider's default 10-minute wait.
const (
	verifyBackoffLimit        = 3
	verifyDeadlineSeconds     = 240
	minVerifyDeadlineSeconds  = 60
	maxVerifyDeadlineSeconds  = 1800
	verifyJobNameHashLength   = 8
	verifyProviderGraceSecond = 60
)

// verifyDeadline is the Job's activeDeadlineSeconds and the provider's
// wait for it: a minute more, so the Job's own failure, with its reason,
// ends `up` rather than the provider's timeout.
func verifyDeadline(w Workload) (deadline int, providerTimeout string) {
	deadline = verifyDeadlineSeconds
	if w.VerifyDeadlineSeconds != 0 {
		deadline = w.VerifyDeadlineSeconds
	}
	return deadline, fmt.Sprintf("%ds", deadline+verifyProviderGraceSecond)
}

// compactJSON drops the layout of a policy document, which IAM ignores too,
// so reformatting it does not re-run verification.
func compactJSON(doc string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(doc)) != nil {
		return doc
	}
	return b.String()
}

// VerifyJobName names the verification Job after what it verifies, so a new
// role, association or check yields a new Job (verification re-runs) and an
// unchanged identity keeps the same Job (no re-run on every `pulumi up`).
func VerifyJobName(workload string, identity ...string) string {
	h := sha256.New()
	for _, part := range identity {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	sum := hex.EncodeToString(h.Sum(nil))[:verifyJobNameHashLength]
	prefix := "verify-" + workload
	// Job names feed the job-name label, which allows 63 characters.
	if limit := 63 - 1 - verifyJobNameHashLength; len(prefix) > limit {
		prefix = strings.TrimRight(prefix[:limit], "-")
	}
	return prefix + "-" + sum
}

// arnRegion returns an ARN's region (its fourth field), or "" when it has
// none: arn:aws:eks:eu-central-1:111122223333:cluster/x gives eu-central-1.
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// Step 6: the verification Job, the walkthrough's step-5 checks as code.
func (c *PodIdentity) createVerifyJob(ctx *pulumi.Context, name string, w Workload, res *WorkloadResources, identity []pulumi.Resource) (*batchv1.Job, error) {
	image := c.args.image()
	accessCheck := w.AccessCheck
	if accessCheck == AccessCheckOff {
		accessCheck = ""
	}
	// What the Job proves: the role (its ARN and trust policy), its
	// permissions and the association. Any change re-runs verification.
	permissions := append([]string{"boundary=" + w.PermissionsBoundary}, slices.Sorted(slices.Values(w.PolicyArns))...)
	for _, p := range sortedKeys(w.InlinePolicies) {
		permissions = append(permissions, p+"="+compactJSON(string(w.InlinePolicies[p])))
	}
	inputs := []any{res.Role.Arn, res.Role.AssumeRolePolicy, res.AssociationId}
	for _, doc := range res.presetPolicies {
		inputs = append(inputs, doc)
	}
	jobName := pulumi.All(inputs...).ApplyT(func(ids []any) string {
		parts := []string{ids[0].(string), ids[1].(string), ids[2].(string),
			w.Namespace, w.ServiceAccount, accessCheck, image, verification.Script, hardeningRevision}
		// Chaining and session controls change the identity the pod ends
		// up with. Only workloads that use them hash them, so every other
		// Job keeps its name (and is not run again).
		if w.usesCloudControl() {
			parts = append(parts, "target="+w.TargetRoleArn, fmt.Sprintf("tags-off=%v", w.DisableSessionTags), "policy="+compactJSON(w.SessionPolicy))
		}
		for _, doc := range ids[3:] {
			parts = append(parts, "preset="+compactJSON(doc.(string)))
		}
		return VerifyJobName(w.Name, append(parts, permissions...)...)
	}).(pulumi.StringOutput)

	region := c.args.ClusterArn.ToStringOutput().ApplyT(func(arn string) (string, error) {
		r := arnRegion(arn)
		if r == "" {
			return "", fmt.Errorf("cluster ARN %q names no region", arn)
		}
		return r, nil
	}).(pulumi.StringOutput)

	container := &corev1.ContainerArgs{
		Name:    pulumi.String("verify"),
		Image:   pulumi.String(image),
		Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", verification.Script}),
		Env: corev1.EnvVarArray{
			&corev1.EnvVarArgs{Name: pulumi.String(verification.EnvExpectedRoleArn), Value: expectedRole(w, res)},
			&corev1.EnvVarArgs{Name: pulumi.String(verification.EnvAccessCheck), Value: pulumi.String(accessCheck)},
			// EKS documents only the two credential variables for
			// Pod Identity; its webhook adds a region only when run
			// with one, and never over a region the pod sets. So
			// the access check's CLI gets the cluster's region
			// here, in both spellings (CLI v1 reads only the
			// second).
			&corev1.EnvVarArgs{Name: pulumi.String("AWS_REGION"), Value: region},
			&corev1.EnvVarArgs{Name: pulumi.String("AWS_DEFAULT_REGION"), Value: region},
		},
	}
	podSpec := &corev1.PodSpecArgs{
		ServiceAccountName: pulumi.String(w.ServiceAccount),
		RestartPolicy:      pulumi.String("Never"),
	}
	hardenPod(podSpec, container)

	deadline, providerTimeout := verifyDeadline(w)
	return batchv1.NewJob(ctx, verifyJobResourceName(name, w.Name), &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      jobName,
			Namespace: pulumi.String(w.Namespace),
			Labels:    labels(name, w.Name),
			// A Job that failed stays failed; after a fix the next `up`
			// should run a new one instead of waiting on the old.
			Annotations: annotations(c.args.Annotations, map[string]string{"pulumi.com/replaceUnready": "true"}),
		},
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(verifyBackoffLimit),
			ActiveDeadlineSeconds: pulumi.Int(deadline),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels(name, w.Name)},
				Spec:     podSpec,
			},
		},
	}, c.childOpts(
		pulumi.DependsOn(identity),
		c.waitForArgs(),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: providerTimeout, Update: providerTimeout}),
	)...)
}

// expectedRole is the role the pod really ends up with: the target role
// when EKS chains into one, else the workload's role.
func expectedRole(w Workload, res *WorkloadResources) pulumi.StringInput {
	if w.TargetRoleArn != "" {
		return pulumi.String(w.TargetRoleArn)
	}
	return res.Role.Arn
}
