package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/stackcheck"

	"github.com/platform-eng/eks-pod-identity/components/presets"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The platform stack (Pulumi.platform.yaml): one workload per preset.

const (
	platformCluster    = "platform-eks"
	platformRegion     = "us-west-2"
	platformClusterArn = "arn:aws:eks:us-west-2:111122223333:cluster/platform-eks"
	platformZone1      = "arn:aws:route53:::hostedzone/Z0PLATFORMEXAMPLE0001"
	platformZone2      = "arn:aws:route53:::hostedzone/Z0PLATFORMEXAMPLE0002"
	platformBucket     = "arn:aws:s3:::platform-eks-datasets"
)

// platformClusterResult is the platform cluster as getCluster answers,
// in the stack's region.
func platformClusterResult(ipFamily string) resource.PropertyMap {
	c := clusterResult(platformCluster, "1.33", false)
	c["arn"] = resource.NewStringProperty(platformClusterArn)
	c["kubernetesNetworkConfigs"] = resource.NewPropertyValue([]any{map[string]any{"ipFamily": ipFamily}})
	return c
}

func runPlatform(t *testing.T) (*recorder, map[string]any) {
	t.Helper()
	rec := newRecorder("platform", platformClusterResult("ipv4"))
	exports, err := run(t, stackConfig(t, "platform"), rec)
	if err != nil {
		t.Fatalf("program failed on Pulumi.platform.yaml: %v", err)
	}
	return rec, exports
}

// platformWorkloads reads the stack file's workloads, so a test can edit
// one and run the program again.
func platformWorkloads(t *testing.T) (map[string]string, []map[string]any) {
	t.Helper()
	cfg := stackConfig(t, "platform")
	var ws []map[string]any
	if err := json.Unmarshal([]byte(cfg["eks-pod-identity:workloads"]), &ws); err != nil {
		t.Fatal(err)
	}
	return cfg, ws
}

func setWorkloads(t *testing.T, cfg map[string]string, ws []map[string]any) {
	t.Helper()
	b, err := json.Marshal(ws)
	if err != nil {
		t.Fatal(err)
	}
	cfg["eks-pod-identity:workloads"] = string(b)
}

// The stack uses every preset, so what is proven on it (here and in the
// IAM proof) covers the catalogue.
func TestPlatformStackUsesEveryPreset(t *testing.T) {
	_, ws := platformWorkloads(t)
	var used []string
	for _, w := range ws {
		used = append(used, fmt.Sprint(w["preset"]))
	}
	assertSameSet(t, "presets in Pulumi.platform.yaml", used, presets.Names())
}

func TestPlatformStackResources(t *testing.T) {
	rec, _ := runPlatform(t)
	got := rec.names()
	want := []string{
		tK8sProvider + " stack-marker",
		tK8sProvider + " kubernetes",
		tComponent + " pod-identity",
		tAddon + " pod-identity-agent",
	}
	for _, p := range presets.All() {
		prefix := "pod-identity-" + p.Name
		want = append(want, tRole+" "+prefix+"-role", tAssociation+" "+prefix+"-association", tJob+" "+prefix+"-verify")
		for _, m := range p.ManagedPolicies {
			want = append(want, tAttachment+" "+prefix+"-"+m.Name)
		}
		for _, d := range p.Documents {
			want = append(want, tRolePolicy+" "+prefix+"-inline-"+d.Name)
		}
	}
	// No ServiceAccount, Namespace or Pod: the add-ons and charts own their
	// service accounts, and nothing asks for a namespace or test pod.
	assertSameSet(t, "platform resources", got, want)
}

