package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestConfirmPageChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	token, _ := e.signedUp("reader@example.org", "daily")
	before := e.subscriber("reader@example.org")

	r := e.do("GET", "/confirm?token="+url.QueryEscape(token), nil)
	wantHTML(t, r, http.StatusOK, "<h1>Confirm your subscription</h1>", `<form method="post" action="/confirm">`,
		`name="token" value="`+token+`"`, `<button type="submit">Confirm subscription</button>`,
		"receive <strong>Daily Brief</strong> at <strong>reader@example.org</strong>")

	after := e.subscriber("reader@example.org")
	if after.Subscriptions[0].Status != "pending" || len(after.Consent) != len(before.Consent) {
		t.Errorf("GET /confirm changed state: before %+v, after %+v", before, after)
	}
	if n, _ := e.rdb.LLen(context.Background(), "asynq:{default}:pending").Result(); n != 0 {
		t.Errorf("GET /confirm queued %d welcome emails", n)
	}
}

// TestConfirmPageNamesEveryNewsletter checks that the page says what the
// button confirms when the link is for several newsletters.
func TestConfirmPageNamesEveryNewsletter(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "The Week")
	e.putNewsletter("extra", "Extra")
	token, _ := e.signedUp("reader@example.org", "daily", "weekly", "extra")
	wantHTML(t, e.do("GET", "/confirm?token="+url.QueryEscape(token), nil), http.StatusOK,
		"receive <strong>Daily Brief</strong>, <strong>The Week</strong> and <strong>Extra</strong> at")
}

// TestConfirmPageRefusesBadToken checks that a link that cannot confirm
// says so at once, with a way to ask for a new one, rather than offering a
// button that fails; and that nothing the link carries reaches the page
// unescaped.
func TestConfirmPageRefusesBadToken(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	for _, token := range []string{"anything", `"><script>alert(1)</script>`} {
		r := e.do("GET", "/confirm?token="+url.QueryEscape(token), nil)
		wantHTML(t, r, http.StatusBadRequest, "This link does not work", `action="/v1/subscriptions"`, "Send me a new link")
		if strings.Contains(r.Body, "<script>") || strings.Contains(r.Body, "Confirm subscription") {
			t.Errorf("GET /confirm?token=%s shows a confirm button or the token unescaped:\n%s", token, r.Body)
		}
	}
}

func TestConfirmInvalidToken(t *testing.T) {
	wellFormed := base64.RawURLEncoding.EncodeToString(make([]byte, 40)) // shaped right, never issued
	tests := []struct {
		name, path, form string
	}{
		{"garbage form field", "/confirm", "token=garbage"},
		{"garbage query", "/confirm?token=garbage", ""},
		{"no token", "/confirm", ""},
		{"unknown well-formed token", "/confirm", "token=" + wellFormed},
	}
	for _, tt := range tests {
		t.Run(tt.name+" as page", func(t *testing.T) {
			e := newEnv(t)
			e.putNewsletter("daily", "Daily")
			r := e.do("POST", tt.path, strings.NewReader(tt.form),
				"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
			wantHTML(t, r, http.StatusBadRequest, "This link does not work",
				`action="/v1/subscriptions"`, `name="email"`, "Send me a new link")
			e.assertNoSignupState()
		})
		t.Run(tt.name+" as JSON", func(t *testing.T) {
			e := newEnv(t)
			r := e.do("POST", tt.path, strings.NewReader(tt.form),
				"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json")
			wantJSONError(t, r, http.StatusBadRequest, "invalid_token")
			wantSecurityHeaders(t, r)
		})
	}
}
