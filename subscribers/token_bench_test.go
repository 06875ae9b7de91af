package subscribers

import "testing"

// BenchmarkConfirmToken measures making a confirmation token (random part,
// hash, encoding) as a signup does.
func BenchmarkConfirmToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		secret, _ := newTokenSecret()
		_ = confirmToken(123456, secret)
	}
}

// BenchmarkParseConfirmToken measures checking a token's form and hashing
// it, as a confirmation does before it asks Redis.
func BenchmarkParseConfirmToken(b *testing.B) {
	secret, _ := newTokenSecret()
	token := confirmToken(123456, secret)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseConfirmToken(token); err != nil {
			b.Fatal(err)
		}
	}
}
