package stackconfig

import (
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/platform-eng/eks-pod-identity/spelling"
)

//go:generate go run gen_regions.go

// KeyAllowUnknownRegion lets aws:region name a region Partitions does not
// list yet (one AWS opened after the pinned SDK was released).
const KeyAllowUnknownRegion = "allowUnknownRegion"

// Partition is an AWS partition as the AWS SDK's endpoint rules describe it.
type Partition struct {
	ID        string
	DNSSuffix string
	// RegionPattern is the regular expression the SDK matches a region
	// name against to find its partition.
	RegionPattern string
	// Regions are the regions the SDK knows in the partition.
	Regions []string
}

var regionPatterns = sync.OnceValue(func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(Partitions))
	for i, p := range Partitions {
		out[i] = regexp.MustCompile(p.RegionPattern)
	}
	return out
})

// PartitionOf returns the partition a region belongs to: the one listing
// it, else the first whose pattern the name fits, as the SDK decides; ""
// when it fits none (eu-central).
func PartitionOf(region string) string {
	for _, p := range Partitions {
		if slices.Contains(p.Regions, region) {
			return p.ID
		}
	}
	for i, re := range regionPatterns() {
		if re.MatchString(region) {
			return Partitions[i].ID
		}
	}
	return ""
}

// DNSSuffix is a partition's DNS suffix, amazonaws.com for an unknown one.
func DNSSuffix(partition string) string {
	for _, p := range Partitions {
		if p.ID == partition {
			return p.DNSSuffix
		}
	}
	return "amazonaws.com"
}

// KnownRegion tells whether a partition lists the region.
func KnownRegion(region string) bool {
	for _, p := range Partitions {
		if slices.Contains(p.Regions, region) {
			return true
		}
	}
	return false
}

// closestRegion is the known region nearest to a name, by edit distance.
func closestRegion(region string) string {
	var known []string
	for _, p := range Partitions {
		known = append(known, p.Regions...)
	}
	return spelling.Closest(region, known, -1, nil)
}

// regionProblem refuses a region no partition lists, unless the stack
// allows unknown regions. from says where the value came from when it is
// not aws:region itself (AWS_REGION).
func regionProblem(region, from string, allowUnknown bool) string {
	if region == "" || allowUnknown || KnownRegion(region) {
		return ""
	}
	key := KeyAwsRegion
	if from != "" {
		key += " (from " + from + ")"
	}
	return fmt.Sprintf("%s: %q is not a known AWS region (did you mean %s?). Known regions are those of %s; "+
		"if AWS opened this one since, set %s: true",
		key, region, closestRegion(region), RegionsSource, Key(KeyAllowUnknownRegion))
}
