package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/worker"
)

// editorToken is the one editor token the test server accepts.
const editorToken = "tok"

// env is a server built as production builds it, on Redis DB 2.
type env struct {
	t   *testing.T
	rdb *redis.Client
	srv *httptest.Server
	svc *subscribers.Service // relays the confirmation outbox into the queue
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redistest.Client(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	store := subscribers.NewStore(rdb)
	enq, err := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	if err != nil {
		t.Fatalf("NewEnqueuer: %v", err)
	}
	svc := mustService(t, store, enq, logger)
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatalf("templates.Load: %v", err)
	}
	srv := httptest.NewServer(api.New(api.Config{Subscribers: svc, Newsletters: svc, Templates: tpl,
		APITokens: []string{editorToken}, ConfirmTTL: 168 * time.Hour, Logger: logger}))
	t.Cleanup(srv.Close)
	return &env{t: t, rdb: rdb, srv: srv, svc: svc}
}

// mustService is the subscribers service as production builds it.
func mustService(t *testing.T, store *subscribers.Store, n subscribers.Notifier, logger *slog.Logger) *subscribers.Service {
	t.Helper()
	svc := subscribers.NewService(store, n, logger)
	var err error
	if svc.Sealer, err = subscribers.NewSealer([]string{"a-test-secret-of-enough-length"}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// relay hands the confirmation outbox on to the queue, as a worker does.
func (e *env) relay() {
	e.t.Helper()
	for {
		n, err := e.svc.RelayConfirmations(context.Background())
		if err != nil {
			e.t.Fatalf("RelayConfirmations: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// response is an answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends a request; header holds name, value pairs.
func (e *env) do(method, path string, body io.Reader, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatalf("NewRequest %s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// postJSON posts body as JSON to the subscribe endpoint.
func (e *env) postJSON(body string, header ...string) response {
	e.t.Helper()
	return e.do("POST", "/v1/subscriptions", strings.NewReader(body),
		append([]string{"Content-Type", "application/json"}, header...)...)
}

// postForm posts form as a browser does: form-encoded, asking for HTML.
func (e *env) postForm(form string, header ...string) response {
	e.t.Helper()
	return e.do("POST", "/v1/subscriptions", strings.NewReader(form),
		append([]string{"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"}, header...)...)
}

// editor sends a request with the editor token.
func (e *env) editor(method, path, body string) response {
	e.t.Helper()
	return e.do(method, path, strings.NewReader(body),
		"Authorization", "Bearer "+editorToken, "Content-Type", "application/json")
}

// putNewsletter creates a newsletter through the editor API.
func (e *env) putNewsletter(id, name string) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name})
	if r := e.editor("PUT", "/v1/newsletters/"+id, string(body)); r.Status != http.StatusCreated {
		e.t.Fatalf("PUT newsletter %s: status %d, body %s", id, r.Status, r.Body)
	}
}

// assertNoSignupState fails unless Redis holds no subscriber and no queued
// confirmation email.
func (e *env) assertNoSignupState() {
	e.t.Helper()
	e.relay()
	ctx := context.Background()
	keys, err := e.rdb.Keys(ctx, "nl:{r*}:sub:*").Result()
	if err != nil {
		e.t.Fatalf("KEYS: %v", err)
	}
	if len(keys) != 0 {
		e.t.Errorf("subscriber keys stored: %v", keys)
	}
	if n, err := e.rdb.LLen(ctx, "asynq:{confirm}:pending").Result(); err != nil || n != 0 {
		e.t.Errorf("pending confirmation tasks: %d (err %v), want 0", n, err)
	}
}

// pendingConfirmations returns how many confirmation emails are queued.
func (e *env) pendingConfirmations() int64 {
	e.t.Helper()
	e.relay()
	n, err := e.rdb.LLen(context.Background(), "asynq:{confirm}:pending").Result()
	if err != nil {
		e.t.Fatalf("LLEN: %v", err)
	}
	return n
}

// apiError is the error object of a JSON error answer.
type apiError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Field      string `json:"field"`
	Suggestion string `json:"suggestion"`
}

// wantJSONError checks that r is a contract JSON error with the given status
// and code, whose error object holds only the contract's keys, and returns it.
func wantJSONError(t *testing.T, r response, status int, code string) apiError {
	t.Helper()
	if r.Status != status {
		t.Errorf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", r.Body, err)
	}
	obj, ok := raw["error"]
	if !ok || len(raw) != 1 {
		t.Fatalf("body %s: want exactly one key \"error\"", r.Body)
	}
	for k := range obj {
		switch k {
		case "code", "message", "field", "suggestion":
		default:
			t.Errorf("error object has key %q outside the contract: %s", k, r.Body)
		}
	}
	var e struct{ Error apiError }
	json.Unmarshal([]byte(r.Body), &e)
	if _, ok := obj["code"].(string); !ok || e.Error.Code != code {
		t.Errorf("error code = %v, want %q (body %s)", obj["code"], code, r.Body)
	}
	if m, ok := obj["message"].(string); !ok || m == "" {
		t.Errorf("error message = %v, want a sentence (body %s)", obj["message"], r.Body)
	}
	return e.Error
}

// wantHTML checks that r is an HTML page with the given status, carrying
// the security headers, that contains each of want.
func wantHTML(t *testing.T, r response, status int, want ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for _, s := range want {
		if !strings.Contains(r.Body, s) {
			t.Errorf("page lacks %q:\n%s", s, r.Body)
		}
	}
	wantSecurityHeaders(t, r)
}

func wantSecurityHeaders(t *testing.T, r response) {
	t.Helper()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Request-Id"} {
		if r.Header.Get(name) == "" {
			t.Errorf("header %s missing", name)
		}
	}
}

// subscriberJSON is GET /v1/subscribers/{email} as the contract names it.
type subscriberJSON struct {
	Email         string    `json:"email"`
	CreatedAt     time.Time `json:"created_at"`
	Subscriptions []struct {
		Newsletter     string     `json:"newsletter"`
		Status         string     `json:"status"`
		SubscribedAt   time.Time  `json:"subscribed_at"`
		ConfirmedAt    *time.Time `json:"confirmed_at"`
		UnsubscribedAt *time.Time `json:"unsubscribed_at"`
	} `json:"subscriptions"`
	Consent []struct {
		Action      string    `json:"action"`
		Newsletters []string  `json:"newsletters"`
		At          time.Time `json:"at"`
		IP          string    `json:"ip"`
		UserAgent   string    `json:"user_agent"`
		Source      string    `json:"source"`
	} `json:"consent"`
}

// subscriber fetches a subscriber through the editor API; path is the
// address as it goes in the URL.
func (e *env) subscriber(path string) subscriberJSON {
	e.t.Helper()
	r := e.editor("GET", "/v1/subscribers/"+path, "")
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET subscriber %s: status %d, body %s", path, r.Status, r.Body)
	}
	var s subscriberJSON
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil {
		e.t.Fatalf("GET subscriber %s: %v in %s", path, err, r.Body)
	}
	return s
}
