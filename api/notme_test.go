package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"newsletter/subscribers"
)

// TestNotMe follows the "This wasn't me" link: the page changes nothing,
// the POST suppresses the address and erases the newcomer, and the token
// neither works again nor confirms. The queued token is sealed, so the
// signup goes through a second service with a recording notifier.
func TestNotMe(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	rec := &tokenRecorder{}
	svc := mustService(t, subscribers.NewStore(e.rdb), rec, slog.New(slog.DiscardHandler))
	if err := svc.Subscribe(context.Background(), subscribers.SignupRequest{Email: "reader@example.org", Newsletters: []string{"daily"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.RelayConfirmations(context.Background()); n != 1 || err != nil {
		t.Fatalf("RelayConfirmations = %d, %v; want 1", n, err)
	}
	token := rec.token

	page := e.do("GET", "/not-me?token="+url.QueryEscape(token), nil, "Accept", "text/html")
	if page.Status != 200 || !strings.Contains(page.Body, `action="/not-me"`) || !strings.Contains(page.Body, token) {
		t.Fatalf("GET /not-me = %d\n%s", page.Status, page.Body)
	}
	if r := e.editor("GET", "/v1/subscribers/reader@example.org", ""); r.Status != 200 {
		t.Fatalf("GET changed something: lookup = %d", r.Status)
	}
	done := e.do("POST", "/not-me", strings.NewReader("token="+url.QueryEscape(token)),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if done.Status != 200 || !strings.Contains(done.Body, "Thank you for telling us") {
		t.Fatalf("POST /not-me = %d\n%s", done.Status, done.Body)
	}
	if r := e.editor("GET", "/v1/subscribers/reader@example.org", ""); r.Status != 404 {
		t.Fatalf("after not-me: lookup = %d %s, want 404", r.Status, r.Body)
	}
	if r := e.editor("GET", "/v1/suppressions", ""); !strings.Contains(r.Body, `"source":"not_me"`) {
		t.Fatalf("suppressions = %s", r.Body)
	}
	again := e.do("POST", "/not-me?token="+url.QueryEscape(token), nil, "Accept", "text/html")
	if again.Status != 400 || strings.Contains(again.Body, "<form") {
		t.Fatalf("second POST = %d, want 400 without a form\n%s", again.Status, again.Body)
	}
	js := e.do("POST", "/not-me?token="+url.QueryEscape(token), nil, "Accept", "application/json")
	if js.Status != 400 || !strings.Contains(js.Body, `"code":"invalid_token"`) {
		t.Fatalf("JSON second POST = %d %s", js.Status, js.Body)
	}
	conf := e.do("POST", "/confirm", strings.NewReader("token="+url.QueryEscape(token)),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json")
	if conf.Status != http.StatusBadRequest {
		t.Fatalf("confirm after not-me = %d %s", conf.Status, conf.Body)
	}
}

type tokenRecorder struct{ token string }

func (r *tokenRecorder) SendConfirmation(_ context.Context, c subscribers.ConfirmationEmail) error {
	r.token = c.Token
	return nil
}
func (r *tokenRecorder) SendWelcome(context.Context, subscribers.WelcomeEmail) error { return nil }
