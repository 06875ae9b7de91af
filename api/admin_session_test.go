package api

import (
	"testing"
	"time"
)

func TestSessionCookies(t *testing.T) {
	key := []byte("a-session-key-of-32-bytes-length")
	ss := newSessions(key, []string{"tok-a", "tok-b"})
	now := time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)
	cookie := ss.issue("tok-b", now)
	if ss.issue("tok-b", now) == cookie {
		t.Fatalf("two sessions got the same cookie")
	}
	flip := []byte(cookie)
	flip[len(flip)/2] ^= 1
	tests := []struct {
		name  string
		ss    *sessions
		value string
		at    time.Time
		want  bool
	}{
		{"fresh", ss, cookie, now, true},
		{"before expiry", ss, cookie, now.Add(sessionLifetime - time.Second), true},
		{"expired", ss, cookie, now.Add(sessionLifetime), false},
		{"tampered", ss, string(flip), now, false},
		{"truncated", ss, cookie[:len(cookie)-2], now, false},
		{"empty", ss, "", now, false},
		{"not base64", ss, "!!!" + cookie[3:], now, false},
		{"other key", newSessions([]byte("another-key-of-32-bytes-length!!"), []string{"tok-b"}), cookie, now, false},
		{"token revoked", newSessions(key, []string{"tok-a"}), cookie, now, false},
		{"same key, token kept", newSessions(key, []string{"tok-b", "tok-c"}), cookie, now, true},
		{"random key", newSessions(nil, []string{"tok-b"}), cookie, now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ss.valid(tt.value, tt.at); got != tt.want {
				t.Fatalf("valid = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCSRFTokens(t *testing.T) {
	ss := newSessions([]byte("a-session-key-of-32-bytes-length"), []string{"tok"})
	now := time.Now()
	a, b := ss.issue("tok", now), ss.issue("tok", now)
	if ss.csrf(a) == ss.csrf(b) {
		t.Fatalf("two sessions share a CSRF token")
	}
	if !sameToken(ss.csrf(a), ss.csrf(a)) || sameToken(ss.csrf(b), ss.csrf(a)) || sameToken("", "") {
		t.Fatalf("sameToken compares wrongly")
	}
	if ss.csrf(a) == ss.loginCSRF(a) {
		t.Fatalf("the sign-in form's token equals the session's")
	}
}
