package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"newsletter/api"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/worker"
)

// newWebhookEnv is newEnv with the providers' webhooks configured.
func newWebhookEnv(t *testing.T, hooks api.Webhooks) *env {
	t.Helper()
	rdb := redistest.Client(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	enq, err := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	if err != nil {
		t.Fatalf("NewEnqueuer: %v", err)
	}
	svc := mustService(t, subscribers.NewStore(rdb), enq, logger)
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatalf("templates.Load: %v", err)
	}
	srv := httptest.NewServer(api.New(api.Config{Subscribers: svc, Newsletters: svc, Templates: tpl,
		APITokens: []string{editorToken}, ConfirmTTL: 168 * time.Hour, Logger: logger, Webhooks: hooks}))
	t.Cleanup(srv.Close)
	return &env{t: t, rdb: rdb, srv: srv, svc: svc}
}

// mustWebhookData reads a provider's sample payload from testdata/webhooks.
func mustWebhookData(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// webhookAnswer is the answer of a provider's webhook.
type webhookAnswer struct {
	Applied   int  `json:"applied"`
	Ignored   int  `json:"ignored"`
	Confirmed bool `json:"confirmed"`
}

// wantApplied checks that r is a 200 answer with these counts.
func wantApplied(t *testing.T, r response, applied, ignored int) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %s)", r.Status, r.Body)
	}
	var got webhookAnswer
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("answer %q: %v", r.Body, err)
	}
	if got.Applied != applied || got.Ignored != ignored {
		t.Errorf("answer %s, want applied %d, ignored %d", r.Body, applied, ignored)
	}
}

// suppressionSources maps each suppressed address to its source, read
// through the editor API.
func (e *env) suppressionSources() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, s := range e.suppressions("?limit=1000").Suppressions {
		out[s.Email] = s.Source
	}
	return out
}

// wantNoSuppressions fails when anything is suppressed.
func (e *env) wantNoSuppressions() {
	e.t.Helper()
	if got := e.suppressionSources(); len(got) != 0 {
		e.t.Errorf("suppressed %v, want nothing", got)
	}
}

// TestWebhooksOffAnswer404: a provider without configuration has no
// webhook, and a configured one is not behind the editor token.
func TestWebhooksOffAnswer404(t *testing.T) {
	e := newWebhookEnv(t, api.Webhooks{})
	for _, p := range []string{"ses", "postmark", "mailgun", "sendgrid"} {
		r := e.do("POST", "/v1/webhooks/"+p, strings.NewReader(`{}`), "Content-Type", "application/json",
			"Authorization", "Bearer "+editorToken)
		wantJSONError(t, r, http.StatusNotFound, "not_found")
	}
}

// TestWebhookBodyLimits: bodies over 1 MiB answer 413, bodies that are not
// JSON 400, bodies of another type 415, and nothing is applied.
func TestWebhookBodyLimits(t *testing.T) {
	e := newWebhookEnv(t, api.Webhooks{PostmarkAuth: postmarkAuth})
	big := `{"Type":"HardBounce","Email":"big@example.org","Details":"` + strings.Repeat("x", 1<<20) + `"}`
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		code                    string
	}{
		{"too large", big, "application/json", http.StatusRequestEntityTooLarge, "body_too_large"},
		{"not JSON", `{"Type": "HardBounce",`, "application/json", http.StatusBadRequest, "bad_request"},
		{"wrong type", `{"Type": 1}`, "application/json", http.StatusBadRequest, "bad_request"},
		{"form", `Type=HardBounce`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType, "unsupported_media_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postPostmark(tc.body, tc.contentType, "hooks", "a-postmark-password-0123")
			wantJSONError(t, r, tc.status, tc.code)
		})
	}
	e.wantNoSuppressions()
}
