package podidentity

// CheckTags reports every reason tags cannot be AWS resource tags (key and
// value format, the reserved "aws:" prefix, at most 50), each under field,
// so a program can hold its own tag settings to the component's rules.
func CheckTags(field string, tags map[string]string) error {
	var ps Problems
	checkTags(&ps, field, tags)
	return ps.err()
}
