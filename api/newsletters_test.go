package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

type newsletterJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	MaxArticles int       `json:"max_articles"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Subscribers *struct {
		Pending      *int `json:"pending"`
		Confirmed    *int `json:"confirmed"`
		Unsubscribed *int `json:"unsubscribed"`
	} `json:"subscribers"`
}

func decodeNewsletter(t *testing.T, r response, status int) newsletterJSON {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	var n newsletterJSON
	if err := json.Unmarshal([]byte(r.Body), &n); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	return n
}

func TestPutNewsletterInvalid(t *testing.T) {
	tests := []struct {
		name, id, body string
		status         int
		code, field    string
	}{
		{"bad id", "Bad_ID", `{"name":"Daily"}`, 422, "invalid_id", "id"},
		{"id too long", strings.Repeat("a", 65), `{"name":"Daily"}`, 422, "invalid_id", "id"},
		{"no name", "daily", `{"description":"no name"}`, 422, "invalid_newsletter", "name"},
		{"blank name", "daily", `{"name":"   "}`, 422, "invalid_newsletter", "name"},
		{"bad schedule", "daily", `{"name":"Daily","schedule":"often"}`, 422, "invalid_newsletter", "schedule"},
		{"malformed", "daily", `{"name":`, 400, "bad_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			got := wantJSONError(t, e.editor("PUT", "/v1/newsletters/"+tt.id, tt.body), tt.status, tt.code)
			if got.Field != tt.field {
				t.Errorf("field = %q, want %q", got.Field, tt.field)
			}
			if r := e.editor("GET", "/v1/newsletters", ""); !strings.Contains(r.Body, `"newsletters":[]`) {
				t.Errorf("a refused PUT stored something: %s", r.Body)
			}
		})
	}
}

func TestPutNewsletterCreatesThenUpdates(t *testing.T) {
	e := newEnv(t)
	created := decodeNewsletter(t, e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily Brief"}`), http.StatusCreated)
	if created.ID != "daily" || created.Name != "Daily Brief" || created.MaxArticles != 10 || created.CreatedAt.IsZero() {
		t.Errorf("created = %+v, want id daily, name Daily Brief, max_articles 10, a created_at", created)
	}

	time.Sleep(time.Until(created.CreatedAt.Add(1100 * time.Millisecond))) // times are kept to the second
	updated := decodeNewsletter(t, e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily News"}`), http.StatusOK)
	if updated.Name != "Daily News" || !updated.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("updated = %+v, want name Daily News and created_at %v", updated, created.CreatedAt)
	}
	if !updated.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("updated_at = %v, want after %v", updated.UpdatedAt, created.UpdatedAt)
	}
}

func TestListNewslettersCounts(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	list := func() newsletterJSON {
		t.Helper()
		r := e.editor("GET", "/v1/newsletters", "")
		var body struct{ Newsletters []newsletterJSON }
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || r.Status != http.StatusOK {
			t.Fatalf("GET /v1/newsletters: %d %s (%v)", r.Status, r.Body, err)
		}
		if len(body.Newsletters) != 1 || body.Newsletters[0].ID != "daily" || body.Newsletters[0].Subscribers == nil {
			t.Fatalf("GET /v1/newsletters = %s, want daily with its counts", r.Body)
		}
		return body.Newsletters[0]
	}
	counts := func(n newsletterJSON) [3]int {
		t.Helper()
		c := n.Subscribers
		if c.Pending == nil || c.Confirmed == nil || c.Unsubscribed == nil {
			t.Fatalf("subscribers = %+v, want pending, confirmed and unsubscribed", c)
		}
		return [3]int{*c.Pending, *c.Confirmed, *c.Unsubscribed}
	}
	if got := counts(list()); got != [3]int{0, 0, 0} {
		t.Errorf("counts before signup = %v, want [0 0 0]", got)
	}
	e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`)
	if got := counts(list()); got != [3]int{1, 0, 0} {
		t.Errorf("counts after signup = %v, want [1 0 0]", got)
	}
}

func TestDemoPage(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("evil", "<script>alert(1)</script>")

	r := e.do("GET", "/", nil)
	wantHTML(t, r, http.StatusOK, "Daily Brief", "&lt;script&gt;alert(1)&lt;/script&gt;",
		`<input type="hidden" name="newsletter" value="daily">`,
		`<input type="hidden" name="newsletter" value="evil">`)
	if n := strings.Count(r.Body, `<form method="post" action="/v1/subscriptions"`); n != 2 {
		t.Errorf("page has %d signup forms, want 2", n)
	}
	if n := strings.Count(r.Body, `name="website"`); n != 2 {
		t.Errorf("page has %d honeypot fields, want 2", n)
	}
	if strings.Contains(r.Body, "<script>alert(1)</script>") {
		t.Errorf("newsletter name reached the page unescaped")
	}
}
