//go:build engine

// Tests for the pulumi-aws stand-in (TEST EQUIPMENT). They start moto with
// the EKS extension through ../moto/start.sh and drive the provider's gRPC
// methods over a real loopback gRPC connection, plus one run of the built
// plugin binary. Run: go test -tags engine ./awsstandin (in tests/engine).

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	testCluster = "demo"
	testRegion  = "us-east-1"
	s3ReadOnly  = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	fakeCA      = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
	apiserver   = "https://127.0.0.1:6443"
)

var motoURL string

func TestMain(m *testing.M) {
	state, err := os.MkdirTemp("", "standin-moto-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := exec.Command("../moto/start.sh", state).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting moto: %v\n%s", err, out)
		os.Exit(1)
	}
	motoURL = strings.TrimSpace(lastLine(string(out)))
	os.Setenv("AWS_ENDPOINT_URL", motoURL)
	os.Setenv("AWS_ACCESS_KEY_ID", "testing")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	os.Setenv("AWS_REGION", testRegion)
	propagationTimeout = 3 * time.Second

	code := func() int {
		if err := registerCluster(testCluster); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	if out, err := exec.Command("../moto/stop.sh", state).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping moto: %v\n%s", err, out)
	}
	os.RemoveAll(state)
	os.Exit(code)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func registerCluster(name string) error {
	body, _ := json.Marshal(map[string]string{
		"name": name, "endpoint": apiserver, "version": "1.33", "region": testRegion,
		"certificateAuthorityData": base64.StdEncoding.EncodeToString([]byte(fakeCA)),
	})
	resp, err := http.Post(motoURL+"/moto-ext/clusters", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("registering cluster: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("registering cluster: HTTP %d", resp.StatusCode)
	}
	return nil
}

// client starts the provider on a loopback gRPC server and configures it.
func client(t *testing.T) pulumirpc.ResourceProviderClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterResourceProviderServer(srv, newStandin(nil))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := pulumirpc.NewResourceProviderClient(conn)
	_, err = c.Configure(context.Background(), &pulumirpc.ConfigureRequest{
		Args: mustStruct(t, resource.PropertyMap{"region": strProp(testRegion)}),
	})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func mustStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal("test", m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustMap(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal("test", s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func urnOf(typ, name string) string {
	return string(resource.NewURN("test", "standin", "", tokens.Type(typ), name))
}

func props(kv ...any) resource.PropertyMap {
	m := resource.PropertyMap{}
	for i := 0; i < len(kv); i += 2 {
		m[resource.PropertyKey(kv[i].(string))] = resource.NewPropertyValue(kv[i+1])
	}
	return m
}

// harness wraps the gRPC lifecycle calls for one resource.
type harness struct {
	t   *testing.T
	c   pulumirpc.ResourceProviderClient
	typ string
	urn string
}

func res(t *testing.T, c pulumirpc.ResourceProviderClient, typ, name string) *harness {
	return &harness{t: t, c: c, typ: typ, urn: urnOf(typ, name)}
}

func (h *harness) check(olds, news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	h.t.Helper()
	resp, err := h.c.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: h.urn, Type: h.typ, Olds: mustStruct(h.t, olds), News: mustStruct(h.t, news),
		RandomSeed: []byte("seed-" + h.urn),
	})
	if err != nil {
		h.t.Fatalf("Check: %v", err)
	}
	return mustMap(h.t, resp.Inputs), resp.Failures
}

func (h *harness) mustCheck(olds, news resource.PropertyMap) resource.PropertyMap {
	h.t.Helper()
	ins, failures := h.check(olds, news)
	if len(failures) > 0 {
		h.t.Fatalf("Check failures: %v", failures)
	}
	return ins
}

func (h *harness) create(ins resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	h.t.Helper()
	resp, err := h.c.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: h.urn, Type: h.typ, Properties: mustStruct(h.t, ins), Preview: preview,
	})
	if err != nil {
		return "", nil, err
	}
	return resp.Id, mustMap(h.t, resp.Properties), nil
}

