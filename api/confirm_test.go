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
	e.putNewsletter("daily", "Daily")
	if r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`); r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	before := e.subscriber("reader@example.org")

	r := e.do("GET", "/confirm?token=anything", nil)
	wantHTML(t, r, http.StatusOK, `<form method="post" action="/confirm">`,
		`name="token" value="anything"`, `<button type="submit">Confirm subscription</button>`)

	after := e.subscriber("reader@example.org")
	if after.Subscriptions[0].Status != "pending" || len(after.Consent) != len(before.Consent) {
		t.Errorf("GET /confirm changed state: before %+v, after %+v", before, after)
	}
	if n, _ := e.rdb.LLen(context.Background(), "asynq:{default}:pending").Result(); n != 0 {
		t.Errorf("GET /confirm queued %d welcome emails", n)
	}
}

func TestConfirmPageEscapesToken(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/confirm?token="+url.QueryEscape(`"><script>alert(1)</script>`), nil)
	wantHTML(t, r, http.StatusOK)
	if strings.Contains(r.Body, "<script>") {
		t.Errorf("token reached the page unescaped:\n%s", r.Body)
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
