package iampolicy

import (
	"slices"
	"testing"
)

// What the verification's default access check needs: `aws s3 ls` calls
// ListBuckets, authorized as s3:ListAllMyBuckets on all resources.
const listAll, allBuckets = "s3:ListAllMyBuckets", "arn:aws:s3:::*"

func TestAllows(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want bool
	}{
		{"the action itself on *", `{"Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`, true},
		{"one statement object, not a list", `{"Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}}`, true},
		{"AWS's arn:aws:s3:::* spelling", `{"Statement":[{"Effect":"Allow","Action":["s3:ListAllMyBuckets"],"Resource":["arn:aws:s3:::*"]}]}`, true},
		{"s3:*", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, true},
		{"*", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{"s3:List* (AmazonS3ReadOnlyAccess's)", `{"Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`, true},
		{"s3:List????????????? (? is one character)", `{"Statement":[{"Effect":"Allow","Action":"s3:ListAllMy?uckets","Resource":"*"}]}`, true},
		{"action case does not matter", `{"Statement":[{"Effect":"Allow","Action":"S3:listallmybuckets","Resource":"*"}]}`, true},
		{"effect case does not matter", `{"Statement":[{"Effect":"allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`, true},
		{"a NotAction that spares it", `{"Statement":[{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}]}`, true},
		{"a NotResource that spares it", `{"Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}]}`, true},
		{"a condition is taken as met", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, true},
		{"a conditional Deny is not taken as applying", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, true},
		{"a Deny on one bucket leaves the listing", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secret"}]}`, true},

		{"one bucket only (the prod invoices policy)", `{"Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":"arn:aws:s3:::prod-invoices"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::prod-invoices/*"}]}`, false},
		{"s3:* on one bucket and its objects", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`, false},
		{"s3:* on a bucket-name prefix", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::team-*"}]}`, false},
		{"ListBucket is another action", `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`, false},
		{"another service", `{"Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`, false},
		{"a NotAction that excludes it", `{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`, false},
		{"a NotResource that excludes it", `{"Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"*"}]}`, false},
		{"an unconditional Deny wins", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:List*","Resource":"*"}]}`, false},
		{"Deny only", `{"Statement":[{"Effect":"Deny","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`, false},
		{"no statement", `{"Version":"2012-10-17","Statement":[]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Allows(listAll, allBuckets); got != tc.want {
				t.Errorf("Allows(%s, %s) = %v, want %v", listAll, allBuckets, got, tc.want)
			}
		})
	}
}

func TestServices(t *testing.T) {
	for doc, want := range map[string][]string{
		`{"Statement":[{"Effect":"Allow","Action":["logs:PutLogEvents","Logs:DescribeLogGroups","cloudwatch:PutMetricData"],"Resource":"*"}]}`: {"cloudwatch", "logs"},
		`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`:                                               {"s3"},
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`:                                                                       {AllServices},
		`{"Statement":[{"Effect":"Allow","Action":"s*:Get*","Resource":"*"}]}`:                                                                 {AllServices},
		`{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`:                                                                {AllServices},
		`{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`:                                                                     {},
	} {
		d, err := Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Services(); !slices.Equal(got, want) {
			t.Errorf("Services(%s) = %v, want %v", doc, got, want)
		}
	}
}

func TestParseRefusesWhatIsNoDocument(t *testing.T) {
	for _, doc := range []string{`not json`, `{"Statement":"s3:*"}`, `{"Statement":[{"Effect":"Allow","Action":7}]}`} {
		if _, err := Parse(doc); err == nil {
			t.Errorf("Parse(%s) accepted it", doc)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*abc", "ababc", true},
		{"arn:aws:s3:::*", "arn:aws:s3:::*", true},
		{"arn:aws:s3:::b*", "arn:aws:s3:::*", false},
		{"arn:aws:s3:::*/*", "arn:aws:s3:::*", false},
		{"ABC", "abc", false},
	} {
		if got := glob(tc.pattern, tc.s, false); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
	if !MatchAction("S3:Get*", "s3:getobject") {
		t.Error("actions match without regard to case")
	}
	if !MatchLike("system:serviceaccount:default:*", "system:serviceaccount:default:pod-id-sa") || MatchLike("System:*", "system:serviceaccount:default:a") {
		t.Error("StringLike matches across colons, and with regard to case")
	}
}
