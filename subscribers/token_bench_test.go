package subscribers

import (
	"testing"
	"time"
)

func benchSealer(b *testing.B) *Sealer {
	s, err := NewSealer([]string{"a secret of the bench, long enough"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkConfirmToken measures making a confirmation token (sealing its
// claim), as the relay does for each confirmation email.
func BenchmarkConfirmToken(b *testing.B) {
	s := benchSealer(b)
	c := tokenClaim{SubscriberID: 123456, seq: 1, Issued: time.Now(), Newsletters: []string{"daily-brief", "weekend-edition"}}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.confirmToken(c)
	}
}

// BenchmarkParseConfirmToken measures opening a token, as a confirmation
// does before it asks Redis.
func BenchmarkParseConfirmToken(b *testing.B) {
	s := benchSealer(b)
	token := s.confirmToken(tokenClaim{SubscriberID: 123456, seq: 1, Issued: time.Now(), Newsletters: []string{"daily-brief", "weekend-edition"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.parseConfirmToken(token); err != nil {
			b.Fatal(err)
		}
	}
}
