package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"
)

// providerVersion is the pulumi-aws version the stand-in reports and is
// installed as; the build sets it from tests/engine/versions.env
// (-ldflags "-X main.providerVersion=..."), main refuses to start without.
var providerVersion string

const (
	providerName = "aws"
	// defaultTimeout bounds waits (add-on ACTIVE, role propagation) when the
	// engine passes no customTimeouts.
	defaultTimeout = 20 * time.Minute
)

// clients are the AWS API clients, built by Configure.
type clients struct {
	region string
	iam    *iam.Client
	eks    *eks.Client
	sts    *sts.Client
}

type standin struct {
	pulumirpc.UnimplementedResourceProviderServer

	host *provider.HostClient

	mu  sync.RWMutex
	aws *clients
}

func newStandin(host *provider.HostClient) *standin { return &standin{host: host} }

// resourceKind describes one resource type the stand-in serves.
type resourceKind struct {
	token string
	// inputs are the input property names, in the order diffs list them.
	inputs []string
	// replaces are inputs whose change forces replacement (ForceNew in the TF schema).
	replaces map[string]bool
	// optionalComputed inputs may be absent from the program and then take
	// their value from the provider; their absence is not a change.
	optionalComputed map[string]bool
	// computedOnCreate are outputs only known after create (unknown in preview).
	computedOnCreate []string
	// deleteBeforeReplace is what pulumi-aws itself reports for the type.
	deleteBeforeReplace bool

	check func(c *checkInput) (resource.PropertyMap, []*pulumirpc.CheckFailure)
	// diff replaces the generic diffResource when set.
	diff   func(k *resourceKind, olds, news resource.PropertyMap) *pulumirpc.DiffResponse
	create func(ctx context.Context, a *clients, news resource.PropertyMap, timeout time.Duration) (string, resource.PropertyMap, error)
	// read returns id "" when the resource no longer exists.
	read   func(ctx context.Context, a *clients, id string, state resource.PropertyMap) (string, resource.PropertyMap, error)
	update func(ctx context.Context, a *clients, id string, olds, news resource.PropertyMap, timeout time.Duration) (resource.PropertyMap, error)
	delete func(ctx context.Context, a *clients, id string, state resource.PropertyMap, timeout time.Duration) error
}

type checkInput struct {
	urn        resource.URN
	name       string
	olds, news resource.PropertyMap
	seed       []byte
	autonaming *pulumirpc.CheckRequest_AutonamingOptions
}

var kinds = map[string]*resourceKind{}

func register(k *resourceKind) { kinds[k.token] = k }

func kindFor(token string) (*resourceKind, error) {
	k, ok := kinds[token]
	if !ok {
		return nil, fmt.Errorf("pulumi-aws stand-in: resource type %q is not implemented (test equipment serves only %s)",
			token, strings.Join(kindTokens(), ", "))
	}
	return k, nil
}

func kindTokens() []string {
	out := make([]string, 0, len(kinds))
	for t := range kinds {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func typeOf(urn, typ string) string {
	if typ != "" {
		return typ
	}
	u, err := resource.ParseURN(urn)
	if err != nil {
		return urn
	}
	return string(u.Type())
}

func (p *standin) clients() (*clients, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.aws == nil {
		return nil, errors.New("pulumi-aws stand-in: provider is not configured")
	}
	return p.aws, nil
}

func timeoutOf(seconds float64) time.Duration {
	if seconds > 0 {
		return time.Duration(seconds * float64(time.Second))
	}
	return defaultTimeout
}

// ---------------------------------------------------------------------------
// plugin metadata and configuration

func (p *standin) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: providerVersion}, nil
}

// GetSchema returns the part of pulumi-aws's schema a YAML program reads
// when it type-checks what it names: the provider's own inputs (for an
// explicit `pulumi:providers:aws`) and aws:eks/getCluster:getCluster, with
// pulumi-aws's module format so `aws:eks:getCluster` resolves. up, preview,
// refresh and destroy of Go programs do not read it.
func (p *standin) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if req.GetSubpackageName() != "" {
		return nil, fmt.Errorf("pulumi-aws stand-in: no parameterized sub-package %q", req.GetSubpackageName())
	}
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(standinSchema, providerName, providerVersion)}, nil
}

