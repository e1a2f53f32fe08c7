package discover

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Discovery acts as the stack's AWS identity: its static keys, the role it
// assumes (with the external ID), its region and its custom endpoints. A
// fake AWS behind the custom endpoints answers STS, IAM and EKS as AWS does
// and records who signed each call.
func TestSDKLookupActsAsTheStacksIdentity(t *testing.T) {
	var mu sync.Mutex
	signed := map[string]string{} // API call -> Authorization header
	var assumeForm url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		mu.Lock()
		defer mu.Unlock()
		switch {
		case form.Get("Action") == "AssumeRole":
			assumeForm = form
			signed["sts:AssumeRole"] = r.Header.Get("Authorization")
			fmt.Fprint(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/deploy/pulumi</Arn><AssumedRoleId>AROAEXAMPLE:pulumi</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
		case form.Get("Action") == "GetRole":
			signed["iam:GetRole"] = r.Header.Get("Authorization")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name `+form.Get("RoleName")+` cannot be found.</Message></Error><RequestId>2</RequestId></ErrorResponse>`)
		case r.Method == http.MethodGet && r.URL.Path == "/clusters/my-eks-cluster/addons/eks-pod-identity-agent":
			signed["eks:DescribeAddon"] = r.Header.Get("Authorization")
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"No addon: eks-pod-identity-agent found in cluster: my-eks-cluster"}`)
		default:
			t.Errorf("unexpected call %s %s %v", r.Method, r.URL, form)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	noAmbientAWS(t)
	id, err := ReadAWSIdentity(map[string]string{
		"aws:accessKey":  "AKIASTACK",
		"aws:secretKey":  "secret",
		"aws:assumeRole": `{"roleArn":"arn:aws:iam::111122223333:role/deploy","externalId":"ext-1","sessionName":"pulumi"}`,
		"aws:endpoints":  fmt.Sprintf(`[{"sts":%q,"iam":%q,"eks":%q}]`, srv.URL, srv.URL, srv.URL),
	}, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewSDKLookup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Role(context.Background(), "EKSPodIdentityS3Role"); r != nil || err != nil {
		t.Errorf("absent role = %+v, %v; want nil, nil", r, err)
	}
	if a, err := l.Addon(context.Background(), "my-eks-cluster", "eks-pod-identity-agent"); a != nil || err != nil {
		t.Errorf("absent add-on = %+v, %v; want nil, nil", a, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := assumeForm.Get("RoleArn") + " " + assumeForm.Get("ExternalId") + " " + assumeForm.Get("RoleSessionName"); got != "arn:aws:iam::111122223333:role/deploy ext-1 pulumi" {
		t.Errorf("AssumeRole with %q", got)
	}
	for call, want := range map[string]string{
		"sts:AssumeRole":    "Credential=AKIASTACK/",
		"iam:GetRole":       "Credential=ASIAASSUMED/",
		"eks:DescribeAddon": "Credential=ASIAASSUMED/",
	} {
		if !strings.Contains(signed[call], want) {
			t.Errorf("%s signed %q, want %s", call, signed[call], want)
		}
	}
	if !strings.Contains(signed["eks:DescribeAddon"], "/eu-west-1/eks/aws4_request") {
		t.Errorf("eks:DescribeAddon signed for %q, want the stack's region eu-west-1", signed["eks:DescribeAddon"])
	}
}

// noAmbientAWS keeps this machine's AWS configuration and credentials out
// of a test: only what the test's aws: keys say may reach the SDK.
func noAmbientAWS(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
	}
}

// ClusterAssociations lists every association of the cluster, page after
// page, and reads each one's role from its description (the list's
// summaries carry none); a refused describe is an error, not a gap.
func TestSDKLookupListsEveryAssociationOfTheClusterWithItsRole(t *testing.T) {
	refuse := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const base = "/clusters/my-eks-cluster/pod-identity-associations"
		switch {
		case r.Method == http.MethodGet && r.URL.Path == base && r.URL.Query().Get("namespace") == "":
			if r.URL.Query().Get("nextToken") == "" {
				fmt.Fprint(w, `{"associations":[{"associationId":"a-1","namespace":"default","serviceAccount":"pod-id-sa","clusterName":"my-eks-cluster"}],"nextToken":"p2"}`)
				return
			}
			fmt.Fprint(w, `{"associations":[{"associationId":"a-2","namespace":"reports","serviceAccount":"reader","clusterName":"my-eks-cluster"}]}`)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/a-"):
			id := strings.TrimPrefix(r.URL.Path, base+"/")
			if id == refuse {
				w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"message":"not authorized to perform: eks:DescribePodIdentityAssociation"}`)
				return
			}
			fmt.Fprintf(w, `{"association":{"associationId":%q,"roleArn":"arn:aws:iam::111122223333:role/EKSPodIdentityS3Role","tags":{"team":"x"}}}`, id)
		default:
			t.Errorf("unexpected call %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	noAmbientAWS(t)
	id, err := ReadAWSIdentity(map[string]string{"aws:accessKey": "AKIASTACK", "aws:secretKey": "secret",
		"aws:endpoints": fmt.Sprintf(`[{"eks":%q}]`, srv.URL)}, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewSDKLookup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	as, err := l.ClusterAssociations(context.Background(), "my-eks-cluster")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.ID+" "+a.Namespace+"/"+a.ServiceAccount+" "+a.RoleArn+" "+a.Tags["team"])
	}
	want := []string{
		"a-1 default/pod-id-sa arn:aws:iam::111122223333:role/EKSPodIdentityS3Role x",
		"a-2 reports/reader arn:aws:iam::111122223333:role/EKSPodIdentityS3Role x",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("associations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	refuse = "a-2"
	if as, err := l.ClusterAssociations(context.Background(), "my-eks-cluster"); err == nil || !strings.Contains(err.Error(), "describe a-2") {
		t.Errorf("a refused describe = %v, %v; want an error naming a-2", as, err)
	}
}