func (h *harness) mustCreate(ins resource.PropertyMap) (string, resource.PropertyMap) {
	h.t.Helper()
	id, outs, err := h.create(ins, false)
	if err != nil {
		h.t.Fatalf("Create %s: %v", h.typ, err)
	}
	return id, outs
}

func (h *harness) read(id string, state, inputs resource.PropertyMap) (string, resource.PropertyMap, resource.PropertyMap) {
	h.t.Helper()
	resp, err := h.c.Read(context.Background(), &pulumirpc.ReadRequest{
		Id: id, Urn: h.urn, Type: h.typ, Properties: mustStruct(h.t, state), Inputs: mustStruct(h.t, inputs),
	})
	if err != nil {
		h.t.Fatalf("Read %s: %v", h.typ, err)
	}
	return resp.Id, mustMap(h.t, resp.Properties), mustMap(h.t, resp.Inputs)
}

func (h *harness) diff(id string, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	h.t.Helper()
	resp, err := h.c.Diff(context.Background(), &pulumirpc.DiffRequest{
		Id: id, Urn: h.urn, Type: h.typ, Olds: mustStruct(h.t, olds), News: mustStruct(h.t, news),
	})
	if err != nil {
		h.t.Fatalf("Diff: %v", err)
	}
	return resp
}

func (h *harness) update(id string, olds, news resource.PropertyMap) resource.PropertyMap {
	h.t.Helper()
	resp, err := h.c.Update(context.Background(), &pulumirpc.UpdateRequest{
		Id: id, Urn: h.urn, Type: h.typ, Olds: mustStruct(h.t, olds), News: mustStruct(h.t, news),
	})
	if err != nil {
		h.t.Fatalf("Update %s: %v", h.typ, err)
	}
	return mustMap(h.t, resp.Properties)
}

func (h *harness) delete(id string, state resource.PropertyMap) {
	h.t.Helper()
	if _, err := h.c.Delete(context.Background(), &pulumirpc.DeleteRequest{
		Id: id, Urn: h.urn, Type: h.typ, Properties: mustStruct(h.t, state),
	}); err != nil {
		h.t.Fatalf("Delete %s: %v", h.typ, err)
	}
}

func (h *harness) mustBeGone(id string, state resource.PropertyMap) {
	h.t.Helper()
	if got, _, _ := h.read(id, state, resource.PropertyMap{}); got != "" {
		h.t.Fatalf("Read after delete returned id %q, want empty", got)
	}
}

func expectReplace(t *testing.T, d *pulumirpc.DiffResponse, keys ...string) {
	t.Helper()
	if d.Changes != pulumirpc.DiffResponse_DIFF_SOME {
		t.Fatalf("want DIFF_SOME, got %v", d.Changes)
	}
	got := strings.Join(d.Replaces, ",")
	if got != strings.Join(keys, ",") {
		t.Fatalf("replaces = %q, want %q", got, strings.Join(keys, ","))
	}
}

func expectUpdateOnly(t *testing.T, d *pulumirpc.DiffResponse, keys ...string) {
	t.Helper()
	if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(d.Replaces) != 0 {
		t.Fatalf("want an in-place update, got changes=%v replaces=%v", d.Changes, d.Replaces)
	}
	if got := strings.Join(d.Diffs, ","); got != strings.Join(keys, ",") {
		t.Fatalf("diffs = %q, want %q", got, strings.Join(keys, ","))
	}
}

func expectNoDiff(t *testing.T, d *pulumirpc.DiffResponse) {
	t.Helper()
	if d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("want DIFF_NONE, got %v diffs=%v", d.Changes, d.Diffs)
	}
}

func merge(base resource.PropertyMap, kv ...any) resource.PropertyMap {
	out := base.Copy()
	for k, v := range props(kv...) {
		out[k] = v
	}
	return out
}

