package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"newsletter/api"
)

// unsized hides a body's length from the client, so it is sent chunked.
func unsized(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

func multipartBody(t *testing.T, fields ...string) (body, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), w.FormDataContentType()
}

func TestSubscribeRejectsBadBodies(t *testing.T) {
	huge := strings.Repeat("x", 17<<10)
	bigJSON := `{"email":"a@example.org","newsletters":["daily"],"name":"` + huge + `"}`
	bigForm := "email=a%40example.org&newsletter=daily&name=" + huge
	const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		body        func(t *testing.T) (io.Reader, string) // body and Content-Type
		status      int
		code, field string
	}{
		{"oversized JSON", fixed(strings.NewReader(bigJSON), jsonCT), 413, "body_too_large", ""},
		{"oversized chunked JSON", fixed(unsized(bigJSON), jsonCT), 413, "body_too_large", ""},
		{"oversized form", fixed(strings.NewReader(bigForm), formCT), 413, "body_too_large", ""},
		{"oversized chunked form", fixed(unsized(bigForm), formCT), 413, "body_too_large", ""},
		{"oversized chunked multipart form", func(t *testing.T) (io.Reader, string) {
			b, ct := multipartBody(t, "email", "a@example.org", "newsletter", "daily", "name", huge)
			return unsized(b), ct
		}, 413, "body_too_large", ""},
		{"malformed JSON", fixed(strings.NewReader(`{"email":`), jsonCT), 400, "bad_request", ""},
		{"email of wrong type", fixed(strings.NewReader(`{"email": 5}`), jsonCT), 400, "bad_request", "email"},
		{"newsletters of wrong type", fixed(strings.NewReader(`{"email":"a@example.org","newsletters":"daily"}`), jsonCT),
			400, "bad_request", "newsletters"},
		{"empty body", fixed(strings.NewReader(""), jsonCT), 400, "bad_request", ""},
		{"two JSON values", fixed(strings.NewReader(`{} {}`), jsonCT), 400, "bad_request", ""},
		{"trailing garbage", fixed(strings.NewReader(`{"email":"a@example.org","newsletters":["daily"]} x`), jsonCT),
			400, "bad_request", ""},
		{"malformed form", fixed(strings.NewReader("email=a%40example.org&newsletter=daily&x=%zz"), formCT),
			400, "bad_request", ""},
		{"text/plain", fixed(strings.NewReader(`{"email":"a@example.org","newsletters":["daily"]}`), "text/plain"),
			415, "unsupported_media_type", ""},
		{"no Content-Type", fixed(strings.NewReader(`{"email":"a@example.org","newsletters":["daily"]}`), ""),
			415, "unsupported_media_type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.putNewsletter("daily", "Daily")
			body, ct := tt.body(t)
			var hdr []string
			if ct != "" {
				hdr = []string{"Content-Type", ct}
			}
			r := e.do("POST", "/v1/subscriptions", body, hdr...)
			got := wantJSONError(t, r, tt.status, tt.code)
			if got.Field != tt.field {
				t.Errorf("field = %q, want %q", got.Field, tt.field)
			}
			e.assertNoSignupState()
		})
	}
}

func fixed(r io.Reader, contentType string) func(*testing.T) (io.Reader, string) {
	return func(*testing.T) (io.Reader, string) { return r, contentType }
}

func TestSubscribeJSON(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")

	r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`)
	if r.Status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 (body %s)", r.Status, r.Body)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	if got["status"] != "pending" || got["message"] != api.ThankYou || len(got) != 2 {
		t.Errorf("body = %s, want status pending and the thank-you message", r.Body)
	}
	if n := e.pendingConfirmations(); n != 1 {
		t.Errorf("queued confirmations = %d, want 1", n)
	}
}

func TestSubscribeErrorsJSON(t *testing.T) {
	tests := []struct {
		name, body, code, field, suggestion string
	}{
		{"invalid email", `{"email":"not-an-address","newsletters":["daily"]}`, "invalid_email", "email", ""},
		{"typo domain", `{"email":"name@gmial.com","newsletters":["daily"]}`, "invalid_email", "email", "name@gmail.com"},
		{"unknown newsletter", `{"email":"name@example.org","newsletters":["nope"]}`, "unknown_newsletter", "newsletters", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.putNewsletter("daily", "Daily")
			got := wantJSONError(t, e.postJSON(tt.body), http.StatusUnprocessableEntity, tt.code)
			if got.Field != tt.field || got.Suggestion != tt.suggestion {
				t.Errorf("field, suggestion = %q, %q; want %q, %q", got.Field, got.Suggestion, tt.field, tt.suggestion)
			}
			if tt.code == "invalid_email" && got.Message != "Please, enter correct email address" {
				t.Errorf("message = %q", got.Message)
			}
			e.assertNoSignupState()
		})
	}
}

func TestSubscribeFormPages(t *testing.T) {
	tests := []struct {
		name, form string
		status     int
		want       []string
	}{
		{"thank you", "email=reader%40example.org&newsletter=daily", 200,
			[]string{"Thank you for signing up for this newsletter. We&#39;ve sent you a confirmation email.", "7 days"}},
		{"invalid email", "email=reader&newsletter=daily", 422,
			[]string{"Please, enter correct email address", `action="/v1/subscriptions"`}},
		{"typo domain", "email=reader%40gmial.com&newsletter=daily", 422,
			[]string{"Please, enter correct email address", "reader@gmail.com"}},
		{"unknown newsletter", "email=reader%40example.org&newsletter=nope", 422, []string{"Please choose a newsletter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.putNewsletter("daily", "Daily")
			wantHTML(t, e.postForm(tt.form), tt.status, tt.want...)
			if tt.status != 200 {
				e.assertNoSignupState()
			} else if n := e.pendingConfirmations(); n != 1 {
				t.Errorf("queued confirmations = %d, want 1", n)
			}
		})
	}
}

func TestSubscribeFormSeveralNewsletters(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	e.putNewsletter("weekly", "Weekly")
	r := e.postForm("email=reader%40example.org&newsletter=daily&newsletter=weekly")
	wantHTML(t, r, http.StatusOK)

	sub := e.subscriber("reader@example.org")
	if len(sub.Subscriptions) != 2 {
		t.Fatalf("subscriptions = %+v, want daily and weekly", sub.Subscriptions)
	}
	for i, want := range []string{"daily", "weekly"} {
		if s := sub.Subscriptions[i]; s.Newsletter != want || s.Status != "pending" {
			t.Errorf("subscription %d = %s %s, want %s pending", i, s.Newsletter, s.Status, want)
		}
	}
}

func TestSubscribeHoneypot(t *testing.T) {
	for _, tt := range []struct{ name, ct, body string }{
		{"form", "application/x-www-form-urlencoded", "email=reader%40example.org&newsletter=daily&website=spam.example"},
		{"JSON", "application/json", `{"email":"reader@example.org","newsletters":["daily"],"website":"spam.example"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.putNewsletter("daily", "Daily")
			r := e.do("POST", "/v1/subscriptions", strings.NewReader(tt.body), "Content-Type", tt.ct)
			if r.Status != http.StatusAccepted || !strings.Contains(r.Body, `"pending"`) {
				t.Errorf("got %d %s, want 202 pending", r.Status, r.Body)
			}
			e.assertNoSignupState()
		})
	}
}
