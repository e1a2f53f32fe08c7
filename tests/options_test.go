package tests

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// withConfig runs the dev stack with some keys replaced.
func withConfig(t *testing.T, edit map[string]string) *recorder {
	t.Helper()
	cfg := stackConfig(t, "dev")
	for k, v := range edit {
		cfg[k] = v
	}
	rec := newRecorder("dev", clusterResult("my-eks-cluster", "1.31", false))
	if _, err := run(t, cfg, rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// A namespace created for one workload is waited for by every workload in
// it, including those that did not ask for it.
func TestSharedNamespaceIsAwaitedByEveryWorkload(t *testing.T) {
	rec := withConfig(t, map[string]string{"eks-pod-identity:workloads": `[
		{"name":"second","namespace":"apps","serviceAccount":"b","testPod":true},
		{"name":"first","namespace":"apps","serviceAccount":"a","createNamespace":true}]`})
	ns := rec.get(t, tNamespace, "pod-identity-ns-apps")
	for _, r := range []*registration{
		rec.get(t, tSA, "pod-identity-second-sa"),
		rec.get(t, tPod, "pod-identity-second-test-pod"),
		rec.get(t, tSA, "pod-identity-first-sa"),
	} {
		if !rec.dependsOn(r, ns) {
			t.Errorf("%s %s does not wait for namespace apps", r.Type, r.Name)
		}
	}
}

func TestAgentSettingsAndTags(t *testing.T) {
	rec := withConfig(t, map[string]string{
		"eks-pod-identity:agentVersion":  "v1.3.4-eksbuild.1",
		"eks-pod-identity:preserveAgent": "true",
		"eks-pod-identity:tags":          `{"team":"platform"}`,
	})
	assertInputs(t, rec.get(t, tAddon, "pod-identity-agent"), map[string]any{
		"addonVersion": "v1.3.4-eksbuild.1",
		"preserve":     true,
		"tags":         map[string]any{"team": "platform", "eks-pod-identity:stack": marker("dev")},
	})
	for _, r := range []*registration{
		rec.get(t, tRole, "pod-identity-pod-id-sa-role"),
		rec.get(t, tAssociation, "pod-identity-pod-id-sa-association"),
	} {
		assertInputs(t, r, map[string]any{"tags": map[string]any{"team": "platform", "eks-pod-identity:stack": marker("dev")}})
	}
}

// The kubeconfig's token is fetched as the identity the default AWS
// provider uses: the stack's role, profile and config files reach it.
func TestKubeconfigTokenActsAsTheProvidersIdentity(t *testing.T) {
	rec := withConfig(t, map[string]string{
		"aws:profile":                "platform",
		"aws:assumeRole":             `{"roleArn":"arn:aws:iam::111122223333:role/deploy","sessionName":"pulumi"}`,
		"aws:sharedConfigFiles":      `["/etc/aws/config"]`,
		"aws:sharedCredentialsFiles": `["/etc/aws/credentials"]`,
	})
	kc := rec.get(t, tK8sProvider, "kubernetes").Inputs["kubeconfig"].SecretValue().Element.StringValue()
	for _, want := range []string{
		`"--role-arn","arn:aws:iam::111122223333:role/deploy"`,
		`{"name":"AWS_PROFILE","value":"platform"}`,
		`{"name":"AWS_CONFIG_FILE","value":"/etc/aws/config"}`,
		`{"name":"AWS_SHARED_CREDENTIALS_FILE","value":"/etc/aws/credentials"}`,
	} {
		if !strings.Contains(kc, want) {
			t.Errorf("kubeconfig lacks %s:\n%s", want, kc)
		}
	}
}

// Policy ARNs from another partition are refused once the cluster's
// partition is known, under their config key, before any AWS resource.
func TestPolicyFromAnotherPartitionIsRefused(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"pod-id-sa","policyArns":["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]}]`
	cluster := clusterResult("my-eks-cluster", "1.31", false)
	cluster["arn"] = resource.NewStringProperty("arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/my-eks-cluster")
	rec := newRecorder("dev", cluster)
	_, err := run(t, cfg, rec)
	want := `eks-pod-identity:workloads[0].policyArns[0]: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" is in partition "aws" but the cluster is in "aws-us-gov"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if names := rec.names(); len(names) != 0 {
		t.Errorf("registered %v, want nothing", names)
	}
}
