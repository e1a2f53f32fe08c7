package podidentity_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// restrictedProblems lists how a registered pod spec (the mocks' inputs)
// breaks Pod Security Admission's restricted profile (Kubernetes "Pod
// Security Standards", restricted: privilege escalation, non-root with a
// numeric user, seccomp, capabilities), or mounts the API token, or cannot
// run the AWS CLI on a read-only root filesystem (a writable HOME).
func restrictedProblems(spec resource.PropertyMap) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	isBool := func(v resource.PropertyValue, want bool) bool { return v.IsBool() && v.BoolValue() == want }
	obj := func(v resource.PropertyValue) resource.PropertyMap {
		if v.IsObject() {
			return v.ObjectValue()
		}
		return resource.PropertyMap{}
	}

	if !isBool(spec["automountServiceAccountToken"], false) {
		bad("automountServiceAccountToken = %v, want false", spec["automountServiceAccountToken"])
	}
	podSC := obj(spec["securityContext"])
	podNonRoot := isBool(podSC["runAsNonRoot"], true)
	podUser := podSC["runAsUser"]
	podSeccomp := obj(podSC["seccompProfile"])["type"]
	if !podSC["runAsGroup"].IsNumber() || podSC["runAsGroup"].NumberValue() == 0 {
		bad("securityContext.runAsGroup = %v, want a numeric non-root group", podSC["runAsGroup"])
	}
	emptyDirs := map[string]bool{}
	if spec["volumes"].IsArray() {
		for _, v := range spec["volumes"].ArrayValue() {
			if v.IsObject() && v.ObjectValue()["emptyDir"].IsObject() {
				emptyDirs[v.ObjectValue()["name"].StringValue()] = true
			}
		}
	}
	containers := spec["containers"]
	if !containers.IsArray() || len(containers.ArrayValue()) == 0 {
		return append(problems, "no containers")
	}
	for i, cv := range containers.ArrayValue() {
		c := obj(cv)
		at := func(f string) string { return fmt.Sprintf("containers[%d].%s", i, f) }
		sc := obj(c["securityContext"])
		if !isBool(sc["allowPrivilegeEscalation"], false) {
			bad("%s = %v, want false", at("securityContext.allowPrivilegeEscalation"), sc["allowPrivilegeEscalation"])
		}
		if !isBool(sc["readOnlyRootFilesystem"], true) {
			bad("%s = %v, want true", at("securityContext.readOnlyRootFilesystem"), sc["readOnlyRootFilesystem"])
		}
		if d := obj(sc["capabilities"])["drop"]; !d.IsArray() || !slices.ContainsFunc(d.ArrayValue(), func(v resource.PropertyValue) bool {
			return v.IsString() && v.StringValue() == "ALL"
		}) {
			bad("%s = %v, want ALL", at("securityContext.capabilities.drop"), d)
		}
		if a := obj(sc["capabilities"])["add"]; a.IsArray() && len(a.ArrayValue()) > 0 {
			bad("%s = %v, want none", at("securityContext.capabilities.add"), a)
		}
		if !podNonRoot && !isBool(sc["runAsNonRoot"], true) {
			bad("%s: runAsNonRoot is not true on the pod or the container", at("securityContext"))
		}
		user := podUser
		if sc["runAsUser"].IsNumber() {
			user = sc["runAsUser"]
		}
		if !user.IsNumber() || user.NumberValue() == 0 {
			bad("%s: runAsUser = %v, want a numeric non-root user", at("securityContext"), user)
		}
		seccomp := podSeccomp
		if t := obj(sc["seccompProfile"])["type"]; t.IsString() {
			seccomp = t
		}
		if !seccomp.IsString() || (seccomp.StringValue() != "RuntimeDefault" && seccomp.StringValue() != "Localhost") {
			bad("%s: seccompProfile.type = %v, want RuntimeDefault", at("securityContext"), seccomp)
		}
		home := ""
		if c["env"].IsArray() {
			for _, e := range c["env"].ArrayValue() {
				if e.IsObject() && e.ObjectValue()["name"].StringValue() == "HOME" {
					home = e.ObjectValue()["value"].StringValue()
				}
			}
		}
		writable := false
		if c["volumeMounts"].IsArray() {
			for _, m := range c["volumeMounts"].ArrayValue() {
				mo := obj(m)
				if mo["mountPath"].StringValue() == home && emptyDirs[mo["name"].StringValue()] && !isBool(mo["readOnly"], true) {
					writable = true
				}
			}
		}
		if home == "" || !writable {
			bad("%s: HOME = %q is not a writable emptyDir mount", at("env"), home)
		}
	}
	return problems
}

