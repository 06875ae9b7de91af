package mailer_test

import (
	"strings"
	"testing"

	"newsletter/mailer"
)

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want mailer.SMTPConfig
	}{
		{"smtp://localhost:1025", mailer.SMTPConfig{Host: "localhost", Port: 1025, TLS: "none"}},
		{"smtp://127.0.0.1:2525", mailer.SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: "none"}},
		{"smtp://[::1]:25", mailer.SMTPConfig{Host: "::1", Port: 25, TLS: "none"}},
		{"smtp://mail.example.org:587", mailer.SMTPConfig{Host: "mail.example.org", Port: 587, TLS: "starttls"}},
		{"smtp://mail.example.org", mailer.SMTPConfig{Host: "mail.example.org", Port: 587, TLS: "starttls"}},
		{"smtp://mail.example.org?tls=tls", mailer.SMTPConfig{Host: "mail.example.org", Port: 465, TLS: "tls"}},
		{"smtp://localhost?tls=none", mailer.SMTPConfig{Host: "localhost", Port: 25, TLS: "none"}},
		{"smtp://localhost:587?tls=starttls", mailer.SMTPConfig{Host: "localhost", Port: 587, TLS: "starttls"}},
		{"smtp://mailpit:1025?tls=none", mailer.SMTPConfig{Host: "mailpit", Port: 1025, TLS: "none"}},
		{"SMTP://u%40x:p%3Ass@mail.example.org:2587/",
			mailer.SMTPConfig{Host: "mail.example.org", Port: 2587, Username: "u@x", Password: "p:ss", TLS: "starttls"}},
		{"smtp://apikey@mail.example.org:587", mailer.SMTPConfig{Host: "mail.example.org", Port: 587, Username: "apikey", TLS: "starttls"}},
	} {
		got, err := mailer.ParseSMTPURL(tc.raw)
		if err != nil || got != tc.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"http://localhost:25", `unknown scheme "http"`},
		{"localhost:25", `unknown scheme "localhost"`},
		{"smtp://:25", "missing host"},
		{"smtp://", "missing host"},
		{"smtp://localhost:0", `bad port "0"`},
		{"smtp://localhost:70000", `bad port "70000"`},
		{"smtp://user:secret@localhost:port", "invalid port"},
		{"smtp://localhost:25?tls=foo", `unknown tls mode "foo" (want none, starttls or tls)`},
		{"smtp://localhost:25?tsl=none", `unknown parameter "tsl"`},
		{"smtp://localhost:25/path", "unexpected path"},
		{"smtp://localhost:25?tls=%zz", "bad query"},
	} {
		_, err := mailer.ParseSMTPURL(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSMTPURL(%q) error %v, want one containing %q", tc.raw, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseSMTPURL(%q) error shows the password: %v", tc.raw, err)
		}
	}
}