const standinSchema = `{
  "name": %q,
  "version": %q,
  "description": "pulumi-aws stand-in (test equipment)",
  "meta": {"moduleFormat": "(.*)(?:/[^/]*)"},
  "provider": {
    "inputProperties": {
      "region": {"type": "string"},
      "profile": {"type": "string"},
      "accessKey": {"type": "string"},
      "secretKey": {"type": "string", "secret": true},
      "token": {"type": "string", "secret": true}
    }
  },
  "functions": {
    "aws:eks/getCluster:getCluster": {
      "inputs": {
        "properties": {"name": {"type": "string"}, "tags": {"type": "object", "additionalProperties": {"type": "string"}}},
        "type": "object",
        "required": ["name"]
      },
      "outputs": {
        "properties": {
          "id": {"type": "string"}, "name": {"type": "string"}, "arn": {"type": "string"},
          "endpoint": {"type": "string"}, "version": {"type": "string"}, "status": {"type": "string"},
          "roleArn": {"type": "string"}, "platformVersion": {"type": "string"}
        },
        "type": "object",
        "required": ["arn", "endpoint", "id", "name", "roleArn", "status", "version"]
      }
    }
  }
}`

func (p *standin) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *standin) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal("config", req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	if !present(news, "region") && envRegion() == "" {
		failures = append(failures, failure("region",
			"Missing required configuration key 'aws:region' (or AWS_REGION in the environment)"))
	}
	out, err := marshal("config", news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: out, Failures: failures}, nil
}

func (p *standin) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal("old config", req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal("old config", req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal("new config", req.GetNews())
	if err != nil {
		return nil, err
	}
	var diffs []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	for k := range keys {
		o, n := olds[k], news[k]
		if n.ContainsUnknowns() || !plain(o).DeepEquals(plain(n)) {
			diffs = append(diffs, string(k))
			detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
		}
	}
	sort.Strings(diffs)
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{Changes: changes, Diffs: diffs, DetailedDiff: detailed, HasDetailedDiff: true}, nil
}

func envRegion() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return os.Getenv("AWS_DEFAULT_REGION")
}

