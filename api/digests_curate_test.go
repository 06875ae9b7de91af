package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter/articles"
)

// digestBody is what the tests read of a digest answered by the API.
type digestBody struct {
	ID       string     `json:"id"`
	Status   string     `json:"status"`
	SendAt   *time.Time `json:"send_at"`
	Articles []struct {
		URL  string `json:"url"`
		Lead bool   `json:"lead"`
	} `json:"articles"`
}

func decodeDigest(t *testing.T, r response, status int) digestBody {
	t.Helper()
	var d digestBody
	if err := json.Unmarshal([]byte(r.Body), &d); r.Status != status || err != nil {
		t.Fatalf("answer = %d %s, want %d with a digest", r.Status, r.Body, status)
	}
	return d
}

// draftURLs returns the candidates of the draft of newsletter nl and those
// selected by default.
func draftURLs(t *testing.T, e *env, nl string) (all, selected []string) {
	t.Helper()
	r := e.editor("GET", "/v1/newsletters/"+nl+"/digests/draft", "")
	var d struct {
		Articles []struct {
			ID       string `json:"id"`
			URL      string `json:"url"`
			Selected bool   `json:"selected"`
		} `json:"articles"`
	}
	if err := json.Unmarshal([]byte(r.Body), &d); r.Status != http.StatusOK || err != nil {
		t.Fatalf("draft = %d %s", r.Status, r.Body)
	}
	for _, a := range d.Articles {
		if a.ID != articles.IDOf(a.URL) {
			t.Fatalf("candidate %s has id %q, want %q", a.URL, a.ID, articles.IDOf(a.URL))
		}
		all = append(all, a.URL)
		if a.Selected {
			selected = append(selected, a.URL)
		}
	}
	return all, selected
}

// TestCreateDigestWithArticles: a digest request naming its articles by id
// or URL sends exactly those in that order, with the lead it names first;
// unknown or repeated articles, and a lead not among them, are 422.
func TestCreateDigestWithArticles(t *testing.T) {
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	a, b, c := "https://news.example/a", "https://news.example/b", "https://news.example/c"
	for _, u := range []string{a, b, c} {
		e.addArticle(u, "Story "+u[len(u)-1:])
	}
	body := `{"articles":["` + c + `","` + articles.IDOf(a) + `","` + b + `"],"lead":"` + articles.IDOf(b) + `"}`
	d := decodeDigest(t, e.editor("POST", "/v1/newsletters/daily/digests", body), http.StatusAccepted)
	var got []string
	var lead []bool
	for _, x := range d.Articles {
		got, lead = append(got, x.URL), append(lead, x.Lead)
	}
	if diff := cmp.Diff([]string{b, c, a}, got); diff != "" {
		t.Fatalf("articles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false, false}, lead); diff != "" {
		t.Fatalf("lead marks (-want +got):\n%s", diff)
	}

	tests := []struct{ name, body, field string }{
		{"unknown", `{"articles":["` + a + `","https://news.example/nope"]}`, "articles[1]"},
		{"duplicate", `{"articles":["` + a + `","` + articles.IDOf(a) + `"]}`, "articles[1]"},
		{"lead not among them", `{"articles":["` + a + `"],"lead":"` + b + `"}`, "lead"},
		{"articles not a list", `{"articles":"` + a + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.editor("POST", "/v1/newsletters/daily/digests", tt.body)
			if tt.field == "" {
				wantJSONError(t, r, http.StatusBadRequest, "bad_request")
				return
			}
			if got := wantJSONError(t, r, http.StatusUnprocessableEntity, "invalid_digest"); got.Field != tt.field {
				t.Fatalf("field = %q, want %q", got.Field, tt.field)
			}
		})
	}
}

// TestDigestDraft: the draft lists the articles since the cutoff, newest
// first, with their ids and the default selection marked; it needs the
// token.
func TestDigestDraft(t *testing.T) {
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	if r := e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily Brief","max_articles":1}`); r.Status != http.StatusOK {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	now := time.Now().UTC()
	body := `{"articles":[{"url":"https://news.example/old","title":"Old","published_at":"` + now.Add(-2*time.Hour).Format(time.RFC3339) + `"},` +
		`{"url":"https://news.example/new","title":"New","published_at":"` + now.Add(-time.Hour).Format(time.RFC3339) + `"}]}`
	if r := e.editor("POST", "/v1/articles", body); r.Status != http.StatusOK {
		t.Fatalf("POST /v1/articles = %d %s", r.Status, r.Body)
	}
	all, selected := draftURLs(t, e, "daily")
	if diff := cmp.Diff([]string{"https://news.example/new", "https://news.example/old"}, all); diff != "" {
		t.Fatalf("candidates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"https://news.example/new"}, selected); diff != "" {
		t.Fatalf("selected (-want +got):\n%s", diff)
	}
	wantJSONError(t, e.editor("GET", "/v1/newsletters/nope/digests/draft", ""), http.StatusNotFound, "not_found")
	if r := e.do("GET", "/v1/newsletters/daily/digests/draft", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without the token = %d, want 401", r.Status)
	}
}

// TestScheduleAndCancelDigest: send_at queues the digest for then (queued,
// with its send_at); a time in the past, too far ahead or not RFC 3339 is
// 422; canceling it before its time gives its articles back to the draft.
func TestScheduleAndCancelDigest(t *testing.T) {
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "ann@example.org")
	e.addArticle("https://news.example/a", "Talks")
	now := time.Now().UTC()
	for name, sendAt := range map[string]string{"past": now.Add(-time.Minute).Format(time.RFC3339),
		"too far": now.Add(91 * 24 * time.Hour).Format(time.RFC3339), "not RFC 3339": "tomorrow"} {
		r := e.editor("POST", "/v1/newsletters/daily/digests", `{"send_at":"`+sendAt+`"}`)
		if got := wantJSONError(t, r, http.StatusUnprocessableEntity, "invalid_digest"); got.Field != "send_at" {
			t.Fatalf("%s: field = %q, want send_at", name, got.Field)
		}
	}
	at := now.Add(time.Hour).Truncate(time.Second)
	d := decodeDigest(t, e.editor("POST", "/v1/newsletters/daily/digests", `{"send_at":"`+at.Format(time.RFC3339)+`"}`), http.StatusAccepted)
	if d.Status != "queued" || d.SendAt == nil || !d.SendAt.Equal(at) {
		t.Fatalf("scheduled digest: %s, send_at %v; want queued, %v", d.Status, d.SendAt, at)
	}
	if all, _ := draftURLs(t, e, "daily"); len(all) != 0 {
		t.Fatalf("draft while scheduled = %v, want empty: the digest took the article", all)
	}
	got := decodeDigest(t, e.editor("GET", "/v1/digests/"+d.ID, ""), http.StatusOK)
	if got.SendAt == nil || !got.SendAt.Equal(at) {
		t.Fatalf("GET: send_at %v, want %v", got.SendAt, at)
	}
	if c := decodeDigest(t, e.editor("POST", "/v1/digests/"+d.ID+"/cancel", ""), http.StatusOK); c.Status != "canceled" {
		t.Fatalf("cancel: status %s, want canceled", c.Status)
	}
	if _, selected := draftURLs(t, e, "daily"); !cmp.Equal(selected, []string{"https://news.example/a"}) {
		t.Fatalf("draft after cancel selects %v, want the article back", selected)
	}
}
