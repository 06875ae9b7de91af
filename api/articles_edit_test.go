package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"newsletter/articles"
	"newsletter/digests"
)

// TestGetPutDeleteArticle: an article is read, replaced and deleted by its
// id; a new URL gives it a new id, another article's URL is a conflict,
// and unknown ids are 404.
func TestGetPutDeleteArticle(t *testing.T) {
	e := newArticlesEnv(t)
	id := articles.IDOf("https://news.example/2")

	r := e.editor("GET", "/v1/articles/"+id, "")
	wantDocumented(t, "GET", "/v1/articles/{id}", r.Body)
	var a articles.Article
	if err := json.Unmarshal([]byte(r.Body), &a); r.Status != http.StatusOK || err != nil || a.ID != id || a.Title != "Two" ||
		strings.Join(a.Newsletters, ",") != "daily,weekly" {
		t.Fatalf("GET = %d %s, want article Two in both newsletters", r.Status, r.Body)
	}

	r = e.editor("PUT", "/v1/articles/"+id, `{"url":"https://news.example/2","title":"Two, revised","summary":"Now with more.",
		"published_at":"2026-11-01T06:00:00Z","author":"Ann","section":"World","image_url":"https://cdn.example/2.jpg",
		"image_alt":"A harbour","lead":true,"position":3,"newsletters":["weekly"]}`)
	if err := json.Unmarshal([]byte(r.Body), &a); r.Status != http.StatusOK || err != nil {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	wantDocumented(t, "PUT", "/v1/articles/{id}", r.Body)
	want := articles.Article{ID: id, URL: "https://news.example/2", Title: "Two, revised", Summary: "Now with more.",
		PublishedAt: a.PublishedAt, Author: "Ann", Section: "World", ImageURL: "https://cdn.example/2.jpg", ImageAlt: "A harbour",
		Lead: true, Position: 3, Newsletters: []string{"weekly"}}
	if a.PublishedAt.Format("15:04") != "06:00" || !equalArticles(a, want) {
		t.Fatalf("PUT answered %+v, want %+v", a, want)
	}
	if r := e.editor("GET", "/v1/articles/"+id, ""); !strings.Contains(r.Body, `"title":"Two, revised"`) || !strings.Contains(r.Body, `"image_alt":"A harbour"`) {
		t.Fatalf("GET after PUT = %s", r.Body)
	}
	if got := pathsOf(t, e.listArticles("?newsletter=daily")); strings.Join(got, " ") != "/4 /3 /1" {
		t.Fatalf("daily = %v, want /2 gone from it", got)
	}
	if got := pathsOf(t, e.listArticles("?limit=1")); strings.Join(got, " ") != "/2" {
		t.Fatalf("newest = %v, want /2 at its new time", got)
	}

	wantJSONError(t, e.editor("PUT", "/v1/articles/"+id, `{"url":"https://news.example/3","title":"T","published_at":"2026-11-01T06:00:00Z"}`),
		http.StatusConflict, "conflict")
	r = e.editor("PUT", "/v1/articles/"+id, `{"url":"https://news.example/2-moved","title":"Moved","published_at":"2026-11-01T06:00:00Z"}`)
	if err := json.Unmarshal([]byte(r.Body), &a); r.Status != http.StatusOK || err != nil || a.ID != articles.IDOf("https://news.example/2-moved") {
		t.Fatalf("PUT with a new URL = %d %s, want the new id", r.Status, r.Body)
	}
	if strings.Join(a.Newsletters, ",") != "weekly" {
		t.Fatalf("no newsletters named = %v, want the one it was in, weekly", a.Newsletters)
	}
	if got := pathsOf(t, e.listArticles("?newsletter=daily")); strings.Join(got, " ") != "/4 /3 /1" {
		t.Fatalf("daily = %v, want the article left out of it", got)
	}
	wantJSONError(t, e.editor("GET", "/v1/articles/"+id, ""), http.StatusNotFound, "not_found")
	if l := e.listArticles(""); l.Total != 5 || pathsOf(t, l)[0] != "/2-moved" {
		t.Fatalf("list = %v (%d), want /2-moved first of 5", pathsOf(t, l), l.Total)
	}

	moved := a.ID
	if r := e.editor("DELETE", "/v1/articles/"+moved, ""); r.Status != http.StatusNoContent || r.Body != "" {
		t.Fatalf("DELETE = %d %q, want 204", r.Status, r.Body)
	}
	wantJSONError(t, e.editor("GET", "/v1/articles/"+moved, ""), http.StatusNotFound, "not_found")
	wantJSONError(t, e.editor("DELETE", "/v1/articles/"+moved, ""), http.StatusNotFound, "not_found")
	for _, q := range []string{"", "?newsletter=daily", "?newsletter=weekly"} {
		for _, p := range pathsOf(t, e.listArticles(q)) {
			if p == "/2-moved" {
				t.Fatalf("list%s still has the deleted article", q)
			}
		}
	}
	if l := e.listArticles(""); l.Total != 4 {
		t.Fatalf("total = %d, want 4", l.Total)
	}
	for _, unknown := range []string{strings.Repeat("0", 32), "nope", "..%2F..%2Fx"} {
		wantJSONError(t, e.editor("GET", "/v1/articles/"+unknown, ""), http.StatusNotFound, "not_found")
		wantJSONError(t, e.editor("PUT", "/v1/articles/"+unknown, `{"url":"https://news.example/z","title":"Z","published_at":"2026-11-01T06:00:00Z"}`),
			http.StatusNotFound, "not_found")
		wantJSONError(t, e.editor("DELETE", "/v1/articles/"+unknown, ""), http.StatusNotFound, "not_found")
	}
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if r := e.do(m, "/v1/articles/"+articles.IDOf("https://news.example/1"), nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("%s without the token = %d, want 401", m, r.Status)
		}
	}
}