func without(base resource.PropertyMap, keys ...string) resource.PropertyMap {
	out := base.Copy()
	for _, k := range keys {
		delete(out, resource.PropertyKey(k))
	}
	return out
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got none", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// ---------------------------------------------------------------------------

func TestPluginBinary(t *testing.T) {
	version := os.Getenv("ENGINE_AWS_PLUGIN_VERSION")
	if version == "" {
		t.Fatal("ENGINE_AWS_PLUGIN_VERSION is not set: run this tier with tests/engine/run.sh")
	}
	dir := t.TempDir()
	// Without the version the binary refuses to start.
	bare := filepath.Join(dir, "bare")
	if out, err := exec.Command("go", "build", "-o", bare, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bare).CombinedOutput(); err == nil || !strings.Contains(string(out), "providerVersion") {
		t.Fatalf("a stand-in built without its version started: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "pulumi-resource-aws")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.providerVersion="+version, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading port: %v", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pulumirpc.NewResourceProviderClient(conn)
	info, err := c.GetPluginInfo(context.Background(), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != version {
		t.Fatalf("version = %q, want %q (versions.env)", info.Version, version)
	}
	schema, err := c.GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	var spec struct {
		Name, Version string
		Functions     map[string]any
	}
	if err := json.Unmarshal([]byte(schema.Schema), &spec); err != nil || spec.Name != "aws" || spec.Version != version || spec.Functions["aws:eks/getCluster:getCluster"] == nil {
		t.Fatalf("GetSchema = %s (%v)", schema.Schema, err)
	}
	if _, err := c.Configure(context.Background(), &pulumirpc.ConfigureRequest{
		Args: mustStruct(t, resource.PropertyMap{"region": strProp(testRegion)}),
	}); err != nil {
		t.Fatalf("Configure over the binary: %v", err)
	}
}

func TestConfigureRefusesWithoutEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	_, err := newStandin(nil).Configure(context.Background(), &pulumirpc.ConfigureRequest{
		Args: mustStruct(t, resource.PropertyMap{"region": strProp(testRegion)}),
	})
	wantErr(t, err, "AWS_ENDPOINT_URL")
}

func TestUnknownTypeAndFunction(t *testing.T) {
	c := client(t)
	_, err := c.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: urnOf("aws:s3/bucket:Bucket", "b"), Type: "aws:s3/bucket:Bucket",
		News: mustStruct(t, resource.PropertyMap{}),
	})
	wantErr(t, err, "aws:s3/bucket:Bucket", "not implemented")
	_, err = c.Invoke(context.Background(), &pulumirpc.InvokeRequest{
		Tok: "aws:ec2/getVpc:getVpc", Args: mustStruct(t, resource.PropertyMap{}),
	})
	wantErr(t, err, "aws:ec2/getVpc:getVpc", "not implemented")
}

func TestInvokeGetCluster(t *testing.T) {
	c := client(t)
	resp, err := c.Invoke(context.Background(), &pulumirpc.InvokeRequest{
		Tok: "aws:eks/getCluster:getCluster", Args: mustStruct(t, props("name", testCluster)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mustMap(t, resp.Return)
	for k, want := range map[string]string{
		"name": testCluster, "id": testCluster, "endpoint": apiserver, "version": "1.33", "status": "ACTIVE",
		"arn": "arn:aws:eks:us-east-1:123456789012:cluster/demo",
	} {
		if got := str(r, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	cas := r["certificateAuthorities"].ArrayValue()
	if len(cas) != 1 || str(cas[0].ObjectValue(), "data") != base64.StdEncoding.EncodeToString([]byte(fakeCA)) {
		t.Errorf("certificateAuthorities = %v", r["certificateAuthorities"])
	}
	for _, k := range []string{"accessConfigs", "computeConfigs", "identities", "kubernetesNetworkConfigs",
		"outpostConfigs", "remoteNetworkConfigs", "storageConfigs", "upgradePolicies", "zonalShiftConfigs",
		"enabledClusterLogTypes"} {
		if v, ok := r[resource.PropertyKey(k)]; !ok || !v.IsArray() {
			t.Errorf("%s missing or not a list: %v", k, v)
		}
	}
	if !r["vpcConfig"].IsObject() || str(r, "platformVersion") == "" || str(r, "roleArn") == "" {
		t.Errorf("vpcConfig/platformVersion/roleArn missing: %v", r)
	}

	_, err = c.Invoke(context.Background(), &pulumirpc.InvokeRequest{
		Tok: "aws:eks/getCluster:getCluster", Args: mustStruct(t, props("name", "no-such-cluster")),
	})
	wantErr(t, err, "reading EKS Cluster (no-such-cluster)", "ResourceNotFoundException")

	resp, err = c.Invoke(context.Background(), &pulumirpc.InvokeRequest{
		Tok: "aws:index/getCallerIdentity:getCallerIdentity", Args: mustStruct(t, resource.PropertyMap{}),
	})
	if err != nil || str(mustMap(t, resp.Return), "accountId") != "123456789012" {
		t.Fatalf("getCallerIdentity = %v, %v", resp, err)
	}
}

var autoName = regexp.MustCompile(`^app-role-[0-9a-f]{7}$`)

func TestRoleLifecycle(t *testing.T) {
	c := client(t)
	h := res(t, c, roleToken, "app-role")
	program := props("assumeRolePolicy", trustPolicy, "description", "first", "tags", map[string]any{"team": "platform"})

	ins := h.mustCheck(resource.PropertyMap{}, program)
	name := str(ins, "name")
	if !autoName.MatchString(name) {
		t.Fatalf("autoname %q does not match %v", name, autoName)
	}
	if str(ins, "path") != "/" || str(ins, "maxSessionDuration") != "3600" {
		t.Fatalf("defaults missing: %v", ins)
	}
	// A second check (the next `up`) keeps the name.
	if again := h.mustCheck(ins, program); str(again, "name") != name {
		t.Fatalf("autoname not stable: %q then %q", name, str(again, "name"))
	}
	// Object-valued policy documents become JSON text.
	var doc map[string]any
	_ = json.Unmarshal([]byte(trustPolicy), &doc)
	if got := h.mustCheck(resource.PropertyMap{}, props("assumeRolePolicy", doc)); !validJSON(str(got, "assumeRolePolicy")) {
		t.Fatalf("object policy not encoded: %v", got)
	}
	if _, failures := h.check(resource.PropertyMap{}, props("description", "x")); len(failures) == 0 {
		t.Fatal("missing assumeRolePolicy not reported")
	}

	_, preview, err := h.create(ins, true)
	if err != nil {
		t.Fatal(err)
	}
	if !preview["arn"].IsComputed() || !preview["uniqueId"].IsComputed() {
		t.Fatalf("preview outputs not unknown: %v", preview)
	}

	id, outs := h.mustCreate(ins)
	if id != name || !strings.HasPrefix(str(outs, "arn"), "arn:aws:iam::123456789012:role/"+name) ||
		str(outs, "uniqueId") == "" || str(outs, "createDate") == "" || strMap(outs, "tagsAll")["team"] != "platform" {
		t.Fatalf("create: id=%q outs=%v", id, outs)
	}
	if _, _, err := h.create(ins, false); err == nil || !strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatalf("duplicate role create: want EntityAlreadyExists, got %v", err)
	}

	rid, read, rins := h.read(id, outs, ins)
	if rid != id || str(read, "assumeRolePolicy") != trustPolicy || str(rins, "description") != "first" {
		t.Fatalf("read: id=%q props=%v inputs=%v", rid, read, rins)
	}
	expectNoDiff(t, h.diff(id, read, ins))
	expectUpdateOnly(t, h.diff(id, outs, merge(ins, "description", "second")), "description")
	expectReplace(t, h.diff(id, outs, merge(ins, "path", "/pods/")), "path")
	expectReplace(t, h.diff(id, outs, merge(ins, "name", "other")), "name")
	d := h.diff(id, outs, merge(ins, "namePrefix", "p-"))
	if !strings.Contains(strings.Join(d.Replaces, ","), "namePrefix") {
		t.Fatalf("namePrefix change should replace: %v", d.Replaces)
	}

	news := h.mustCheck(ins, merge(program, "description", "second", "maxSessionDuration", 7200,
		"tags", map[string]any{"team": "core", "env": "test"}))
	outs = h.update(id, outs, news)
	if str(outs, "description") != "second" || str(outs, "maxSessionDuration") != "7200" || strMap(outs, "tags")["env"] != "test" {
		t.Fatalf("update not applied: %v", outs)
	}
	_, read, _ = h.read(id, outs, news)
	if str(read, "description") != "second" || strMap(read, "tags")["team"] != "core" {
		t.Fatalf("update not visible in moto: %v", read)
	}

	h.delete(id, outs)
	h.mustBeGone(id, outs)
	h.delete(id, outs) // deleting what is gone is not an error
}

func TestRolePolicyAndAttachment(t *testing.T) {
	c := client(t)
	role := res(t, c, roleToken, "holder")
	rIns := role.mustCheck(resource.PropertyMap{}, props("name", "holder-role", "assumeRolePolicy", trustPolicy))
	roleID, roleOuts := role.mustCreate(rIns)
	defer role.delete(roleID, roleOuts)

	// Inline policy.
	pol := res(t, c, rolePolicyToken, "inline")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	pIns := pol.mustCheck(resource.PropertyMap{}, props("role", roleID, "name", "read-objects", "policy", policy))
	pID, pOuts := pol.mustCreate(pIns)
	if pID != "holder-role:read-objects" {
		t.Fatalf("RolePolicy id = %q", pID)
	}
	if id, read, _ := pol.read(pID, pOuts, pIns); id != pID || str(read, "policy") != policy {
		t.Fatalf("RolePolicy read: %q %v", id, read)
	}
	// Import form: only the ID.
	if id, read, ins := pol.read(pID, resource.PropertyMap{}, resource.PropertyMap{}); id != pID || str(ins, "role") != "holder-role" || str(read, "name") != "read-objects" {
		t.Fatalf("RolePolicy import read: %q %v %v", id, read, ins)
	}
	policy2 := strings.Replace(policy, "s3:GetObject", "s3:ListBucket", 1)
	expectUpdateOnly(t, pol.diff(pID, pOuts, merge(pIns, "policy", policy2)), "policy")
	expectReplace(t, pol.diff(pID, pOuts, merge(pIns, "name", "renamed")), "name")
	expectReplace(t, pol.diff(pID, pOuts, merge(pIns, "role", "another-role")), "role")
	pOuts = pol.update(pID, pOuts, merge(pIns, "policy", policy2))
	if _, read, _ := pol.read(pID, pOuts, pIns); !jsonEquivalent(str(read, "policy"), policy2) {
		t.Fatalf("RolePolicy update not visible: %v", read)
	}

	// Managed policy attachment.
	att := res(t, c, attachmentToken, "s3-read")
	aIns := att.mustCheck(resource.PropertyMap{}, props("role", roleID, "policyArn", s3ReadOnly))
	aID, aOuts := att.mustCreate(aIns)
	if !regexp.MustCompile(`^holder-role-\d{18}[0-9a-f]{8}$`).MatchString(aID) {
		t.Fatalf("attachment id = %q", aID)
	}
	if id, _, _ := att.read(aID, aOuts, aIns); id != aID {
		t.Fatalf("attachment read id = %q", id)
	}
	// Imported: the ID becomes "<role>-<arn>", as terraform-provider-aws records it.
	if id, read, _ := att.read("holder-role/"+s3ReadOnly, resource.PropertyMap{}, resource.PropertyMap{}); id != "holder-role-"+s3ReadOnly || str(read, "policyArn") != s3ReadOnly {
		t.Fatalf("attachment import read: %q %v", id, read)
	}
	d := att.diff(aID, aOuts, merge(aIns, "policyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess"))
	expectReplace(t, d, "policyArn")
	if !d.DeleteBeforeReplace {
		t.Fatal("attachment replacement should be delete-before-replace, as in pulumi-aws")
	}
	if _, _, err := att.create(props("role", roleID, "policyArn", "arn:aws:iam::aws:policy/NoSuchPolicy"), false); err == nil {
		t.Fatal("attaching a missing policy should fail")
	}

	// The role's own outputs now show what is attached.
	_, rRead, _ := role.read(roleID, roleOuts, rIns)
	if got := strList(rRead, "managedPolicyArns"); len(got) != 1 || got[0] != s3ReadOnly {
		t.Fatalf("managedPolicyArns = %v", got)
	}
	expectNoDiff(t, role.diff(roleID, rRead, rIns))

	att.delete(aID, aOuts)
	att.mustBeGone(aID, aOuts)
	pol.delete(pID, pOuts)
	pol.mustBeGone(pID, pOuts)
}

func TestAddonLifecycle(t *testing.T) {
	c := client(t)
	h := res(t, c, addonToken, "agent")
	ins := h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster, "addonName", "eks-pod-identity-agent",
		"resolveConflictsOnCreate", "OVERWRITE", "preserve", true, "tags", map[string]any{"a": "1"}))
	if _, failures := h.check(resource.PropertyMap{}, merge(ins, "resolveConflictsOnCreate", "SOMETIMES")); len(failures) == 0 {
		t.Fatal("bad resolveConflictsOnCreate not reported")
	}
	_, preview, err := h.create(ins, true)
	if err != nil || !preview["arn"].IsComputed() {
		t.Fatalf("preview: %v %v", preview, err)
	}

	id, outs := h.mustCreate(ins)
	if id != "demo:eks-pod-identity-agent" || !strings.HasPrefix(str(outs, "arn"), "arn:aws:eks:us-east-1:123456789012:addon/demo/eks-pod-identity-agent/") ||
		str(outs, "addonVersion") == "" || str(outs, "createdAt") == "" || !boolean(outs, "preserve") {
		t.Fatalf("create: %q %v", id, outs)
	}
	_, _, err = h.create(ins, false)
	wantErr(t, err, "creating EKS Add-On (demo:eks-pod-identity-agent)", "ResourceInUseException")
	_, _, err = h.create(merge(ins, "clusterName", "no-such-cluster"), false)
	wantErr(t, err, "ResourceNotFoundException")

	rid, read, _ := h.read(id, outs, ins)
	if rid != id || str(read, "addonVersion") != str(outs, "addonVersion") {
		t.Fatalf("read: %q %v", rid, read)
	}
	expectNoDiff(t, h.diff(id, read, ins))
	expectReplace(t, h.diff(id, outs, merge(ins, "addonName", "vpc-cni")), "addonName")
	expectReplace(t, h.diff(id, outs, merge(ins, "clusterName", "other")), "clusterName")
	expectUpdateOnly(t, h.diff(id, outs, merge(ins, "addonVersion", "v1.3.9-eksbuild.1")), "addonVersion")

	news := merge(ins, "addonVersion", "v1.3.9-eksbuild.1", "resolveConflictsOnUpdate", "OVERWRITE",
		"tags", map[string]any{"b": "2"})
	outs = h.update(id, outs, news)
	if str(outs, "addonVersion") != "v1.3.9-eksbuild.1" || strMap(outs, "tagsAll")["b"] != "2" || strMap(outs, "tagsAll")["a"] != "" {
		t.Fatalf("update: %v", outs)
	}

	h.delete(id, outs)
	h.mustBeGone(id, outs)
}

func TestPodIdentityAssociationLifecycle(t *testing.T) {
	c := client(t)
	role := res(t, c, roleToken, "pods")
	r1ID, r1 := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "pods-one", "assumeRolePolicy", trustPolicy)))
	defer role.delete(r1ID, r1)
	r2ID, r2 := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "pods-two", "assumeRolePolicy", trustPolicy)))
	defer role.delete(r2ID, r2)

	h := res(t, c, associationToken, "assoc")
	ins := h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster, "namespace", "apps",
		"serviceAccount", "reader", "roleArn", str(r1, "arn"), "tags", map[string]any{"owner": "me"}))
	if _, failures := h.check(resource.PropertyMap{}, props("clusterName", testCluster)); len(failures) != 3 {
		t.Fatalf("missing required inputs: %v", failures)
	}

	id, outs := h.mustCreate(ins)
	if !regexp.MustCompile(`^a-[a-z0-9]{17}$`).MatchString(id) || str(outs, "associationId") != id ||
		str(outs, "associationArn") != "arn:aws:eks:us-east-1:123456789012:podidentityassociation/demo/"+id {
		t.Fatalf("create: %q %v", id, outs)
	}

	// One association per (cluster, namespace, service account).
	_, _, err := h.create(ins, false)
	wantErr(t, err, "creating EKS Pod Identity Association (demo/apps/reader)", "ResourceInUseException")
	// A role that does not exist is refused (after the propagation retries).
	_, _, err = h.create(merge(ins, "serviceAccount", "other", "roleArn", "arn:aws:iam::123456789012:role/missing"), false)
	wantErr(t, err, "InvalidParameterException", "Role provided in the request does not exist")

	rid, read, _ := h.read(id, outs, ins)
	if rid != id || str(read, "roleArn") != str(r1, "arn") {
		t.Fatalf("read: %q %v", rid, read)
	}
	if iid, _, iins := h.read(testCluster+","+id, resource.PropertyMap{}, resource.PropertyMap{}); iid != id || str(iins, "namespace") != "apps" {
		t.Fatalf("import read: %q %v", iid, iins)
	}
	expectNoDiff(t, h.diff(id, read, ins))
	expectReplace(t, h.diff(id, outs, merge(ins, "namespace", "other")), "namespace")
	expectReplace(t, h.diff(id, outs, merge(ins, "serviceAccount", "writer")), "serviceAccount")
	expectReplace(t, h.diff(id, outs, merge(ins, "clusterName", "x")), "clusterName")
	expectUpdateOnly(t, h.diff(id, outs, merge(ins, "roleArn", str(r2, "arn"))), "roleArn")
	expectUpdateOnly(t, h.diff(id, outs, without(ins, "tags")), "tags")

	outs = h.update(id, outs, merge(ins, "roleArn", str(r2, "arn"), "tags", map[string]any{"owner": "you"}))
	_, read, _ = h.read(id, outs, ins)
	if str(read, "roleArn") != str(r2, "arn") || strMap(read, "tags")["owner"] != "you" {
		t.Fatalf("update not visible: %v", read)
	}

	h.delete(id, outs)
	h.mustBeGone(id, outs)
}

