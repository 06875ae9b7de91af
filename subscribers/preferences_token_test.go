package subscribers_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"newsletter"
)

// TestPreferencesTokenRoundTrip: a token names its subscriber under the
// key that signed it and under every other key given, for ever.
func TestPreferencesTokenRoundTrip(t *testing.T) {
	both := MustSigner(t, newKey, oldKey)
	for _, s := range []string{newKey, oldKey} {
		for _, id := range []int64{1, 64, 65, 123456789, math.MaxInt64} {
			tok := MustSigner(t, s).PreferencesToken(id)
			got, err := both.ParsePreferencesToken(tok)
			if err != nil || got != id {
				t.Fatalf("token of %d signed with %q: got %d, %v", id, s, got, err)
			}
		}
	}
}

// TestPreferencesTokenRefuses: a changed character anywhere, another
// key, an unsubscribe token, and garbage are all refused as invalid_token.
func TestPreferencesTokenRefuses(t *testing.T) {
	signer := MustSigner(t, newKey)
	tok := signer.PreferencesToken(4242)
	refused := []string{"", ".", tok + "x", tok + "=", strings.Replace(tok, ".", "", 1),
		MustSigner(t, "another-secret-entirely").PreferencesToken(4242),
		signer.UnsubscribeToken(4242, "daily"), signer.PreferencesToken(0), signer.PreferencesToken(-3)}
	for i := range tok {
		if tok[i] != '.' {
			refused = append(refused, flipChar(tok, i))
		}
	}
	for _, bad := range refused {
		_, err := signer.ParsePreferencesToken(bad)
		var e *newsletter.Error
		if !errors.As(err, &e) || e.Code != newsletter.EINVALIDTOKEN {
			t.Errorf("ParsePreferencesToken(%q) = %v, want invalid_token", bad, err)
		}
	}
	if _, _, err := signer.ParseUnsubscribeToken(tok); err == nil {
		t.Errorf("a preferences token unsubscribes")
	}
}

// FuzzPreferencesToken: whatever comes in, the parser answers a subscriber
// id whose token under one of the keys is exactly the input, or
// invalid_token; it never panics.
func FuzzPreferencesToken(f *testing.F) {
	both := MustSigner(f, newKey, oldKey)
	byKey := []interface{ PreferencesToken(int64) string }{MustSigner(f, newKey), MustSigner(f, oldKey)}
	for _, s := range byKey {
		for _, id := range []int64{1, 77, math.MaxInt64} {
			tok := s.PreferencesToken(id)
			f.Add(tok)
			f.Add(flipChar(tok, 3))
			f.Add(tok + "A")
		}
	}
	for _, s := range []string{"", ".", "..", "A.A", "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, err := both.ParsePreferencesToken(token)
		if err != nil {
			var e *newsletter.Error
			if !errors.As(err, &e) || e.Code != newsletter.EINVALIDTOKEN {
				t.Fatalf("Parse(%q): %v, want invalid_token", token, err)
			}
			return
		}
		if id <= 0 || (byKey[0].PreferencesToken(id) != token && byKey[1].PreferencesToken(id) != token) {
			t.Fatalf("Parse(%q) = %d, whose tokens differ", token, id)
		}
	})
}
