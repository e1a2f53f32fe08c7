// Package agent is TEST EQUIPMENT for the engine tier: a stand-in for the
// EKS Pod Identity Agent and, behind it, the EKS Auth API
// (AssumeRoleForPodIdentity), serving the container credentials endpoint
// the AWS SDKs and CLI call when EKS set AWS_CONTAINER_CREDENTIALS_FULL_URI.
//
// GET /v1/credentials with the pod's projected service account token as the
// Authorization header (the raw token, as the SDKs send the token file's
// content):
//
//  1. the token is checked by the apiserver (TokenReview, audience
//     pods.eks.amazonaws.com), which names the namespace, service account,
//     pod and pod UID it is bound to;
//  2. the association for that namespace and service account is looked up
//     in moto (Directory), at request time, as EKS Auth does;
//  3. the role's trust policy is evaluated for pods.eks.amazonaws.com
//     calling sts:AssumeRole and sts:TagSession with the six session tags
//     (EvaluateTrust): moto's STS does not evaluate trust policies for a
//     Service principal, so this stand-in does;
//  4. moto's STS AssumeRole is called for the association's role with the
//     session name and session tags EKS uses, and its credentials are
//     returned as the agent returns them: AccessKeyId, SecretAccessKey,
//     Token, AccountId, Expiration.
//
// Any refusal is an HTTP error with a message saying why, which the CLI
// prints. GET /debug/sessions lists the sessions it issued (test
// introspection; the real agent has no such route).
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/uuid"
	"github.com/platform-eng/eks-pod-identity/tests/engine/kube"
)

// Audience is the audience of the token EKS projects into pods.
const Audience = "pods.eks.amazonaws.com"

// Session is one set of credentials the agent vended.
type Session struct {
	Time           time.Time         `json:"time"`
	Namespace      string            `json:"namespace"`
	ServiceAccount string            `json:"serviceAccount"`
	Pod            string            `json:"pod"`
	PodUID         string            `json:"podUid"`
	Cluster        string            `json:"cluster"`
	AssociationID  string            `json:"associationId"`
	RoleArn        string            `json:"roleArn"`
	SessionName    string            `json:"sessionName"`
	Tags           map[string]string `json:"tags"`
	AssumedRoleArn string            `json:"assumedRoleArn"`
	AccessKeyID    string            `json:"accessKeyId"`
	// TargetRoleArn is the association's target role, which the first
	// role's session assumed in turn (role chaining); AssumedRoleArn is
	// then the target's session, the one the pod got.
	TargetRoleArn string `json:"targetRoleArn,omitempty"`
	FirstRoleArn  string `json:"firstAssumedRoleArn,omitempty"`
}

// Agent serves the credentials endpoint.
type Agent struct {
	Kube      *kube.Client
	Directory *Directory
	Log       *log.Logger

	mu       sync.Mutex
	sessions []Session
}

type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/credentials" && r.Method == http.MethodGet:
		creds, err := a.credentials(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				code = he.code
			}
			a.Log.Printf("agent: refused (%d): %v", code, err)
			http.Error(w, err.Error(), code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(creds)
	case r.URL.Path == "/debug/sessions" && r.Method == http.MethodGet:
		a.mu.Lock()
		out := append([]Session(nil), a.sessions...)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

type credentialsResponse struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	AccountID       string `json:"AccountId"`
	Expiration      string `json:"Expiration"`
}

// identity is what the apiserver says a pod-bound token belongs to.
type identity struct {
	namespace, serviceAccount, pod, podUID string
}

