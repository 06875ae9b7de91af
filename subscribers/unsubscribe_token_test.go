package subscribers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"newsletter"
	"newsletter/subscribers"
)

// Two keys, as during a rotation: the first signs, both verify.
const (
	newKey = "the-new-unsubscribe-secret"
	oldKey = "the-old-unsubscribe-secret"
)

// MustSigner returns a Signer over secrets.
func MustSigner(tb testing.TB, secrets ...string) *subscribers.Signer {
	tb.Helper()
	s, err := subscribers.NewSigner(secrets)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// signPayload returns a token for payload, with a tag made with key: what
// only the holder of a secret can make. It lets tests and the fuzzer reach
// the payload decoder behind the tag check.
func signPayload(key string, payload []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("unsubscribe\x00"))
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// TestUnsubscribeTokenHidesTheID: consecutive ids make unrelated tokens,
// so a token tells nothing of how many subscribers there are or in what
// order they came (issue 17, item 12); links of the earlier form, the id
// in the clear, still work.
func TestUnsubscribeTokenHidesTheID(t *testing.T) {
	s := MustSigner(t, newKey)
	payloadOf := func(id int64) []byte {
		p64, _, _ := strings.Cut(s.UnsubscribeToken(id, "daily"), ".")
		p, err := base64.RawURLEncoding.DecodeString(p64)
		if err != nil || len(p) != 16+len("daily") {
			t.Fatalf("token payload %q: %v", p64, err)
		}
		return p[:16]
	}
	for id := int64(1); id < 50; id++ {
		a, b := payloadOf(id), payloadOf(id+1)
		differ := 0
		for i := range a {
			for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
				differ++
			}
		}
		if differ < 32 {
			t.Fatalf("the tokens of ids %d and %d differ in %d of 128 bits: the id shows through", id, id+1, differ)
		}
	}
	legacy := signPayload(newKey, append(binary.AppendUvarint(nil, 404), "daily"...))
	if id, nl, err := s.ParseUnsubscribeToken(legacy); err != nil || id != 404 || nl != "daily" {
		t.Fatalf("a link of the earlier form = %d, %q, %v; want 404, daily", id, nl, err)
	}
}

func TestUnsubscribeTokenRoundTrip(t *testing.T) {
	both := MustSigner(t, newKey, oldKey)
	for _, tc := range []struct {
		id int64
		nl string
	}{{1, "daily"}, {0, "a"}, {math.MaxInt64, strings.Repeat("z", 64)}, {-1, "weekly-2"}} {
		for name, signer := range map[string]*subscribers.Signer{"new key": both, "old key": MustSigner(t, oldKey)} {
			token := signer.UnsubscribeToken(tc.id, tc.nl)
			id, nl, err := both.ParseUnsubscribeToken(token)
			if err != nil || id != tc.id || nl != tc.nl {
				t.Errorf("%s: Parse(UnsubscribeToken(%d, %q)) = %d, %q, %v", name, tc.id, tc.nl, id, nl, err)
			}
		}
	}
}

func TestParseUnsubscribeTokenRefuses(t *testing.T) {
	signer := MustSigner(t, newKey, oldKey)
	valid := signer.UnsubscribeToken(42, "daily")
	payload, tag, _ := strings.Cut(valid, ".")
	bad := map[string]string{
		"empty":                  "",
		"no dot":                 payload + tag,
		"two dots":               valid + ".",
		"tampered payload":       flipChar(payload, 1) + "." + tag,
		"tampered tag":           payload + "." + flipChar(tag, 3),
		"short tag":              payload + "." + tag[:len(tag)-2],
		"padded":                 valid + "==",
		"unknown key":            MustSigner(t, "some-other-secret-key").UnsubscribeToken(42, "daily"),
		"bad newsletter id":      signPayload(newKey, []byte("\x2aDaily")),
		"no newsletter":          signPayload(newKey, []byte("\x2a")),
		"varint overflow":        signPayload(newKey, []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7fdaily")),
		"non-minimal varint":     signPayload(newKey, []byte("\xaa\x00daily")),
		"empty payload":          signPayload(newKey, nil),
		"confirmation token":     strings.Repeat("A", 54),
		"newline in tag":         payload + "." + tag[:3] + "\n" + tag[3:],
		"CR in payload":          payload[:1] + "\r" + payload[1:] + "." + tag,
		"trailing newline":       valid + "\n",
		"non-canonical last tag": payload + "." + tag[:len(tag)-1] + string(alphabet[strings.IndexByte(alphabet, tag[len(tag)-1])|1]),
	}
	for name, token := range bad {
		if _, _, err := signer.ParseUnsubscribeToken(token); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
			t.Errorf("%s: Parse(%q) = %v, want invalid_token", name, token, err)
		}
	}
}

