package subscribers_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"newsletter"
	"newsletter/subscribers"
)

// FuzzNormalizeAddress checks the properties every result of
// NormalizeAddress must have, whatever the input.
func FuzzNormalizeAddress(f *testing.F) {
	for _, tc := range addressCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := subscribers.NormalizeAddress(raw)
		if err != nil {
			checkAddressError(t, raw, err)
			return
		}
		checkNormalized(t, raw, got)
	})
}

// checkAddressError fails t unless err is an invalid_email *newsletter.Error.
func checkAddressError(t *testing.T, raw string, err error) {
	t.Helper()
	var e *newsletter.Error
	if !errors.As(err, &e) {
		t.Fatalf("NormalizeAddress(%q) error = %v (%T), want a *newsletter.Error", raw, err, err)
	}
	if e.Code != newsletter.EINVALIDEMAIL {
		t.Fatalf("NormalizeAddress(%q) code = %q, want %q", raw, e.Code, newsletter.EINVALIDEMAIL)
	}
}

// checkNormalized fails t unless got is a canonical address that normalizes
// to itself.
func checkNormalized(t *testing.T, raw, got string) {
	t.Helper()
	if strings.Count(got, "@") != 1 {
		t.Fatalf("NormalizeAddress(%q) = %q, want exactly one '@'", raw, got)
	}
	if len(got) > 254 {
		t.Fatalf("NormalizeAddress(%q) = %q, %d bytes, want at most 254", raw, got, len(got))
	}
	for i := 0; i < len(got); i++ {
		if got[i] >= 0x80 {
			t.Fatalf("NormalizeAddress(%q) = %q, want all ASCII", raw, got)
		}
	}
	if strings.IndexFunc(got, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		t.Fatalf("NormalizeAddress(%q) = %q, want no whitespace or control characters", raw, got)
	}
	_, domain, _ := strings.Cut(got, "@")
	if domain != strings.ToLower(domain) {
		t.Fatalf("NormalizeAddress(%q) = %q, want a lower-case domain", raw, got)
	}
	again, err := subscribers.NormalizeAddress(got)
	if err != nil {
		t.Fatalf("NormalizeAddress(%q) = %q, which then fails: %v", raw, got, err)
	}
	if again != got {
		t.Fatalf("NormalizeAddress(%q) = %q, but NormalizeAddress(%q) = %q", raw, got, got, again)
	}
}