func (a *Agent) review(ctx context.Context, token string) (identity, error) {
	var review struct {
		Status struct {
			Authenticated bool     `json:"authenticated"`
			Error         string   `json:"error"`
			Audiences     []string `json:"audiences"`
			User          struct {
				Username string              `json:"username"`
				Extra    map[string][]string `json:"extra"`
			} `json:"user"`
		} `json:"status"`
	}
	body := map[string]any{
		"apiVersion": "authentication.k8s.io/v1",
		"kind":       "TokenReview",
		"spec":       map[string]any{"token": token, "audiences": []string{Audience}},
	}
	if err := a.Kube.Create(ctx, "/apis/authentication.k8s.io/v1/tokenreviews", body, &review); err != nil {
		return identity{}, fmt.Errorf("token review: %w", err)
	}
	st := review.Status
	if !st.Authenticated {
		return identity{}, fail(http.StatusUnauthorized, "the service account token is not valid for audience %s: %s", Audience, st.Error)
	}
	parts := strings.Split(st.User.Username, ":")
	if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" {
		return identity{}, fail(http.StatusForbidden, "the token belongs to %q, not to a service account", st.User.Username)
	}
	id := identity{namespace: parts[2], serviceAccount: parts[3]}
	if v := st.User.Extra["authentication.kubernetes.io/pod-name"]; len(v) == 1 {
		id.pod = v[0]
	}
	if v := st.User.Extra["authentication.kubernetes.io/pod-uid"]; len(v) == 1 {
		id.podUID = v[0]
	}
	if id.pod == "" || id.podUID == "" {
		return identity{}, fail(http.StatusForbidden, "the token of %s/%s is not bound to a pod", id.namespace, id.serviceAccount)
	}
	return id, nil
}

func (a *Agent) credentials(ctx context.Context, token string) (*credentialsResponse, error) {
	if token == "" {
		// The real agent's answer to a request without a token.
		return nil, fail(http.StatusBadRequest, "Service account token cannot be empty")
	}
	id, err := a.review(ctx, token)
	if err != nil {
		return nil, err
	}
	assoc, err := a.Directory.Find(ctx, id.namespace, id.serviceAccount)
	if err != nil {
		return nil, err
	}
	if assoc == nil {
		return nil, fail(http.StatusNotFound, "no pod identity association for service account %s in namespace %s", id.serviceAccount, id.namespace)
	}
	cfg := a.Directory.AWS(assoc.Cluster.Region)
	roleName := assoc.RoleArn[strings.LastIndex(assoc.RoleArn, "/")+1:]
	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)})
	if err != nil {
		return nil, fmt.Errorf("get role %s of association %s: %w", assoc.RoleArn, assoc.ID, err)
	}
	if got := aws.ToString(role.Role.Arn); got != assoc.RoleArn {
		return nil, fail(http.StatusForbidden, "association %s names role %s, but the role called %s is %s", assoc.ID, assoc.RoleArn, roleName, got)
	}

	var tags map[string]string
	actions := []string{"sts:AssumeRole"}
	if !assoc.DisableSessionTags {
		tags = SessionTags(assoc.Cluster.Arn, assoc.Cluster.Name, id.namespace, id.serviceAccount, id.pod, id.podUID)
		actions = append(actions, "sts:TagSession")
	}
	decision, err := EvaluateTrust(aws.ToString(role.Role.AssumeRolePolicyDocument), Request{Service: Audience, Actions: actions, Tags: tags})
	if err != nil {
		return nil, fail(http.StatusForbidden, "trust policy of %s: %v", assoc.RoleArn, err)
	}
	if !decision.Allowed {
		return nil, fail(http.StatusForbidden, "AccessDenied: the trust policy of %s does not let %s assume it for %s/%s: %s",
			assoc.RoleArn, Audience, id.namespace, id.serviceAccount, decision.Reason)
	}

	name := SessionName(assoc.Cluster.Name, id.pod, uuid.NewString())
	in := &sts.AssumeRoleInput{RoleArn: aws.String(assoc.RoleArn), RoleSessionName: aws.String(name)}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if assoc.Policy != "" && assoc.TargetRoleArn == "" {
		in.Policy = aws.String(assoc.Policy)
	}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("sts AssumeRole %s: %w", assoc.RoleArn, err)
	}
	s := Session{
		Time: time.Now().UTC(), Namespace: id.namespace, ServiceAccount: id.serviceAccount,
		Pod: id.pod, PodUID: id.podUID, Cluster: assoc.Cluster.Name, AssociationID: assoc.ID,
		RoleArn: assoc.RoleArn, SessionName: name, Tags: tags,
	}
	if assoc.TargetRoleArn != "" {
		// EKS assumes the target role with the first role's session: the
		// target's trust must let that role in, with the session tags or,
		// tags off, the association's external ID (User Guide,
		// pod-id-assign-target-role).
		s.TargetRoleArn, s.FirstRoleArn = assoc.TargetRoleArn, aws.ToString(out.AssumedRoleUser.Arn)
		if out, err = a.chain(ctx, cfg, assoc, out.Credentials, name, tags); err != nil {
			return nil, err
		}
	}
	c := out.Credentials
	s.AssumedRoleArn, s.AccessKeyID = aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(c.AccessKeyId)
	a.mu.Lock()
	a.sessions = append(a.sessions, s)
	a.mu.Unlock()
	a.Log.Printf("agent: %s/%s pod %s -> %s (association %s, cluster %s)", id.namespace, id.serviceAccount, id.pod, s.AssumedRoleArn, assoc.ID, assoc.Cluster.Name)
	return &credentialsResponse{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		Token:           aws.ToString(c.SessionToken),
		AccountID:       strings.Split(s.AssumedRoleArn, ":")[4],
		Expiration:      aws.ToTime(c.Expiration).UTC().Format(time.RFC3339),
	}, nil
}