// hardenedSpecs runs the component with a test pod and verification, and
// returns the test Pod's spec and the Job's pod template spec as registered.
func hardenedSpecs(t *testing.T, args podidentity.Args) (pod, job resource.PropertyMap, podImage, jobImage string) {
	t.Helper()
	mocks := run(t, func(ctx *pulumi.Context) error {
		_, err := podidentity.NewPodIdentity(ctx, "pi", args)
		return err
	})
	p, ok := mocks.find("pi-api-test-pod")
	if !ok {
		t.Fatal("no test pod registered")
	}
	j, ok := mocks.find("pi-api-verify")
	if !ok {
		t.Fatal("no verification Job registered")
	}
	pod = p.inputs["spec"].ObjectValue()
	job = j.inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()
	image := func(spec resource.PropertyMap) string {
		return spec["containers"].ArrayValue()[0].ObjectValue()["image"].StringValue()
	}
	return pod, job, image(pod), image(job)
}

// Both pods meet the restricted profile, mount no API token and have a
// writable HOME, whatever image they run.
func TestPodsMeetTheRestrictedProfile(t *testing.T) {
	for _, image := range []string{"", "registry.example.com/mirror/aws-cli:2.36.43"} {
		args := baseArgs()
		args.Image = image
		pod, job, _, _ := hardenedSpecs(t, args)
		for what, spec := range map[string]resource.PropertyMap{"test pod": pod, "verification Job": job} {
			for _, p := range restrictedProblems(spec) {
				t.Errorf("image %q: %s: %s", image, what, p)
			}
		}
	}
}

// Every field the hardening sets, as registered, on both pods.
func TestPodsAreHardenedFieldByField(t *testing.T) {
	pod, job, _, _ := hardenedSpecs(t, baseArgs())
	for what, spec := range map[string]resource.PropertyMap{"test pod": pod, "verification Job": job} {
		got := spec.Mappable()
		want := map[string]any{
			"automountServiceAccountToken": false,
			"securityContext": map[string]any{
				"runAsNonRoot": true, "runAsUser": float64(1000), "runAsGroup": float64(1000),
				"seccompProfile": map[string]any{"type": "RuntimeDefault"},
			},
			"volumes": []any{map[string]any{"name": "home", "emptyDir": map[string]any{}}},
		}
		for k, v := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("%s: spec.%s = %v, want %v", what, k, got[k], v)
			}
		}
		c := got["containers"].([]any)[0].(map[string]any)
		wantC := map[string]any{
			"securityContext": map[string]any{
				"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
				"capabilities": map[string]any{"drop": []any{"ALL"}},
			},
			"volumeMounts": []any{map[string]any{"name": "home", "mountPath": "/tmp/home"}},
		}
		for k, v := range wantC {
			if fmt.Sprint(c[k]) != fmt.Sprint(v) {
				t.Errorf("%s: containers[0].%s = %v, want %v", what, k, c[k], v)
			}
		}
		env := c["env"].([]any)
		if e := env[0].(map[string]any); e["name"] != "HOME" || e["value"] != "/tmp/home" {
			t.Errorf("%s: containers[0].env[0] = %v, want HOME=/tmp/home", what, e)
		}
	}
}

// The default image is pinned by version and digest, and both pods run it.
func TestDefaultImageIsPinnedByVersionAndDigest(t *testing.T) {
	pinned := regexp.MustCompile(`^amazon/aws-cli:2\.\d+\.\d+@sha256:[0-9a-f]{64}$`)
	if !pinned.MatchString(podidentity.DefaultImage) {
		t.Errorf("DefaultImage = %q, want amazon/aws-cli:<2.x.y>@sha256:<digest>", podidentity.DefaultImage)
	}
	_, _, podImage, jobImage := hardenedSpecs(t, baseArgs())
	if podImage != podidentity.DefaultImage || jobImage != podidentity.DefaultImage {
		t.Errorf("images = %q (pod), %q (job), want %q", podImage, jobImage, podidentity.DefaultImage)
	}
}