func (p *standin) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args, err := unmarshal("config", req.GetArgs())
	if err != nil {
		return nil, err
	}
	// The engine sends provider config as args; the deprecated variables map
	// carries nothing more.
	region := str(args, "region")
	if region == "" {
		region = envRegion()
	}
	if region == "" {
		return nil, errors.New("pulumi-aws stand-in: no region: set the provider's region (aws:region) or AWS_REGION")
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		return nil, errors.New("pulumi-aws stand-in: AWS_ENDPOINT_URL is not set; this test equipment only talks to a moto server and refuses to guess")
	}
	accessKey := firstNonEmpty(str(args, "accessKey"), os.Getenv("AWS_ACCESS_KEY_ID"), "testing")
	secretKey := firstNonEmpty(str(args, "secretKey"), os.Getenv("AWS_SECRET_ACCESS_KEY"), "testing")
	token := firstNonEmpty(str(args, "token"), os.Getenv("AWS_SESSION_TOKEN"))

	cfg := aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(accessKey, secretKey, token)),
		BaseEndpoint: aws.String(endpoint),
	}
	if err := retrySettings(&cfg, args); err != nil {
		return nil, err
	}
	if err := assumeRole(ctx, &cfg, args); err != nil {
		return nil, fmt.Errorf("pulumi-aws stand-in: %w", err)
	}
	if os.Getenv("PULUMI_AWS_STANDIN_LOG") != "" {
		// Debugging aid: log every AWS request, response and retry to stderr
		// (the engine keeps plugin stderr in its verbose logs).
		cfg.Logger = logging.NewStandardLogger(os.Stderr)
		cfg.ClientLogMode = aws.LogRequest | aws.LogResponse | aws.LogRetries
	}
	c := &clients{
		region: region,
		iam:    iam.NewFromConfig(cfg),
		eks:    eks.NewFromConfig(cfg),
		sts:    sts.NewFromConfig(cfg),
	}
	// pulumi-aws validates credentials at configure time unless told not to;
	// here that also proves the moto endpoint answers.
	if !boolean(args, "skipCredentialsValidation") {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := c.sts.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{}); err != nil {
			return nil, fmt.Errorf("pulumi-aws stand-in: validating credentials against %s: %w", endpoint, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := checkAllowedAccount(cctx, c, args); err != nil {
		return nil, fmt.Errorf("pulumi-aws stand-in: %w", err)
	}
	p.mu.Lock()
	p.aws = c
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets:                   true,
		SupportsPreview:                 true,
		AcceptResources:                 false,
		AcceptOutputs:                   false,
		SupportsAutonamingConfiguration: true,
	}, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// resource lifecycle

func (p *standin) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	k, err := kindFor(typeOf(req.GetUrn(), req.GetType()))
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal("olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("news", req.GetNews())
	if err != nil {
		return nil, err
	}
	name := req.GetName()
	if name == "" {
		if u, err := resource.ParseURN(req.GetUrn()); err == nil {
			name = u.Name()
		}
	}
	inputs, failures := k.check(&checkInput{
		urn:        resource.URN(req.GetUrn()),
		name:       name,
		olds:       olds,
		news:       news.Copy(),
		seed:       req.GetRandomSeed(),
		autonaming: req.GetAutonaming(),
	})
	out, err := marshal("inputs", inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: out, Failures: failures}, nil
}

func (p *standin) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	k, err := kindFor(typeOf(req.GetUrn(), req.GetType()))
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal("olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("news", req.GetNews())
	if err != nil {
		return nil, err
	}
	if k.diff != nil {
		return k.diff(k, olds, news), nil
	}
	return diffResource(k, olds, news), nil
}

// diffResource compares the checked new inputs with the old state.
func diffResource(k *resourceKind, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{DetailedDiff: map[string]*pulumirpc.PropertyDiff{}, HasDetailedDiff: true}
	for _, key := range k.inputs {
		nv, nok := news[resource.PropertyKey(key)]
		ov, ook := olds[resource.PropertyKey(key)]
		nok = nok && !isEmpty(nv)
		ook = ook && !isEmpty(ov)
		var kind pulumirpc.PropertyDiff_Kind
		switch {
		case !nok && !ook:
			continue
		case !nok:
			if k.optionalComputed[key] {
				continue
			}
			kind = pulumirpc.PropertyDiff_DELETE
		case !ook:
			kind = pulumirpc.PropertyDiff_ADD
		default:
			if !nv.ContainsUnknowns() && sameValue(plain(ov), plain(nv)) {
				continue
			}
			kind = pulumirpc.PropertyDiff_UPDATE
		}
		if k.replaces[key] {
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
			resp.Replaces = append(resp.Replaces, key)
		}
		resp.Diffs = append(resp.Diffs, key)
		resp.DetailedDiff[key] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	} else {
		resp.Changes = pulumirpc.DiffResponse_DIFF_NONE
	}
	if len(resp.Replaces) > 0 {
		resp.DeleteBeforeReplace = k.deleteBeforeReplace
	}
	return resp
}

// isEmpty treats null, "" and empty maps/lists as "not set", as Terraform does.
func isEmpty(v resource.PropertyValue) bool {
	if v.ContainsUnknowns() {
		return false
	}
	p := plain(v)
	switch {
	case p.IsNull():
		return true
	case p.IsString():
		return p.StringValue() == ""
	case p.IsObject():
		return len(p.ObjectValue()) == 0
	case p.IsArray():
		return len(p.ArrayValue()) == 0
	}
	return false
}

func sameValue(a, b resource.PropertyValue) bool {
	if a.IsString() && b.IsString() {
		return jsonEquivalent(a.StringValue(), b.StringValue())
	}
	return a.DeepEquals(b)
}

func (p *standin) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := kindFor(typeOf(req.GetUrn(), req.GetType()))
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("news", req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		outs := news.Copy()
		for _, key := range k.computedOnCreate {
			if !present(news, key) || unknown(news, key) {
				outs[resource.PropertyKey(key)] = computed()
			}
		}
		props, err := marshal("outputs", outs)
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Properties: props}, nil
	}
	if news.ContainsUnknowns() {
		return nil, fmt.Errorf("creating %s: inputs contain unknown values outside preview", k.token)
	}
	a, err := p.clients()
	if err != nil {
		return nil, err
	}
	id, outs, err := k.create(ctx, a, news, timeoutOf(req.GetTimeout()))
	if err != nil {
		if id != "" {
			// Created but not settled: record it so a later run can fix or delete it.
			return nil, initFailed(id, keepSecrets(outs, news), news, err)
		}
		return nil, err
	}
	props, err := marshal("outputs", keepSecrets(outs, news))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func initFailed(id string, outs, ins resource.PropertyMap, cause error) error {
	props, err := marshal("outputs", outs)
	if err != nil {
		return errors.Join(cause, err)
	}
	inputs, err := marshal("inputs", ins)
	if err != nil {
		return errors.Join(cause, err)
	}
	return rpcerror.WithDetails(rpcerror.New(codes.Unknown, cause.Error()), &pulumirpc.ErrorResourceInitFailed{
		Id: id, Properties: props, Inputs: inputs, Reasons: []string{cause.Error()},
	})
}