// Each association is the preset's namespace and service account, and
// each role trusts exactly that identity on this cluster.
func TestPlatformPresetsFillTheIdentity(t *testing.T) {
	rec, exports := runPlatform(t)
	outs := exports["workloads"].(map[string]any)
	for _, p := range presets.All() {
		assoc := rec.get(t, tAssociation, "pod-identity-"+p.Name+"-association")
		assertInputs(t, assoc, map[string]any{"clusterName": platformCluster, "namespace": p.Namespace, "serviceAccount": p.ServiceAccount})
		role := rec.get(t, tRole, "pod-identity-"+p.Name+"-role")
		assertJSONEqual(t, p.Name+" trust policy", role.Inputs["assumeRolePolicy"].StringValue(), fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{
			"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],
			"Condition":{"StringEquals":{
				"aws:RequestTag/eks-cluster-arn":[%q],
				"aws:RequestTag/kubernetes-namespace":[%q],
				"aws:RequestTag/kubernetes-service-account":[%q]}}}]}`, platformClusterArn, p.Namespace, p.ServiceAccount))
		assertInputs(t, role, map[string]any{"tags": map[string]any{"team": "platform", stackconfig.StackTagKey: marker("platform")}})
		w, ok := outs[p.Name].(map[string]any)
		if !ok {
			t.Fatalf("no outputs for workload %s", p.Name)
		}
		if w["namespace"] != p.Namespace || w["serviceAccount"] != p.ServiceAccount {
			t.Errorf("%s outputs %v/%v, want %s/%s", p.Name, w["namespace"], w["serviceAccount"], p.Namespace, p.ServiceAccount)
		}
	}
}

// Managed policies are attached by ARN in the cluster's partition; custom
// documents are inline policies with the stack's inputs in them.
func TestPlatformPresetPolicies(t *testing.T) {
	rec, _ := runPlatform(t)
	attached := map[string][]string{}
	for _, reg := range rec.regs {
		if reg.Type == tAttachment {
			role := reg.Inputs["role"].StringValue()
			attached[role] = append(attached[role], reg.Inputs["policyArn"].StringValue())
		}
	}
	for preset, want := range map[string][]string{
		"ebs-csi":                  {"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
		"efs-csi":                  {"arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"},
		"vpc-cni":                  {"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"},
		"cloudwatch-observability": {"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"},
		"external-dns":             nil,
		"mountpoint-s3":            nil,
	} {
		role := rec.get(t, tRole, "pod-identity-"+preset+"-role")
		roleName := autoName(role)
		assertSameSet(t, preset+" attached policies", attached[roleName], want)
	}

	inline := func(preset string) string {
		p := rec.get(t, tRolePolicy, "pod-identity-"+preset+"-inline-"+preset)
		assertInputs(t, p, map[string]any{"name": preset, "role": autoName(rec.get(t, tRole, "pod-identity-"+preset+"-role"))})
		return p.Inputs["policy"].StringValue()
	}
	assertJSONEqual(t, "external-dns policy", inline("external-dns"), `{"Version":"2012-10-17","Statement":[
		{"Sid":"ChangeRecordsInListedZones","Effect":"Allow",
		 "Action":["route53:ChangeResourceRecordSets","route53:ListResourceRecordSets","route53:ListTagsForResources"],
		 "Resource":["`+platformZone1+`"]},
		{"Sid":"ListZones","Effect":"Allow","Action":["route53:ListHostedZones"],"Resource":["*"]}]}`)
	if doc := inline("cert-manager"); !strings.Contains(doc, `"Resource":["`+platformZone1+`","`+platformZone2+`"]`) ||
		!strings.Contains(doc, `"arn:aws:route53:::change/*"`) {
		t.Errorf("cert-manager policy does not scope to the stack's two zones and this partition's changes: %s", doc)
	}
	if doc := inline("mountpoint-s3"); !strings.Contains(doc, `["`+platformBucket+`"]`) || !strings.Contains(doc, `["`+platformBucket+`/*"]`) {
		t.Errorf("mountpoint-s3 policy does not scope to the stack's bucket: %s", doc)
	}
	// The cluster-autoscaler role has a fixed name (an override).
	ca := rec.get(t, tRolePolicy, "pod-identity-cluster-autoscaler-inline-cluster-autoscaler")
	assertInputs(t, ca, map[string]any{"role": "platform-eks-cluster-autoscaler"})
	if doc := ca.Inputs["policy"].StringValue(); !strings.Contains(doc, `"Null":{"autoscaling:ResourceTag/k8s.io/cluster-autoscaler/platform-eks":["false"]}`) {
		t.Errorf("cluster-autoscaler policy is not scoped to the looked-up cluster's tag: %s", doc)
	}
	for _, reg := range rec.regs {
		if reg.Type == tAttachment && strings.HasSuffix(reg.Inputs["policyArn"].StringValue(), "/AmazonS3ReadOnlyAccess") {
			t.Errorf("%s attaches the walkthrough's default policy to a preset workload", reg.Name)
		}
	}
}

// Every verification Job runs the preset's read-only check as the
// preset's service account, in the cluster's region.
func TestPlatformVerifyJobsRunThePresetsChecks(t *testing.T) {
	rec, _ := runPlatform(t)
	want := map[string]string{
		"ebs-csi":                  "ec2 describe-volumes --max-items 1",
		"efs-csi":                  "efs describe-file-systems --max-items 1",
		"vpc-cni":                  "ec2 describe-network-interfaces --max-items 1",
		"cloudwatch-observability": "logs describe-log-groups --limit 1",
		"external-dns":             "route53 list-hosted-zones --max-items 1",
		"cert-manager":             "route53 list-hosted-zones-by-name --max-items 1",
		"mountpoint-s3":            "s3api list-objects-v2 --bucket platform-eks-datasets --max-items 1",
		"cluster-autoscaler":       "autoscaling describe-auto-scaling-groups --max-items 1",
	}
	for _, p := range presets.All() {
		job := rec.get(t, tJob, "pod-identity-"+p.Name+"-verify")
		if ns := job.Inputs["metadata"].ObjectValue()["namespace"].StringValue(); ns != p.Namespace {
			t.Errorf("%s job in namespace %q, want %q", p.Name, ns, p.Namespace)
		}
		spec := job.Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()
		if sa := spec["serviceAccountName"].StringValue(); sa != p.ServiceAccount {
			t.Errorf("%s job runs as %q, want %q", p.Name, sa, p.ServiceAccount)
		}
		env := jobEnv(spec)
		if env["ACCESS_CHECK"] != want[p.Name] {
			t.Errorf("%s ACCESS_CHECK = %q, want %q", p.Name, env["ACCESS_CHECK"], want[p.Name])
		}
		if env["AWS_REGION"] != platformRegion || env["AWS_DEFAULT_REGION"] != platformRegion {
			t.Errorf("%s job region = %q/%q, want the cluster's %s", p.Name, env["AWS_REGION"], env["AWS_DEFAULT_REGION"], platformRegion)
		}
		// The Job must wait for the preset's policies, or it could run
		// before the role may do what it checks.
		for _, reg := range rec.regs {
			if (reg.Type == tAttachment || reg.Type == tRolePolicy) && strings.HasPrefix(reg.Name, "pod-identity-"+p.Name+"-") && !rec.dependsOn(job, reg) {
				t.Errorf("%s job does not wait for %s", p.Name, reg.Name)
			}
		}
	}
}

// Overrides replace the preset's value field by field and keep the rest.
func TestPlatformOverrides(t *testing.T) {
	rec, _ := runPlatform(t)
	role := rec.get(t, tRole, "pod-identity-cluster-autoscaler-role")
	assertInputs(t, role, map[string]any{"name": "platform-eks-cluster-autoscaler", "maxSessionDuration": 7200.0})

	cfg, ws := platformWorkloads(t)
	ws[0]["namespace"], ws[0]["serviceAccount"] = "storage", "ebs-csi-controller"
	ws[0]["policyArns"] = []string{"arn:aws:iam::111122223333:policy/ebs-csi-tight"}
	ws[0]["accessCheck"] = "ec2 describe-volumes --max-items 5"
	setWorkloads(t, cfg, ws)
	rec2 := newRecorder("platform", platformClusterResult("ipv4"))
	if _, err := run(t, cfg, rec2); err != nil {
		t.Fatal(err)
	}
	assertInputs(t, rec2.get(t, tAssociation, "pod-identity-ebs-csi-association"), map[string]any{"namespace": "storage", "serviceAccount": "ebs-csi-controller"})
	assertInputs(t, rec2.get(t, tAttachment, "pod-identity-ebs-csi-111122223333/ebs-csi-tight"), map[string]any{"policyArn": "arn:aws:iam::111122223333:policy/ebs-csi-tight"})
	for _, reg := range rec2.regs {
		if strings.HasSuffix(reg.Name, "AmazonEBSCSIDriverPolicy") {
			t.Errorf("policyArns overrides the preset's, yet %s is registered", reg.Name)
		}
	}
	spec := rec2.get(t, tJob, "pod-identity-ebs-csi-verify").Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()
	if got := jobEnv(spec)["ACCESS_CHECK"]; got != "ec2 describe-volumes --max-items 5" {
		t.Errorf("ACCESS_CHECK = %q, want the workload's own", got)
	}
	// An empty inlinePolicies map drops the preset's document.
	cfg, ws = platformWorkloads(t)
	ws[4]["inlinePolicies"] = map[string]any{}
	ws[4]["accessCheck"] = "off"
	setWorkloads(t, cfg, ws)
	rec3 := newRecorder("platform", platformClusterResult("ipv4"))
	if _, err := run(t, cfg, rec3); err != nil {
		t.Fatal(err)
	}
	for _, reg := range rec3.regs {
		if reg.Type == tRolePolicy && strings.HasPrefix(reg.Name, "pod-identity-external-dns-") {
			t.Errorf("inlinePolicies: {} must drop the preset's document, yet %s is registered", reg.Name)
		}
	}
}

// Refused before anything is registered or looked up beyond the cluster,
// each under its config key with the rule.
func TestPlatformRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		edit     func(ws []map[string]any) []map[string]any
		ipFamily string
		addons   map[string]resource.PropertyMap
		want     []string
	}{
		{name: "required input missing", edit: func(ws []map[string]any) []map[string]any {
			delete(ws[4], "hostedZoneArns")
			return ws
		}, want: []string{`eks-pod-identity:workloads[4].hostedZoneArns: is required by preset "external-dns"`}},
		{name: "every zone only by name", edit: func(ws []map[string]any) []map[string]any {
			ws[5]["hostedZoneArns"] = []string{"arn:aws:route53:::hostedzone/Z0*"}
			return ws
		}, want: []string{`eks-pod-identity:workloads[5].hostedZoneArns[0]: "arn:aws:route53:::hostedzone/Z0*" is a partial wildcard`}},
		{name: "bucket from another partition", edit: func(ws []map[string]any) []map[string]any {
			ws[6]["bucketArns"] = []string{"arn:aws-cn:s3:::platform-eks-datasets"}
			return ws
		}, want: []string{`eks-pod-identity:workloads[6].bucketArns[0]: "arn:aws-cn:s3:::platform-eks-datasets" is in partition "aws-cn" but the cluster is in "aws"`}},
		{name: "object ARN for a bucket", edit: func(ws []map[string]any) []map[string]any {
			ws[6]["bucketArns"] = []string{"arn:aws:s3:::platform-eks-datasets/*"}
			return ws
		}, want: []string{`eks-pod-identity:workloads[6].bucketArns[0]: "arn:aws:s3:::platform-eks-datasets/*" is not a bucket ARN`}},
		{name: "unknown preset", edit: func(ws []map[string]any) []map[string]any {
			ws[0]["preset"] = "ebs"
			return ws
		}, want: []string{`eks-pod-identity:workloads[0].preset: "ebs" is not a preset (known: ebs-csi, efs-csi, vpc-cni, cloudwatch-observability, external-dns, cert-manager, mountpoint-s3, cluster-autoscaler)`}},
		{name: "input without preset", edit: func(ws []map[string]any) []map[string]any {
			return append(ws, map[string]any{"serviceAccount": "app", "bucketArns": []string{platformBucket}})
		}, want: []string{`eks-pod-identity:workloads[8].bucketArns: is set, but the workload names no preset; it is an input of preset mountpoint-s3`}},
		{name: "input the preset does not take", edit: func(ws []map[string]any) []map[string]any {
			ws[0]["bucketArns"] = []string{platformBucket}
			return ws
		}, want: []string{`eks-pod-identity:workloads[0].bucketArns: is set, but preset "ebs-csi" takes no bucketArns`}},
		{name: "same service account twice", edit: func(ws []map[string]any) []map[string]any {
			return append(ws, map[string]any{"preset": "ebs-csi", "name": "ebs-csi-2"})
		}, want: []string{`eks-pod-identity:workloads[8].serviceAccount: "ebs-csi-controller-sa" in namespace "kube-system" is already workloads[0]`}},
		{name: "preset check kept for replaced policies", edit: func(ws []map[string]any) []map[string]any {
			ws[1]["policyArns"] = []string{"arn:aws:iam::111122223333:policy/efs-tight"}
			return ws
		}, want: []string{`eks-pod-identity:workloads[1].accessCheck: is not set, and preset "efs-csi"'s check "efs describe-file-systems --max-items 1" was written for the preset's policies`}},
		{name: "vpc-cni on an IPv6 cluster", ipFamily: "ipv6",
			want: []string{`eks-pod-identity:workloads[2].preset: "vpc-cni" attaches AmazonEKS_CNI_Policy, which has IPv4 permissions only, and cluster "platform-eks" uses IPv6`}},
		{name: "add-on associates the service account itself", addons: map[string]resource.PropertyMap{
			"aws-ebs-csi-driver": resource.NewPropertyMapFromMap(map[string]any{
				"addonName": "aws-ebs-csi-driver", "clusterName": platformCluster,
				"podIdentityAssociations": []any{map[string]any{"roleArn": "arn:aws:iam::111122223333:role/addon-ebs", "serviceAccount": "ebs-csi-controller-sa"}},
			}),
		}, want: []string{`eks-pod-identity:workloads[0].preset: "ebs-csi" would associate kube-system/ebs-csi-controller-sa, which the EKS add-on aws-ebs-csi-driver already associates itself (role arn:aws:iam::111122223333:role/addon-ebs)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ws := platformWorkloads(t)
			if tc.edit != nil {
				ws = tc.edit(ws)
			}
			setWorkloads(t, cfg, ws)
			ipFamily := tc.ipFamily
			if ipFamily == "" {
				ipFamily = "ipv4"
			}
			rec := newRecorder("platform", platformClusterResult(ipFamily))
			rec.addons = tc.addons
			_, err := run(t, cfg, rec)
			var ce *stackconfig.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("want a configuration error, got %v", err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Errorf("problems = %q, want %d", ce.Problems, len(tc.want))
			}
			for _, want := range tc.want {
				if !slices.ContainsFunc(ce.Problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
					t.Errorf("no problem starts with\n  %s\ngot:\n  %s", want, strings.Join(ce.Problems, "\n  "))
				}
			}
			if len(rec.regs) != 0 {
				t.Errorf("registered %v before refusing", rec.names())
			}
		})
	}
}

