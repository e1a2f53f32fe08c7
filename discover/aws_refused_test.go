package discover

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A lookup AWS refuses is an error, never "absent": taking AccessDenied for
// "not found" would let `up` create over an object it could not see, and
// fail half-way on the conflict. Only NoSuchEntity (IAM) and
// ResourceNotFoundException (EKS) mean absent; the Kubernetes side has the
// same rule for 403 (TestKubeAPILookup).
func TestSDKLookupRefusalIsNeverAbsent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		switch {
		case form.Get("Action") == "GetRole":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:GetRole</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/addons/eks-pod-identity-agent"):
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"User is not authorized to perform: eks:DescribeAddon"}`)
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/pod-identity-associations"):
			w.Header().Set("X-Amzn-Errortype", "InvalidParameterException")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"message":"The cluster is not ready"}`)
		default:
			t.Errorf("unexpected call %s %s %v", r.Method, r.URL, form)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	noAmbientAWS(t)
	id, err := ReadAWSIdentity(map[string]string{
		"aws:accessKey": "AKIASTACK",
		"aws:secretKey": "secret",
		"aws:endpoints": fmt.Sprintf(`[{"iam":%q,"eks":%q}]`, srv.URL, srv.URL),
	}, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewSDKLookup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		what   string
		lookup func() (bool, error)
		want   string
	}{
		{"role", func() (bool, error) { r, err := l.Role(ctx, "EKSPodIdentityS3Role"); return r != nil, err }, "AccessDenied"},
		{"add-on", func() (bool, error) {
			a, err := l.Addon(ctx, "my-eks-cluster", "eks-pod-identity-agent")
			return a != nil, err
		}, "AccessDeniedException"},
		{"association", func() (bool, error) {
			a, err := l.Association(ctx, "my-eks-cluster", "default", "pod-id-sa")
			return a != nil, err
		}, "InvalidParameterException"},
	} {
		found, err := tc.lookup()
		if found || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s lookup refused by AWS = found %v, %v; want an error naming %s", tc.what, found, err, tc.want)
		}
	}
}