// FuzzUnsubscribeToken checks that ParseUnsubscribeToken never panics,
// refuses with invalid_token, and accepts only what it would make itself:
// an accepted token round-trips through UnsubscribeToken with one of the
// keys. With signed set, the input is taken as a payload and signed with
// the key, so the fuzzer also explores the decoder behind the tag check.
func FuzzUnsubscribeToken(f *testing.F) {
	both := MustSigner(f, newKey, oldKey)
	byKey := []*subscribers.Signer{MustSigner(f, newKey), MustSigner(f, oldKey)}
	for _, s := range []*subscribers.Signer{byKey[0], byKey[1]} {
		for _, tok := range []string{s.UnsubscribeToken(1, "daily"), s.UnsubscribeToken(math.MaxInt64, "a"),
			s.UnsubscribeToken(0, "x-1"), s.UnsubscribeToken(-7, "weekly")} {
			payload, tag, _ := strings.Cut(tok, ".")
			f.Add(tok, false)
			f.Add(flipChar(payload, 0)+"."+tag, false)
			f.Add(payload+"."+flipChar(tag, 5), false)
			f.Add(tok+"=", false)
		}
	}
	for _, s := range []string{"", ".", "..", "A.A", "\x01daily", "\x80\x01a", "\xff", "\x2aDaily"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, input string, signed bool) {
		token := input
		if signed {
			token = signPayload(newKey, []byte(input))
		}
		id, nl, err := both.ParseUnsubscribeToken(token)
		if err != nil {
			var e *newsletter.Error
			if !errors.As(err, &e) || e.Code != newsletter.EINVALIDTOKEN {
				t.Fatalf("Parse(%q): %v, want invalid_token", token, err)
			}
			return
		}
		if newsletter.ValidateID(nl) != nil {
			t.Fatalf("Parse(%q) = %d, %q: not a newsletter id", token, id, nl)
		}
		legacy := append(binary.AppendUvarint(nil, uint64(id)), nl...) // the earlier form, still accepted
		if byKey[0].UnsubscribeToken(id, nl) != token && byKey[1].UnsubscribeToken(id, nl) != token &&
			signPayload(newKey, legacy) != token && signPayload(oldKey, legacy) != token {
			t.Fatalf("Parse(%q) = %d, %q, which makes another token: %q", token, id, nl, byKey[0].UnsubscribeToken(id, nl))
		}
	})
}

// BenchmarkUnsubscribeToken measures signing one reader's unsubscribe
// link, which every digest message carries.
func BenchmarkUnsubscribeToken(b *testing.B) {
	s := MustSigner(b, "a-benchmark-secret-of-some-length")
	b.ReportAllocs()
	for b.Loop() {
		_ = s.UnsubscribeToken(123456, "daily")
	}
}

// BenchmarkParseUnsubscribeToken measures checking one, as a click on the
// link or a one-click POST does.
func BenchmarkParseUnsubscribeToken(b *testing.B) {
	s := MustSigner(b, "a-benchmark-secret-of-some-length", "an-older-secret-still-verifying")
	token := s.UnsubscribeToken(123456, "daily")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.ParseUnsubscribeToken(token); err != nil {
			b.Fatal(err)
		}
	}
}
