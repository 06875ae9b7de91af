package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.DevMode() || cfg.HTTPAddr != ":8080" || cfg.BaseURL != "http://localhost:8080" ||
		cfg.OutboxDir != "./outbox" || cfg.ConfirmTTL != 168*time.Hour || cfg.SendRate != 0 || cfg.RecordEvery != 1 {
		t.Fatalf("defaults = %+v", cfg)
	}
	if cfg.SignupRate != (Rate{10, time.Minute}) || cfg.ConfirmationRate != (Rate{1000, time.Minute}) {
		t.Fatalf("rates = %+v %+v", cfg.SignupRate, cfg.ConfirmationRate)
	}
}

func TestLoadConfigRefusesBadValues(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"NEWSLETTER_REDIS_URL": "redis://127.0.0.1:6379/0",
		"NEWSLETTER_SECRET": "0123456789abcdef", "NEWSLETTER_API_TOKENS": "a-test-editor-token-of-32-characters",
		"NEWSLETTER_DKIM_DOMAIN": "example.org", "NEWSLETTER_DKIM_SELECTOR": "news"}
	tests := []struct{ name, value string }{
		{"NEWSLETTER_REDIS_URL", "mysql://x"},
		{"NEWSLETTER_SMTP_URL", "smtp://mail.example.org:25?tls=maybe"},
		{"NEWSLETTER_SMTP_URL", "http://mail.example.org"},
		{"NEWSLETTER_BASE_URL", "ftp://example.org"},
		{"NEWSLETTER_FROM", "not an address"},
		{"NEWSLETTER_SEND_RATE", "-1"},
		{"NEWSLETTER_SEND_RATE", "fast"},
		{"NEWSLETTER_CONFIRM_TTL", "7 days"},
		{"NEWSLETTER_CONFIRM_TTL", "-1h"},
		{"NEWSLETTER_ALLOWED_ORIGINS", "https://example.org/path"},
		{"NEWSLETTER_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"NEWSLETTER_SIGNUP_RATE", "10/week"},
		{"NEWSLETTER_CONFIRMATION_RATE", "0/m"},
		{"NEWSLETTER_LOG_FORMAT", "xml"},
		{"NEWSLETTER_SECRET", ""},
		{"NEWSLETTER_SECRET", "short"},
		{"NEWSLETTER_API_TOKENS", ""},
		{"NEWSLETTER_SMTP_CONNECTIONS", "0"},
		{"NEWSLETTER_RECORD_EVERY", "0"},
		{"NEWSLETTER_RECORD_EVERY", "101"},
		{"NEWSLETTER_DKIM_KEY_FILE", "/nonexistent/dkim.pem"},
		{"NEWSLETTER_SCHEDULE_TICK", "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			env := map[string]string{tt.name: tt.value}
			for k, v := range prod {
				if k != tt.name {
					env[k] = v
				}
			}
			if tt.name != "NEWSLETTER_DKIM_KEY_FILE" {
				delete(env, "NEWSLETTER_DKIM_DOMAIN") // else the DKIM trio is incomplete
				delete(env, "NEWSLETTER_DKIM_SELECTOR")
			}
			_, err := LoadConfig(func(k string) string { return env[k] })
			if err == nil || !strings.HasPrefix(err.Error(), tt.name+": ") {
				t.Fatalf("err = %v, want one naming %s", err, tt.name)
			}
		})
	}
}

func TestDKIMVariablesComeTogether(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NEWSLETTER_DKIM_DOMAIN": "example.org"}
	_, err := LoadConfig(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "NEWSLETTER_DKIM_") {
		t.Fatalf("only the domain set: %v, want an error naming the missing DKIM variable", err)
	}
}

func TestRunStopsOnBadConfigWithOneLine(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NEWSLETTER_SMTP_URL": "smtp://mail.example.org?tls=maybe"}
	var stderr bytes.Buffer
	code := run(nil, func(k string) string { return env[k] }, io.Discard, &stderr)
	out := stderr.String()
	if code == 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "NEWSLETTER_SMTP_URL") {
		t.Fatalf("exit %d with %q, want non-zero and one line naming the variable", code, out)
	}
}

func TestRunStopsWhenRedisDoesNotAnswer(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NEWSLETTER_REDIS_URL": "redis://127.0.0.1:1/0",
		"NEWSLETTER_SECRET": "0123456789abcdef", "NEWSLETTER_API_TOKENS": "a-test-editor-token-of-32-characters", "NEWSLETTER_HTTP_ADDR": "127.0.0.1:0"}
	var stderr bytes.Buffer
	code := run(nil, func(k string) string { return env[k] }, io.Discard, &stderr)
	out := stderr.String()
	if code == 0 || !strings.Contains(out, "NEWSLETTER_REDIS_URL") || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d with %q, want non-zero and one line naming NEWSLETTER_REDIS_URL", code, out)
	}
}

func TestRunRefusesUnknownCommand(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if code := run([]string{"launch"}, func(string) string { return "" }, io.Discard, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}