// An add-on that associates another service account, or none, is no
// conflict; the lookups name the cluster and the preset's add-on.
func TestPlatformAddonsWithoutConflict(t *testing.T) {
	rec := newRecorder("platform", platformClusterResult("ipv4"))
	rec.addons = map[string]resource.PropertyMap{
		"aws-efs-csi-driver": resource.NewPropertyMapFromMap(map[string]any{
			"addonName": "aws-efs-csi-driver", "clusterName": platformCluster,
			"podIdentityAssociations": []any{map[string]any{"roleArn": "arn:aws:iam::111122223333:role/efs-node", "serviceAccount": "efs-csi-node-sa"}},
		}),
		"vpc-cni": resource.NewPropertyMapFromMap(map[string]any{"addonName": "vpc-cni", "clusterName": platformCluster, "podIdentityAssociations": []any{}}),
	}
	if _, err := run(t, stackConfig(t, "platform"), rec); err != nil {
		t.Fatal(err)
	}
	var looked []string
	for _, c := range rec.calls {
		if c.Token == "aws:eks/getAddon:getAddon" {
			if got := c.Args["clusterName"].StringValue(); got != platformCluster {
				t.Errorf("getAddon for cluster %q", got)
			}
			looked = append(looked, c.Args["addonName"].StringValue())
		}
	}
	assertSameSet(t, "add-ons looked up", looked, []string{"aws-ebs-csi-driver", "aws-efs-csi-driver", "vpc-cni", "amazon-cloudwatch-observability", "aws-mountpoint-s3-csi-driver"})
}