func TestSecretsSurvive(t *testing.T) {
	c := client(t)
	h := res(t, c, rolePolicyToken, "secret")
	role := res(t, c, roleToken, "secret-holder")
	rID, rOuts := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "secret-holder", "assumeRolePolicy", trustPolicy)))
	defer role.delete(rID, rOuts)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	ins := h.mustCheck(resource.PropertyMap{}, resource.PropertyMap{
		"role": strProp(rID), "name": strProp("p"), "policy": resource.MakeSecret(strProp(policy)),
	})
	if !ins["policy"].IsSecret() {
		t.Fatalf("Check dropped the secret: %v", ins)
	}
	id, outs := h.mustCreate(ins)
	if !outs["policy"].IsSecret() {
		t.Fatalf("Create output not secret: %v", outs)
	}
	if _, read, _ := h.read(id, outs, ins); !read["policy"].IsSecret() {
		t.Fatalf("Read output not secret: %v", read)
	}
	h.delete(id, outs)
}

// motoEKS is a plain EKS client on moto, to check the extension's API
// semantics the provider does not exercise itself.
func motoEKS() *eks.Client {
	return eks.NewFromConfig(aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(motoURL),
	})
}

func postJSON(t *testing.T, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(motoURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: HTTP %d", path, resp.StatusCode)
	}
}

