package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"newsletter/articles"
)

// TestAdminArticlesList: the editors' article list shows the articles
// newest first with edit links and delete buttons, filters them as the
// API does, and pages with links that keep the filters.
func TestAdminArticlesList(t *testing.T) {
	e := newArticlesEnv(t)
	var batch []string
	for i := range 55 {
		batch = append(batch, fmt.Sprintf(`{"url":"https://news.example/old/%02d","title":"Old %02d","published_at":"2026-10-01T%02d:%02d:00Z","newsletters":["daily"]}`,
			i, i, i/60, i%60))
	}
	e.postArticles(strings.Join(batch, ","))
	b := newBrowser(t, e)
	csrf := b.mustLogin()

	nav := b.get("/admin")
	wantHTML(t, nav, http.StatusOK, `<a href="/admin/articles">Articles</a>`)

	page := b.get("/admin/articles")
	id := articles.IDOf("https://news.example/w")
	wantHTML(t, page, http.StatusOK, "<h1>Articles</h1>", "1 to 50 of 60, newest first.",
		`<a href="/admin/articles/`+id+`">Weekly</a>`, `action="/admin/articles/`+id+`/delete"`,
		`name="csrf" value="`+csrf+`"`, `<a href="/admin/articles?offset=50" rel="next">Older</a>`, "2026-11-01 05:00")
	if strings.Index(page.Body, ">Weekly<") > strings.Index(page.Body, ">Four<") || strings.Contains(page.Body, ">Old 04<") {
		t.Fatalf("the first page is not the 50 newest, newest first:\n%s", page.Body)
	}
	if strings.Contains(page.Body, `rel="prev"`) {
		t.Fatalf("the first page links to a newer one")
	}
	older := b.get("/admin/articles?offset=50")
	wantHTML(t, older, http.StatusOK, "51 to 60 of 60", ">Old 00<", `<a href="/admin/articles" rel="prev">Newer</a>`)
	if strings.Contains(older.Body, `rel="next"`) {
		t.Fatalf("the last page links to an older one")
	}

	daily := b.get("/admin/articles?newsletter=daily&from=2026-11-01T02:00&to=2026-11-01T03:30")
	wantHTML(t, daily, http.StatusOK, "1 to 2 of 2", ">Three<", ">Two<", `<option value="daily" selected>`,
		`name="from" value="2026-11-01T02:00"`, `name="to" value="2026-11-01T03:30"`)
	for _, other := range []string{">Four</a>", ">One</a>", ">Weekly</a>"} {
		if strings.Contains(daily.Body, other) {
			t.Errorf("the filtered list has %s", other)
		}
	}
	paged := b.get("/admin/articles?newsletter=daily&offset=50")
	wantHTML(t, paged, http.StatusOK, "51 to 59 of 59", `<a href="/admin/articles?newsletter=daily" rel="prev">Newer</a>`)

	wantHTML(t, b.get("/admin/articles?from=tomorrow"), http.StatusUnprocessableEntity, "from must be an RFC 3339 time")
	wantHTML(t, b.get("/admin/articles?newsletter=monthly"), http.StatusUnprocessableEntity, "There is no newsletter")
	wantRedirect(t, newBrowser(t, e).get("/admin/articles"), "/admin/login")
}

