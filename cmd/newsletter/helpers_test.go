package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

const (
	testToken   = "editor-token-for-tests-0123456789abcdef"
	testBaseURL = "http://news.example.test"
)

// harness is one running service with its SMTP server.
type harness struct {
	t        *testing.T
	main     *Main
	smtp     *mailtest.Server
	redisURL string
	url      string // http://host:port of the running server
}

// testEnv returns the variables a test service runs with.
func testEnv(redisURL, smtpURL string) map[string]string {
	return map[string]string{
		"NEWSLETTER_HTTP_ADDR":  "127.0.0.1:0",
		"NEWSLETTER_BASE_URL":   testBaseURL,
		"NEWSLETTER_REDIS_URL":  redisURL,
		"NEWSLETTER_SMTP_URL":   smtpURL,
		"NEWSLETTER_SECRET":     "a-test-secret-of-enough-length",
		"NEWSLETTER_API_TOKENS": testToken,
		"NEWSLETTER_FROM":       "Daily Brief <news@example.org>",
		// Tests sign up many addresses from 127.0.0.1; abuse_test.go tests the limit.
		"NEWSLETTER_SIGNUP_RATE": "100000/m",
		// The tests' feeds are on loopback.
		"NEWSLETTER_FEED_ALLOW_PRIVATE": "true",
	}
}

// mustHarness starts the whole service on a fresh database.
func mustHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redistest.URL(t)}
	h.start()
	return h
}

// start runs a new Main on the harness's Redis and SMTP server.
func (h *harness) start() {
	h.t.Helper()
	m := h.run(ModeAll, nil)
	h.main, h.url = m, "http://"+m.Addr()
}

// run runs a Main in mode with the test variables and extra ones.
func (h *harness) run(mode Mode, extra map[string]string) *Main {
	h.t.Helper()
	env := testEnv(h.redisURL, h.smtp.URL())
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		h.t.Fatalf("LoadConfig: %v", err)
	}
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := m.Run(context.Background(), mode); err != nil {
		h.t.Fatalf("Run: %v", err)
	}
	h.t.Cleanup(func() { m.Close() })
	// Every script and transaction of the service, asynq's included, must
	// touch one slot: a cluster refuses a script that does not, and a
	// cluster client splits such a transaction by slot without a word.
	// Checked on every topology, from the first command after the start.
	m.rdb.AddHook(redistest.SlotCheck(h.t))
	return m
}

// mustServeOnly starts the HTTP API alone, so nothing is sent until a
// test starts workers.
func mustServeOnly(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redistest.URL(t)}
	h.main = h.run(ModeServe, nil)
	h.url = "http://" + h.main.Addr()
	return h
}

// stop closes the running Main.
func (h *harness) stop() {
	h.t.Helper()
	if err := h.main.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
}

// do sends a request and returns the status and body.
func (h *harness) do(method, path, contentType, body string, header ...string) (int, string) {
	h.t.Helper()
	resp := h.request(method, path, contentType, body, header...)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (h *harness) request(method, path, contentType, body string, header ...string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// editor sends an editor API request with the bearer token.
func (h *harness) editor(method, path, body string) (int, string) {
	h.t.Helper()
	return h.do(method, path, "application/json", body, "Authorization", "Bearer "+testToken)
}

// mustNewsletter creates newsletter id.
func (h *harness) mustNewsletter(id, name string) {
	h.t.Helper()
	if code, body := h.editor("PUT", "/v1/newsletters/"+id, `{"name":"`+name+`"}`); code != 201 && code != 200 {
		h.t.Fatalf("PUT newsletter %s = %d %s", id, code, body)
	}
}

// signup posts a JSON signup and returns the status and body.
func (h *harness) signup(email string, newsletters ...string) (int, string) {
	h.t.Helper()
	body := `{"email":"` + email + `","newsletters":["` + strings.Join(newsletters, `","`) + `"]}`
	return h.do("POST", "/v1/subscriptions", "application/json", body)
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/confirm\?token=[A-Za-z0-9_\-%]+`)

// confirmLink returns the confirmation link of a message, checking that the
// text and the HTML part both carry it.
func confirmLink(t *testing.T, m mailtest.Received) string {
	t.Helper()
	mt, parts, err := m.Parts()
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	if mt != "multipart/alternative" || parts["text/plain"] == "" || parts["text/html"] == "" {
		t.Fatalf("message is %s with parts %v, want multipart/alternative with text and HTML", mt, keys(parts))
	}
	link := linkPattern.FindString(parts["text/plain"])
	if link == "" || !strings.Contains(parts["text/html"], link) {
		t.Fatalf("no confirmation link in both parts:\n%s", parts["text/plain"])
	}
	if !strings.HasPrefix(link, testBaseURL+"/confirm?token=") {
		t.Fatalf("link %q does not start with the base URL", link)
	}
	return link
}

// tokenOf returns the token of a confirmation link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// waitQuiet waits long enough for queued work to have been done, so that a
// test can check that no further mail arrives.
func waitQuiet() { time.Sleep(1500 * time.Millisecond) }