func TestMotoExtensionSemantics(t *testing.T) {
	c := client(t)
	role := res(t, c, roleToken, "ext")
	rID, rOuts := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "ext-role", "assumeRolePolicy", trustPolicy)))
	defer role.delete(rID, rOuts)
	arn := str(rOuts, "arn")

	ctx := context.Background()
	e := motoEKS()
	var ids []string
	for _, p := range [][2]string{{"ns1", "sa1"}, {"ns1", "sa2"}, {"ns2", "sa1"}} {
		out, err := e.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{
			ClusterName: aws.String(testCluster), Namespace: aws.String(p[0]), ServiceAccount: aws.String(p[1]),
			RoleArn: aws.String(arn), ClientRequestToken: aws.String("tok-" + p[0] + p[1]),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Association.AssociationId))
	}
	defer func() {
		for _, id := range ids {
			_, _ = e.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{
				ClusterName: aws.String(testCluster), AssociationId: aws.String(id)})
		}
	}()
	// A retry with the same token gets the original association, not a conflict.
	again, err := e.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{
		ClusterName: aws.String(testCluster), Namespace: aws.String("ns1"), ServiceAccount: aws.String("sa1"),
		RoleArn: aws.String(arn), ClientRequestToken: aws.String("tok-ns1sa1"),
	})
	if err != nil || aws.ToString(again.Association.AssociationId) != ids[0] {
		t.Fatalf("idempotent retry: %v %v", again, err)
	}
	count := func(ns, sa string) int {
		in := &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(testCluster)}
		if ns != "" {
			in.Namespace = aws.String(ns)
		}
		if sa != "" {
			in.ServiceAccount = aws.String(sa)
		}
		n := 0
		pages := eks.NewListPodIdentityAssociationsPaginator(e, in, func(o *eks.ListPodIdentityAssociationsPaginatorOptions) { o.Limit = 1 })
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Associations)
		}
		return n
	}
	if a, b, c3, d := count("", ""), count("ns1", ""), count("", "sa1"), count("ns1", "sa1"); a != 3 || b != 2 || c3 != 2 || d != 1 {
		t.Fatalf("list filters: all=%d ns1=%d sa1=%d ns1/sa1=%d", a, b, c3, d)
	}
	_, err = e.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException")
	// Node groups are moto's, but a missing cluster answers as EKS does.
	_, err = e.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("nope"), NodegroupName: aws.String("ng")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: aws.String(testCluster), AssociationId: aws.String("a-00000000000000000")})
	wantErr(t, err, "ResourceNotFoundException")
}

func TestRolePropagationRetry(t *testing.T) {
	c := client(t)
	postJSON(t, "/moto-ext/config", map[string]float64{"rolePropagationSeconds": 1.5})
	defer postJSON(t, "/moto-ext/config", map[string]float64{"rolePropagationSeconds": 0})

	role := res(t, c, roleToken, "young")
	rID, rOuts := role.mustCreate(role.mustCheck(resource.PropertyMap{}, props("name", "young-role", "assumeRolePolicy", trustPolicy)))
	defer role.delete(rID, rOuts)
	h := res(t, c, associationToken, "young")
	start := time.Now()
	id, outs := h.mustCreate(h.mustCheck(resource.PropertyMap{}, props("clusterName", testCluster,
		"namespace", "late", "serviceAccount", "sa", "roleArn", str(rOuts, "arn"))))
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("association created after %v; the stand-in should have retried until the role was visible", waited)
	}
	h.delete(id, outs)
}