func (p *standin) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	k, err := kindFor(typeOf(req.GetUrn(), req.GetType()))
	if err != nil {
		return nil, err
	}
	state, err := unmarshal("state", req.GetProperties())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal("inputs", req.GetInputs())
	if err != nil {
		return nil, err
	}
	a, err := p.clients()
	if err != nil {
		return nil, err
	}
	id, outs, err := k.read(ctx, a, req.GetId(), state)
	if err != nil {
		return nil, err
	}
	if id == "" {
		// Gone: an empty ID tells the engine to drop it from the state.
		return &pulumirpc.ReadResponse{}, nil
	}
	outs = keepSecrets(outs, state)
	inputs := extractInputs(k, oldInputs, outs)
	props, err := marshal("outputs", outs)
	if err != nil {
		return nil, err
	}
	ins, err := marshal("inputs", inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: id, Properties: props, Inputs: ins}, nil
}

// extractInputs refreshes the recorded inputs from what was read: keys the
// program set take their current value; on import (no old inputs) every
// input the read produced is taken.
func extractInputs(k *resourceKind, oldInputs, outs resource.PropertyMap) resource.PropertyMap {
	inputs := resource.PropertyMap{}
	for _, key := range k.inputs {
		pk := resource.PropertyKey(key)
		_, hadInput := oldInputs[pk]
		v, has := outs[pk]
		switch {
		case len(oldInputs) == 0 && has && !isEmpty(v) && !k.optionalComputed[key]:
			inputs[pk] = v
		case hadInput && has:
			inputs[pk] = v
		case hadInput:
			inputs[pk] = oldInputs[pk]
		}
	}
	return inputs
}

func (p *standin) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, err := kindFor(typeOf(req.GetUrn(), req.GetType()))
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal("olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("news", req.GetNews())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		outs := olds.Copy()
		for _, key := range k.inputs {
			pk := resource.PropertyKey(key)
			if v, ok := news[pk]; ok {
				outs[pk] = v
			} else if !k.optionalComputed[key] {
				delete(outs, pk)
			}
		}
		if _, ok := outs["tagsAll"]; ok || present(news, "tags") {
			if unknown(news, "tags") {
				outs["tagsAll"] = computed()
			} else {
				outs["tagsAll"] = mapProp(strMap(news, "tags"))
			}
		}
		if _, ok := outs["modifiedAt"]; ok {
			outs["modifiedAt"] = computed()
		}
		props, err := marshal("outputs", outs)
		if err != nil {
			return nil, err
		}
		return &pulumirpc.UpdateResponse{Properties: props}, nil
	}
	a, err := p.clients()
	if err != nil {
		return nil, err
	}
	outs, err := k.update(ctx, a, req.GetId(), olds, news, timeoutOf(req.GetTimeout()))
	if err != nil {
		return nil, err
	}
	props, err := marshal("outputs", keepSecrets(outs, news))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *standin) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	k, err := kindFor(typeOf(req.GetUrn(), req.GetType()))
	if err != nil {
		return nil, err
	}
	state, err := unmarshal("state", req.GetProperties())
	if err != nil {
		return nil, err
	}
	a, err := p.clients()
	if err != nil {
		return nil, err
	}
	if err := k.delete(ctx, a, req.GetId(), state, timeoutOf(req.GetTimeout())); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// ---------------------------------------------------------------------------
// invokes

type invokeFunc func(ctx context.Context, a *clients, args resource.PropertyMap) (resource.PropertyMap, error)

var invokes = map[string]invokeFunc{}

func (p *standin) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	fn, ok := invokes[req.GetTok()]
	if !ok {
		toks := make([]string, 0, len(invokes))
		for t := range invokes {
			toks = append(toks, t)
		}
		sort.Strings(toks)
		return nil, fmt.Errorf("pulumi-aws stand-in: function %q is not implemented (test equipment serves only %s)",
			req.GetTok(), strings.Join(toks, ", "))
	}
	args, err := unmarshal("args", req.GetArgs())
	if err != nil {
		return nil, err
	}
	a, err := p.clients()
	if err != nil {
		return nil, err
	}
	res, err := fn(ctx, a, args)
	if err != nil {
		return nil, err
	}
	ret, err := marshal("return", res)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}
