package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"newsletter/api"
	"newsletter/subscribers"
)

// confirmationRecorder keeps the last confirmation email it is asked for.
type confirmationRecorder struct{ last subscribers.ConfirmationEmail }

func (r *confirmationRecorder) SendConfirmation(_ context.Context, c subscribers.ConfirmationEmail) error {
	r.last = c
	return nil
}
func (r *confirmationRecorder) SendWelcome(context.Context, subscribers.WelcomeEmail) error {
	return nil
}

// signedUp signs email up to newsletters and returns the confirmation token
// and the subscriber's id. The queued token is sealed, so the signup goes
// through a second service with a recording notifier.
func (e *env) signedUp(email string, newsletters ...string) (string, int64) {
	e.t.Helper()
	rec := &confirmationRecorder{}
	svc := mustService(e.t, subscribers.NewStore(e.rdb), rec, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if err := svc.Subscribe(ctx, subscribers.SignupRequest{Email: email, Newsletters: newsletters}); err != nil {
		e.t.Fatalf("Subscribe: %v", err)
	}
	if n, err := svc.RelayConfirmations(ctx); n != 1 || err != nil {
		e.t.Fatalf("RelayConfirmations = %d, %v; want 1", n, err)
	}
	return rec.last.Token, rec.last.SubscriberID
}

// readerEnv is an env whose server can unsubscribe (it has a signer) and
// whose clock stands still at the current second; it returns the clock.
func readerEnv(t *testing.T) (*env, *subscribers.Signer, time.Time) {
	t.Helper()
	e := newEnv(t)
	signer, err := subscribers.NewSigner([]string{"a-test-secret-of-enough-length"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	e.svc.Signer, e.svc.Now = signer, func() time.Time { return now }
	return e, signer, now
}

// postToken posts a token to path as a form, asking for accept.
func (e *env) postToken(path, token, accept string) response {
	e.t.Helper()
	return e.do("POST", path, strings.NewReader("token="+url.QueryEscape(token)),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", accept)
}

// oneClick unsubscribes as a mail client does (RFC 8058).
func (e *env) oneClick(unsubscribeToken string) {
	e.t.Helper()
	r := e.do("POST", "/unsubscribe?token="+url.QueryEscape(unsubscribeToken), strings.NewReader("List-Unsubscribe=One-Click"),
		"Content-Type", "application/x-www-form-urlencoded")
	if r.Status != http.StatusOK {
		e.t.Fatalf("one-click unsubscribe = %d %s", r.Status, r.Body)
	}
}

// confirmJSON is the JSON answer of POST /confirm.
type confirmJSON struct {
	Status        string   `json:"status"`
	Newsletters   []string `json:"newsletters"`
	Subscriptions []struct {
		Newsletter     string     `json:"newsletter"`
		Status         string     `json:"status"`
		ConfirmedAt    *time.Time `json:"confirmed_at"`
		UnsubscribedAt *time.Time `json:"unsubscribed_at"`
	} `json:"subscriptions"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at"`
}

func decodeConfirm(t *testing.T, r response) confirmJSON {
	t.Helper()
	var a confirmJSON
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &a) != nil {
		t.Fatalf("POST /confirm = %d %s, want 200 and JSON", r.Status, r.Body)
	}
	return a
}

// TestOldConfirmationLinkAfterUnsubscribe checks that the confirmation link,
// used again after a one-click unsubscribe, tells the truth: unsubscribed
// since that day, with a way to subscribe again through the usual signup,
// and no button that cannot confirm.
func TestOldConfirmationLinkAfterUnsubscribe(t *testing.T) {
	e, signer, now := readerEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	token, id := e.signedUp("reader@example.org", "daily")
	if r := e.postToken("/confirm", token, "application/json"); r.Body != `{"newsletters":["daily"],"status":"confirmed"}` {
		t.Fatalf("first confirm = %d %s", r.Status, r.Body)
	}
	e.oneClick(signer.UnsubscribeToken(id, "daily"))

	a := decodeConfirm(t, e.postToken("/confirm", token, "application/json"))
	if a.Status != "unsubscribed" || len(a.Newsletters) != 1 || a.Newsletters[0] != "daily" ||
		a.UnsubscribedAt == nil || !a.UnsubscribedAt.Equal(now) {
		t.Fatalf("confirm after unsubscribing = %+v, want unsubscribed from daily at %v", a, now)
	}
	if len(a.Subscriptions) != 1 || a.Subscriptions[0].Status != "unsubscribed" || a.Subscriptions[0].UnsubscribedAt == nil {
		t.Fatalf("subscriptions = %+v, want daily unsubscribed", a.Subscriptions)
	}

	day := now.UTC().Format("2 January 2006")
	page := e.postToken("/confirm", token, "text/html")
	wantHTML(t, page, http.StatusOK, "<h1>You are unsubscribed</h1>",
		"You unsubscribed from <strong>Daily Brief</strong> on "+day+".",
		`action="/v1/subscriptions"`, `name="newsletter" value="daily"`, `value="reader@example.org"`, "Subscribe again")
	for _, lie := range []string{"Subscription confirmed", "You will receive", "Thank you"} {
		if strings.Contains(page.Body, lie) {
			t.Errorf("the page still says %q:\n%s", lie, page.Body)
		}
	}
	get := e.do("GET", "/confirm?token="+url.QueryEscape(token), nil)
	wantHTML(t, get, http.StatusOK, "You unsubscribed from <strong>Daily Brief</strong> on "+day+".", "Subscribe again")
	if strings.Contains(get.Body, `action="/confirm"`) || strings.Contains(get.Body, "Confirm subscription") {
		t.Errorf("GET /confirm offers a confirm button that cannot work:\n%s", get.Body)
	}
	if s := e.subscriber("reader@example.org"); s.Subscriptions[0].Status != "unsubscribed" {
		t.Fatalf("status = %s after the old link, want unsubscribed", s.Subscriptions[0].Status)
	}

	// The page's form subscribes again through the usual double opt-in.
	form := url.Values{"newsletter": {"daily"}, "email": {"reader@example.org"}, "website": {""}}
	wantHTML(t, e.postForm(form.Encode()), http.StatusOK, "Check your inbox to confirm")
	if s := e.subscriber("reader@example.org"); s.Subscriptions[0].Status != "pending" {
		t.Fatalf("status = %s after subscribing again, want pending", s.Subscriptions[0].Status)
	}
}

// TestOldConfirmationLinkMixed checks a link for two newsletters, one of
// them left since: the answer says the truth of each.
func TestOldConfirmationLinkMixed(t *testing.T) {
	e, signer, now := readerEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "The Week")
	token, id := e.signedUp("reader@example.org", "daily", "weekly")
	decodeConfirm(t, e.postToken("/confirm", token, "application/json"))
	e.oneClick(signer.UnsubscribeToken(id, "daily"))

	a := decodeConfirm(t, e.postToken("/confirm", token, "application/json"))
	if a.Status != "confirmed" || strings.Join(a.Newsletters, ",") != "weekly" || a.UnsubscribedAt != nil {
		t.Fatalf("confirm = %+v, want confirmed for weekly only", a)
	}
	got := map[string]string{}
	for _, s := range a.Subscriptions {
		got[s.Newsletter] = s.Status
	}
	if len(got) != 2 || got["daily"] != "unsubscribed" || got["weekly"] != "confirmed" {
		t.Fatalf("subscriptions = %+v, want daily unsubscribed and weekly confirmed", a.Subscriptions)
	}

	day := now.UTC().Format("2 January 2006")
	page := e.postToken("/confirm", token, "text/html")
	wantHTML(t, page, http.StatusOK, "<h1>Subscription confirmed</h1>", "You will receive <strong>The Week</strong>.",
		"You unsubscribed from <strong>Daily Brief</strong> on "+day+".", `name="newsletter" value="daily"`, "Subscribe again")
	if strings.Contains(page.Body, `value="weekly"`) || strings.Contains(page.Body, "receive <strong>Daily Brief") {
		t.Errorf("the page offers weekly again or says daily is received:\n%s", page.Body)
	}
	get := e.do("GET", "/confirm?token="+url.QueryEscape(token), nil)
	wantHTML(t, get, http.StatusOK, "<h1>Your subscriptions</h1>", "You receive <strong>The Week</strong>",
		"You unsubscribed from <strong>Daily Brief</strong> on "+day+".")
	if strings.Contains(get.Body, `action="/confirm"`) {
		t.Errorf("GET /confirm offers a confirm button that confirms nothing:\n%s", get.Body)
	}
}

// TestOldConfirmationLinkAfterSigningUpAgain checks that a used link does
// not pass for the newer one a later signup was sent.
func TestOldConfirmationLinkAfterSigningUpAgain(t *testing.T) {
	e, signer, _ := readerEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	token, id := e.signedUp("reader@example.org", "daily")
	decodeConfirm(t, e.postToken("/confirm", token, "application/json"))
	e.oneClick(signer.UnsubscribeToken(id, "daily"))
	e.signedUp("reader@example.org", "daily")

	a := decodeConfirm(t, e.postToken("/confirm", token, "application/json"))
	if a.Status != "pending" || strings.Join(a.Newsletters, ",") != "daily" {
		t.Fatalf("old link after signing up again = %+v, want pending for daily", a)
	}
	get := e.do("GET", "/confirm?token="+url.QueryEscape(token), nil)
	wantHTML(t, get, http.StatusOK, "Please use the newest confirmation email", "<strong>reader@example.org</strong>")
	if strings.Contains(get.Body, `action="/confirm"`) {
		t.Errorf("GET /confirm offers a button that confirms nothing:\n%s", get.Body)
	}
}

// wantDocumented fails unless every field of the JSON answer body, at every
// depth, is a property of the schema that api/openapi.json gives the 200
// answer of method path.
func wantDocumented(t *testing.T, method, path, body string) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	op := dig(doc, "paths", path, strings.ToLower(method), "responses", "200", "content", "application/json", "schema")
	if op == nil {
		t.Fatalf("openapi.json has no JSON schema for the 200 answer of %s %s", method, path)
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	checkDocumented(t, doc, op.(map[string]any), v, "")
}

func checkDocumented(t *testing.T, doc, schema map[string]any, v any, at string) {
	t.Helper()
	if ref, ok := schema["$ref"].(string); ok {
		schema = dig(doc, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...).(map[string]any)
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for k, field := range v {
			sub, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("the answer's %s%s is not in openapi.json", at, k)
				continue
			}
			checkDocumented(t, doc, sub, field, at+k+".")
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for _, item := range v {
			if items != nil {
				checkDocumented(t, doc, items, item, at+"[].")
			}
		}
	}
}

// dig follows keys down nested JSON objects; nil when one is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestConfirmAnswersAreDocumented checks every shape of the JSON answer of
// POST /confirm, and a digest with its last error, against openapi.json.
func TestConfirmAnswersAreDocumented(t *testing.T) {
	e, signer, _ := readerEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "The Week")
	token, id := e.signedUp("reader@example.org", "daily", "weekly")
	wantDocumented(t, "POST", "/confirm", e.postToken("/confirm", token, "application/json").Body)
	e.oneClick(signer.UnsubscribeToken(id, "daily"))
	wantDocumented(t, "POST", "/confirm", e.postToken("/confirm", token, "application/json").Body)
	e.oneClick(signer.UnsubscribeToken(id, "weekly"))
	wantDocumented(t, "POST", "/confirm", e.postToken("/confirm", token, "application/json").Body)
	e.signedUp("reader@example.org", "daily")
	wantDocumented(t, "POST", "/confirm", e.postToken("/confirm", token, "application/json").Body)
}