// equalArticles compares two articles field by field, times by instant.
func equalArticles(a, b articles.Article) bool {
	return a.ID == b.ID && a.URL == b.URL && a.Title == b.Title && a.Summary == b.Summary && a.PublishedAt.Equal(b.PublishedAt) &&
		a.Author == b.Author && a.Section == b.Section && a.ImageURL == b.ImageURL && a.ImageAlt == b.ImageAlt &&
		a.Lead == b.Lead && a.Position == b.Position && strings.Join(a.Newsletters, ",") == strings.Join(b.Newsletters, ",")
}

// TestPutArticleRefuses: PUT /v1/articles/{id} validates as POST
// /v1/articles does, naming the field alone, and changes nothing.
func TestPutArticleRefuses(t *testing.T) {
	e := newArticlesEnv(t)
	id := articles.IDOf("https://news.example/1")
	path := "/v1/articles/" + id
	for _, tt := range []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"bad URL", `{"url":"ftp://news.example/1","title":"T","published_at":"2026-11-01T01:00:00Z"}`, 422, "invalid_article", "url"},
		{"no URL", `{"title":"T","published_at":"2026-11-01T01:00:00Z"}`, 422, "invalid_article", "url"},
		{"no title", `{"url":"https://news.example/1","published_at":"2026-11-01T01:00:00Z"}`, 422, "invalid_article", "title"},
		{"bad time", `{"url":"https://news.example/1","title":"T","published_at":"yesterday"}`, 422, "invalid_article", "published_at"},
		{"bad image", `{"url":"https://news.example/1","title":"T","published_at":"2026-11-01T01:00:00Z","image_url":"javascript:x"}`, 422, "invalid_article", "image_url"},
		{"unknown newsletter", `{"url":"https://news.example/1","title":"T","published_at":"2026-11-01T01:00:00Z","newsletters":["monthly"]}`, 422, "invalid_article", "newsletters"},
		{"bad position", `{"url":"https://news.example/1","title":"T","published_at":"2026-11-01T01:00:00Z","position":1001}`, 422, "invalid_article", "position"},
		{"malformed", `{"url":`, 400, "bad_request", ""},
		{"too large", `{"url":"https://news.example/1","title":"T","published_at":"2026-11-01T01:00:00Z","summary":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body_too_large", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantJSONError(t, e.editor("PUT", path, tt.body), tt.status, tt.code); got.Field != tt.field {
				t.Fatalf("field = %q, want %q", got.Field, tt.field)
			}
		})
	}
	wantJSONError(t, e.do("PUT", path, strings.NewReader(`{}`), "Authorization", "Bearer "+editorToken, "Content-Type", "text/plain"),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	if r := e.editor("GET", path, ""); !strings.Contains(r.Body, `"title":"One"`) {
		t.Fatalf("the article changed: %s", r.Body)
	}
}

// TestSentDigestsKeepTheirArticles: editing or deleting an article leaves
// a digest made before it as it was: its API answer and its web view.
func TestSentDigestsKeepTheirArticles(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "ann@example.org")
	e.addArticle("https://news.example/a", "Talks in Istanbul")
	e.addArticle("https://news.example/b", "Rain in Kyiv")
	id := digestID(t, e.editor("POST", "/v1/newsletters/daily/digests", `{"subject":"The talks"}`))
	mustSaveBody(t, e, svc, id)

	digestArticles := func() string {
		t.Helper()
		r := e.editor("GET", "/v1/digests/"+id, "")
		var d struct {
			Articles json.RawMessage `json:"articles"`
		}
		if err := json.Unmarshal([]byte(r.Body), &d); r.Status != http.StatusOK || err != nil {
			t.Fatalf("GET digest = %d %s", r.Status, r.Body)
		}
		return string(d.Articles)
	}
	webView := func() string {
		t.Helper()
		r := e.do("GET", "/digests/"+id, nil, "Accept", "text/html")
		if r.Status != http.StatusOK {
			t.Fatalf("web view = %d", r.Status)
		}
		return r.Body
	}
	beforeAPI, beforeView := digestArticles(), webView()
	for _, s := range []string{"Talks in Istanbul", "Rain in Kyiv"} {
		if !strings.Contains(beforeAPI, s) || !strings.Contains(beforeView, s) {
			t.Fatalf("the digest lacks %q before the edits:\n%s\n%s", s, beforeAPI, beforeView)
		}
	}

	a := articles.IDOf("https://news.example/a")
	if r := e.editor("PUT", "/v1/articles/"+a, `{"url":"https://news.example/a-new","title":"Talks collapse","published_at":"2026-11-01T06:00:00Z"}`); r.Status != http.StatusOK {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	if r := e.editor("DELETE", "/v1/articles/"+articles.IDOf("https://news.example/b"), ""); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	if got := digestArticles(); got != beforeAPI {
		t.Fatalf("the digest's articles changed:\nbefore %s\nafter  %s", beforeAPI, got)
	}
	if got := webView(); got != beforeView {
		t.Fatalf("the web view changed:\nbefore %s\nafter  %s", beforeView, got)
	}
}
