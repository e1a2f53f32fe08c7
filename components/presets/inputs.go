package presets

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Problem is one reason a preset's inputs are refused: the input's path
// relative to the preset inputs (as in `hostedZoneArns[1]`) and the rule.
type Problem struct {
	Field string
	Msg   string
}

var (
	// Route 53 hosted zone IDs are upper-case letters and digits
	// (Route 53 API reference, HostedZone.Id: at most 32 characters).
	hostedZoneArnRe = regexp.MustCompile(`^arn:(aws[a-z-]*):route53:::hostedzone/([A-Z0-9]{1,32}|\*)$`)
	// General purpose bucket names (S3 User Guide, bucketnamingrules):
	// 3-63 lowercase letters, digits, '.' and '-', starting and ending with a
	// letter or digit.
	bucketArnRe  = regexp.MustCompile(`^arn:(aws[a-z-]*):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$`)
	anyS3ArnRe   = regexp.MustCompile(`^arn:aws[a-z-]*:s3:::`)
	anyZoneArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:route53:::hostedzone/`)
)

// AllHostedZones is the hosted zone ARN that grants every zone in a
// partition; a preset grants it only when the user lists it by name.
func AllHostedZones(partition string) string {
	return "arn:" + partition + ":route53:::hostedzone/*"
}

// CheckInputs reports every problem with the inputs given to a preset:
// required ones missing, ones the preset does not take, malformed ARNs,
// ARNs from another partition than the cluster's (skipped while partition
// is still unknown, "") and duplicates.
func (p Preset) CheckInputs(partition string, in Inputs) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for _, input := range allInputs {
		values := in.get(input)
		switch {
		case !p.Takes(input) && values != nil:
			add(string(input), "is set, but preset %q takes no %s (it takes: %s)", p.Name, input, p.takesList())
		case p.Takes(input) && len(values) == 0:
			add(string(input), "is required by preset %q: %s", p.Name, inputHint(input))
		case p.Takes(input):
			checkArns(add, input, values, partition)
		}
	}
	return ps
}

func (p Preset) takesList() string {
	if len(p.Requires) == 0 {
		return "no inputs"
	}
	names := make([]string, len(p.Requires))
	for i, r := range p.Requires {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func inputHint(input Input) string {
	switch input {
	case InputHostedZoneArns:
		return "list the Route 53 hosted zones it may change, e.g. arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ (every zone only by listing arn:aws:route53:::hostedzone/*)"
	case InputBucketArns:
		return "list the S3 buckets it may mount, e.g. arn:aws:s3:::amzn-s3-demo-bucket"
	}
	return ""
}

func checkArns(add func(string, string, ...any), input Input, values []string, partition string) {
	seen := map[string]int{}
	wildcard := -1
	for i, v := range values {
		field := fmt.Sprintf("%s[%d]", input, i)
		arnPartition, ok := "", false
		switch input {
		case InputHostedZoneArns:
			arnPartition, ok = checkZoneArn(add, field, v)
			if ok && strings.HasSuffix(v, "/*") {
				wildcard = i
			}
		case InputBucketArns:
			arnPartition, ok = checkBucketArn(add, field, v)
		}
		if !ok {
			continue
		}
		if partition != "" && arnPartition != partition {
			add(field, "%q is in partition %q but the cluster is in %q", v, arnPartition, partition)
		}
		if j, dup := seen[v]; dup {
			add(field, "%q is already %s[%d]", v, input, j)
		}
		seen[v] = i
	}
	if wildcard >= 0 && len(values) > 1 {
		add(fmt.Sprintf("%s[%d]", input, wildcard), "%q grants every hosted zone, so listing other zones beside it means nothing: list it alone, or only the zones", values[wildcard])
	}
}

func checkZoneArn(add func(string, string, ...any), field, v string) (string, bool) {
	if m := hostedZoneArnRe.FindStringSubmatch(v); m != nil {
		return m[1], true
	}
	if anyZoneArnRe.MatchString(v) && strings.Contains(v, "*") {
		add(field, "%q is a partial wildcard: name each zone by its ID, or every zone by exactly arn:<partition>:route53:::hostedzone/*", v)
		return "", false
	}
	add(field, "%q is not a Route 53 hosted zone ARN: expected arn:<partition>:route53:::hostedzone/<zone ID> (upper-case letters and digits, as `aws route53 list-hosted-zones` shows after /hostedzone/)", v)
	return "", false
}

func checkBucketArn(add func(string, string, ...any), field, v string) (string, bool) {
	m := bucketArnRe.FindStringSubmatch(v)
	switch {
	case m == nil && anyS3ArnRe.MatchString(v) && strings.ContainsAny(v, "/*?"):
		add(field, "%q is not a bucket ARN: give the bucket itself (arn:<partition>:s3:::<bucket>), without objects, prefixes or wildcards; the preset grants the bucket's objects itself", v)
		return "", false
	case m == nil:
		add(field, "%q is not an S3 bucket ARN: expected arn:<partition>:s3:::<bucket>, a bucket name of 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit", v)
		return "", false
	case strings.Contains(m[2], ".."):
		add(field, "%q is not a valid bucket name: two adjacent periods", v)
		return "", false
	}
	if _, err := netip.ParseAddr(m[2]); err == nil {
		add(field, "%q is not a valid bucket name: it is formatted as an IP address", v)
		return "", false
	}
	return m[1], true
}

// CheckInputsWithoutPreset refuses inputs given to a workload that names
// no preset: nothing would use them, which is a mistake worth saying.
func CheckInputsWithoutPreset(in Inputs) []Problem {
	var ps []Problem
	for _, input := range allInputs {
		if in.get(input) == nil {
			continue
		}
		var takers []string
		for _, p := range catalogue {
			if p.Takes(input) {
				takers = append(takers, p.Name)
			}
		}
		ps = append(ps, Problem{Field: string(input), Msg: fmt.Sprintf("is set, but the workload names no preset; it is an input of preset %s", strings.Join(takers, ", "))})
	}
	return ps
}
