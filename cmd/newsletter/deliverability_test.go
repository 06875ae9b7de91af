package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestWarnsAboutDeliverability: outside dev mode, a start without a postal
// address or with an http:// base URL warns, naming the variable; dev
// mode, and a production start with both right, warn of neither.
func TestWarnsAboutDeliverability(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"dev mode", Config{BaseURL: "http://localhost:8080"}, nil},
		{"production, all set", Config{RedisURL: "redis://r", BaseURL: "https://news.example", PostalAddress: "1 Main St"}, nil},
		{"no postal address", Config{RedisURL: "redis://r", BaseURL: "https://news.example"}, []string{"NEWSLETTER_POSTAL_ADDRESS"}},
		{"http base URL", Config{RedisURL: "redis://r", BaseURL: "http://news.example", PostalAddress: "1 Main St"}, []string{"NEWSLETTER_BASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			NewMain(tc.cfg, slog.New(slog.NewTextHandler(&buf, nil))).warnDeliverability()
			lines := strings.FieldsFunc(buf.String(), func(r rune) bool { return r == '\n' })
			if len(lines) != len(tc.want) {
				t.Fatalf("logged %q, want %d warning(s) naming %v", lines, len(tc.want), tc.want)
			}
			for i, v := range tc.want {
				if !strings.Contains(lines[i], "level=WARN") || !strings.Contains(lines[i], v) {
					t.Errorf("line %q, want a warning naming %s", lines[i], v)
				}
			}
		})
	}
}

// TestPostalAddressLength: NEWSLETTER_POSTAL_ADDRESS is read, trimmed,
// and refused past 500 characters.
func TestPostalAddressLength(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NEWSLETTER_POSTAL_ADDRESS": " News Ltd, 1 Main Street "}
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.PostalAddress != "News Ltd, 1 Main Street" {
		t.Fatalf("PostalAddress = %q, %v; want it trimmed", c.PostalAddress, err)
	}
	env["NEWSLETTER_POSTAL_ADDRESS"] = strings.Repeat("a", maxPostalAddress+1)
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.HasPrefix(err.Error(), "NEWSLETTER_POSTAL_ADDRESS: ") {
		t.Fatalf("err = %v, want one naming NEWSLETTER_POSTAL_ADDRESS", err)
	}
}
