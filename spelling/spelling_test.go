package spelling

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"clustername", "clusterName", 1},
		{"AmazonS3ReadOnlyAcess", "AmazonS3ReadOnlyAccess", 1},
		{"us-east-1x", "us-east-1", 1},
		{"kitten", "sitting", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"clusterName", "createCluster", "manageAgent"}
	base := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	for _, tc := range []struct {
		word       string
		candidates []string
		within     int
		key        func(string) string
		want       string
	}{
		{"clustername", keys, 2, nil, "clusterName"}, // case only
		{"manageAgnet", keys, 2, nil, "manageAgent"}, // two edits
		{"zzz", keys, 2, nil, ""},                    // nothing near
		{"us-east-1x", []string{"eu-west-1", "us-east-1"}, -1, nil, "us-east-1"},
		{"q", []string{"eu-west-1", "us-east-1"}, -1, nil, "eu-west-1"}, // any distance: the first nearest
		{"AmazonEBSCSIDriverPolicy", []string{"AmazonEKS_CNI_Policy", "service-role/AmazonEBSCSIDriverPolicy"}, 3, base, "service-role/AmazonEBSCSIDriverPolicy"},
	} {
		if got := Closest(tc.word, tc.candidates, tc.within, tc.key); got != tc.want {
			t.Errorf("Closest(%q, %v, %d) = %q, want %q", tc.word, tc.candidates, tc.within, got, tc.want)
		}
	}
}
