package podidentity_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
)

func TestTrustPolicy(t *testing.T) {
	const cluster = "arn:aws:eks:us-east-1:111122223333:cluster/my-eks-cluster"
	open := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	for _, tc := range []struct {
		name              string
		mode              podidentity.TrustMode
		cluster, ns, sa   string
		want, wantErrPart string
	}{
		{name: "open is exactly the walkthrough's document", mode: podidentity.TrustOpen, cluster: cluster, ns: "default", sa: "pod-id-sa", want: open},
		{name: "open needs no cluster", mode: podidentity.TrustOpen, want: open},
		{name: "scoped pins cluster, namespace and service account", mode: podidentity.TrustScoped, cluster: cluster, ns: "default", sa: "pod-id-sa",
			want: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
			"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":["` + cluster + `"],"aws:RequestTag/kubernetes-namespace":["default"],"aws:RequestTag/kubernetes-service-account":["pod-id-sa"]}}}]}`},
		{name: "empty mode is scoped", mode: "", cluster: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/c", ns: "apps", sa: "api",
			want: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
			"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":["arn:aws-cn:eks:cn-north-1:111122223333:cluster/c"],"aws:RequestTag/kubernetes-namespace":["apps"],"aws:RequestTag/kubernetes-service-account":["api"]}}}]}`},
		{name: "scoped without cluster ARN", mode: podidentity.TrustScoped, ns: "default", sa: "x", wantErrPart: "needs the cluster ARN"},
		{name: "unknown mode", mode: "loose", cluster: cluster, ns: "default", sa: "x", wantErrPart: `unknown trust mode "loose"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := podidentity.TrustPolicy(tc.mode, tc.cluster, tc.ns, tc.sa)
			if tc.wantErrPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrPart) {
					t.Fatalf("error = %v, want %q", err, tc.wantErrPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal([]byte(got), &g); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestManagedPolicyArn(t *testing.T) {
	for partition, want := range map[string]string{
		"aws":        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
		"aws-cn":     "arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess",
		"aws-us-gov": "arn:aws-us-gov:iam::aws:policy/AmazonS3ReadOnlyAccess",
	} {
		if got := podidentity.ManagedPolicyArn(partition, "AmazonS3ReadOnlyAccess"); got != want {
			t.Errorf("%s: got %s, want %s", partition, got, want)
		}
	}
}

func TestVerifyJobName(t *testing.T) {
	base := podidentity.VerifyJobName("pod-id-sa", "arn:aws:iam::1:role/A", "a-1", "s3 ls")
	if !strings.HasPrefix(base, "verify-pod-id-sa-") || len(base) != len("verify-pod-id-sa-")+8 {
		t.Errorf("name = %q, want verify-pod-id-sa-<8 hex>", base)
	}
	if again := podidentity.VerifyJobName("pod-id-sa", "arn:aws:iam::1:role/A", "a-1", "s3 ls"); again != base {
		t.Errorf("same identity gave %q then %q: verification would re-run on every up", base, again)
	}
	for what, other := range map[string]string{
		"role":        podidentity.VerifyJobName("pod-id-sa", "arn:aws:iam::1:role/B", "a-1", "s3 ls"),
		"association": podidentity.VerifyJobName("pod-id-sa", "arn:aws:iam::1:role/A", "a-2", "s3 ls"),
		"check":       podidentity.VerifyJobName("pod-id-sa", "arn:aws:iam::1:role/A", "a-1", "s3 ls s3://b"),
		"boundary":    podidentity.VerifyJobName("pod-id-sa", "arn:aws:iam::1:role/A", "a-1s3 ls"),
	} {
		if other == base {
			t.Errorf("changing the %s kept the job name %q: verification would not re-run", what, base)
		}
	}
	long := podidentity.VerifyJobName(strings.Repeat("w", 63), "x")
	if len(long) > 63 || strings.Contains(long, "--") {
		t.Errorf("long name %q (%d chars) is not a valid job name", long, len(long))
	}
}

// IAM's default quota for a trust policy is 2,048 characters without
// whitespace; the scoped document stays under it with the longest names
// EKS and Kubernetes allow, so the component needs no check for it.
func TestTrustPolicyFitsIAMQuota(t *testing.T) {
	longest := "arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/" + strings.Repeat("c", 100)
	doc, err := podidentity.TrustPolicy(podidentity.TrustScoped, longest, strings.Repeat("n", 63), strings.Repeat("s", 253))
	if err != nil {
		t.Fatal(err)
	}
	n := len(strings.Join(strings.Fields(doc), ""))
	if n > 2048 {
		t.Errorf("scoped trust policy is %d characters, over IAM's 2,048", n)
	}
}