// chain assumes the association's target role with the first role's
// credentials, after checking the target's trust as STS would for that
// caller.
func (a *Agent) chain(ctx context.Context, cfg aws.Config, assoc *Association, first *ststypes.Credentials, name string, tags map[string]string) (*sts.AssumeRoleOutput, error) {
	target := assoc.TargetRoleArn
	account := strings.Split(target, ":")[4]
	roleName := target[strings.LastIndex(target, "/")+1:]
	role, err := iam.NewFromConfig(InAccount(cfg, account)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)})
	if err != nil {
		return nil, fail(http.StatusForbidden, "AccessDenied: target role %s of association %s: %v", target, assoc.ID, err)
	}
	req := Request{PrincipalArn: assoc.RoleArn, Tags: tags, Actions: []string{"sts:AssumeRole"}}
	if len(tags) > 0 {
		req.Actions = append(req.Actions, "sts:TagSession")
	} else {
		req.ExternalID = assoc.ExternalID
	}
	decision, err := EvaluateTrust(aws.ToString(role.Role.AssumeRolePolicyDocument), req)
	if err != nil {
		return nil, fail(http.StatusForbidden, "trust policy of target role %s: %v", target, err)
	}
	if !decision.Allowed {
		return nil, fail(http.StatusForbidden, "AccessDenied: the trust policy of target role %s does not let %s assume it: %s", target, assoc.RoleArn, decision.Reason)
	}
	chained := cfg.Copy()
	chained.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(first.AccessKeyId), aws.ToString(first.SecretAccessKey), aws.ToString(first.SessionToken))
	in := &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String(name)}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if req.ExternalID != "" {
		in.ExternalId = aws.String(req.ExternalID)
	}
	if assoc.Policy != "" {
		// With a target role, EKS applies the session policy to it.
		in.Policy = aws.String(assoc.Policy)
	}
	out, err := sts.NewFromConfig(chained).AssumeRole(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("sts AssumeRole %s as %s: %w", target, assoc.RoleArn, err)
	}
	return out, nil
}

// InAccount is cfg addressed to another moto account: moto picks the
// account of a request from its x-moto-account-id header.
func InAccount(cfg aws.Config, account string) aws.Config {
	c := cfg.Copy()
	c.APIOptions = append(c.APIOptions, func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("motoAccount", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if r, ok := in.Request.(*smithyhttp.Request); ok {
				r.Header.Set("x-moto-account-id", account)
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	})
	return c
}
