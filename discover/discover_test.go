package discover_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/irsa"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover/discovertest"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

// fakeWorld answers lookups from maps and records what was asked.
type fakeWorld struct {
	discover.Existing
	fail map[string]error // by the asked key
	mu   sync.Mutex
	asks []string
}

func (f *fakeWorld) ask(k string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asks = append(f.asks, k)
	return f.fail[k]
}

func (f *fakeWorld) Role(_ context.Context, name string) (*discover.FoundRole, error) {
	return f.Roles[name], f.ask("role " + name)
}
func (f *fakeWorld) Addon(_ context.Context, cluster, name string) (*discover.FoundAddon, error) {
	return f.Agent, f.ask("addon " + cluster + " " + name)
}
func (f *fakeWorld) Association(_ context.Context, cluster, ns, sa string) (*discover.FoundAssociation, error) {
	return f.Associations[ns+"/"+sa], f.ask("association " + cluster + " " + ns + "/" + sa)
}
func (f *fakeWorld) ClusterAssociations(_ context.Context, cluster string) ([]*discover.FoundAssociation, error) {
	return f.AllAssociations, f.ask("associations " + cluster)
}
func (f *fakeWorld) Namespace(_ context.Context, name string) (*discover.FoundObject, error) {
	return f.Namespaces[name], f.ask("namespace " + name)
}
func (f *fakeWorld) ServiceAccount(_ context.Context, ns, name string) (*discover.FoundObject, error) {
	return f.ServiceAccounts[ns+"/"+name], f.ask("serviceaccount " + ns + "/" + name)
}
func (f *fakeWorld) Pod(_ context.Context, ns, name string) (*discover.FoundObject, error) {
	return f.Pods[ns+"/"+name], f.ask("pod " + ns + "/" + name)
}
func (f *fakeWorld) PodsOf(_ context.Context, ns, sa string) ([]irsa.Pod, error) {
	return f.ServiceAccountPods[ns+"/"+sa], f.ask("pods of " + ns + "/" + sa)
}

func TestDiscoverAsksForEachNaturalKeyOnce(t *testing.T) {
	world := &fakeWorld{Existing: discovertest.Walkthrough()}
	want := discover.WantFor("my-eks-cluster", stackconfig.ComponentName, podidentity.Args{Workloads: []podidentity.Workload{
		{ServiceAccount: "pod-id-sa", RoleName: discovertest.WalkRole, TestPod: true, TestPodName: discovertest.WalkPod},
		// Same role and namespace again: asked once each.
		{Name: "second", ServiceAccount: "b", Namespace: "apps", CreateNamespace: true, RoleName: discovertest.WalkRole},
		{Name: "third", ServiceAccount: "c", Namespace: "apps", CreateNamespace: true},
		// Auto-named role, external service account, no test pod: nothing to ask for them.
		{Name: "fourth", ServiceAccount: "d", ExternalServiceAccount: true},
	}})
	found, err := discover.Discover(context.Background(), discover.Lookups{AWS: world, Kube: world}, want)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(world.asks)
	wantAsks := []string{
		"addon my-eks-cluster eks-pod-identity-agent",
		"association my-eks-cluster apps/b", "association my-eks-cluster apps/c",
		"association my-eks-cluster default/d", "association my-eks-cluster default/pod-id-sa",
		"associations my-eks-cluster",
		"namespace apps",
		"pod default/aws-cli-pod-identity",
		"role EKSPodIdentityS3Role",
		"serviceaccount apps/b", "serviceaccount apps/c", "serviceaccount default/pod-id-sa",
	}
	if !slices.Equal(world.asks, wantAsks) {
		t.Errorf("asked:\n  %s\nwant:\n  %s", strings.Join(world.asks, "\n  "), strings.Join(wantAsks, "\n  "))
	}
	w := world.Existing
	if found.Agent != w.Agent || found.Roles[discovertest.WalkRole] != w.Roles[discovertest.WalkRole] || found.Associations["default/pod-id-sa"] != w.Associations["default/pod-id-sa"] ||
		found.ServiceAccounts["default/pod-id-sa"] != w.ServiceAccounts["default/pod-id-sa"] || found.Pods["default/"+discovertest.WalkPod] != w.Pods["default/"+discovertest.WalkPod] {
		t.Errorf("found = %+v", found)
	}
	if len(found.Associations) != 1 || len(found.ServiceAccounts) != 1 || len(found.Namespaces) != 0 {
		t.Errorf("absent objects were recorded as found: %+v", found)
	}

	// With the agent not managed, the add-on is not asked for.
	world.asks = nil
	want.Agent = false
	if _, err := discover.Discover(context.Background(), discover.Lookups{AWS: world, Kube: world}, want); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(world.asks, func(a string) bool { return strings.HasPrefix(a, "addon") }) {
		t.Errorf("asked for the add-on of a stack that does not manage it: %v", world.asks)
	}
}

