package subscribers

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzOneLineText checks that oneLineText's short way for plain values
// (plainLine) gives what the long way gives for any value.
func FuzzOneLineText(f *testing.F) {
	for _, s := range []string{"", "Mozilla/5.0 (X11; Linux x86_64)", " lead", "trail ", "two  spaces", "tab\there",
		"line\nbreak", "non\u00a0breaking", "Ünïcode", "del\x7f", "a", " ", "https://news.example/world?a=1&b=2"} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 4096 {
			return
		}
		long := truncate(strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)), " "), n)
		if got := oneLineText(s, n); got != long {
			t.Fatalf("oneLineText(%q, %d) = %q, want %q", s, n, got, long)
		}
	})
}