func jobEnv(podSpec resource.PropertyMap) map[string]string {
	env := map[string]string{}
	for _, e := range podSpec["containers"].ArrayValue()[0].ObjectValue()["env"].ArrayValue() {
		env[e.ObjectValue()["name"].StringValue()] = e.ObjectValue()["value"].StringValue()
	}
	return env
}

// autoName is the role name the mock hands out for a role registration.
func autoName(role *registration) string {
	if role.Inputs["name"].HasValue() {
		return role.Inputs["name"].StringValue()
	}
	return stackcheck.AutoName(role.Name)
}

// Verification re-runs when what it proves changes: the cluster (its ARN,
// region included, is in every scoped trust policy) and a preset
// document's inputs; an unrelated workload keeps its Job.
func TestPlatformVerifyJobFollowsRegionAndPresetDocuments(t *testing.T) {
	jobNames := func(cluster resource.PropertyMap, edit func([]map[string]any)) map[string]string {
		t.Helper()
		cfg, ws := platformWorkloads(t)
		if edit != nil {
			edit(ws)
		}
		setWorkloads(t, cfg, ws)
		rec := newRecorder("platform", cluster)
		exports, err := run(t, cfg, rec)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		for name, w := range exports["workloads"].(map[string]any) {
			names[name] = fmt.Sprint(w.(map[string]any)["verifyJob"])
		}
		return names
	}
	base := jobNames(platformClusterResult("ipv4"), nil)
	if again := jobNames(platformClusterResult("ipv4"), nil); fmt.Sprint(again) != fmt.Sprint(base) {
		t.Fatalf("job names differ between identical runs: %v / %v", base, again)
	}
	otherRegion := platformClusterResult("ipv4")
	otherRegion["arn"] = resource.NewStringProperty(strings.Replace(platformClusterArn, platformRegion, "eu-west-1", 1))
	for name, job := range jobNames(otherRegion, nil) {
		if job == base[name] {
			t.Errorf("%s: job %s kept in another region; its CLI calls another region's API", name, job)
		}
	}
	zones := jobNames(platformClusterResult("ipv4"), func(ws []map[string]any) {
		ws[4]["hostedZoneArns"] = []string{platformZone2}
	})
	if zones["external-dns"] == base["external-dns"] {
		t.Error("external-dns job kept although its document now names another zone")
	}
	if zones["ebs-csi"] != base["ebs-csi"] {
		t.Error("ebs-csi job replaced although nothing of it changed")
	}
}
