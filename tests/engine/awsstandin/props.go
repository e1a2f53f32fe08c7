package main

// Property-map helpers. Values coming from the engine may be wrapped as
// secrets (and, during preview, be unknown); the helpers below read through
// secret wrappers and treat unknown values as "not known yet".

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

var marshalOpts = plugin.MarshalOptions{
	KeepUnknowns: true,
	KeepSecrets:  true,
	SkipNulls:    true,
}

func unmarshal(label string, s *structpb.Struct) (resource.PropertyMap, error) {
	opts := marshalOpts
	opts.Label = label
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	m, err := plugin.UnmarshalProperties(s, opts)
	if err != nil {
		return nil, fmt.Errorf("unmarshalling %s: %w", label, err)
	}
	return m, nil
}

func marshal(label string, m resource.PropertyMap) (*structpb.Struct, error) {
	opts := marshalOpts
	opts.Label = label
	s, err := plugin.MarshalProperties(m, opts)
	if err != nil {
		return nil, fmt.Errorf("marshalling %s: %w", label, err)
	}
	return s, nil
}

// plain strips secret wrappers and known output wrappers, recursively.
func plain(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return resource.MakeComputed(resource.NewStringProperty(""))
		}
		return plain(o.Element)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = plain(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		obj := v.ObjectValue()
		out := make(resource.PropertyMap, len(obj))
		for k, e := range obj {
			out[k] = plain(e)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

// present reports whether m has a non-null value for key (unknown counts as present).
func present(m resource.PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return false
	}
	return !plain(v).IsNull()
}

// unknown reports whether the value under key is (or contains) an unknown.
func unknown(m resource.PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return ok && v.ContainsUnknowns()
}

func str(m resource.PropertyMap, key string) string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	v = plain(v)
	switch {
	case v.IsString():
		return v.StringValue()
	case v.IsNumber():
		return strconv.FormatFloat(v.NumberValue(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.BoolValue())
	}
	return ""
}

func boolean(m resource.PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return false
	}
	v = plain(v)
	switch {
	case v.IsBool():
		return v.BoolValue()
	case v.IsString():
		b, _ := strconv.ParseBool(v.StringValue())
		return b
	}
	return false
}

func integer(m resource.PropertyMap, key string) (int, bool) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return 0, false
	}
	v = plain(v)
	switch {
	case v.IsNumber():
		return int(v.NumberValue()), true
	case v.IsString():
		n, err := strconv.Atoi(v.StringValue())
		return n, err == nil
	}
	return 0, false
}

func strMap(m resource.PropertyMap, key string) map[string]string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return nil
	}
	v = plain(v)
	if !v.IsObject() {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		if e.IsString() {
			out[string(k)] = e.StringValue()
		}
	}
	return out
}

func strList(m resource.PropertyMap, key string) []string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return nil
	}
	v = plain(v)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func strProp(s string) resource.PropertyValue { return resource.NewStringProperty(s) }

func optStrProp(s *string) resource.PropertyValue {
	if s == nil {
		return resource.NewNullProperty()
	}
	return resource.NewStringProperty(*s)
}

func mapProp(m map[string]string) resource.PropertyValue {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[resource.PropertyKey(k)] = resource.NewStringProperty(v)
	}
	return resource.NewObjectProperty(out)
}

func listProp(items []string) resource.PropertyValue {
	out := make([]resource.PropertyValue, 0, len(items))
	for _, s := range items {
		out = append(out, resource.NewStringProperty(s))
	}
	return resource.NewArrayProperty(out)
}

func objList(items ...resource.PropertyMap) resource.PropertyValue {
	out := make([]resource.PropertyValue, 0, len(items))
	for _, m := range items {
		out = append(out, resource.NewObjectProperty(m))
	}
	return resource.NewArrayProperty(out)
}

func computed() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}

// setOpt sets key to v, or removes it when v is null.
func setOpt(m resource.PropertyMap, key string, v resource.PropertyValue) {
	if v.IsNull() {
		delete(m, resource.PropertyKey(key))
		return
	}
	m[resource.PropertyKey(key)] = v
}

// keepSecrets re-wraps output values whose input counterpart was secret.
func keepSecrets(outs, ins resource.PropertyMap) resource.PropertyMap {
	for k, in := range ins {
		if !in.ContainsSecrets() {
			continue
		}
		if o, ok := outs[k]; ok && !o.IsSecret() && !o.IsNull() {
			outs[k] = resource.MakeSecret(plain(o))
		}
	}
	return outs
}

// jsonDoc normalises a policy-document input: an object (the SDK's
// PolicyDocument type) becomes its JSON text, as pulumi-aws's
// TransformJSONDocument does. Strings are kept verbatim.
func jsonDoc(m resource.PropertyMap, key string) error {
	k := resource.PropertyKey(key)
	v, ok := m[k]
	if !ok || v.ContainsUnknowns() {
		return nil
	}
	p := plain(v)
	if p.IsString() || p.IsNull() {
		return nil
	}
	if !p.IsObject() && !p.IsArray() {
		return fmt.Errorf("%s must be a JSON policy document (string or object)", key)
	}
	b, err := json.Marshal(p.Mappable())
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	nv := resource.NewStringProperty(string(b))
	if v.ContainsSecrets() {
		nv = resource.MakeSecret(nv)
	}
	m[k] = nv
	return nil
}

// jsonEquivalent reports whether a and b are the same JSON document.
func jsonEquivalent(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(normalizePolicy(x), normalizePolicy(y))
}

// normalizePolicy smooths IAM's equivalent spellings: a one-element array and
// its single element are the same, and Statement order within a document is
// kept as written.
func normalizePolicy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalizePolicy(e)
		}
		return out
	case []any:
		if len(t) == 1 {
			return normalizePolicy(t[0])
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalizePolicy(e)
		}
		return out
	}
	return v
}

// validJSON reports whether s parses as a JSON object.
func validJSON(s string) bool {
	var x map[string]any
	return json.Unmarshal([]byte(s), &x) == nil
}

func failure(prop, format string, args ...any) *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)}
}

func requireKeys(m resource.PropertyMap, keys ...string) []*pulumirpc.CheckFailure {
	var out []*pulumirpc.CheckFailure
	for _, k := range keys {
		if !present(m, k) {
			out = append(out, failure(k, "Missing required property '%s'", k))
		}
	}
	return out
}

func oneOf(m resource.PropertyMap, key string, allowed ...string) []*pulumirpc.CheckFailure {
	if !present(m, key) || unknown(m, key) {
		return nil
	}
	v := str(m, key)
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return []*pulumirpc.CheckFailure{failure(key, "expected %s to be one of %v, got %s", key, allowed, v)}
}

var uniqueCounter atomic.Uint32

// prefixedUniqueID mirrors terraform-plugin-sdk's id.PrefixedUniqueId:
// prefix + UTC timestamp to 1/10000 s + 8 hex digits of a counter (26 chars).
func prefixedUniqueID(prefix string) string {
	ts := strings.Replace(time.Now().UTC().Format("20060102150405.0000"), ".", "", 1)
	return fmt.Sprintf("%s%s%08x", prefix, ts, uniqueCounter.Add(1))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tagDelta returns the tags to set and the keys to remove going from old to new.
func tagDelta(oldTags, newTags map[string]string) (set map[string]string, remove []string) {
	set = map[string]string{}
	for k, v := range newTags {
		if ov, ok := oldTags[k]; !ok || ov != v {
			set[k] = v
		}
	}
	for _, k := range sortedKeys(oldTags) {
		if _, ok := newTags[k]; !ok {
			remove = append(remove, k)
		}
	}
	return set, remove
}
