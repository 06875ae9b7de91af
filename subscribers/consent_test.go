package subscribers_test

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// TestConsentKeepsRequestValuesSmall: a client that sends a 60,000-byte
// User-Agent and a page address full of control characters leaves a
// consent record of bounded size, one line per value, that reads back
// as it was cut (issue 17, item 4).
func TestConsentKeepsRequestValuesSmall(t *testing.T) {
	e := MustEnv(t, "daily")
	huge := strings.Repeat("Mozilla/5.0 ", 5000) // 60,000 bytes
	meta := subscribers.RequestMeta{IP: "203.0.113.9", UserAgent: huge,
		Source: "https://news.example/\x1fpage\nwith\r\x00controls" + strings.Repeat("x", 5000)}
	req := subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"}, Meta: meta}
	if err := e.svc.Subscribe(ctx, req); err != nil {
		t.Fatal(err)
	}
	sub := MustLookup(t, e, "a@example.org")
	if len(sub.Consent) != 1 {
		t.Fatalf("consent = %+v, want one record", sub.Consent)
	}
	c := sub.Consent[0]
	if len(c.UserAgent) > 512 || !strings.HasPrefix(huge, c.UserAgent) {
		t.Errorf("user agent kept %d bytes (%q...), want at most 512 of what was sent", len(c.UserAgent), c.UserAgent[:20])
	}
	if len(c.Source) > 2048 || !utf8.ValidString(c.Source) || strings.ContainsAny(c.Source, "\x1f\n\r\x00") ||
		!strings.HasPrefix(c.Source, "https://news.example/ page with controls") {
		t.Errorf("source = %q (%d bytes), want one line of at most 2048 bytes", c.Source[:60], len(c.Source))
	}
	if c.IP != "203.0.113.9" || c.Action != subscribers.ActionSignup {
		t.Errorf("consent = %+v", c)
	}
	if os.Getenv(redistest.URLVar) == "" {
		return // the embedded Redis has no MEMORY USAGE
	}
	for key := range MustDumpDB(t, e.rdb) {
		n, err := e.rdb.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n > 4096 {
			t.Errorf("key %s holds %d bytes after one signup, want at most 4 KB", key, n)
		}
	}
}
