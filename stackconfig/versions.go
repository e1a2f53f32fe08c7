package stackconfig

import (
	"strconv"
	"strings"
)

// MinKubernetesVersion is the oldest EKS version with Pod Identity.
const MinKubernetesVersion = "1.24"

// VersionAtLeast compares "major.minor" versions as EKS reports them.
func VersionAtLeast(version, min string) bool {
	vMaj, vMin, ok1 := majorMinor(version)
	mMaj, mMin, ok2 := majorMinor(min)
	if !ok1 || !ok2 {
		return false
	}
	return vMaj > mMaj || (vMaj == mMaj && vMin >= mMin)
}

func majorMinor(v string) (int, int, bool) {
	maj, rest, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if !ok {
		return 0, 0, false
	}
	min, _, _ := strings.Cut(rest, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	return a, b, err1 == nil && err2 == nil
}
