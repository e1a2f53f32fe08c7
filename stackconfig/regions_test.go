package stackconfig

import (
	"os"
	"strings"
	"testing"
)

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-central-1": "aws", "ap-southeast-5": "aws", "il-central-1": "aws", "mx-central-1": "aws",
		"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b",
		"eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f", "eusc-de-east-1": "aws-eusc",
		"eu-central": "", "EU-CENTRAL-1": "", "": "", "moon-base-1": "",
	} {
		if got := PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%q) = %q, want %q", region, got, want)
		}
	}
}

// The generated list holds every partition and the regions opened lately.
func TestKnownRegions(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-1", "ca-west-1", "il-central-1", "mx-central-1", "ap-southeast-7",
		"ap-east-2", "ap-southeast-5", "ap-southeast-6", "cn-northwest-1", "us-gov-east-1", "us-iso-east-1", "us-isob-east-1",
		"eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1"} {
		if !KnownRegion(r) {
			t.Errorf("%s is not in the generated list", r)
		}
	}
	for _, r := range []string{"us-east-1x", "eu-central", "aws-global", "moon-base-1", ""} {
		if KnownRegion(r) {
			t.Errorf("%q is in the generated list", r)
		}
	}
	if !strings.Contains(RegionsSource, "github.com/aws/aws-sdk-go-v2@v") || !strings.Contains(RegionsSource, "partitions.json") {
		t.Errorf("RegionsSource %q names no pinned source file", RegionsSource)
	}
}

// The generated file follows the AWS SDK go.mod pins.
func TestRegionsFollowThePinnedSDK(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version, _, _ := strings.Cut(strings.TrimPrefix(RegionsSource, "github.com/aws/aws-sdk-go-v2@"), " ")
	if !strings.Contains(string(mod), "\tgithub.com/aws/aws-sdk-go-v2 "+version+"\n") {
		t.Errorf("regions_gen.go is from aws-sdk-go-v2 %s, go.mod pins another: run `go generate ./stackconfig/`", version)
	}
}

// A region typo is refused by name, with the closest known region and the
// way to allow a region the list does not know yet.
func TestUnknownRegionIsRefused(t *testing.T) {
	cfg := baseConfig()
	cfg["aws:region"] = "us-east-1x"
	_, err := Parse(cfg, noEnv)
	if err == nil {
		t.Fatal("us-east-1x accepted")
	}
	want := `aws:region: "us-east-1x" is not a known AWS region (did you mean us-east-1?). Known regions are those of ` + RegionsSource +
		`; if AWS opened this one since, set eks-pod-identity:allowUnknownRegion: true`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}

	cfg["eks-pod-identity:allowUnknownRegion"] = "true"
	if s, err := Parse(cfg, noEnv); err != nil || s.Region != "us-east-1x" {
		t.Errorf("with allowUnknownRegion: %v, region %q", err, s.Region)
	}

	// From the environment, the refusal says so.
	delete(cfg, "aws:region")
	delete(cfg, "eks-pod-identity:allowUnknownRegion")
	_, err = Parse(cfg, func(k string) string { return map[string]string{"AWS_DEFAULT_REGION": "eu-centrl-1"}[k] })
	if err == nil || !strings.Contains(err.Error(), `aws:region (from AWS_DEFAULT_REGION): "eu-centrl-1" is not a known AWS region (did you mean eu-central-1?)`) {
		t.Errorf("AWS_DEFAULT_REGION typo: %v", err)
	}
}
