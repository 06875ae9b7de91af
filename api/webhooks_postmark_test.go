package api_test

import (
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"

	"newsletter/api"
)

// postmarkAuth is the basic auth the Postmark webhook is configured with.
const postmarkAuth = "hooks:a-postmark-password-0123"

// postPostmark posts body to the Postmark webhook with basic auth user and
// password (none when user is "").
func (e *env) postPostmark(body, contentType, user, password string) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/webhooks/postmark", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	return e.send(req)
}

// send sends req and reads the answer whole.
func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// postmarkSample is a Postmark sample payload about addr, of type typ
// when typ is not "".
func postmarkSample(t *testing.T, file, addr, typ string) string {
	body := strings.ReplaceAll(string(mustWebhookData(t, file)), "john@example.com", addr)
	if typ != "" {
		body = strings.Replace(body, `"Type": "HardBounce"`, `"Type": "`+typ+`"`, 1)
	}
	return body
}

// TestPostmarkWebhook: with our credentials, Postmark's hard bounces
// suppress, soft bounces are counted, spam complaints end the newsletter's
// subscription (Metadata.newsletter) and suppress, delays are ignored.
func TestPostmarkWebhook(t *testing.T) {
	e := newWebhookEnv(t, api.Webhooks{PostmarkAuth: postmarkAuth})
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "complainer@example.org")
	for _, tc := range []struct {
		name, file, addr, typ string
		applied, ignored      int
	}{
		{"hard bounce", "postmark_bounce.json", "hard@example.org", "", 1, 0},
		{"bad address", "postmark_bounce.json", "bad@example.org", "BadEmailAddress", 1, 0},
		{"soft bounce", "postmark_bounce.json", "soft@example.org", "SoftBounce", 1, 0},
		{"delay", "postmark_bounce.json", "delayed@example.org", "Transient", 0, 1},
		{"auto responder", "postmark_bounce.json", "away@example.org", "AutoResponder", 0, 1},
		{"spam complaint", "postmark_spam_complaint.json", "complainer@example.org", "", 1, 0},
		{"not an address", "postmark_bounce.json", "not an address", "", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postPostmark(postmarkSample(t, tc.file, tc.addr, tc.typ), "application/json", "hooks", "a-postmark-password-0123")
			wantApplied(t, r, tc.applied, tc.ignored)
		})
	}
	want := map[string]string{"hard@example.org": "bounce", "bad@example.org": "bounce", "complainer@example.org": "complaint"}
	if got := e.suppressionSources(); !maps.Equal(got, want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
	if got := e.statuses("complainer@example.org")["daily"]; got != "unsubscribed" {
		t.Errorf("the complainer's subscription is %q, want unsubscribed", got)
	}
}

// TestPostmarkWebhookRefused: without our credentials, or with others,
// the answer is 401 with a basic auth challenge, and nothing is applied.
func TestPostmarkWebhookRefused(t *testing.T) {
	e := newWebhookEnv(t, api.Webhooks{PostmarkAuth: postmarkAuth})
	body := postmarkSample(t, "postmark_bounce.json", "hard@example.org", "")
	for _, tc := range []struct{ name, user, password string }{
		{"none", "", ""},
		{"wrong password", "hooks", "a-postmark-password-0124"},
		{"wrong user", "hook", "a-postmark-password-0123"},
		{"empty password", "hooks", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postPostmark(body, "application/json", tc.user, tc.password)
			wantJSONError(t, r, http.StatusUnauthorized, "unauthorized")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q, want a basic auth challenge", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	e.wantNoSuppressions()
}