// A failed lookup is never taken for "absent": every failure is reported.
func TestDiscoverReportsEveryFailure(t *testing.T) {
	world := &fakeWorld{fail: map[string]error{
		"role EKSPodIdentityS3Role":        errors.New("AccessDenied: iam:GetRole"),
		"serviceaccount default/pod-id-sa": errors.New("403 Forbidden"),
	}}
	_, err := discover.Discover(context.Background(), discover.Lookups{AWS: world, Kube: world}, discovertest.DevWant())
	if err == nil {
		t.Fatal("lookup failures were swallowed")
	}
	for _, want := range []string{
		"find what already exists before creating anything (nothing was created)",
		"look up IAM role EKSPodIdentityS3Role: AccessDenied: iam:GetRole",
		"look up ServiceAccount default/pod-id-sa: 403 Forbidden",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestReadAWSIdentity(t *testing.T) {
	tests := []struct {
		name    string
		raw     map[string]string
		want    discover.AWSIdentity
		wantErr string
	}{
		{name: "nothing set: the SDK's default chain", raw: map[string]string{}, want: discover.AWSIdentity{Region: "eu-west-1"}},
		{
			name: "every identity key the provider reads",
			raw: map[string]string{
				"aws:accessKey": "AKIA", "aws:secretKey": "s", "aws:token": "t", "aws:profile": "p",
				"aws:sharedConfigFiles": `["/a","/b"]`, "aws:sharedCredentialsFiles": `["/c"]`,
				"aws:assumeRole":                `{"roleArn":"arn:aws:iam::1:role/deploy","externalId":"x","sessionName":"s1"}`,
				"aws:assumeRoleWithWebIdentity": `{"roleArn":"arn:aws:iam::1:role/web","sessionName":"s2","webIdentityTokenFile":"/tok"}`,
				"aws:endpoints":                 `[{"eks":"http://eks.local"},{"iam":"http://iam.local","s3":"http://s3.local"}]`,
			},
			want: discover.AWSIdentity{
				Region: "eu-west-1", AccessKey: "AKIA", SecretKey: "s", Token: "t", Profile: "p",
				ConfigFiles: []string{"/a", "/b"}, CredentialsFiles: []string{"/c"},
				AssumeRoleArn: "arn:aws:iam::1:role/deploy", ExternalID: "x", SessionName: "s1",
				WebIdentityRoleArn: "arn:aws:iam::1:role/web", WebIdentitySessionName: "s2", WebTokenFile: "/tok",
				Endpoints: map[string]string{"eks": "http://eks.local", "iam": "http://iam.local"},
			},
		},
		{name: "malformed values are errors", raw: map[string]string{"aws:endpoints": `{"eks":1}`, "aws:sharedConfigFiles": `"/a"`},
			wantErr: "aws:sharedConfigFiles: is not a list of strings\naws:endpoints: is not a list of service-to-URL objects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discover.ReadAWSIdentity(tt.raw, "eu-west-1")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("identity =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// The Kubernetes lookup against an API server that answers like one:
// objects found, absent (404), and refused (403, an error, never "absent").
func TestKubeAPILookup(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/namespaces/default/serviceaccounts/pod-id-sa":
			fmt.Fprint(w, `{"kind":"ServiceAccount","metadata":{"name":"pod-id-sa","labels":{"a":"b"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}}}`)
		case "/api/v1/namespaces/default/pods/aws-cli-pod-identity":
			fmt.Fprint(w, `{"kind":"Pod","metadata":{"name":"aws-cli-pod-identity"},"spec":{"serviceAccountName":"pod-id-sa","restartPolicy":"Never",
				"containers":[{"name":"aws-cli","image":"amazon/aws-cli:latest","command":["sleep","3600"],"imagePullPolicy":"Always"}],"dnsPolicy":"ClusterFirst"},
				"status":{"phase":"Succeeded","containerStatuses":[{"name":"aws-cli","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}}`)
		case "/api/v1/namespaces/apps/pods/hardened":
			// As the apiserver returns the stack's test pod, with what EKS's
			// webhook injects (a projected volume, its mount, env from it).
			fmt.Fprint(w, `{"kind":"Pod","spec":{"serviceAccountName":"api","restartPolicy":"Never","automountServiceAccountToken":false,
				"securityContext":{"runAsNonRoot":true,"runAsUser":1000,"runAsGroup":1000,"seccompProfile":{"type":"RuntimeDefault"}},
				"volumes":[{"name":"home","emptyDir":{}},{"name":"eks-pod-identity-token","projected":{"sources":[]}}],
				"containers":[{"name":"aws-cli","image":"i","command":["sleep","3600"],
					"env":[{"name":"HOME","value":"/tmp/home"},{"name":"AWS_CONTAINER_CREDENTIALS_FULL_URI","value":"http://169.254.170.23/v1/credentials"},
						{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
					"volumeMounts":[{"name":"home","mountPath":"/tmp/home"},{"name":"eks-pod-identity-token","mountPath":"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount","readOnly":true}],
					"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}`)
		case "/api/v1/namespaces/apps/serviceaccounts/irsa":
			fmt.Fprint(w, `{"kind":"ServiceAccount","metadata":{"name":"irsa","annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::111122223333:role/R"},
				"managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:eks.amazonaws.com/role-arn":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}}}},
					{"manager":"pulumi-kubernetes-0a1b2c3d","operation":"Apply","fieldsV1":{"f:metadata":{"f:annotations":{"f:eks.amazonaws.com/role-arn":{}}}}}]}}`)
		case "/api/v1/namespaces/apps/pods":
			fmt.Fprint(w, `{"kind":"PodList","items":[
				{"metadata":{"name":"web-6d5-abc","ownerReferences":[{"kind":"ReplicaSet","name":"web-6d5","controller":true}]},"spec":{"serviceAccountName":"irsa","containers":[{"env":[{"name":"AWS_WEB_IDENTITY_TOKEN_FILE","value":"/t"}]}]}},
				{"metadata":{"name":"db-0","ownerReferences":[{"kind":"StatefulSet","name":"db","controller":true}]},"spec":{"serviceAccountName":"irsa","containers":[{}]}},
				{"metadata":{"name":"win","labels":{"eks.amazonaws.com/fargate-profile":"fp"}},"spec":{"serviceAccountName":"irsa","nodeSelector":{"kubernetes.io/os":"windows"}}},
				{"metadata":{"name":"other"},"spec":{"serviceAccountName":"someone-else"}}]}`)
		case "/apis/apps/v1/namespaces/apps/replicasets/web-6d5":
			fmt.Fprint(w, `{"metadata":{"name":"web-6d5","ownerReferences":[{"kind":"Deployment","name":"web","controller":true}]}}`)
		case "/api/v1/namespaces/secret":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","message":"namespaces \"secret\" is forbidden: User \"x\" cannot get resource"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","reason":"NotFound"}`)
		}
	}))
	defer srv.Close()
	// TLS: client-go hands a kubeconfig's credentials only to TLS servers.
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: "http://127.0.0.1:1"}
- name: test
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: u
  user: {token: sekret}
contexts:
- name: wrong
  context: {cluster: other, user: u}
- name: right
  context: {cluster: test, user: u}
current-context: wrong
`, srv.URL, ca)
	// As a path, with the context chosen as kubeContext chooses it.
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := discover.NewKubeAPILookup(path, "right")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sa, err := l.ServiceAccount(ctx, "default", "pod-id-sa")
	if err != nil || sa == nil || sa.Labels["a"] != "b" {
		t.Fatalf("service account = %+v, %v", sa, err)
	}
	irsaSA, err := l.ServiceAccount(ctx, "apps", "irsa")
	if err != nil || !reflect.DeepEqual(irsaSA.AnnotationManagers["eks.amazonaws.com/role-arn"], []string{"kubectl-client-side-apply", "pulumi-kubernetes-0a1b2c3d"}) {
		t.Fatalf("the annotation's managers = %+v, %v", irsaSA, err)
	}
	pods, err := l.PodsOf(ctx, "apps", "irsa")
	wantPods := []irsa.Pod{
		{Name: "web-6d5-abc", OwnerKind: "Deployment", OwnerName: "web", OnIRSA: true},
		{Name: "db-0", OwnerKind: "StatefulSet", OwnerName: "db"},
		{Name: "win", Fargate: true, Windows: true},
	}
	if err != nil || !reflect.DeepEqual(pods, wantPods) {
		t.Fatalf("PodsOf = %+v, %v\nwant %+v", pods, err, wantPods)
	}
	pod, err := l.Pod(ctx, "default", "aws-cli-pod-identity")
	wantPod := &discover.PodSpec{ServiceAccountName: "pod-id-sa", RestartPolicy: "Never",
		Containers: []discover.Container{{Name: "aws-cli", Image: "amazon/aws-cli:latest", Command: []string{"sleep", "3600"}}}}
	if err != nil || pod == nil || !reflect.DeepEqual(pod.Pod, wantPod) {
		t.Fatalf("pod = %+v, %v", pod, err)
	}
	// The walkthrough's pod after its hour of sleep: adoption refuses it.
	if pod.Phase != "Succeeded" {
		t.Errorf("pod phase = %q, want Succeeded", pod.Phase)
	}
	hardened, err := l.Pod(ctx, "apps", "hardened")
	no, yes, id := false, true, int64(1000)
	wantHardened := &discover.PodSpec{ServiceAccountName: "api", RestartPolicy: "Never", AutomountServiceAccountToken: &no,
		RunAsNonRoot: &yes, RunAsUser: &id, RunAsGroup: &id, SeccompProfile: "RuntimeDefault", EmptyDirs: []string{"home"},
		Containers: []discover.Container{{Name: "aws-cli", Image: "i", Command: []string{"sleep", "3600"},
			Env:                      map[string]string{"HOME": "/tmp/home", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"},
			Mounts:                   map[string]string{"/tmp/home": "home", "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount": "eks-pod-identity-token"},
			AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes, DropCapabilities: []string{"ALL"}}}}
	if err != nil || hardened == nil || !reflect.DeepEqual(hardened.Pod, wantHardened) {
		t.Fatalf("hardened pod = %+v, %v", hardened.Pod, err)
	}
	if o, err := l.Namespace(ctx, "apps"); o != nil || err != nil {
		t.Errorf("absent namespace = %+v, %v; want nil, nil", o, err)
	}
	if o, err := l.Namespace(ctx, "secret"); o != nil || err == nil || !strings.Contains(err.Error(), "403 Forbidden: namespaces \"secret\" is forbidden") {
		t.Errorf("forbidden namespace = %+v, %v; want the API's refusal", o, err)
	}
	for _, a := range gotAuth {
		if a != "Bearer sekret" {
			t.Errorf("request authenticated as %q, want the kubeconfig's token", a)
		}
	}

	// As content, with its current context.
	content := strings.Replace(kubeconfig, "current-context: wrong", "current-context: right", 1)
	l, err = discover.NewKubeAPILookup(content, "")
	if err != nil {
		t.Fatal(err)
	}
	if sa, err := l.ServiceAccount(ctx, "default", "pod-id-sa"); err != nil || sa == nil {
		t.Errorf("from content: %+v, %v", sa, err)
	}
	if _, err := discover.NewKubeAPILookup(content, "missing"); err == nil {
		t.Error("a context the kubeconfig lacks was accepted")
	}
}
