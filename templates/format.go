package templates

import (
	"strconv"
	"time"
)

// HumanDate says the day of t in loc as a reader would: "6 December 2026".
// A nil loc is UTC.
func HumanDate(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2 January 2006")
}

// Count writes n with a comma between each group of three digits, as
// "1,234" or "-12,000".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}