// TestAdminArticleEdit: the edit form shows every field of the article;
// saving it changes them, under a new id when the URL changed; delete
// removes it; forms without the session's CSRF token change nothing.
func TestAdminArticleEdit(t *testing.T) {
	e := newArticlesEnv(t)
	e.postArticles(`{"url":"https://news.example/x","title":"Harbour <reopens>","summary":"Ships are back.",
		"published_at":"2026-11-01T07:30:00Z","author":"Ann","section":"Local","image_url":"https://cdn.example/x.jpg",
		"image_alt":"Cranes","lead":true,"position":4,"newsletters":["weekly"]}`)
	id := articles.IDOf("https://news.example/x")
	b := newBrowser(t, e)
	csrf := b.mustLogin()

	form := b.get("/admin/articles/" + id)
	wantHTML(t, form, http.StatusOK, "<h1>Harbour &lt;reopens&gt;</h1>", `action="/admin/articles/`+id+`"`,
		`name="url" required value="https://news.example/x"`, `value="Harbour &lt;reopens&gt;"`, ">Ships are back.</textarea>",
		`name="published_at" required value="2026-11-01T07:30"`, `name="author" value="Ann"`, `name="section" value="Local"`,
		`name="image_url" value="https://cdn.example/x.jpg"`, `name="image_alt" maxlength="500" value="Cranes"`,
		`value="true" aria-describedby="a-lead-hint" checked>`, `value="4"`,
		`name="newsletter" value="weekly" checked> Weekly`, `name="newsletter" value="daily"> Daily Brief`,
		`action="/admin/articles/`+id+`/delete"`)

	fields := url.Values{"url": {"https://news.example/x"}, "title": {"Harbour reopens"}, "summary": {"Ships are back, all of them."},
		"published_at": {"2026-11-01T08:15"}, "author": {"Bo"}, "section": {"Business"}, "image_url": {""}, "image_alt": {""},
		"position": {""}, "newsletter": {"daily", "weekly"}}
	loc := b.post("/admin/articles/"+id, csrf, fields, "/admin/articles/"+id)
	wantHTML(t, b.get(loc), http.StatusOK, "The article was saved.", `name="author" value="Bo"`,
		`name="newsletter" value="daily" checked>`, `name="published_at" required value="2026-11-01T08:15"`)
	r := e.editor("GET", "/v1/articles/"+id, "")
	for _, want := range []string{`"title":"Harbour reopens"`, `"published_at":"2026-11-01T08:15:00Z"`, `"section":"Business"`,
		`"newsletters":["daily","weekly"]`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("stored article lacks %s: %s", want, r.Body)
		}
	}
	for _, gone := range []string{`"lead"`, `"position"`, `"image_url"`, `"image_alt"`} {
		if strings.Contains(r.Body, gone) {
			t.Errorf("stored article still has %s: %s", gone, r.Body)
		}
	}

	noNewsletter := url.Values{"csrf": {csrf}, "url": {"https://news.example/x"}, "title": {"T"}, "published_at": {"2026-11-01T08:15"}}
	wantHTML(t, b.do("POST", "/admin/articles/"+id, noNewsletter), http.StatusUnprocessableEntity, "Choose at least one newsletter")
	taken := url.Values{"csrf": {csrf}, "url": {"https://news.example/1"}, "title": {"T"}, "published_at": {"2026-11-01T08:15"}, "newsletter": {"daily"}}
	wantHTML(t, b.do("POST", "/admin/articles/"+id, taken), http.StatusConflict, "Another article has this URL")
	badTime := url.Values{"csrf": {csrf}, "url": {"https://news.example/x"}, "title": {"T"}, "published_at": {"soon"}, "newsletter": {"daily"}}
	wantHTML(t, b.do("POST", "/admin/articles/"+id, badTime), http.StatusUnprocessableEntity, "The publication time must look like")

	fields.Set("url", "https://news.example/x2")
	newID := articles.IDOf("https://news.example/x2")
	b.post("/admin/articles/"+id, csrf, fields, "/admin/articles/"+newID+"?done=article_saved")
	wantHTML(t, b.get("/admin/articles/"+id), http.StatusNotFound, "There is no article with this id.")

	for name, form := range map[string]url.Values{"no token": {}, "a wrong token": {"csrf": {"forged"}}} {
		wantHTML(t, b.do("POST", "/admin/articles/"+newID+"/delete", form), http.StatusForbidden, "This form has expired.")
		edit := url.Values{"url": {"https://news.example/x2"}, "title": {"Forged"}, "published_at": {"2026-11-01T08:15"}, "newsletter": {"daily"}}
		for k, v := range form {
			edit[k] = v
		}
		wantHTML(t, b.do("POST", "/admin/articles/"+newID, edit), http.StatusForbidden, "This form has expired.")
		if r := e.editor("GET", "/v1/articles/"+newID, ""); r.Status != http.StatusOK || !strings.Contains(r.Body, `"title":"Harbour reopens"`) {
			t.Fatalf("a form with %s changed the article: %d %s", name, r.Status, r.Body)
		}
	}

	loc = b.post("/admin/articles/"+newID+"/delete", csrf, nil, "/admin/articles?done=article_deleted")
	list := b.get(loc)
	wantHTML(t, list, http.StatusOK, "The article was deleted.")
	if strings.Contains(list.Body, "Harbour") {
		t.Fatalf("the list still shows the deleted article")
	}
	wantJSONError(t, e.editor("GET", "/v1/articles/"+newID, ""), http.StatusNotFound, "not_found")
	wantHTML(t, b.do("POST", "/admin/articles/"+newID+"/delete", url.Values{"csrf": {csrf}}), http.StatusNotFound, "There is no article with this id.")
}
