package subscribers_test

import (
	"encoding/base64"
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// withChar returns token with its i-th character replaced by c.
func withChar(token string, i int, c byte) string {
	b := []byte(token)
	b[i] = c
	return string(b)
}

// flipChar returns token with its i-th character replaced by another
// character of the base64url alphabet.
func flipChar(token string, i int) string {
	j := strings.IndexByte(alphabet, token[i])
	return withChar(token, i, alphabet[(j+1)%len(alphabet)])
}

// MustForID returns token with the subscriber id it carries replaced by id.
func MustForID(tb testing.TB, token string, id int64) string {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		tb.Fatalf("decode token %q: %v", token, err)
	}
	binary.BigEndian.PutUint64(b[:8], uint64(id))
	return base64.RawURLEncoding.EncodeToString(b)
}

// MustBadTokens returns strings that must be refused as invalid_token when
// token is a real one and otherID another subscriber's id.
func MustBadTokens(tb testing.TB, token string, otherID int64) map[string]string {
	tb.Helper()
	last := len(token) - 1
	return map[string]string{
		"tampered random part":   flipChar(token, 20),
		"tampered id part":       flipChar(token, 3),
		"made for other address": MustForID(tb, token, otherID),
		// A token of 49 bytes (one newsletter, "daily") leaves 4 unused low
		// bits in the last character; setting one gives a lenient decoder
		// the same bytes.
		"non-canonical last char": withChar(token, last, alphabet[strings.IndexByte(alphabet, token[last])|1]),
		"empty":                   "",
		"x":                       "x",
		"one character short":     token[:last],
		"one character too many":  token + "A",
		"twice":                   token + token,
		"non-base64 character":    withChar(token, 10, '!'),
		"standard alphabet":       withChar(token, 10, '+'),
		"padded":                  token + "==",
		"newline inside":          token[:10] + "\n" + token[11:],
		"trailing newline":        token + "\n",
		"spaces around":           " " + token + " ",
	}
}

// TestConfirmRefusesTokens checks that a tampered token, one made for
// another address and an expired one are refused with the contract's codes
// and change nothing.
func TestConfirmRefusesTokens(t *testing.T) {
	e := MustEnv(t, "daily")
	a := MustSubscribe(t, e, "a@example.org", "daily")
	b := MustSubscribe(t, e, "b@example.org", "daily")
	if a.SubscriberID == b.SubscriberID {
		t.Fatalf("a and b share subscriber id %d", a.SubscriberID)
	}
	ttl := e.svc.ConfirmTTL

	type tokenCase struct {
		token  string
		offset time.Duration // how far the clock is moved past signup
		code   string
	}
	cases := map[string]tokenCase{
		"expired":              {a.Token, ttl + time.Second, newsletter.EEXPIREDTOKEN},
		"expired beyond grace": {a.Token, ttl + 31*24*time.Hour, newsletter.EEXPIREDTOKEN},
		"b's token expired":    {b.Token, ttl + time.Second, newsletter.EEXPIREDTOKEN},
	}
	for name, tok := range MustBadTokens(t, a.Token, b.SubscriberID) {
		cases[name] = tokenCase{tok, 0, newsletter.EINVALIDTOKEN}
	}
	cases["b's token for a"] = tokenCase{MustForID(t, b.Token, a.SubscriberID), 0, newsletter.EINVALIDTOKEN}

	for _, name := range slices.Sorted(maps.Keys(cases)) {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			e.SetClock(e.start.Add(tc.offset))
			before := MustDumpDB(t, e.rdb)
			nls, err := e.svc.Confirm(ctx, tc.token, subscribers.RequestMeta{IP: "192.0.2.1"})
			if got := newsletter.ErrorCode(err); got != tc.code || nls != nil {
				t.Fatalf("Confirm(%q) = %q, %v (code %q); want nil, code %q", tc.token, nls, err, got, tc.code)
			}
			if diff := diffDumps(before, MustDumpDB(t, e.rdb)); diff != "" {
				t.Errorf("Confirm(%q) changed the database:\n%s", tc.token, diff)
			}
			for _, email := range []string{"a@example.org", "b@example.org"} {
				if got := MustStatus(t, e, email, "daily"); got != newsletter.StatusPending {
					t.Errorf("status of %s = %q, want %q", email, got, newsletter.StatusPending)
				}
			}
		})
	}
	if n := len(e.rec.Welcomes()); n != 0 {
		t.Errorf("refused tokens set off %d welcome emails", n)
	}
}

// TestConfirmAtExpiry checks that a token still works at the very second it
// expires.
func TestConfirmAtExpiry(t *testing.T) {
	e := MustEnv(t, "daily")
	c := MustSubscribe(t, e, "a@example.org", "daily")
	e.SetClock(e.start.Add(e.svc.ConfirmTTL))
	if got := MustConfirm(t, e, c.Token); !slices.Equal(got, []string{"daily"}) {
		t.Fatalf("Confirm = %q, want [daily]", got)
	}
}

// FuzzConfirmToken checks that Confirm never panics and refuses every
// string but a real token (one the service sealed) with invalid_token or
// expired_token.
//
// Under -fuzz every worker is a process of its own; each leases a database
// of its own (internal/redistest), so none sees another's data.
func FuzzConfirmToken(f *testing.F) {
	e := MustEnv(f)
	c := MustFuzzToken(f, e)
	valid := c.Token
	f.Add(valid)
	for _, tok := range MustBadTokens(f, valid, c.SubscriberID+1) {
		f.Add(tok)
	}
	for _, s := range []string{"", "0", "null", "%00", "../../etc/passwd", strings.Repeat("A", 54),
		strings.Repeat("_", 54), "AAAAAAAAAAE" + strings.Repeat("-", 43), "ü" + valid[2:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		nls, err := e.svc.Confirm(ctx, token, subscribers.RequestMeta{})
		if err == nil {
			// Only a token the service sealed may confirm. (Under -fuzz each
			// worker signs a@example.org up in a database of its own, so the
			// seed token of another process is a real token there too.)
			if _, openErr := e.svc.Sealer.Open(token); openErr != nil || !slices.Equal(nls, []string{"daily"}) {
				t.Fatalf("Confirm(%q) = %q, nil; only a token the service made (like %q) may confirm", token, nls, valid)
			}
			return
		}
		if code := newsletter.ErrorCode(err); code != newsletter.EINVALIDTOKEN && code != newsletter.EEXPIREDTOKEN {
			t.Fatalf("Confirm(%q): %v (code %q), want invalid_token or expired_token", token, err, code)
		}
	})
}

// MustFuzzToken signs a@example.org up to newsletter daily and returns the
// confirmation email.
func MustFuzzToken(tb testing.TB, e *env) subscribers.ConfirmationEmail {
	tb.Helper()
	req := subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"}}
	MustNewsletters(tb, e.svc.Store, "daily")
	if err := e.svc.Subscribe(ctx, req); err != nil {
		tb.Fatalf("Subscribe: %v", err)
	}
	sent := e.rec.Confirmations()
	if len(sent) != 1 {
		tb.Fatalf("%d confirmation emails after one signup, want 1", len(sent))
	}
	return sent[0]
}
